import BenchCore
import Foundation
import XCTest

final class LatencyRecorderTests: XCTestCase {
    func testPercentilesOfAKnownDistribution() {
        var recorder = LatencyRecorder()
        // 1 ms ... 1000 ms, one sample each.
        for ms in 1...1000 { recorder.record(nanoseconds: UInt64(ms) * 1_000_000) }
        let s = recorder.summary
        XCTAssertEqual(s.count, 1000)
        XCTAssertEqual(s.minMs, 1, accuracy: 0.001)
        XCTAssertEqual(s.p50Ms, 500, accuracy: 0.5)
        XCTAssertEqual(s.p99Ms, 990, accuracy: 1)
        XCTAssertEqual(s.p999Ms, 999, accuracy: 1)
        XCTAssertEqual(s.maxMs, 1000, accuracy: 1)
        XCTAssertEqual(s.meanMs, 500.5, accuracy: 0.5)
        XCTAssertEqual(s.overflowed, 0)
    }

    func testSubMicrosecondAndOverflowingSamples() {
        var recorder = LatencyRecorder()
        recorder.record(nanoseconds: 10)
        recorder.record(nanoseconds: 400_000_000_000) // 400 s, above the 300 s range
        let s = recorder.summary
        XCTAssertEqual(s.count, 2)
        XCTAssertEqual(s.overflowed, 1)
        XCTAssertEqual(s.minMs, 0.001, accuracy: 0.0001)
        XCTAssertEqual(s.maxMs, 300_000, accuracy: 300)
    }

    func testMergingKeepsEverySample() {
        var a = LatencyRecorder(), b = LatencyRecorder()
        for _ in 0..<90 { a.record(nanoseconds: 2_000_000) }
        for _ in 0..<10 { b.record(nanoseconds: 50_000_000) }
        a.add(b)
        XCTAssertEqual(a.summary.count, 100)
        XCTAssertEqual(a.summary.p50Ms, 2, accuracy: 0.01)
        XCTAssertEqual(a.summary.p99Ms, 50, accuracy: 0.1)
    }

    func testEmptyRecorderSummarisesToZero() {
        let s = LatencyRecorder().summary
        XCTAssertEqual(s.count, 0)
        XCTAssertEqual(s.p99Ms, 0)
        XCTAssertEqual(s.meanMs, 0)
    }
}

final class BenchConfigTests: XCTestCase {
    func config(_ json: String) throws -> BenchConfig { try BenchConfig.load(Data(json.utf8)) }

    func testTheRepositoryScenarioFilesLoad() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scenarios").standardized
        for name in ["quick.json", "full.json"] {
            let data = try Data(contentsOf: dir.appendingPathComponent(name))
            let config = try BenchConfig.load(data)
            XCTAssertFalse(config.fanout.isEmpty, name)
            XCTAssertTrue(config.fanout.contains { $0.targets.contains("ceiling") }, name)
        }
    }

    func testMinimalFileAndDefaults() throws {
        let c = try config(#"{"name":"x","sources":["127.0.0.2"],"history":[{"concurrency":[4],"seconds":1,"messages":50,"targets":["peer-graphql"]}]}"#)
        XCTAssertEqual(c.fanout, [])
        XCTAssertEqual(c.history.first?.concurrency, [4])
    }

    func testClearErrors() {
        func message(_ json: String) -> String {
            do { _ = try config(json); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertEqual(message(#"{"name":"x","sources":["10.0.0.1"]}"#), "sources: '10.0.0.1' is not a 127.x.y.z loopback address")
        XCTAssertEqual(message(#"{"name":"x","sources":[]}"#), "sources: give at least one loopback address")
        XCTAssertEqual(message(#"{"sources":["127.0.0.1"]}"#), "scenario file: missing 'name' at top level")
        XCTAssertTrue(message(#"{"name":"x","sources":["127.0.0.1"],"fanout":[{"members":"ten"}]}"#).hasPrefix("scenario file: wrong type at .fanout[0].members"))
        XCTAssertEqual(message(#"{"name":"x","sources":["127.0.0.1"],"fanout":[{"members":1,"rates":[1],"seconds":1,"targets":["ceiling"]}]}"#), "fanout[0].members must be at least 2")
        XCTAssertEqual(message(#"{"name":"x","sources":["127.0.0.1"],"fanout":[{"members":10,"rates":[0],"seconds":1,"targets":["ceiling"]}]}"#), "fanout[0].rates must be 1 or more rates in (0, 10000]")
        XCTAssertTrue(message(#"{"name":"x","sources":["127.0.0.1"],"fanout":[{"members":10,"rates":[1],"seconds":1,"targets":["nats"]}]}"#).hasPrefix("fanout[0]: unknown target 'nats'"))
        XCTAssertTrue(message(#"{"name":"x","sources":["127.0.0.1"],"pairs":[{"pairs":1,"ratesPerUser":[1],"seconds":1,"targets":["ceiling"]}]}"#).hasPrefix("pairs[0]: unknown target 'ceiling'"))
        XCTAssertEqual(message(#"{"name":"x","sources":["127.0.0.1"],"idle":[{"connections":30000,"users":10,"restSeconds":1,"targets":["ceiling"]}]}"#), "idle[0]: 30000 connections need more source addresses (28000 each)")
        XCTAssertEqual(message(#"{"name":"x","sources":["127.0.0.1"],"history":[{"concurrency":[1],"seconds":1,"messages":10,"targets":["peer-graphql"]}]}"#), "history[0].messages must be at least 50 (one full page)")
        XCTAssertTrue(message("not json").hasPrefix("scenario file: not valid JSON"))
    }
}

final class ReportTests: XCTestCase {
    func step(_ target: String, members: Double, throughput: Double, expected: Int = 100, received: Int = 100, p99: UInt64 = 10) -> StepResult {
        var m = StepResult(scenario: "fanout", target: target, label: "members=\(Int(members))", parameters: ["members": members, "rate": 1], durationSeconds: 1)
        m.throughput = throughput
        m.throughputUnit = "deliveries/s"
        m.expected = expected
        m.received = received
        var r = LatencyRecorder()
        r.record(nanoseconds: p99 * 1_000_000)
        m.latency = r.summary
        return m
    }

    func meta() -> RunMeta { RunMeta(config: "quick", commit: "abc", startedAt: "now", machine: "Linux", cpuModel: "cpu", cores: 2, memoryGiB: 24) }

    func testRatiosUseTheBestLosslessStep() {
        let report = RunReport(meta: meta(), measurements: [
            step("messagerie-graphql", members: 1000, throughput: 50_000),
            step("messagerie-graphql", members: 1000, throughput: 90_000, expected: 100, received: 50), // lossy: ignored
            step("peer-socketio", members: 1000, throughput: 10_000),
            step("ceiling", members: 1000, throughput: 200_000),
        ])
        let lines = report.ratios()
        XCTAssertTrue(lines.contains { $0.contains("Messagerie GraphQL / python-socketio") && $0.contains("| 5.00× | ≥ 5× |") }, lines.joined(separator: "\n"))
        XCTAssertTrue(lines.contains { $0.contains("bare ceiling") && $0.contains("| 0.25× |") })
        XCTAssertTrue(lines.contains { $0.contains("Messagerie Socket.IO") && $0.contains("not measured: first side missing") })
    }

    func testMarkdownAndJSONRoundTrip() throws {
        var idle = StepResult(scenario: "idle", target: "ceiling", label: "connections=10", parameters: ["connections": 10], durationSeconds: 1)
        idle.bytesPerConnection = 4096
        idle.bytesPerConnectionAfterDelivery = 6144
        idle.serverRSSBytes = 10 * 1_048_576
        idle.cpuPercentAtRest = 0.5
        var measured = step("ceiling", members: 1000, throughput: 20_000)
        measured.serverCPUMicrosPerUnit = 19.5
        measured.loadgenCPUMicrosPerUnit = 11.64
        let report = RunReport(meta: meta(), measurements: [step("ceiling", members: 100, throughput: 1234.5), measured, idle], skipped: ["pairs on x: failed"])
        let md = report.markdown()
        XCTAssertTrue(md.contains("| ceiling | members=100 | 1235 deliveries/s | 10.0 | 10.0 | 10.0 | 10.0 | 0.00% | 0 | – |"), md)
        XCTAssertTrue(md.contains("| ceiling | members=1000 | 20000 deliveries/s | 10.0 | 10.0 | 10.0 | 10.0 | 0.00% | 0 | 19.5 / 11.6 |"), md)
        XCTAssertTrue(md.contains("| ceiling | 10 | 10.0 MiB | 4.00 KiB | 6.00 KiB | 0.50 % |"), md)
        XCTAssertTrue(md.contains("## Not run\n\n- pairs on x: failed"))
        let back = try JSONDecoder().decode(RunReport.self, from: report.json())
        XCTAssertEqual(back, report)
    }

    func testCPUPerUnit() {
        XCTAssertEqual(RunReport.cpuMicrosPerUnit(from: 10.0, to: 10.5, units: 10_000)!, 50, accuracy: 1e-9)
        XCTAssertNil(RunReport.cpuMicrosPerUnit(from: 10.0, to: 10.5, units: 0), "nothing counted: no figure")
        XCTAssertNil(RunReport.cpuMicrosPerUnit(from: nil, to: 10.5, units: 5), "the server's CPU could not be read")
        XCTAssertNil(RunReport.cpuMicrosPerUnit(from: 11.0, to: 10.5, units: 5), "a reading from another process")
    }

    func testLossFraction() {
        XCTAssertEqual(step("x", members: 2, throughput: 1, expected: 200, received: 150).lossFraction, 0.25)
        XCTAssertEqual(step("x", members: 2, throughput: 1, expected: 0, received: 0).lossFraction, 0)
        XCTAssertEqual(step("x", members: 2, throughput: 1, expected: 10, received: 12).lossFraction, 0, "duplicates are not negative loss")
    }
}
