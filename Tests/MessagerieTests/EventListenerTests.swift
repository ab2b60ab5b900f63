import Foundation
import HummingbirdTesting
import XCTest

@testable import Gateway
@testable import Resolvers

/// The gateway's LISTEN connection: live subscribers register only while it is in place, and
/// when it comes back after a drop, the sockets that may have missed events are closed so that
/// their clients reconnect and catch up.
final class EventListenerTests: XCTestCase {
    func testSubscribersWaitUntilTheHubIsListening() async throws {
        let hub = EventHub()
        XCTAssertFalse(hub.isListening)
        let returned = ManagedFlag()
        let waiter = Task {
            try await hub.untilListening()
            returned.set()
        }
        try await Task.sleep(for: .milliseconds(100))
        XCTAssertFalse(returned.value, "returned before LISTEN was in place")
        hub.listeningChanged(true)
        try await waiter.value
        XCTAssertTrue(returned.value)
        try await hub.untilListening()

        hub.listeningChanged(false)
        let cancelled = Task { try await hub.untilListening() }
        cancelled.cancel()
        do {
            try await cancelled.value
            XCTFail("a cancelled wait returned as if the hub were listening")
        } catch is CancellationError {}
        XCTAssertFalse(hub.isListening)
    }

    func testLosingTheListenConnectionClosesSocketIOSessionsAndTheGatewayRecovers() async throws {
        let settings = ["SOCKETIO_PING_INTERVAL_MS": "60000", "SOCKETIO_PING_TIMEOUT_MS": "60000"]
        try await withGateway(settings) { gw in
            let users = try await gw.signInUsers(2, series: 78)
            let (sender, receiver) = (users[0], users[1])
            try await eventually("the gateway is ready") { try await gw.raw(method: .get, uri: "/readyz").status == .ok }
            let before = try await SocketIOPollingClient.open(gw)
            try await before.send(#"40{"token":"\#(receiver.accessToken)"}"#)
            _ = try await before.untilConnected()

            try await Self.terminateListen(gw)

            // Closed at the Engine.IO level (packet 1), which a Socket.IO client reconnects after.
            var packets: [String] = []
            while !packets.contains("1") { packets += try await before.poll() }
            XCTAssertFalse(packets.contains { $0.hasPrefix("41") }, "not a namespace DISCONNECT, which clients stay away after: \(packets)")
            // With a 60 s ping interval, a close after a ping is the heartbeat's (this client never
            // answers pings), not the gateway's reaction to the lost LISTEN.
            XCTAssertFalse(packets.contains("2"), "closed by the heartbeat's timeout, not when LISTEN came back: \(packets)")

            try await eventually("ready again") { try await gw.raw(method: .get, uri: "/readyz").status == .ok }
            let after = try await SocketIOPollingClient.open(gw)
            try await after.send(#"40{"token":"\#(receiver.accessToken)"}"#)
            _ = try await after.untilConnected()
            try await gw.send(sender, to: receiver, text: "heard again")
            let event = try await after.message("heard again")
            XCTAssertEqual(event.text, "heard again")
        }
    }

    /// GraphQL sockets (both subprotocols) are closed with 1013 and words that say why.
    func testGraphQLSocketsAreClosedWhenTheListenConnectionReturns() async throws {
        try await withGateway(setup: .live) { gw in
            let user = try await gw.signIn("+2348012345981")
            let ready = FileManager.default.temporaryDirectory.appendingPathComponent("interrupted-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: ready) }
            var params = try WS.urls(gw)
            params["token"] = user.accessToken
            params["ready"] = ready
            async let closed = WS.scenario("interrupted", params)
            try await eventually("the subscriptions are live", seconds: 60) { FileManager.default.fileExists(atPath: ready) }
            try await Self.terminateListen(gw)
            let result = try await closed
            for proto in ["graphql-transport-ws", "graphql-ws"] {
                let socket = try XCTUnwrap(result[proto] as? [String: Any], "\(result)")
                XCTAssertEqual(socket["code"] as? Int, 1013, proto)
                XCTAssertEqual(socket["reason"] as? String, GraphQLWSConnection.interruptedReason, proto)
            }
        }
    }

    /// The stock `python-socketio` client comes back by itself when LISTEN returns, and hears again.
    func testPythonSocketIOClientReconnectsByItselfAfterTheListenConnectionReturns() async throws {
        try await withGateway(setup: .live) { gw in
            let port = try XCTUnwrap(gw.port)
            let users = try await gw.signInUsers(2, series: 79)
            let ready = FileManager.default.temporaryDirectory.appendingPathComponent("relisten-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: ready) }
            async let script = runPython(
                script: "Tests/interop/socketio_chat.py",
                args: ["relisten", "http://localhost:\(port)", users[0].accessToken, users[1].accessToken, users[1].userId, ready],
                timeout: .seconds(120))
            try await eventually("the Python client connected", seconds: 60) { FileManager.default.fileExists(atPath: ready) }
            try await Self.terminateListen(gw)
            let result = try await script
            XCTAssertEqual(result.status, 0, "python failed:\n--- stdout\n\(result.stdout)\n--- stderr\n\(result.stderr)")
            let last = try XCTUnwrap(result.stdout.split(separator: "\n").last, result.stderr)
            let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any], String(last))
            XCTAssertEqual(summary["received"] as? String, "after LISTEN came back")
            XCTAssertEqual((summary["disconnects"] as? [Any])?.count, 1, "\(summary)")
        }
    }

    /// Ends the gateway's LISTEN connection from the database's side, as a failover or a network cut would.
    static func terminateListen(_ gw: GatewayClient, file: StaticString = #filePath, line: UInt = #line) async throws {
        let terminated = try await gw.harness.column("""
            SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity
            WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()
            """)
        XCTAssertEqual(terminated, ["true"], "one LISTEN connection per gateway", file: file, line: line)
    }
}

/// A flag set by one task and read by another.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var isSet = false
    var value: Bool { lock.withLock { isSet } }
    func set() { lock.withLock { isSet = true } }
}
