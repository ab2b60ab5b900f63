import Foundation
import HummingbirdTesting
import Logging
import XCTest

@testable import Gateway

/// `messagerie socketio-conformance` against raw HTTP and WebSocket checks written from the
/// official Engine.IO and Socket.IO protocol test suites (Tests/interop/socketio_conformance.py).
/// Their reference configuration has 300 ms / 200 ms heartbeats, so a few cases are about time
/// by nature, as in the official suites.
final class SocketIOConformanceTests: XCTestCase {
    func testTheReferenceTestSuiteCasesPass() async throws {
        var logger = Logger(label: "messagerie.tests.conformance")
        logger.logLevel = .critical
        let app = buildConformanceApplication(host: "127.0.0.1", port: 0, logger: logger)
        try await app.test(.live) { client in
            let port = try XCTUnwrap(client.port)
            let result = try await runPython(
                script: "Tests/interop/socketio_conformance.py", args: ["http://127.0.0.1:\(port)"], timeout: .seconds(120))
            let last = String(result.stdout.split(separator: "\n").last ?? "")
            let cases = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: String], result.stderr)
            XCTAssertGreaterThanOrEqual(cases.count, 25)
            for (name, outcome) in cases.sorted(by: { $0.key < $1.key }) {
                XCTAssertEqual(outcome, "ok", name)
            }
            XCTAssertEqual(result.status, 0, result.stderr)
        }
    }
}
