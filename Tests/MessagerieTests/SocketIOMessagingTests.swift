import Foundation
import HummingbirdTesting
import Resolvers
import XCTest

@testable import Gateway

/// The messaging namespace over raw long-polling: limits per user and delivery across gateways.
final class SocketIOMessagingTests: XCTestCase {
    private static let settings = ["SOCKETIO_PING_INTERVAL_MS": "60000", "SOCKETIO_PING_TIMEOUT_MS": "60000"]

    private static func connectPayload(_ token: String) -> String { #"40{"token":"\#(token)"}"# }

    func testConnectionsPerUserAreBounded() async throws {
        try await withGateway(Self.settings.merging(["SOCKETIO_MAX_CONNECTIONS_PER_USER": "2"]) { _, new in new }) { gw in
            let user = try await gw.signIn("+2348012345931", displayName: "Many Tabs")
            var clients: [SocketIOPollingClient] = []
            for _ in 0..<2 {
                let client = try await SocketIOPollingClient.open(gw)
                try await client.send(Self.connectPayload(user.accessToken))
                let reply = try await client.untilConnected()
                XCTAssertTrue(reply.last?.hasPrefix("40{\"sid\"") == true, "\(reply)")
                clients.append(client)
            }
            let third = try await SocketIOPollingClient.open(gw)
            try await third.send(Self.connectPayload(user.accessToken))
            let refused = try await third.packets(1)
            XCTAssertEqual(refused, [#"44{"message":"too many connections (limit 2 per user)"}"#])

            // Leaving the namespace frees the slot: the same session may connect again.
            try await clients[0].send("41\u{1E}" + Self.connectPayload(user.accessToken))
            let back = try await clients[0].untilConnected()
            XCTAssertTrue(back.last?.hasPrefix("40{\"sid\"") == true, "\(back)")
        }
    }

    /// Every member's socket gets the group message, presented once per process for all of them.
    func testAGroupMessageReachesEveryMembersSocket() async throws {
        try await withGateway(Self.settings) { gw in
            let users = try await gw.signInUsers(3, series: 75)
            let group = try await gw.createGroup(users[0], title: "Trio", members: [users[1], users[2]])
            var sockets: [SocketIOPollingClient] = []
            for user in users {
                let client = try await SocketIOPollingClient.open(gw)
                try await client.send(Self.connectPayload(user.accessToken))
                _ = try await client.untilConnected()
                sockets.append(client)
            }
            try await sockets[0].send(#"421["sendMessage",{"conversationId":"\#(group)","content":"hello trio"}]"#)
            for (index, socket) in sockets.enumerated() {
                var packets: [String] = []
                while !packets.contains(where: { $0.contains("hello trio") && $0.hasPrefix(#"42["messageReceived""#) }) {
                    packets += try await socket.packets(1)
                }
                let packet = try XCTUnwrap(packets.first { $0.contains("hello trio") && $0.hasPrefix(#"42["messageReceived""#) })
                let args = try XCTUnwrap(try SocketIORecoveryTests.json(packet, dropping: 2) as? [Any])
                let message = try XCTUnwrap((args[1] as? [String: Any])?["message"] as? [String: Any])
                XCTAssertEqual(message["conversationId"] as? String, group, "socket \(index)")
                XCTAssertEqual(message["senderId"] as? String, users[0].userId, "socket \(index)")
                XCTAssertTrue(message["receiverId"] is NSNull, "a group message has no receiverId")
                XCTAssertEqual(message["status"] as? String, "SENT")
            }
        }
    }

    /// Presence is pushed within direct conversations and groups up to PRESENCE_MAX_GROUP_MEMBERS
    /// members: Bola, met only in a group above it, comes online unannounced; Dayo, met in a
    /// direct conversation, is announced, and so is Bola once the group is small enough.
    func testPresenceIsNotPushedWithinGroupsAboveTheLimit() async throws {
        for (limit, bolaAnnounced) in [("2", false), ("3", true)] {
            try await withGateway(Self.settings.merging(["PRESENCE_MAX_GROUP_MEMBERS": limit]) { _, new in new }) { gw in
                let users = try await gw.signInUsers(4, series: 76)
                let (ada, bola, chidi, dayo) = (users[0], users[1], users[2], users[3])
                _ = try await gw.createGroup(ada, title: "Trio", members: [bola, chidi])
                try await gw.send(dayo, to: ada, text: "hello")
                let watcher = try await SocketIOPollingClient.open(gw)
                try await watcher.send(Self.connectPayload(ada.accessToken))
                _ = try await watcher.untilConnected()
                for user in [bola, dayo] {
                    let client = try await SocketIOPollingClient.open(gw)
                    try await client.send(Self.connectPayload(user.accessToken))
                    _ = try await client.untilConnected()
                }
                // Presence is published in order: once Dayo's arrives, Bola's would have come first.
                var online: [String] = []
                while !online.contains(dayo.userId) {
                    for packet in try await watcher.packets(1) where packet.hasPrefix(#"42["userOnline""#) {
                        let args = try XCTUnwrap(try SocketIORecoveryTests.json(packet, dropping: 2) as? [Any])
                        online.append(try XCTUnwrap((args[1] as? [String: Any])?["userId"] as? String))
                    }
                }
                XCTAssertEqual(online, bolaAnnounced ? [bola.userId, dayo.userId] : [dayo.userId], "limit \(limit)")
            }
        }
    }

    /// With the watch's pass set to an hour, only the trigger's notice of the sign-out ends the
    /// connection in the test's time.
    func testSigningOutDisconnectsTheSocket() async throws {
        try await withGateway(Self.settings.merging(["SOCKETIO_SESSION_CHECK_MS": "3600000"]) { _, new in new }) { gw in
            let user = try await gw.signIn("+2348012345932", displayName: "Leaver")
            let client = try await SocketIOPollingClient.open(gw)
            try await client.send(Self.connectPayload(user.accessToken))
            _ = try await client.untilConnected()
            let out = try await gw.graphQL("mutation { logout }", token: user.accessToken)
            XCTAssertNil(out.firstError, out.text)
            // The server ends the namespace connection with a DISCONNECT packet, long before the watch's next pass.
            let disconnected = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    var packets: [String] = []
                    while !packets.contains("41") {
                        try Task.checkCancellation()
                        packets += try await client.packets(1)
                    }
                    return true
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(20))
                    return false
                }
                defer { group.cancelAll() }
                return try await group.next() ?? false
            }
            XCTAssertTrue(disconnected, "no DISCONNECT within 20 s of signing out")
            // And the revoked token no longer connects.
            try await client.send(Self.connectPayload(user.accessToken))
            let refused = try await client.packets(1)
            XCTAssertEqual(refused, [#"44{"message":"unauthorized"}"#])
        }
    }

    /// A token's expiry ends the namespace connection as signing out does (the server keeps that
    /// timer with all the others, `Deadlines`). Pings come every second so that a poll never
    /// waits long; an unanswered one ends the session only after a minute, which fails the test.
    func testAnExpiringTokenDisconnectsTheSocket() async throws {
        try await withGateway(["SOCKETIO_PING_INTERVAL_MS": "1000", "SOCKETIO_PING_TIMEOUT_MS": "60000"]) { gw in
            let user = try await gw.signIn("+2348012345934", displayName: "Brief")
            let sid = try XCTUnwrap(jwtClaims(user.accessToken)["sid"] as? String)
            let brief = try await TestTokens.sign(secret: GatewayHarness.jwtSecret, sub: user.userId, sid: sid, expiresIn: 3)
            let client = try await SocketIOPollingClient.open(gw)
            try await client.send(Self.connectPayload(brief))
            _ = try await client.untilConnected()
            var packets: [String] = []
            while !packets.contains("41") { packets += try await client.packets(1) }
            // The expired token no longer connects.
            try await client.send(Self.connectPayload(brief))
            let refused = try await client.packets(1)
            XCTAssertEqual(refused, [#"44{"message":"unauthorized"}"#])
        }
    }

    /// A message whose notification was lost (here: written straight into the log) makes the
    /// feed hold the next one for its number (`SequenceGate`), but only briefly: the next one
    /// still reaches the socket when nothing else happens. Pings every second bound each poll;
    /// thirty polls without it fail the test.
    func testTheMessageAfterALostNotificationStillArrives() async throws {
        try await withGateway(["SOCKETIO_PING_INTERVAL_MS": "1000", "SOCKETIO_PING_TIMEOUT_MS": "60000"]) { gw in
            let users = try await gw.signInUsers(2, series: 77)
            let (a, b) = (users[0], users[1])
            let first = try await gw.send(a, to: b, text: "before the loss")
            let conversation = try XCTUnwrap((first["conversation"] as? [String: Any])?["id"] as? String)
            let receiver = try await SocketIOPollingClient.open(gw)
            try await receiver.send(Self.connectPayload(b.accessToken))
            _ = try await receiver.untilConnected()

            try await gw.harness.writeUnannounced(in: conversation, from: a.userId)
            try await gw.send(a, in: conversation, text: "after the loss")
            var packets: [String] = []
            for _ in 0..<30 where !packets.contains(where: { $0.contains("after the loss") }) { packets += try await receiver.poll() }
            XCTAssertTrue(packets.contains { $0.contains("after the loss") }, "\(packets)")
        }
    }

    /// Two people with a direct conversation, the second connected over polling and shown a first
    /// message `text` live, which gives the socket its position in the conversation: the sender,
    /// the conversation, the receiver's client and the packets it read.
    static func receiving(
        _ text: String, _ gw: GatewayClient, series: Int
    ) async throws -> (sender: SignedIn, conversation: String, receiver: SocketIOPollingClient, packets: [String]) {
        let users = try await gw.signInUsers(2, series: series)
        let (a, b) = (users[0], users[1])
        let opening = try await gw.send(a, to: b, text: "opening")
        let conversation = try XCTUnwrap((opening["conversation"] as? [String: Any])?["id"] as? String)
        let receiver = try await SocketIOPollingClient.open(gw)
        try await receiver.send(connectPayload(b.accessToken))
        _ = try await receiver.untilConnected()
        try await gw.send(a, in: conversation, text: text)
        var packets: [String] = []
        for _ in 0..<30 where !packets.contains(where: { $0.contains(text) }) { packets += try await receiver.poll() }
        return (a, conversation, receiver, packets)
    }

    /// A message whose notification was lost (written straight into the log) is read from the
    /// log by the socket when the next message shows the gap in its conversation's numbers, and
    /// arrives before that next one, as over GraphQL.
    func testAMessageWhoseNotificationWasLostArrivesBeforeTheNextOne() async throws {
        try await withGateway(["SOCKETIO_PING_INTERVAL_MS": "1000", "SOCKETIO_PING_TIMEOUT_MS": "60000"]) { gw in
            let (sender, conversation, receiver, received) = try await Self.receiving("before the loss", gw, series: 82)
            var packets = received
            let written = try await gw.harness.writeUnannounced(in: conversation, from: sender.userId)
            let lost = try XCTUnwrap(written.first)
            try await gw.send(sender, in: conversation, text: "after the loss")
            for _ in 0..<30 where !packets.contains(where: { $0.contains("after the loss") }) { packets += try await receiver.poll() }

            let order = ["before the loss", lost, "after the loss"].map { text in packets.firstIndex { $0.contains(text) } }
            XCTAssertNotNil(order[0], "\(packets)")
            XCTAssertNotNil(order[1], "the lost message never came: \(packets)")
            XCTAssertNotNil(order[2], "\(packets)")
            if let before = order[0], let missed = order[1], let after = order[2] {
                XCTAssertLessThan(before, missed)
                XCTAssertLessThan(missed, after, "the lost message comes before the one that showed the gap")
            }
            XCTAssertEqual(packets.filter { $0.contains(lost) }.count, 1, "sent once: \(packets)")
        }
    }

    /// More lost messages than a gap is filled with: the socket's session is closed instead, so
    /// that its client reconnects and recovers from its offset, rather than being sent a part.
    func testMoreLostMessagesThanAPageCloseTheSession() async throws {
        try await withGateway(["SOCKETIO_PING_INTERVAL_MS": "1000", "SOCKETIO_PING_TIMEOUT_MS": "60000"]) { gw in
            let (sender, conversation, receiver, received) = try await Self.receiving("before the loss", gw, series: 83)
            var packets = received
            try await gw.harness.writeUnannounced(MessageService.gapLimit + 1, in: conversation, from: sender.userId)
            try await gw.send(sender, in: conversation, text: "after the loss")
            for _ in 0..<10 where !packets.contains("1") {
                guard let more = try? await receiver.poll() else { break }
                packets += more
                if more.contains("2") { try await receiver.send("3") }
            }
            XCTAssertTrue(packets.contains("1"), "the session was not closed: \(packets.suffix(3))")
            XCTAssertFalse(packets.contains { $0.contains("after the loss") }, "sent past a gap it did not fill")
        }
    }

    /// The audience of a live event is read when it is delivered. Someone added to the group
    /// after a message was written, but before its notification went out, must not be shown it:
    /// they see only what follows their joining, live as in history. Here the message is written
    /// straight into the log, the member added by SQL, and only then is the message announced.
    func testAMemberAddedAfterAMessageIsNotShownItLive() async throws {
        try await withGateway(Self.settings) { gw in
            let users = try await gw.signInUsers(3, series: 80)
            let (owner, member, late) = (users[0], users[1], users[2])
            let group = try await gw.createGroup(owner, title: "Before you", members: [member])
            let receiver = try await SocketIOPollingClient.open(gw)
            try await receiver.send(Self.connectPayload(late.accessToken))
            _ = try await receiver.untilConnected()

            let written = try await gw.harness.column("""
                WITH c AS (UPDATE conversations SET last_seq = last_seq + 1 WHERE id = '\(group)' RETURNING id, last_seq)
                INSERT INTO messages (id, conversation_id, seq, sender_id, kind, deleted_at)
                SELECT gen_random_uuid(), id, last_seq, '\(owner.userId)', 'USER', now() FROM c RETURNING id::text || ' ' || seq::text
                """)
            let earlier = try XCTUnwrap(written.first ?? nil).split(separator: " ")
            let (earlierId, earlierSeq) = (String(earlier[0]), String(earlier[1]))
            try await gw.harness.execute(
                "INSERT INTO conversation_members (conversation_id, user_id, role, joined_seq) VALUES ('\(group)', '\(late.userId)', 'MEMBER', \(earlierSeq))",
                """
                SELECT pg_notify('messagerie_events', '[{"messageCreated":{"conversationId":"\(group)","messageId":"\(earlierId)","seq":\(earlierSeq),"senderId":"\(owner.userId)"}}]')
                """)
            try await gw.send(owner, in: group, text: "after you joined")
            var packets: [String] = []
            while !packets.contains(where: { $0.contains("after you joined") }) { packets += try await receiver.packets(1) }
            XCTAssertFalse(packets.contains { $0.contains(earlierId) }, "the message from before the joining was delivered: \(packets)")
            // The member who was there all along is shown it.
            let history = try await gw.messagesPage(member, group, last: 10)
            XCTAssertTrue(history.text.contains(earlierId), history.text)
        }
    }

    /// A new message whose parts cannot be read when it is delivered (here the attachments table is
    /// out of reach for a moment) is not skipped in silence: the socket's session is closed, so
    /// that its client reconnects and recovers the message. Pings every second bound each poll.
    func testAMessageThatCannotBeReadClosesTheSessionInsteadOfBeingSkipped() async throws {
        try await withGateway(["SOCKETIO_PING_INTERVAL_MS": "1000", "SOCKETIO_PING_TIMEOUT_MS": "60000"]) { gw in
            let users = try await gw.signInUsers(2, series: 81)
            let (a, b) = (users[0], users[1])
            let first = try await gw.send(a, to: b, text: "before")
            let conversation = try XCTUnwrap((first["conversation"] as? [String: Any])?["id"] as? String)
            let receiver = try await SocketIOPollingClient.open(gw)
            try await receiver.send(Self.connectPayload(b.accessToken))
            _ = try await receiver.untilConnected()

            try await gw.harness.execute("ALTER TABLE message_attachments RENAME TO message_attachments_away")
            let sent = try await gw.call(a, "mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }",
                                         ["i": ["conversationId": conversation, "text": "unreadable for now"]])
            XCTAssertNil(sent.firstError, sent.text)
            // Pings are answered, so that only the gateway's reaction can close the session.
            var packets: [String] = []
            for _ in 0..<10 where !packets.contains("1") {
                guard let more = try? await receiver.poll() else { break }
                packets += more
                if more.contains("2") { try await receiver.send("3") }
            }
            try await gw.harness.execute("ALTER TABLE message_attachments_away RENAME TO message_attachments")
            XCTAssertTrue(packets.contains("1"), "the session was not closed: \(packets)")
            XCTAssertFalse(packets.contains { $0.contains("unreadable for now") }, "\(packets)")

            // The next socket gets the message that followed, read again rather than taken from a failed load.
            let again = try await SocketIOPollingClient.open(gw)
            try await again.send(Self.connectPayload(b.accessToken))
            _ = try await again.untilConnected()
            try await gw.send(a, in: conversation, text: "after")
            let next = try await again.message("after")
            XCTAssertEqual(next.text, "after")
        }
    }

    func testAMessageSentOnOneGatewayReachesASocketOnAnother() async throws {
        try await withGateway(Self.settings) { gw in
            let users = try await gw.signInUsers(2, series: 74)
            let (a, b) = (users[0], users[1])
            try await gw.harness.withApp { other in
                let receiver = try await SocketIOPollingClient.open(other)
                try await receiver.send(Self.connectPayload(b.accessToken))
                _ = try await receiver.untilConnected()

                let sender = try await SocketIOPollingClient.open(gw)
                try await sender.send(Self.connectPayload(a.accessToken))
                _ = try await sender.untilConnected()
                try await sender.send(#"427["sendMessage",{"receiverId":"\#(b.userId)","content":"across gateways"}]"#)
                var ack: String?
                while ack == nil { ack = try await sender.packets(1).first { $0.hasPrefix("437[") } }
                let args = try XCTUnwrap(try SocketIORecoveryTests.json(try XCTUnwrap(ack), dropping: 3) as? [[String: Any]])
                XCTAssertEqual(args.first?["ok"] as? Bool, true, "\(args)")

                let event = try await receiver.message("across gateways")
                XCTAssertEqual(event.text, "across gateways")
            }
        }
    }
}
