import Foundation
import XCTest

@testable import Gateway

/// sendMessage, editMessage, deleteMessage: happy paths, refusals, idempotency and ordering.
final class MessageTests: XCTestCase {
    private static func conversationId(_ message: [String: Any]) -> String? {
        (message["conversation"] as? [String: Any])?["id"] as? String
    }

    func testSendReturnsTheStoredMessageAndRepliesNameTheirMessage() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(2)
            let (ada, bola) = (users[0], users[1])
            let sent = try await gw.send(ada, to: bola, text: "Bonjour, ça va ?", clientMessageId: "c-1")
            XCTAssertEqual(sent["text"] as? String, "Bonjour, ça va ?")
            XCTAssertEqual(sent["kind"] as? String, "USER")
            XCTAssertEqual(sent["clientMessageId"] as? String, "c-1")
            XCTAssertEqual(sent["status"] as? String, "SENT")
            XCTAssertTrue(sent["editedAt"] is NSNull)
            XCTAssertTrue(sent["deletedAt"] is NSNull)
            XCTAssertNotNil(parseRFC3339(sent["createdAt"] as? String ?? ""), "createdAt is RFC 3339: \(sent)")
            let receipts = sent["receipts"] as? [[String: Any]] ?? []
            XCTAssertEqual(receipts.compactMap { ($0["user"] as? [String: Any])?["id"] as? String }, [bola.userId])

            let conversation = try XCTUnwrap(Self.conversationId(sent))
            let reply = try await gw.send(bola, in: conversation, text: "Oui !", replyToId: sent["id"] as? String)
            XCTAssertEqual((reply["replyTo"] as? [String: Any])?["id"] as? String, sent["id"] as? String)
            XCTAssertEqual((reply["replyTo"] as? [String: Any])?["text"] as? String, "Bonjour, ça va ?")

            let read = try await gw.allMessages(bola, conversation)
            XCTAssertEqual(texts(read), ["Bonjour, ça va ?", "Oui !"])
        }
    }

    func testSendRefusalsChangeNothing() async throws {
        try await withGateway(["MESSAGE_MAX_LENGTH": "10"]) { gw in
            let users = try await gw.signInUsers(3)
            let (ada, bola, chidi) = (users[0], users[1], users[2])
            let first = try await gw.send(ada, to: bola, text: "first")
            let conversation = try XCTUnwrap(Self.conversationId(first))
            let other = try await gw.send(ada, to: chidi, text: "other")

            assertCode(try await gw.sendReply(ada, in: conversation, text: nil), "BAD_USER_INPUT", "no text and no attachments")
            assertCode(try await gw.sendReply(ada, in: conversation, text: ""), "BAD_USER_INPUT", "empty text")
            assertCode(try await gw.sendReply(ada, in: conversation, text: " \n\t "), "BAD_USER_INPUT", "blank text")
            assertCode(try await gw.sendReply(ada, in: conversation, text: "12345678901"), "BAD_USER_INPUT", "over MESSAGE_MAX_LENGTH")
            try await gw.send(ada, in: conversation, text: "👨‍👩‍👧‍👦👍🏽🇳🇬éèêëàâo")  // 10 characters as people count them
            assertCode(try await gw.sendReply(ada, to: bola, in: conversation, text: "both"), "BAD_USER_INPUT", "recipient and conversation")
            assertCode(try await gw.sendReply(ada, text: "neither"), "BAD_USER_INPUT", "neither recipient nor conversation")
            assertCode(try await gw.sendReply(ada, in: conversation, text: "x", clientMessageId: String(repeating: "c", count: 129)),
                       "BAD_USER_INPUT", "overlong clientMessageId")
            assertCode(try await gw.sendReply(ada, in: conversation, text: "x", clientMessageId: ""), "BAD_USER_INPUT", "empty clientMessageId")
            assertCode(try await gw.sendReply(ada, in: conversation, text: "x", clientMessageId: String(repeating: "👨‍👩‍👧‍👦", count: 20)),
                       "BAD_USER_INPUT", "a clientMessageId of 140 code points")
            assertCode(try await gw.sendReply(ada, in: conversation, text: "x", clientMessageId: "a\u{0}b"),
                       "BAD_USER_INPUT", "a clientMessageId with U+0000, which PostgreSQL's text cannot hold")
            assertCode(try await gw.sendReply(ada, in: conversation, text: "x", replyToId: other["id"] as? String),
                       "BAD_USER_INPUT", "reply to a message of another conversation")
            assertCode(try await gw.sendReply(ada, in: conversation, text: "x", replyToId: UUID().uuidString), "BAD_USER_INPUT", "reply to nothing")
            assertCode(try await gw.sendReply(ada, in: UUID().uuidString, text: "x"), "NOT_FOUND", "unknown conversation")
            let withAttachment = try await gw.call(ada, "mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }",
                                                   ["i": ["conversationId": conversation, "text": "x", "attachmentIds": [UUID().uuidString]]])
            assertCode(withAttachment, "BAD_USER_INPUT", "unknown attachment")

            let count = try await gw.harness.column("SELECT count(*)::text FROM messages")
            XCTAssertEqual(count, ["3"], "only the three accepted messages are stored")
            let seqs = try await gw.harness.column("SELECT last_seq::text FROM conversations WHERE id = '\(conversation)'")
            XCTAssertEqual(seqs, ["2"], "refusals take no sequence number")
        }
    }

    func testRetriesWithTheSameClientMessageIdReturnTheFirstMessage() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(2)
            let (ada, bola) = (users[0], users[1])
            let first = try await gw.send(ada, to: bola, text: "once", clientMessageId: "retry-1")
            let retry = try await gw.send(ada, to: bola, text: "once, retried", clientMessageId: "retry-1")
            XCTAssertEqual(retry["id"] as? String, first["id"] as? String)
            XCTAssertEqual(retry["text"] as? String, "once", "a retry returns the stored message")
            // Another sender may use the same client id: it is scoped per sender.
            let bolas = try await gw.send(bola, to: ada, text: "mine", clientMessageId: "retry-1")
            XCTAssertNotEqual(bolas["id"] as? String, first["id"] as? String)
            let count = try await gw.harness.column("SELECT count(*)::text FROM messages")
            XCTAssertEqual(count, ["2"])
        }
    }

    func testConcurrentRetriesStoreOneMessage() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(2)
            let (ada, bola) = (users[0], users[1])
            let opening = try await gw.send(ada, to: bola, text: "opening")
            let conversation = try XCTUnwrap(Self.conversationId(opening))
            // Both ways in: by conversation id, and by recipient (which also creates nothing new).
            let ids = try await withThrowingTaskGroup(of: String?.self) { group in
                for index in 0..<10 {
                    group.addTask {
                        let reply = index.isMultiple(of: 2)
                            ? try await gw.sendReply(ada, in: conversation, text: "parallel", clientMessageId: "same-id")
                            : try await gw.sendReply(ada, to: bola, text: "parallel", clientMessageId: "same-id")
                        XCTAssertNil(reply.firstError, reply.text)
                        return reply.string("sendMessage.id")
                    }
                }
                var ids: [String?] = []
                for try await id in group { ids.append(id) }
                return ids
            }
            XCTAssertEqual(ids.compactMap { $0 }.count, 10)
            XCTAssertEqual(Set(ids.compactMap { $0 }).count, 1, "every retry answers with the same message: \(ids)")
            let rows = try await gw.harness.column("SELECT id::text FROM messages WHERE client_message_id = 'same-id'")
            XCTAssertEqual(rows, [ids[0]])
            let seqs = try await gw.harness.column("SELECT seq::text FROM messages WHERE conversation_id = '\(conversation)' ORDER BY seq")
            XCTAssertEqual(seqs, ["1", "2"], "losing retries leave no gap in the sequence")
            let receipts = try await gw.harness.column("SELECT count(*)::text FROM message_receipts")
            XCTAssertEqual(receipts, ["0"], "receipts are written when the recipient reports, not when a message is sent")
        }
    }

    func testConcurrentSendsToOneConversationGetDenseUniqueSequenceNumbers() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(3)
            let group = try await gw.createGroup(users[0], title: "Race", members: [users[1], users[2]])
            let perUser = 8
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for (u, user) in users.enumerated() {
                    for index in 0..<perUser {
                        tasks.addTask { try await gw.send(user, in: group, text: "u\(u) m\(index)") }
                    }
                }
                try await tasks.waitForAll()
            }
            let total = users.count * perUser + 1  // + the GROUP_CREATED system message
            let seqs = try await gw.harness.column("SELECT m.seq::text FROM messages m WHERE m.conversation_id = '\(group)' ORDER BY m.seq")
            XCTAssertEqual(seqs.compactMap { $0.flatMap(Int.init) }, Array(1...total), "dense and unique")
            let lastSeq = try await gw.harness.column("SELECT last_seq::text FROM conversations WHERE id = '\(group)'")
            XCTAssertEqual(lastSeq, [String(total)])

            // Each sender's own messages come back in the order that sender sent them... and every
            // reader sees one and the same order, the sequence order.
            let orders = try await withThrowingTaskGroup(of: [String].self) { tasks in
                for user in users { tasks.addTask { try await gw.allMessages(user, group).compactMap { $0["id"] as? String } } }
                var orders: [[String]] = []
                for try await order in tasks { orders.append(order) }
                return orders
            }
            let bySeq = try await gw.harness.column("SELECT id::text FROM messages WHERE conversation_id = '\(group)' ORDER BY seq")
            for order in orders { XCTAssertEqual(order, bySeq.compactMap { $0 }) }
        }
    }

    func testEditBySenderKeepsEditedAtAndRefusesOthers() async throws {
        try await withGateway(["MESSAGE_MAX_LENGTH": "20"]) { gw in
            let users = try await gw.signInUsers(3)
            let (ada, bola, chidi) = (users[0], users[1], users[2])
            let sent = try await gw.send(ada, to: bola, text: "helo")
            let id = try XCTUnwrap(sent["id"] as? String)
            let edit = "mutation($id: ID!, $t: String!) { editMessage(id: $id, text: $t) { \(messageFields) } }"
            let edited = try await gw.ok(ada, edit, ["id": id, "t": "hello"], at: "editMessage") as? [String: Any]
            XCTAssertEqual(edited?["text"] as? String, "hello")
            let editedAt = try XCTUnwrap(parseRFC3339(edited?["editedAt"] as? String ?? ""), "editedAt is set: \(String(describing: edited))")
            XCTAssertGreaterThanOrEqual(editedAt, try XCTUnwrap(parseRFC3339(sent["createdAt"] as? String ?? "")))

            assertCode(try await gw.call(bola, edit, ["id": id, "t": "not yours"]), "FORBIDDEN", "the recipient edits")
            assertDenied(try await gw.call(chidi, edit, ["id": id, "t": "stranger"]), "a stranger edits")
            assertCode(try await gw.call(ada, edit, ["id": id, "t": "  "]), "BAD_USER_INPUT", "blank edit")
            assertCode(try await gw.call(ada, edit, ["id": id, "t": String(repeating: "x", count: 21)]), "BAD_USER_INPUT", "overlong edit")
            assertCode(try await gw.call(ada, edit, ["id": UUID().uuidString, "t": "x"]), "NOT_FOUND", "unknown message")

            let byNewWord = try await gw.ok(bola, "{ searchMessages(filter: { text: \"hello\" }) { edges { node { id } } } }", at: "searchMessages.edges") as? [Any]
            XCTAssertEqual(byNewWord?.count, 1, "the search index follows the edit")
            let byOldWord = try await gw.ok(bola, "{ searchMessages(filter: { text: \"helo\" }) { edges { node { id } } } }", at: "searchMessages.edges") as? [Any]
            XCTAssertEqual(byOldWord?.count, 0, "the old words are gone from the index")
            let seen = try await gw.allMessages(bola, try XCTUnwrap(Self.conversationId(sent)))
            XCTAssertEqual(texts(seen), ["hello"], "the recipient sees the edit, and only it")
            XCTAssertNotNil(seen.first?["editedAt"] as? String)
        }
    }

    func testDeleteLeavesATombstoneForEveryone() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(2)
            let (ada, bola) = (users[0], users[1])
            let keep = try await gw.send(ada, to: bola, text: "keep me")
            let gone = try await gw.send(ada, to: bola, text: "delete me")
            let conversation = try XCTUnwrap(Self.conversationId(gone))
            let goneId = try XCTUnwrap(gone["id"] as? String)
            try await gw.ok(bola, "mutation($m: ID!) { addReaction(messageId: $m, emoji: \"👍\") { id } }", ["m": goneId], at: "addReaction")
            try await gw.ok(bola, "mutation($m: [ID!]!) { markDelivered(messageIds: $m) { id } }", ["m": [goneId]], at: "markDelivered")

            let delete = "mutation($id: ID!) { deleteMessage(id: $id) { \(messageFields) } }"
            assertCode(try await gw.call(bola, delete, ["id": goneId]), "FORBIDDEN", "only the sender deletes")
            let deleted = try await gw.ok(ada, delete, ["id": goneId], at: "deleteMessage") as? [String: Any]
            XCTAssertTrue(deleted?["text"] is NSNull, "\(String(describing: deleted))")
            XCTAssertNotNil(parseRFC3339(deleted?["deletedAt"] as? String ?? ""))
            XCTAssertEqual((deleted?["reactions"] as? [Any])?.count, 0, "reactions go with the text")
            XCTAssertEqual((deleted?["receipts"] as? [Any])?.count, 1, "receipts are kept")
            XCTAssertEqual(deleted?["status"] as? String, "DELIVERED")

            for viewer in [ada, bola] {
                let seen = try await gw.allMessages(viewer, conversation)
                XCTAssertEqual(seen.map { $0["id"] as? String }, [keep["id"] as? String, goneId], "the row keeps its place")
                XCTAssertEqual(seen.map { $0["text"] as? String }, ["keep me", nil])
            }
            let bodies = try await gw.harness.column("SELECT coalesce(body_key_id, 'none') || ':' || coalesce(length(body), 0) || ':' || cardinality(search_tokens) FROM messages WHERE id = '\(goneId)'")
            XCTAssertEqual(bodies, ["none:0:0"], "ciphertext and search tokens are gone from the table")

            assertCode(try await gw.call(ada, delete, ["id": goneId]), "CONFLICT", "deleting twice")
            assertCode(try await gw.call(ada, "mutation($id: ID!) { editMessage(id: $id, text: \"back\") { id } }", ["id": goneId]),
                       "CONFLICT", "editing a deleted message")
            let search = try await gw.ok(bola, "{ searchMessages(filter: { text: \"delete\" }) { edges { node { id } } } }",
                                         at: "searchMessages.edges") as? [Any]
            XCTAssertEqual(search?.count, 0, "a deleted message is not found by its old words")
        }
    }
}
