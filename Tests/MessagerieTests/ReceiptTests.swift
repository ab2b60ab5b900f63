import Foundation
import XCTest

@testable import Gateway

/// Delivery and read receipts, and the aggregate status the sender sees.
final class ReceiptTests: XCTestCase {
    static let delivered = "mutation($m: [ID!]!) { markDelivered(messageIds: $m) { id status receipts { user { id } deliveredAt readAt } } }"
    static let read = "mutation($c: ID!, $m: ID!) { markRead(conversationId: $c, upToMessageId: $m) }"
    static let message = "query($c: ID!) { messages(conversationId: $c, last: 1) { edges { node { id status receipts { user { id } deliveredAt readAt } } } } }"

    /// The newest message of the conversation as `viewer` sees it.
    private static func newest(_ gw: GatewayClient, _ viewer: SignedIn, _ conversation: String) async throws -> [String: Any] {
        let edges = try await gw.ok(viewer, message, ["c": conversation], at: "messages.edges") as? [[String: Any]]
        return try XCTUnwrap(edges?.last?["node"] as? [String: Any])
    }

    private static func receipt(_ message: [String: Any], of user: SignedIn) -> [String: Any]? {
        (message["receipts"] as? [[String: Any]])?.first { ($0["user"] as? [String: Any])?["id"] as? String == user.userId }
    }

    func testStatusMovesSentDeliveredReadAndNeverBack() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(2)
            let (ada, bola) = (users[0], users[1])
            let sent = try await gw.send(ada, to: bola, text: "did you get it?")
            let id = try XCTUnwrap(sent["id"] as? String)
            let conversation = try XCTUnwrap((sent["conversation"] as? [String: Any])?["id"] as? String)
            let got1 = try await Self.newest(gw, ada, conversation)["status"] as? String
            XCTAssertEqual(got1, "SENT")
            let got2 = try await Self.newest(gw, bola, conversation)["status"] as? String
            XCTAssertEqual(got2, "SENT", "the recipient's own receipt")

            let marked = try await gw.ok(bola, Self.delivered, ["m": [id]], at: "markDelivered") as? [[String: Any]]
            XCTAssertEqual(marked?.map { $0["id"] as? String }, [id])
            var seen = try await Self.newest(gw, ada, conversation)
            XCTAssertEqual(seen["status"] as? String, "DELIVERED")
            let deliveredAt = try XCTUnwrap(Self.receipt(seen, of: bola)?["deliveredAt"] as? String)
            XCTAssertTrue(Self.receipt(seen, of: bola)?["readAt"] is NSNull)

            let count = try await gw.ok(bola, Self.read, ["c": conversation, "m": id], at: "markRead") as? Int
            XCTAssertEqual(count, 1)
            seen = try await Self.newest(gw, ada, conversation)
            XCTAssertEqual(seen["status"] as? String, "READ")
            let readAt = try XCTUnwrap(Self.receipt(seen, of: bola)?["readAt"] as? String)

            // Marking again changes nothing: no time moves, the status stays READ.
            try await gw.ok(bola, Self.delivered, ["m": [id, id]], at: "markDelivered")
            let again = try await gw.ok(bola, Self.read, ["c": conversation, "m": id], at: "markRead") as? Int
            XCTAssertEqual(again, 0)
            seen = try await Self.newest(gw, ada, conversation)
            XCTAssertEqual(seen["status"] as? String, "READ")
            XCTAssertEqual(Self.receipt(seen, of: bola)?["deliveredAt"] as? String, deliveredAt)
            XCTAssertEqual(Self.receipt(seen, of: bola)?["readAt"] as? String, readAt)
            let got3 = try await Self.newest(gw, bola, conversation)["status"] as? String
            XCTAssertEqual(got3, "READ")
        }
    }

    func testGroupStatusWaitsForEveryRecipient() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(3)
            let (ada, bola, chidi) = (users[0], users[1], users[2])
            let group = try await gw.createGroup(ada, title: "Receipts", members: [bola, chidi])
            let sent = try await gw.send(ada, in: group, text: "everyone?")
            let id = try XCTUnwrap(sent["id"] as? String)
            XCTAssertEqual(Set((sent["receipts"] as? [[String: Any]] ?? []).compactMap { ($0["user"] as? [String: Any])?["id"] as? String }),
                           [bola.userId, chidi.userId], "one receipt per recipient, none for the sender")

            try await gw.ok(bola, Self.delivered, ["m": [id]], at: "markDelivered")
            let got4 = try await Self.newest(gw, ada, group)["status"] as? String
            XCTAssertEqual(got4, "SENT", "one of two has it")
            try await gw.ok(chidi, Self.delivered, ["m": [id]], at: "markDelivered")
            let got5 = try await Self.newest(gw, ada, group)["status"] as? String
            XCTAssertEqual(got5, "DELIVERED")
            try await gw.ok(chidi, Self.read, ["c": group, "m": id], at: "markRead")
            let got6 = try await Self.newest(gw, ada, group)["status"] as? String
            XCTAssertEqual(got6, "DELIVERED", "one of two read it")
            let got7 = try await Self.newest(gw, chidi, group)["status"] as? String
            XCTAssertEqual(got7, "READ", "chidi's own receipt")
            let got8 = try await Self.newest(gw, bola, group)["status"] as? String
            XCTAssertEqual(got8, "DELIVERED", "bola's own receipt")
            try await gw.ok(bola, Self.read, ["c": group, "m": id], at: "markRead")
            let got9 = try await Self.newest(gw, ada, group)["status"] as? String
            XCTAssertEqual(got9, "READ")
        }
    }

    func testMarkReadCountsWhatItMarksUpToTheMessageAndImpliesDelivery() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(2)
            let (ada, bola) = (users[0], users[1])
            var ids: [String] = []
            var conversation = ""
            for index in 1...5 {
                let sent = try await gw.send(ada, to: bola, text: "m\(index)")
                ids.append(try XCTUnwrap(sent["id"] as? String))
                conversation = try XCTUnwrap((sent["conversation"] as? [String: Any])?["id"] as? String)
            }
            try await gw.send(bola, to: ada, text: "bola's own")  // never counted for bola
            let got10 = try await gw.ok(bola, Self.read, ["c": conversation, "m": ids[1]], at: "markRead") as? Int
            XCTAssertEqual(got10, 2)
            let got11 = try await gw.ok(bola, Self.read, ["c": conversation, "m": ids[0]], at: "markRead") as? Int
            XCTAssertEqual(got11, 0, "never backwards")
            let got12 = try await gw.ok(bola, Self.read, ["c": conversation, "m": ids[4]], at: "markRead") as? Int
            XCTAssertEqual(got12, 3)
            let rows = try await gw.harness.column(
                "SELECT count(*)::text FROM message_receipts WHERE read_at IS NOT NULL AND delivered_at IS NOT NULL AND delivered_at <= read_at")
            XCTAssertEqual(rows, ["5"], "read implies delivered")
            let unread = try await gw.ok(bola, "query($id: ID!) { conversation(id: $id) { unreadCount } }", ["id": conversation],
                                         at: "conversation.unreadCount") as? Int
            XCTAssertEqual(unread, 0)
        }
    }

    /// Receipts are written when reported: sending writes none, a reply does not read what came
    /// before it, and the sender sees each recipient as SENT until that recipient reports.
    func testReceiptsAreWrittenWhenReportedAndAReplyReadsNothing() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(2)
            let (ada, bola) = (users[0], users[1])
            var ids: [String] = []
            var conversation = ""
            for index in 1...3 {
                let sent = try await gw.send(ada, to: bola, text: "q\(index)")
                ids.append(try XCTUnwrap(sent["id"] as? String))
                conversation = try XCTUnwrap((sent["conversation"] as? [String: Any])?["id"] as? String)
            }
            try await gw.send(bola, to: ada, text: "answering without reading")
            let rows = try await gw.harness.column("SELECT count(*)::text FROM message_receipts")
            XCTAssertEqual(rows, ["0"])
            let unread = "query($id: ID!) { conversation(id: $id) { unreadCount } }"
            let bolaUnread = try await gw.ok(bola, unread, ["id": conversation], at: "conversation.unreadCount") as? Int
            XCTAssertEqual(bolaUnread, 3, "a reply is not a read receipt")
            let adaUnread = try await gw.ok(ada, unread, ["id": conversation], at: "conversation.unreadCount") as? Int
            XCTAssertEqual(adaUnread, 1)

            let page = "query($c: ID!) { messages(conversationId: $c, first: 3) { edges { node { id status receipts { user { id } deliveredAt readAt } } } } }"
            let before = try await gw.ok(ada, page, ["c": conversation], at: "messages.edges") as? [[String: Any]]
            let firstReceipts = try XCTUnwrap((before?.first?["node"] as? [String: Any])?["receipts"] as? [[String: Any]])
            XCTAssertEqual(firstReceipts.count, 1, "one receipt per recipient, reported or not")
            XCTAssertTrue(firstReceipts.first?["deliveredAt"] is NSNull)

            try await gw.ok(bola, Self.delivered, ["m": [ids[0]]], at: "markDelivered")
            let after = try await gw.ok(ada, page, ["c": conversation], at: "messages.edges") as? [[String: Any]]
            XCTAssertEqual(after?.map { ($0["node"] as? [String: Any])?["status"] as? String }, ["DELIVERED", "SENT", "SENT"])
            let read = try await gw.ok(bola, Self.read, ["c": conversation, "m": ids[2]], at: "markRead") as? Int
            XCTAssertEqual(read, 3)
            let bolaAfter = try await gw.ok(bola, unread, ["id": conversation], at: "conversation.unreadCount") as? Int
            XCTAssertEqual(bolaAfter, 0)
            let written = try await gw.harness.column("SELECT count(*)::text FROM message_receipts WHERE read_at IS NOT NULL")
            XCTAssertEqual(written, ["3"])
        }
    }

    func testConcurrentMarkReadCountsEachReceiptOnce() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(2)
            let (ada, bola) = (users[0], users[1])
            var last: [String: Any] = [:]
            for index in 1...6 { last = try await gw.send(ada, to: bola, text: "n\(index)") }
            let conversation = try XCTUnwrap((last["conversation"] as? [String: Any])?["id"] as? String)
            let lastId = try XCTUnwrap(last["id"] as? String)
            let counts = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await gw.ok(bola, Self.read, ["c": conversation, "m": lastId], at: "markRead") as? Int ?? -1 }
                }
                var counts: [Int] = []
                for try await count in group { counts.append(count) }
                return counts
            }
            XCTAssertEqual(counts.reduce(0, +), 6, "each receipt counted by exactly one call: \(counts)")
        }
    }

    func testReceiptRefusals() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(3)
            let (ada, bola, stranger) = (users[0], users[1], users[2])
            let sent = try await gw.send(ada, to: bola, text: "for bola")
            let id = try XCTUnwrap(sent["id"] as? String)
            let conversation = try XCTUnwrap((sent["conversation"] as? [String: Any])?["id"] as? String)
            let elsewhere = try await gw.send(ada, to: stranger, text: "for the stranger")
            let elsewhereId = try XCTUnwrap(elsewhere["id"] as? String)

            assertCode(try await gw.call(stranger, Self.delivered, ["m": [id]]), "NOT_FOUND", "a stranger marks delivered")
            assertCode(try await gw.call(bola, Self.delivered, ["m": [id, elsewhereId]]), "NOT_FOUND", "one id is not theirs")
            assertCode(try await gw.call(stranger, Self.read, ["c": conversation, "m": id]), "NOT_FOUND", "a stranger marks read")
            assertCode(try await gw.call(bola, Self.read, ["c": conversation, "m": elsewhereId]), "NOT_FOUND", "a message of another conversation")
            assertCode(try await gw.call(bola, Self.read, ["c": conversation, "m": UUID().uuidString]), "NOT_FOUND", "an unknown message")
            assertCode(try await gw.call(nil, Self.read, ["c": conversation, "m": id]), "UNAUTHENTICATED")
            let none = try await gw.ok(bola, Self.delivered, ["m": [String]()], at: "markDelivered") as? [Any]
            XCTAssertEqual(none?.count, 0)
            let changed = try await gw.harness.column("SELECT count(*)::text FROM message_receipts WHERE delivered_at IS NOT NULL")
            XCTAssertEqual(changed, ["0"], "refusals mark nothing, not even the ids that were allowed")
        }
    }
}
