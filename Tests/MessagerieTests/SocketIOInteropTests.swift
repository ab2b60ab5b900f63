import Foundation
import HummingbirdTesting
import XCTest

@testable import Gateway

/// The stock `python-socketio` client against a live gateway, over each transport.
final class SocketIOInteropTests: XCTestCase {
    private static func summary(
        _ result: (status: Int32, stdout: String, stderr: String), file: StaticString = #filePath, line: UInt = #line
    ) throws -> [String: Any] {
        XCTAssertEqual(result.status, 0, "python failed:\n--- stdout\n\(result.stdout)\n--- stderr\n\(result.stderr)", file: file, line: line)
        let last = try XCTUnwrap(result.stdout.split(separator: "\n").last, "no output; stderr:\n\(result.stderr)", file: file, line: line)
        return try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any], "not JSON: \(last)", file: file, line: line)
    }

    /// Quick offline announcement so that the scenario ends soon after A leaves.
    private static let settings = ["PRESENCE_OFFLINE_GRACE_MS": "200"]

    private func chat(over transport: String, expectedTransport: String) async throws {
        try await withGateway(Self.settings, setup: .live) { gw in
            let port = try XCTUnwrap(gw.port)
            let users = try await gw.signInUsers(2, series: 61)
            let (a, b) = (users[0], users[1])
            // A and B share a conversation, so each follows the other's presence.
            try await gw.send(a, to: b, text: "first, over GraphQL")

            let result = try Self.summary(try await runPython(
                script: "Tests/interop/socketio_chat.py",
                args: ["chat", "http://localhost:\(port)", transport, a.accessToken, a.userId, b.accessToken, b.userId],
                timeout: .seconds(90)))
            XCTAssertEqual(result["transportA"] as? String, expectedTransport)
            XCTAssertEqual(result["transportB"] as? String, expectedTransport)
            XCTAssertEqual(result["userOnline"] as? [String], ["at", "userId"])

            let ack = try XCTUnwrap(result["ackMessage"] as? [String: Any])
            XCTAssertEqual(ack["content"] as? String, "hello from A")
            XCTAssertEqual(ack["senderId"] as? String, a.userId)
            XCTAssertEqual(ack["receiverId"] as? String, b.userId)
            XCTAssertEqual(ack["status"] as? String, "SENT")
            let received = try XCTUnwrap(result["bReceived"] as? [String: Any])
            XCTAssertEqual(received["content"] as? String, "hello from A")
            XCTAssertEqual(received["senderId"] as? String, a.userId)
            XCTAssertEqual(result["retrySameId"] as? Bool, true)

            let refused = try XCTUnwrap(result["refusedAck"] as? [String: Any])
            XCTAssertEqual(refused["ok"] as? Bool, false)
            let refusal = try XCTUnwrap(refused["error"] as? [String: Any])
            XCTAssertEqual(refusal["code"] as? String, "BAD_USER_INPUT")
            XCTAssertEqual(refusal["field"] as? String, "conversationId")
            XCTAssertEqual(refusal["message"] as? String, "Give exactly one of conversationId or receiverId", "the event's names")
            let empty = try XCTUnwrap((result["emptyContentAck"] as? [String: Any])?["error"] as? [String: Any])
            XCTAssertEqual(empty["code"] as? String, "BAD_USER_INPUT")
            XCTAssertEqual(empty["field"] as? String, "content", "the event's name for the text")

            let crossed = try XCTUnwrap(result["crossDoor"] as? [String: Any])
            XCTAssertEqual(crossed["content"] as? String, "hello from B over GraphQL")
            XCTAssertEqual(crossed["senderId"] as? String, b.userId)

            let conversationId = try XCTUnwrap(received["conversationId"] as? String)
            XCTAssertEqual(result["typing"] as? [String: String], ["conversationId": conversationId, "userId": a.userId])
            XCTAssertEqual(result["stopTyping"] as? [String: String], ["conversationId": conversationId, "userId": a.userId])
            XCTAssertEqual(result["messageRead"] as? [String], ["conversationId", "messageId", "readAt", "userId"])
            let reactions = try XCTUnwrap(result["reactAck"] as? [[String: Any]])
            XCTAssertEqual(reactions.first?["emoji"] as? String, "👍")
            XCTAssertEqual(reactions.first?["count"] as? Int, 1)
            XCTAssertEqual(result["reactionAdded"] as? [String: String], ["userId": b.userId, "emoji": "👍"])
            XCTAssertEqual(result["reactionRemoved"] as? [String: String], ["userId": b.userId, "emoji": "👍"])
            XCTAssertEqual(result["userOffline"] as? [String], ["lastSeenAt", "userId"])

            // Stored once: the Socket.IO message is the one GraphQL lists.
            let stored = try await gw.harness.column("SELECT count(*)::text FROM messages WHERE kind = 'USER'")
            XCTAssertEqual(stored, ["3"])
        }
    }

    func testPythonClientChatsOverLongPolling() async throws {
        try await chat(over: "polling", expectedTransport: "polling")
    }

    func testPythonClientChatsOverWebSocket() async throws {
        try await chat(over: "websocket", expectedTransport: "websocket")
    }

    func testPythonClientChatsAfterUpgradingToWebSocket() async throws {
        try await chat(over: "upgrade", expectedTransport: "websocket")
    }

    func testPythonClientIsRefusedWithABadToken() async throws {
        try await withGateway(setup: .live) { gw in
            let port = try XCTUnwrap(gw.port)
            for transport in ["polling", "websocket"] {
                let result = try Self.summary(try await runPython(
                    script: "Tests/interop/socketio_chat.py", args: ["refused", "http://localhost:\(port)", transport, "not-a-token"],
                    timeout: .seconds(60)))
                XCTAssertEqual(result["connectError"] as? [String: String], ["message": "unauthorized"], "\(transport): \(result)")
            }
        }
    }
}

/// Socket.IO and GraphQL see each other's traffic.
final class SocketIOCrossDoorTests: XCTestCase {
    func testAMessageSentOverSocketIOReachesAGraphQLSubscriber() async throws {
        try await withGateway(setup: .live) { gw in
            let port = try XCTUnwrap(gw.port)
            let users = try await gw.signInUsers(2, series: 62)
            let (a, b) = (users[0], users[1])
            let first = try await gw.send(a, to: b, text: "setup")
            let conversationId = try XCTUnwrap((first["conversation"] as? [String: Any])?["id"] as? String)
            for transport in ["websocket", "polling"] {
                let result = try await runPython(
                    script: "Tests/interop/socketio_graphql.py",
                    args: ["http://localhost:\(port)", conversationId, a.accessToken, b.accessToken, transport], timeout: .seconds(60))
                XCTAssertEqual(result.status, 0, "\(transport):\n\(result.stdout)\n\(result.stderr)")
                let last = String(result.stdout.split(separator: "\n").last ?? "")
                let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any], result.stderr)
                let received = try XCTUnwrap(summary["received"] as? [String: Any])
                XCTAssertEqual(received["id"] as? String, summary["sentId"] as? String)
                XCTAssertEqual(received["text"] as? String, "from Socket.IO to GraphQL")
                XCTAssertEqual((received["sender"] as? [String: Any])?["id"] as? String, a.userId)
            }
        }
    }
}
