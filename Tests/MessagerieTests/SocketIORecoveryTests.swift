import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import XCTest

@testable import Gateway

/// Connection state recovery over raw long-polling: the CONNECT reply's `pid`, offsets on
/// `messageReceived`, and a reconnect (here to another gateway on the same database) that gets
/// the missed messages from the message log before its CONNECT reply.
final class SocketIORecoveryTests: XCTestCase {
    private static let settings = ["SOCKETIO_PING_INTERVAL_MS": "60000", "SOCKETIO_PING_TIMEOUT_MS": "60000"]

    static func json(_ packet: String, dropping prefix: Int) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(packet.dropFirst(prefix).utf8))
    }

    /// `(message text, offset)` of a `messageReceived` packet.
    static func received(_ packet: String) throws -> (text: String?, offset: String?) {
        XCTAssertTrue(packet.hasPrefix(#"42["messageReceived""#), packet)
        let args = try XCTUnwrap(try json(packet, dropping: 2) as? [Any])
        let message = try XCTUnwrap((args[1] as? [String: Any])?["message"] as? [String: Any])
        return (message["content"] as? String, args.count > 2 ? args[2] as? String : nil)
    }

    func testReconnectWithPidAndOffsetGetsMissedMessagesFirstEvenOnAnotherGateway() async throws {
        try await withGateway(Self.settings) { gw in
            let users = try await gw.signInUsers(2, series: 71)
            let (a, b) = (users[0], users[1])
            try await gw.send(a, to: b, text: "before")

            let first = try await SocketIOPollingClient.open(gw)
            try await first.connect(["token": b.accessToken, "recovery": true])
            let connected = try await first.untilConnected()
            let reply = try XCTUnwrap(connected.last)
            let handshake = try XCTUnwrap(try Self.json(reply, dropping: 2) as? [String: String])
            let pid = try XCTUnwrap(handshake["pid"])
            XCTAssertEqual(Set(handshake.keys), ["sid", "pid"])

            try await gw.send(a, to: b, text: "seen live")
            let live = try await first.message("seen live")
            let offset = try XCTUnwrap(live.offset)

            // The connection drops; meanwhile two messages are sent.
            try await first.send("1")
            try await gw.send(a, to: b, text: "missed 1")
            try await gw.send(a, to: b, text: "missed 2")

            // Back, through another gateway process on the same database.
            try await gw.harness.withApp { other in
                let again = try await SocketIOPollingClient.open(other)
                try await again.connect(["token": b.accessToken, "pid": pid, "offset": offset])
                let packets = try await again.untilConnected()
                XCTAssertEqual(packets.count, 3, "\(packets)")
                let missed = try packets.dropLast().map { try Self.received($0) }
                XCTAssertEqual(missed.map(\.text), ["missed 1", "missed 2"])
                XCTAssertNotNil(missed.last?.offset)
                let recovered = try XCTUnwrap(try Self.json(try XCTUnwrap(packets.last), dropping: 2) as? [String: String])
                XCTAssertEqual(recovered["pid"], pid, "the same pid tells the client it recovered")

                // Resuming from the last recovered offset: nothing more is missing.
                let latest = try await SocketIOPollingClient.open(other)
                try await latest.connect(["token": b.accessToken, "pid": pid, "offset": try XCTUnwrap(missed.last?.offset)])
                let only = try await latest.untilConnected()
                XCTAssertEqual(only.count, 1, "\(only)")
            }
        }
    }

    func testAnUnusableOffsetGivesAFreshPidAndNothingReplayed() async throws {
        try await withGateway(Self.settings) { gw in
            let users = try await gw.signInUsers(2, series: 72)
            try await gw.send(users[0], to: users[1], text: "hello")
            for offset in ["garbage", "12_not-a-uuid", ""] {
                let client = try await SocketIOPollingClient.open(gw)
                try await client.connect(["token": users[1].accessToken, "pid": "previouspid123", "offset": offset])
                let packets = try await client.untilConnected()
                XCTAssertEqual(packets.count, 1, "\(offset): nothing replayed, got \(packets)")
                let handshake = try XCTUnwrap(try Self.json(try XCTUnwrap(packets.last), dropping: 2) as? [String: String])
                XCTAssertNotEqual(handshake["pid"], "previouspid123", offset)
            }
        }
    }

    func testClientsThatDidNotAskGetNoOffsets() async throws {
        try await withGateway(Self.settings) { gw in
            let users = try await gw.signInUsers(2, series: 73)
            try await gw.send(users[0], to: users[1], text: "setup")
            let client = try await SocketIOPollingClient.open(gw)
            try await client.connect(["token": users[1].accessToken])
            _ = try await client.untilConnected()
            try await gw.send(users[0], to: users[1], text: "plain")
            let event = try await client.message("plain")
            XCTAssertNil(event.offset)
        }
    }
}
