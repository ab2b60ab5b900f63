import Foundation
import Hummingbird
import XCTest

@testable import Gateway

/// `/api/messages/*`, `/api/conversations` and `/api/devices` through the real gateway, each
/// compared with the same facts read through GraphQL.
final class RestMessageTests: XCTestCase {
    func testSendThroughRestReadThroughGraphQLAndBack() async throws {
        try await withGateway { gw in
            let ada = try await gw.restRegister("+2348012346001", name: "Ada")
            let bo = try await gw.restRegister("+2348012346002", name: "Bo")

            let sent = try await gw.restSend(["receiverId": bo.userId, "content": "hello Bo", "clientMessageId": "c-1", "junk": true], token: ada.token)
            XCTAssertEqual(sent["content"] as? String, "hello Bo")
            XCTAssertEqual(sent["senderId"] as? String, ada.userId)
            XCTAssertEqual(sent["receiverId"] as? String, bo.userId)
            XCTAssertEqual(sent["status"] as? String, "SENT")
            XCTAssertEqual((sent["attachments"] as? [Any])?.count, 0)
            XCTAssertEqual((sent["reactions"] as? [Any])?.count, 0)
            let conversationId = try XCTUnwrap(sent["conversationId"] as? String)
            XCTAssertNotNil(parseRFC3339(sent["createdAt"] as? String ?? ""))

            // The same clientMessageId returns the first message.
            let retry = try await gw.restSend(["receiverId": bo.userId, "content": "hello Bo", "clientMessageId": "c-1"], token: ada.token)
            XCTAssertEqual(retry["id"] as? String, sent["id"] as? String)

            // GraphQL sees the REST message...
            let read = try await gw.graphQL(
                "query($c: ID!) { messages(conversationId: $c) { edges { node { id text sender { id } } } } }",
                variables: ["c": conversationId], token: bo.token)
            let edges = read.value("messages.edges") as? [[String: Any]] ?? []
            XCTAssertEqual(edges.count, 1, read.text)
            XCTAssertEqual((edges.first?["node"] as? [String: Any])?["text"] as? String, "hello Bo")

            // ...and REST sees a GraphQL message.
            let reply = try await gw.graphQL(
                "mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }",
                variables: ["i": ["conversationId": conversationId, "text": "hi Ada, from GraphQL"]], token: bo.token)
            let graphQLId = try XCTUnwrap(reply.string("sendMessage.id"), reply.text)
            let history = try await gw.rest(.get, "/api/messages/conversation/\(ada.userId)/\(bo.userId)", token: ada.token)
            XCTAssertEqual(history.status, .ok, history.text)
            XCTAssertEqual(history.messages.map { $0["content"] as? String }, ["hello Bo", "hi Ada, from GraphQL"])
            XCTAssertEqual(history.messages.last?["id"] as? String, graphQLId)
            XCTAssertEqual(history.messages.last?["receiverId"] as? String, ada.userId)
            XCTAssertTrue(history.json.keys.contains("nextCursor"))
            XCTAssertTrue(history.json["nextCursor"] is NSNull)

            // Read: Bo reads up to Ada's message; Ada sees it READ through GraphQL.
            let marked = try await gw.rest(.post, "/api/messages/read", json: ["messageId": sent["id"]!], token: bo.token)
            XCTAssertEqual(marked.status, .ok, marked.text)
            XCTAssertEqual(marked.json["read"] as? Int, 1)
            let status = try await gw.graphQL(
                "query($c: ID!) { messages(conversationId: $c, first: 1) { edges { node { status } } } }",
                variables: ["c": conversationId], token: ada.token)
            XCTAssertEqual(((status.value("messages.edges") as? [[String: Any]])?.first?["node"] as? [String: Any])?["status"] as? String, "READ")

            // Conversations list.
            let list = try await gw.rest(.get, "/api/conversations", token: ada.token)
            XCTAssertEqual(list.status, .ok, list.text)
            let conversations = list.json["conversations"] as? [[String: Any]] ?? []
            XCTAssertEqual(conversations.count, 1)
            XCTAssertEqual(conversations.first?["id"] as? String, conversationId)
            XCTAssertEqual(conversations.first?["kind"] as? String, "DIRECT")
            XCTAssertEqual(conversations.first?["unreadCount"] as? Int, 1)
            XCTAssertEqual((conversations.first?["lastMessage"] as? [String: Any])?["id"] as? String, graphQLId)
        }
    }

    func testConversationHistoryPagesAndIsForbiddenToOthers() async throws {
        try await withGateway { gw in
            let ada = try await gw.restRegister("+2348012346011", name: "Ada")
            let bo = try await gw.restRegister("+2348012346012", name: "Bo")
            let cy = try await gw.restRegister("+2348012346013", name: "Cy")
            for n in 1...5 { _ = try await gw.restSend(["receiverId": bo.userId, "content": "m\(n)"], token: ada.token) }

            let page1 = try await gw.rest(.get, "/api/messages/conversation/\(bo.userId)/\(ada.userId)?limit=2", token: bo.token)
            XCTAssertEqual(page1.messages.map { $0["content"] as? String }, ["m4", "m5"])
            let cursor = try XCTUnwrap(page1.json["nextCursor"] as? String, page1.text)
            let page2 = try await gw.rest(.get, "/api/messages/conversation/\(bo.userId)/\(ada.userId)?limit=2&before=\(cursor)", token: bo.token)
            XCTAssertEqual(page2.messages.map { $0["content"] as? String }, ["m2", "m3"])

            let outsider = try await gw.rest(.get, "/api/messages/conversation/\(ada.userId)/\(bo.userId)", token: cy.token)
            XCTAssertEqual(outsider.status, .forbidden, outsider.text)
            XCTAssertEqual(outsider.errorCode, "FORBIDDEN")

            let none = try await gw.rest(.get, "/api/messages/conversation/\(cy.userId)/\(ada.userId)", token: cy.token)
            XCTAssertEqual(none.status, .ok)
            XCTAssertEqual(none.messages.count, 0)

            let badId = try await gw.rest(.get, "/api/messages/conversation/nope/\(ada.userId)", token: ada.token)
            XCTAssertEqual(badId.status, .badRequest)
            XCTAssertEqual(badId.errorField, "userId1")
            let badLimit = try await gw.rest(.get, "/api/messages/conversation/\(ada.userId)/\(bo.userId)?limit=1000", token: ada.token)
            XCTAssertEqual(badLimit.status, .badRequest)
            XCTAssertEqual(badLimit.errorField, "limit")
        }
    }

    func testSendRefusals() async throws {
        try await withGateway { gw in
            let ada = try await gw.restRegister("+2348012346021", name: "Ada")
            let bo = try await gw.restRegister("+2348012346022", name: "Bo")
            let cases: [([String: Any], HTTPResponse.Status, String?)] = [
                (["content": "x"], .unprocessableContent, "conversationId"),
                (["receiverId": bo.userId, "conversationId": UUID().uuidString, "content": "x"], .unprocessableContent, "conversationId"),
                (["receiverId": 42, "content": "x"], .badRequest, "receiverId"),
                (["receiverId": "not-an-id", "content": "x"], .badRequest, "receiverId"),
                (["receiverId": bo.userId, "content": 5], .badRequest, "content"),
                (["receiverId": bo.userId, "content": "x", "attachmentIds": "a"], .badRequest, "attachmentIds"),
                (["receiverId": bo.userId], .unprocessableContent, "content"),
                (["receiverId": bo.userId, "content": String(repeating: "x", count: 5000)], .unprocessableContent, "content"),
                (["receiverId": bo.userId, "content": "x", "attachmentIds": [UUID().uuidString]], .unprocessableContent, "attachmentIds"),
                (["receiverId": UUID().uuidString, "content": "x"], .notFound, nil),
                (["conversationId": UUID().uuidString, "content": "x"], .notFound, nil),
            ]
            for (body, status, field) in cases {
                let reply = try await gw.rest(.post, "/api/messages/send", json: body, token: ada.token)
                XCTAssertEqual(reply.status, status, "\(body): \(reply.text)")
                if let field { XCTAssertEqual(reply.errorField, field, "\(body): \(reply.text)") }
                XCTAssertNotNil(reply.error?["message"] as? String)
            }
            let count = try await gw.harness.column("SELECT count(*)::text FROM messages")
            XCTAssertEqual(count, ["0"])
        }
    }

    func testReactUnreactSearchAndFilter() async throws {
        try await withGateway { gw in
            let ada = try await gw.restRegister("+2348012346031", name: "Ada")
            let bo = try await gw.restRegister("+2348012346032", name: "Bo")
            let m1 = try await gw.restSend(["receiverId": bo.userId, "content": "the quick brown fox"], token: ada.token)
            _ = try await gw.restSend(["receiverId": ada.userId, "content": "lazy dog"], token: bo.token)
            let id = try XCTUnwrap(m1["id"] as? String)

            let reacted = try await gw.rest(.post, "/api/messages/react", json: ["messageId": id, "emoji": "👍"], token: bo.token)
            XCTAssertEqual(reacted.status, .ok, reacted.text)
            let reactions = reacted.message?["reactions"] as? [[String: Any]] ?? []
            XCTAssertEqual(reactions.first?["emoji"] as? String, "👍")
            XCTAssertEqual(reactions.first?["count"] as? Int, 1)
            XCTAssertEqual(reactions.first?["reactedByMe"] as? Bool, true)
            // GraphQL sees the REST reaction.
            let seen = try await gw.graphQL(
                "query($c: ID!) { messages(conversationId: $c, first: 1) { edges { node { reactions { emoji count } } } } }",
                variables: ["c": m1["conversationId"]!], token: ada.token)
            XCTAssertTrue(seen.text.contains("👍"), seen.text)

            let unreacted = try await gw.rest(.post, "/api/messages/unreact", json: ["messageId": id, "emoji": "👍"], token: bo.token)
            XCTAssertEqual(unreacted.status, .ok, unreacted.text)
            XCTAssertEqual((unreacted.message?["reactions"] as? [Any])?.count, 0)
            let missing = try await gw.rest(.post, "/api/messages/react", json: ["messageId": UUID().uuidString, "emoji": "👍"], token: bo.token)
            XCTAssertEqual(missing.status, .notFound, missing.text)
            let noEmoji = try await gw.rest(.post, "/api/messages/react", json: ["messageId": id], token: bo.token)
            XCTAssertEqual(noEmoji.status, .badRequest)
            XCTAssertEqual(noEmoji.errorField, "emoji")

            let found = try await gw.rest(.get, "/api/messages/search?term=quick", token: bo.token)
            XCTAssertEqual(found.status, .ok, found.text)
            XCTAssertEqual(found.messages.map { $0["id"] as? String }, [id])
            let bySender = try await gw.rest(.get, "/api/messages/search?senderId=\(bo.userId)", token: ada.token)
            XCTAssertEqual(bySender.messages.map { $0["content"] as? String }, ["lazy dog"])
            let byReceiver = try await gw.rest(.get, "/api/messages/search?receiverId=\(bo.userId)", token: ada.token)
            XCTAssertEqual(byReceiver.messages.map { $0["content"] as? String }, ["the quick brown fox"])
            let paged = try await gw.rest(.get, "/api/messages/search?senderId=\(ada.userId)&limit=1", token: ada.token)
            XCTAssertEqual(paged.messages.count, 1)
            let empty = try await gw.rest(.get, "/api/messages/search", token: ada.token)
            XCTAssertEqual(empty.status, .badRequest)
            XCTAssertEqual(empty.errorField, "term")

            let today = String(ISO8601DateFormatter().string(from: Date()).prefix(10))
            let filtered = try await gw.rest(.get, "/api/messages/filter?startDate=\(today)&endDate=\(today)", token: ada.token)
            XCTAssertEqual(filtered.status, .ok, filtered.text)
            XCTAssertEqual(filtered.messages.count, 2)
            let past = try await gw.rest(.get, "/api/messages/filter?startDate=2001-01-01&endDate=2001-12-31", token: ada.token)
            XCTAssertEqual(past.messages.count, 0)
            let badDate = try await gw.rest(.get, "/api/messages/filter?startDate=yesterday", token: ada.token)
            XCTAssertEqual(badDate.status, .badRequest)
            XCTAssertEqual(badDate.errorField, "startDate")
            let reversed = try await gw.rest(.get, "/api/messages/filter?startDate=2024-02-01&endDate=2024-01-01", token: ada.token)
            XCTAssertEqual(reversed.status, .unprocessableContent, reversed.text)
            XCTAssertEqual(reversed.errorField, "startDate")
        }
    }

    func testDeviceRegistrationMovesTokenBetweenUsers() async throws {
        try await withGateway { gw in
            let ada = try await gw.restRegister("+2348012346041", name: "Ada")
            let bo = try await gw.restRegister("+2348012346042", name: "Bo")
            let first = try await gw.rest(.post, "/api/devices", json: ["token": "ExponentPushToken[abc]", "platform": "expo"], token: ada.token)
            XCTAssertEqual(first.status, .created, first.text)
            XCTAssertEqual((first.json["device"] as? [String: Any])?["platform"] as? String, "EXPO")
            let owners1 = try await gw.harness.column("SELECT user_id::text FROM push_devices")
            XCTAssertEqual(owners1, [ada.userId])
            let moved = try await gw.rest(.post, "/api/devices", json: ["token": "ExponentPushToken[abc]", "platform": "EXPO"], token: bo.token)
            XCTAssertEqual(moved.status, .created, moved.text)
            let owners2 = try await gw.harness.column("SELECT user_id::text FROM push_devices")
            XCTAssertEqual(owners2, [bo.userId])
            let bad = try await gw.rest(.post, "/api/devices", json: ["token": "t", "platform": "apns"], token: bo.token)
            XCTAssertEqual(bad.status, .badRequest)
            XCTAssertEqual(bad.errorField, "platform")
            let notMine = try await gw.rest(.delete, "/api/devices/ExponentPushToken%5Babc%5D", token: ada.token)
            XCTAssertEqual(notMine.status, .notFound, notMine.text)
            let removed = try await gw.rest(.delete, "/api/devices/ExponentPushToken%5Babc%5D", token: bo.token)
            XCTAssertEqual(removed.status, .noContent, removed.text)
            let left = try await gw.harness.column("SELECT token FROM push_devices")
            XCTAssertEqual(left, [])
        }
    }

    func testCORSAllowsOnlyConfiguredOrigins() async throws {
        try await withGateway(["CORS_ALLOWED_ORIGINS": "https://app.example.com"]) { gw in
            let preflight = try await gw.rest(.options, "/api/messages/send", headers: [
                .origin: "https://app.example.com", .accessControlRequestMethod: "POST",
                .accessControlRequestHeaders: "authorization, content-type",
            ])
            XCTAssertEqual(preflight.status, .noContent)
            XCTAssertEqual(preflight.headers[.accessControlAllowOrigin], "https://app.example.com")
            XCTAssertTrue(preflight.headers[.accessControlAllowHeaders]?.contains("Authorization") ?? false)
            let other = try await gw.rest(.options, "/api/messages/send", headers: [
                .origin: "https://evil.example.com", .accessControlRequestMethod: "POST",
            ])
            XCTAssertNil(other.headers[.accessControlAllowOrigin])
            let simple = try await gw.rest(.get, "/api/conversations", headers: [.origin: "https://app.example.com"])
            XCTAssertEqual(simple.status, .unauthorized)
            XCTAssertEqual(simple.headers[.accessControlAllowOrigin], "https://app.example.com")
        }
    }
}
