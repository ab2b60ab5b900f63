import Foundation
import XCTest

@testable import Gateway

/// Direct conversations and the conversation list, through GraphQL over HTTP.
final class ConversationTests: XCTestCase {
    func testFirstSendCreatesOneDirectConversationPerPair() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(2)
            let (ada, bola) = (users[0], users[1])
            let first = try await gw.send(ada, to: bola, text: "hello")
            let conversationId = try XCTUnwrap((first["conversation"] as? [String: Any])?["id"] as? String)
            XCTAssertEqual((first["conversation"] as? [String: Any])?["kind"] as? String, "DIRECT")
            XCTAssertEqual((first["sender"] as? [String: Any])?["id"] as? String, ada.userId)

            // Either direction lands in the same conversation.
            let back = try await gw.send(bola, to: ada, text: "hi back")
            XCTAssertEqual((back["conversation"] as? [String: Any])?["id"] as? String, conversationId)
            let again = try await gw.send(ada, in: conversationId, text: "by id")
            XCTAssertEqual((again["conversation"] as? [String: Any])?["id"] as? String, conversationId)

            let rows = try await gw.harness.column("SELECT id::text FROM conversations")
            XCTAssertEqual(rows, [conversationId])
            let members = try await gw.harness.column("SELECT user_id::text FROM conversation_members ORDER BY user_id")
            XCTAssertEqual(members, [ada.userId, bola.userId].sorted())

            let conversation = try await gw.ok(bola, "query($id: ID!) { conversation(id: $id) { \(conversationFields) } }",
                                               ["id": conversationId], at: "conversation") as? [String: Any]
            XCTAssertEqual(conversation?["kind"] as? String, "DIRECT")
            XCTAssertNil(conversation?["title"] as? String)
            let memberIds = (conversation?["members"] as? [[String: Any]] ?? []).compactMap { ($0["user"] as? [String: Any])?["id"] as? String }
            XCTAssertEqual(Set(memberIds), [ada.userId, bola.userId])
            XCTAssertEqual((conversation?["lastMessage"] as? [String: Any])?["text"] as? String, "by id")
        }
    }

    func testConcurrentFirstSendsInBothDirectionsShareOneConversation() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(2)
            let (ada, bola) = (users[0], users[1])
            let ids = try await withThrowingTaskGroup(of: String?.self) { group in
                for index in 0..<6 {
                    group.addTask {
                        let (from, to) = index.isMultiple(of: 2) ? (ada, bola) : (bola, ada)
                        let message = try await gw.send(from, to: to, text: "race \(index)")
                        return (message["conversation"] as? [String: Any])?["id"] as? String
                    }
                }
                var ids: [String?] = []
                for try await id in group { ids.append(id) }
                return ids
            }
            XCTAssertEqual(ids.count, 6)
            XCTAssertEqual(Set(ids.compactMap { $0 }).count, 1, "\(ids)")
            let count = try await gw.harness.column("SELECT count(*)::text FROM conversations")
            XCTAssertEqual(count, ["1"])
            let messages = try await gw.harness.column("SELECT count(*)::text FROM messages")
            XCTAssertEqual(messages, ["6"])
        }
    }

    func testDirectSendRefusals() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(2)
            let (ada, bola) = (users[0], users[1])
            assertCode(try await gw.sendReply(ada, to: ada, text: "me"), "BAD_USER_INPUT", "sending to oneself")
            let unknown = try await gw.call(ada, "mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }",
                                            ["i": ["recipientId": UUID().uuidString, "text": "anyone?"]])
            assertCode(unknown, "NOT_FOUND", "unknown recipient")
            let malformed = try await gw.call(ada, "mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }",
                                              ["i": ["recipientId": "not-a-uuid", "text": "x"]])
            XCTAssertNotNil(malformed.firstError, malformed.text)
            let anonymous = try await gw.call(nil, "mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }",
                                              ["i": ["recipientId": bola.userId, "text": "x"]])
            assertCode(anonymous, "UNAUTHENTICATED")
            let count = try await gw.harness.column("SELECT count(*)::text FROM conversations")
            XCTAssertEqual(count, ["0"], "refused sends create nothing")
        }
    }

    func testConversationsNewestActivityFirstWithLastMessageAndUnreadCount() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(4)
            let (ada, bola, chidi, dayo) = (users[0], users[1], users[2], users[3])
            try await gw.send(bola, to: ada, text: "from bola 1")
            try await gw.send(bola, to: ada, text: "from bola 2")
            try await gw.send(chidi, to: ada, text: "from chidi")
            let group = try await gw.createGroup(dayo, title: "Team", members: [ada])
            try await gw.send(ada, to: bola, text: "ada answers bola")

            let query = "query($n: Int, $a: String) { conversations(first: $n, after: $a) { edges { cursor node { \(conversationFields) } } pageInfo { hasNextPage hasPreviousPage endCursor } } }"
            let reply = try await gw.call(ada, query, ["n": 10])
            XCTAssertNil(reply.firstError, reply.text)
            let nodes = (reply.value("conversations.edges") as? [[String: Any]] ?? []).compactMap { $0["node"] as? [String: Any] }
            XCTAssertEqual(nodes.count, 3)
            let lastTexts = nodes.map { ($0["lastMessage"] as? [String: Any])?["text"] as? String }
            // Bola's conversation has the newest activity (Ada's answer), then the group, then Chidi.
            XCTAssertEqual(lastTexts, ["ada answers bola", nil, "from chidi"])
            XCTAssertEqual(nodes[1]["id"] as? String, group)
            XCTAssertEqual((nodes[1]["lastMessage"] as? [String: Any])?["kind"] as? String, "SYSTEM")
            XCTAssertEqual(nodes.map { $0["unreadCount"] as? Int }, [2, 0, 1], "own messages and system messages are not unread")

            // Paged one at a time: same order, no repeats.
            var paged: [String] = []
            var after: String?
            repeat {
                var variables: [String: Any] = ["n": 1]
                if let after { variables["a"] = after }
                let page = try await gw.call(ada, query, variables)
                XCTAssertNil(page.firstError, page.text)
                paged += (page.value("conversations.edges") as? [[String: Any]] ?? []).compactMap { ($0["node"] as? [String: Any])?["id"] as? String }
                XCTAssertEqual(page.value("conversations.pageInfo.hasPreviousPage") as? Bool, after != nil)
                after = page.value("conversations.pageInfo.hasNextPage") as? Bool == true ? page.string("conversations.pageInfo.endCursor") : nil
            } while after != nil
            XCTAssertEqual(paged, nodes.compactMap { $0["id"] as? String })

            // Another person sees only their own conversations.
            let bolaList = try await gw.ok(bola, query, ["n": 10], at: "conversations.edges") as? [[String: Any]]
            XCTAssertEqual(bolaList?.count, 1)

            let badSize = try await gw.call(ada, "query($n: Int) { conversations(first: $n) { edges { cursor } } }", ["n": 101])
            assertCode(badSize, "BAD_USER_INPUT", "page size over the limit")
            let badCursor = try await gw.call(ada, query, ["n": 1, "a": "garbage!"])
            assertCode(badCursor, "BAD_USER_INPUT", "malformed cursor")
            assertCode(try await gw.call(nil, query, ["n": 1]), "UNAUTHENTICATED")
        }
    }

    func testUnreadCountFallsWithMarkRead() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(2)
            let (ada, bola) = (users[0], users[1])
            var last: [String: Any] = [:]
            for index in 1...3 { last = try await gw.send(bola, to: ada, text: "m\(index)") }
            let conversationId = try XCTUnwrap((last["conversation"] as? [String: Any])?["id"] as? String)
            let unread = "query($id: ID!) { conversation(id: $id) { unreadCount } }"
            let before = try await gw.ok(ada, unread, ["id": conversationId], at: "conversation.unreadCount") as? Int
            XCTAssertEqual(before, 3)
            let marked = try await gw.ok(ada, "mutation($c: ID!, $m: ID!) { markRead(conversationId: $c, upToMessageId: $m) }",
                                         ["c": conversationId, "m": try XCTUnwrap(last["id"] as? String)], at: "markRead") as? Int
            XCTAssertEqual(marked, 3)
            let after = try await gw.ok(ada, unread, ["id": conversationId], at: "conversation.unreadCount") as? Int
            XCTAssertEqual(after, 0)
        }
    }

    func testConversationOfSomeoneElseIsNull() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(3)
            let message = try await gw.send(users[0], to: users[1], text: "private")
            let conversationId = try XCTUnwrap((message["conversation"] as? [String: Any])?["id"] as? String)
            let reply = try await gw.call(users[2], "query($id: ID!) { conversation(id: $id) { id title } }", ["id": conversationId])
            XCTAssertNil(reply.firstError, reply.text)
            XCTAssertTrue(reply.value("conversation") is NSNull || reply.value("conversation") == nil, reply.text)
            let unknown = try await gw.call(users[2], "query($id: ID!) { conversation(id: $id) { id } }", ["id": UUID().uuidString])
            XCTAssertTrue(unknown.value("conversation") is NSNull || unknown.value("conversation") == nil, "same answer as unknown: \(unknown.text)")
        }
    }
}
