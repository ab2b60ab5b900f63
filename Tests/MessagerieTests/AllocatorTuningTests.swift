import Foundation
import XCTest

@testable import Gateway

/// `messagerie serve` runs with glibc's per-thread cache of freed chunks raised, whatever else
/// the operator's `GLIBC_TUNABLES` says, unless it sets that count itself.
final class AllocatorTuningTests: XCTestCase {
    func testTheTunableIsAddedToWhatWasSet() {
        XCTAssertEqual(AllocatorTuning.tunables(given: nil), "glibc.malloc.tcache_count=1024")
        XCTAssertEqual(AllocatorTuning.tunables(given: ""), "glibc.malloc.tcache_count=1024")
        XCTAssertEqual(
            AllocatorTuning.tunables(given: "glibc.malloc.mmap_threshold=131072"),
            "glibc.malloc.mmap_threshold=131072:glibc.malloc.tcache_count=1024")
        XCTAssertNil(AllocatorTuning.tunables(given: "glibc.malloc.tcache_count=7"), "the operator's own count is kept")
    }

    /// The process started is the one that answers (`exec` keeps its pid), running with the
    /// tunable in its environment.
    func testServeRunsItselfAgainWithTheTunable() async throws {
        let (process, port, _) = try await GracefulShutdownTests.startServer(drainMilliseconds: 0)
        defer { process.terminate() }
        let environment = try String(contentsOfFile: "/proc/\(process.processIdentifier)/environ", encoding: .utf8)
            .split(separator: "\0").map(String.init)
        XCTAssertEqual(environment.filter { $0.hasPrefix("GLIBC_TUNABLES=") }, ["GLIBC_TUNABLES=glibc.malloc.tcache_count=1024"])
        XCTAssertTrue(environment.contains("MESSAGERIE_ALLOCATOR_TUNED=1"), "the marker that stops a second restart")
        let health = try await GracefulShutdownTests.get("http://127.0.0.1:\(port)/healthz")
        XCTAssertEqual(health.status, 200)
    }

    /// With the marker set (as by a restart), `serve` does not run itself again, whatever
    /// `GLIBC_TUNABLES` says: the environment it runs with is the one it was given.
    func testTheMarkerStopsAnotherRestart() async throws {
        let (process, _, _) = try await GracefulShutdownTests.startServer(drainMilliseconds: 0, extra: ["MESSAGERIE_ALLOCATOR_TUNED": "1"])
        defer { process.terminate() }
        let environment = try String(contentsOfFile: "/proc/\(process.processIdentifier)/environ", encoding: .utf8)
            .split(separator: "\0").map(String.init)
        XCTAssertEqual(environment.filter { $0.hasPrefix("GLIBC_TUNABLES=") }, [])
    }
}
