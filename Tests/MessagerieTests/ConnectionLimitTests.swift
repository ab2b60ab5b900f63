import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import XCTest

@testable import Gateway

/// `MAX_CONNECTIONS`: beyond it the server stops accepting (new connections wait in the backlog)
/// instead of running out of file descriptors.
final class ConnectionLimitTests: XCTestCase {
    func testDefaultKeepsAReserveBelowTheOpenFilesLimit() throws {
        var limit = rlimit()
        XCTAssertEqual(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit), 0)
        let settings = try Settings(values: [:])
        XCTAssertEqual(settings.maxConnections, max(16, Int(limit.rlim_cur) - Settings.reservedFileDescriptors))
        XCTAssertEqual(try Settings(values: ["MAX_CONNECTIONS": "300"]).maxConnections, 300)
        XCTAssertThrowsError(try Settings(values: ["MAX_CONNECTIONS": "0"])) { error in
            XCTAssertEqual((error as? SettingsError)?.name, "MAX_CONNECTIONS")
        }
    }

    func testAConnectionOverTheLimitWaitsUntilAnotherCloses() async throws {
        let (process, port, _) = try await GracefulShutdownTests.startServer(drainMilliseconds: 0, extra: ["MAX_CONNECTIONS": "2"])
        defer { process.terminate() }
        // Idle sockets take every slot (one more waits in the backlog if a pooled client
        // connection from the readiness check still holds one).
        let held = try (0..<2).map { _ in try Self.openSocket(port: port) }
        try await Task.sleep(for: .milliseconds(300))
        let served = NIOLockedValueBox(false)
        async let status = Self.health(port: port, served: served)
        try await Task.sleep(for: .seconds(1))
        XCTAssertFalse(served.withLockedValue { $0 }, "a connection over the limit is not served while the others are open")
        for fd in held { close(fd) }
        let answer = try await status
        XCTAssertEqual(answer, 200, "served once slots are free")
    }

    /// A new connection's answer to `/healthz`.
    static func health(port: Int, served: NIOLockedValueBox<Bool>) async throws -> Int {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz")
            request.method = .GET
            let response = try await client.execute(request, timeout: .seconds(20))
            served.withLockedValue { $0 = true }
            try await client.shutdown()
            return Int(response.status.code)
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// A plain TCP connection that sends nothing: it holds one of the server's slots.
    static func openSocket(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else {
            close(fd)
            throw PythonError("could not connect to port \(port)")
        }
        return fd
    }
}
