import AsyncHTTPClient
import Foundation
import NIOCore
import XCTest

@testable import Gateway

/// `messagerie serve` as an operator runs it, stopped with SIGTERM.
final class GracefulShutdownTests: XCTestCase {
    func testSIGTERMTurnsReadinessOffFirstThenExitsCleanly() async throws {
        let (process, port, errors) = try await Self.startServer(drainMilliseconds: 3000)
        defer { if process.isRunning { process.terminate() } }
        let base = "http://127.0.0.1:\(port)"

        kill(process.processIdentifier, SIGTERM)
        try await eventually("readiness turns off while the server still answers", seconds: 2.5) {
            try await Self.get(base + "/readyz").status == 503
        }
        let ready = try await Self.get(base + "/readyz")
        XCTAssertTrue(ready.body.contains("draining"), ready.body)
        let health = try await Self.get(base + "/healthz")
        XCTAssertEqual(health.status, 200)

        try await eventually("the process exits", seconds: 30) { !process.isRunning }
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationReason, .exit)
        XCTAssertEqual(process.terminationStatus, 0, stderr)
    }

    /// On a first start the tables come from the migrations run just before the server listens;
    /// the background services (push worker, presence heartbeat, event listener) wait for them
    /// instead of logging failed queries.
    func testFirstStartLogsNoQueryOnMissingTables() async throws {
        let (process, _, errors) = try await Self.startServer(drainMilliseconds: 0, extra: ["LOG_LEVEL": "warning", "PUSH_POLL_MS": "100"])
        defer { if process.isRunning { process.terminate() } }
        // Long enough for several push polls and a presence heartbeat.
        try await Task.sleep(for: .seconds(2))
        kill(process.processIdentifier, SIGTERM)
        try await eventually("the process exits", seconds: 30) { !process.isRunning }
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, stderr)
        XCTAssertFalse(stderr.contains("does not exist"), stderr)
        XCTAssertFalse(stderr.contains("PSQLError"), stderr)
    }

    /// A client connected over GraphQL WebSocket is told to reconnect (1012) when the gateway stops.
    func testConnectedSocketIsToldToReconnectElsewhere() async throws {
        let (process, port, errors) = try await Self.startServer(drainMilliseconds: 200)
        defer { if process.isRunning { process.terminate() } }
        let result = try await runPython(
            script: "Tests/interop/ws_going_away.py",
            args: ["ws://127.0.0.1:\(port)/graphql", String(process.processIdentifier)], timeout: .seconds(60))
        XCTAssertEqual(result.status, 0, result.stderr)
        let line = try XCTUnwrap(result.stdout.split(separator: "\n").last, result.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(report["ack"] as? String, "connection_ack")
        XCTAssertEqual(report["code"] as? Int, 1012, "\(report)")
        try await eventually("the process exits", seconds: 30) { !process.isRunning }
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, stderr)
    }

    /// An Engine.IO session (what every Socket.IO client holds) stays served through the drain
    /// delay, then is closed so that its client reconnects elsewhere.
    func testSocketIOSessionIsClosedAfterTheDrain() async throws {
        let (process, port, errors) = try await Self.startServer(drainMilliseconds: 1500)
        defer { if process.isRunning { process.terminate() } }
        let result = try await runPython(
            script: "Tests/interop/socketio_going_away.py",
            args: ["http://127.0.0.1:\(port)", String(process.processIdentifier)], timeout: .seconds(60))
        XCTAssertEqual(result.status, 0, result.stderr)
        let line = try XCTUnwrap(result.stdout.split(separator: "\n").last, result.stderr)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(report["open"] as? Bool, true, "\(report)")
        XCTAssertEqual(report["readyDuringDrain"] as? Int, 503, "\(report)")
        XCTAssertNotNil(report["closed"] as? String, "\(report)")
        XCTAssertGreaterThan(report["secondsAfterUnready"] as? Double ?? 0, 0.5, "the session lived through the drain: \(report)")
        try await eventually("the process exits", seconds: 30) { !process.isRunning }
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, stderr)
    }

    /// `messagerie serve` on a fresh database, ready to answer.
    static func startServer(drainMilliseconds: Int, extra: [String: String] = [:]) async throws -> (Process, Int, Pipe) {
        let endpoint = try await TestDatabase.shared.freshDatabase()
        let port = try Self.freePort()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("messagerie-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: GatewayHarness.packageRoot + "/.build/debug/messagerie")
        process.arguments = ["serve"]
        process.currentDirectoryURL = folder
        process.environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "DATABASE_URL": GatewayHarness.databaseURL(endpoint),
            "MESSAGE_KEYS": GatewayHarness.messageKeys,
            "JWT_SECRET": GatewayHarness.jwtSecret,
            "OTP_PROVIDER": "console",
            "MIGRATIONS_DIR": GatewayHarness.packageRoot + "/migrations",
            "HOST": "127.0.0.1",
            "PORT": String(port),
            "DRAIN_MS": String(drainMilliseconds),
            "LOG_LEVEL": "error",
        ].merging(extra) { _, new in new }
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        // The server's working folder (its default `uploads/`) goes when the server does.
        process.terminationHandler = { _ in try? FileManager.default.removeItem(at: folder) }
        try process.run()
        do {
            try await eventually("the gateway is ready") { try await Self.get("http://127.0.0.1:\(port)/readyz").status == 200 }
        } catch {
            process.terminate()
            throw error
        }
        return (process, port, errors)
    }

    static func get(_ url: String) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 1 << 16)
        return (Int(response.status.code), String(buffer: body))
    }

    /// A port nobody listens on right now: bind to 0, read the number, let it go.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw PythonError("could not find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
