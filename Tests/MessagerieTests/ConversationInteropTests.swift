import Foundation
import HummingbirdTesting
import XCTest

@testable import Gateway

/// Two people signed in here talk through a real third-party client (Python `gql`) against a
/// live server; what they said is then read back here and from the tables.
final class ConversationInteropTests: XCTestCase {
    func testTwoPeopleConverseThroughTheGqlClient() async throws {
        try await withGateway(setup: .live) { gw in
            let port = try XCTUnwrap(gw.port)
            let users = try await gw.signInUsers(2)
            let (ada, bola) = (users[0], users[1])
            let result = try await runPython(
                script: "Tests/interop/gql_conversation.py",
                args: ["http://localhost:\(port)/graphql", ada.accessToken, ada.userId, bola.accessToken, bola.userId],
                timeout: .seconds(90))
            XCTAssertEqual(result.status, 0, "python failed:\n--- stdout\n\(result.stdout)\n--- stderr\n\(result.stderr)")
            let line = try XCTUnwrap(result.stdout.split(separator: "\n").last, "no output; stderr:\n\(result.stderr)")
            let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], String(line))
            XCTAssertEqual(summary["texts"] as? [String], ["Bonjour Bola, ça va ?", "Très bien, merci !"])
            XCTAssertEqual(summary["statusSeenByA"] as? String, "READ")
            XCTAssertEqual(summary["markRead"] as? Int, 1)
            let conversation = try XCTUnwrap(summary["conversationId"] as? String)
            let ids = try XCTUnwrap(summary["messageIds"] as? [String])

            // Read back here, by both.
            for viewer in [ada, bola] {
                let messages = try await gw.allMessages(viewer, conversation)
                XCTAssertEqual(messages.compactMap { $0["id"] as? String }, ids)
                XCTAssertEqual(texts(messages), ["Bonjour Bola, ça va ?", "Très bien, merci !"])
                XCTAssertEqual(((messages.last?["replyTo"]) as? [String: Any])?["id"] as? String, ids[0])
            }
            // Once in the tables (the retry stored nothing), and sealed there.
            let stored = try await gw.harness.column("SELECT sender_id::text FROM messages ORDER BY seq")
            XCTAssertEqual(stored, [ada.userId, bola.userId])
            let plain = try await gw.harness.column("SELECT count(*)::text FROM messages WHERE encode(body, 'escape') LIKE '%Bola%'")
            XCTAssertEqual(plain, ["0"])
            let reactions = try await gw.harness.column("SELECT user_id::text || ' ' || emoji FROM message_reactions")
            XCTAssertEqual(reactions, ["\(bola.userId) 👍🏾"])
        }
    }
}
