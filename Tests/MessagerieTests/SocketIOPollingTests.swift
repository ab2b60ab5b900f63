import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import XCTest

@testable import Gateway

/// Engine.IO long-polling over raw HTTP: the handshake, the reference server's refusals, and the
/// Socket.IO CONNECT refusals, without a Socket.IO client.
final class SocketIOPollingTests: XCTestCase {
    private static let fast = ["SOCKETIO_PING_INTERVAL_MS": "200", "SOCKETIO_PING_TIMEOUT_MS": "200"]

    private static func get(_ gw: GatewayClient, _ query: String, headers: HTTPFields = [:]) async throws -> GraphQLReply {
        try await gw.raw(method: .get, uri: "/socket.io/?" + query, headers: headers)
    }

    private static func post(_ gw: GatewayClient, _ query: String, _ body: String) async throws -> GraphQLReply {
        try await gw.raw(method: .post, uri: "/socket.io/?" + query, headers: [.contentType: "text/plain;charset=UTF-8"],
                         body: ByteBuffer(string: body))
    }

    /// Opens a session and returns its sid and handshake.
    private static func handshake(_ gw: GatewayClient) async throws -> (sid: String, open: [String: Any]) {
        let reply = try await get(gw, "EIO=4&transport=polling")
        XCTAssertEqual(reply.status, .ok, reply.text)
        XCTAssertTrue(reply.text.hasPrefix("0"), reply.text)
        let open = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(reply.text.dropFirst().utf8)) as? [String: Any])
        return (try XCTUnwrap(open["sid"] as? String), open)
    }

    private static func errorCode(_ reply: GraphQLReply) -> Int? { reply.json["code"] as? Int }

    func testHandshakeAnnouncesTheSessionAndItsLimits() async throws {
        try await withGateway(Self.fast) { gw in
            let (sid, open) = try await Self.handshake(gw)
            XCTAssertEqual(Set(open.keys), ["sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"])
            XCTAssertEqual(sid.count, 20)
            XCTAssertEqual(open["upgrades"] as? [String], ["websocket"])
            XCTAssertEqual(open["pingInterval"] as? Int, 200)
            XCTAssertEqual(open["pingTimeout"] as? Int, 200)
            XCTAssertEqual(open["maxPayload"] as? Int, 1_000_000)
            let (other, _) = try await Self.handshake(gw)
            XCTAssertNotEqual(sid, other)
        }
    }

    func testBadRequestsAreRefusedWithTheReferenceCodes() async throws {
        try await withGateway(Self.fast) { gw in
            for query in ["transport=polling", "EIO=abc&transport=polling", "EIO=3&transport=polling"] {
                let reply = try await Self.get(gw, query)
                XCTAssertEqual(reply.status, .badRequest, query)
                XCTAssertEqual(Self.errorCode(reply), 5, query)
                XCTAssertEqual(reply.json["message"] as? String, "Unsupported protocol version")
            }
            for query in ["EIO=4", "EIO=4&transport=abc"] {
                let reply = try await Self.get(gw, query)
                XCTAssertEqual(reply.status, .badRequest, query)
                XCTAssertEqual(Self.errorCode(reply), 0, query)
            }
            let handshakeByPost = try await Self.post(gw, "EIO=4&transport=polling", "")
            XCTAssertEqual(handshakeByPost.status, .badRequest)
            XCTAssertEqual(Self.errorCode(handshakeByPost), 2)
            let put = try await gw.raw(method: .put, uri: "/socket.io/?EIO=4&transport=polling")
            XCTAssertEqual(put.status, .badRequest)

            let unknown = try await Self.get(gw, "EIO=4&transport=polling&sid=nope")
            XCTAssertEqual(unknown.status, .badRequest)
            XCTAssertEqual(Self.errorCode(unknown), 1)
            XCTAssertEqual(unknown.json["message"] as? String, "Session ID unknown")
            let unknownPost = try await Self.post(gw, "EIO=4&transport=polling&sid=nope", "40")
            XCTAssertEqual(Self.errorCode(unknownPost), 1)

            let websocketWithoutUpgrade = try await Self.get(gw, "EIO=4&transport=websocket")
            XCTAssertEqual(websocketWithoutUpgrade.status, .badRequest)
            XCTAssertEqual(Self.errorCode(websocketWithoutUpgrade), 3)
        }
    }

    func testMalformedPayloadClosesTheSession() async throws {
        try await withGateway(Self.fast) { gw in
            let (sid, _) = try await Self.handshake(gw)
            let bad = try await Self.post(gw, "EIO=4&transport=polling&sid=\(sid)", "abc")
            XCTAssertEqual(bad.status, .badRequest)
            let after = try await Self.get(gw, "EIO=4&transport=polling&sid=\(sid)")
            XCTAssertEqual(after.status, .badRequest)
            XCTAssertEqual(Self.errorCode(after), 1)
        }
    }

    func testMalformedSocketIOPacketClosesTheSession() async throws {
        try await withGateway(Self.fast) { gw in
            let (sid, _) = try await Self.handshake(gw)
            let sent = try await Self.post(gw, "EIO=4&transport=polling&sid=\(sid)", "4abc")
            XCTAssertEqual(sent.text, "ok")
            // The session answers the waiting poll with a close packet, then is gone.
            let closing = try await Self.get(gw, "EIO=4&transport=polling&sid=\(sid)")
            XCTAssertEqual(closing.text, "1")
            let after = try await Self.get(gw, "EIO=4&transport=polling&sid=\(sid)")
            XCTAssertEqual(after.status, .badRequest)
        }
    }

    func testConcurrentPollsCloseTheSession() async throws {
        try await withGateway(["SOCKETIO_PING_INTERVAL_MS": "60000", "SOCKETIO_PING_TIMEOUT_MS": "60000"]) { gw in
            let (sid, _) = try await Self.handshake(gw)
            let query = "EIO=4&transport=polling&sid=\(sid)"
            // Whichever arrives second overlaps the waiting one: it is refused, the waiting one
            // gets a close packet, and the session is gone.
            async let first = Self.get(gw, query)
            async let second = Self.get(gw, query + "&t=burst")
            let replies = try await [first, second].sorted { $0.status.code < $1.status.code }
            XCTAssertEqual(replies[0].status, .ok)
            XCTAssertEqual(replies[0].text, "1")
            XCTAssertEqual(replies[1].status, .badRequest)
            XCTAssertEqual(Self.errorCode(replies[1]), 3)
            let after = try await Self.get(gw, query)
            XCTAssertEqual(after.status, .badRequest)
        }
    }

    func testServerPingsAndAPongKeepsTheSession() async throws {
        try await withGateway(Self.fast) { gw in
            let (sid, _) = try await Self.handshake(gw)
            let query = "EIO=4&transport=polling&sid=\(sid)"
            for _ in 0..<3 {
                let ping = try await Self.get(gw, query)
                XCTAssertEqual(ping.text, "2")
                let pong = try await Self.post(gw, query, "3")
                XCTAssertEqual(pong.text, "ok")
            }
        }
    }

    func testMissingPongClosesTheSession() async throws {
        try await withGateway(Self.fast) { gw in
            let (sid, _) = try await Self.handshake(gw)
            let query = "EIO=4&transport=polling&sid=\(sid)"
            let ping = try await Self.get(gw, query)
            XCTAssertEqual(ping.text, "2")
            // No pong: the next poll is ended by the timeout with a close packet.
            let closed = try await Self.get(gw, query)
            XCTAssertEqual(closed.text, "1")
            let after = try await Self.post(gw, query, "3")
            XCTAssertEqual(after.status, .badRequest)
        }
    }

    func testClientCloseEndsTheSession() async throws {
        try await withGateway(["SOCKETIO_PING_INTERVAL_MS": "60000"]) { gw in
            let (sid, _) = try await Self.handshake(gw)
            let query = "EIO=4&transport=polling&sid=\(sid)"
            let reply = try await Self.post(gw, query, "1")
            XCTAssertEqual(reply.text, "ok")
            let after = try await Self.get(gw, query)
            XCTAssertEqual(after.status, .badRequest)
            XCTAssertEqual(Self.errorCode(after), 1)
        }
    }

    func testSocketIOConnectRefusals() async throws {
        try await withGateway(["SOCKETIO_PING_INTERVAL_MS": "60000"]) { gw in
            let (sid, _) = try await Self.handshake(gw)
            let query = "EIO=4&transport=polling&sid=\(sid)"
            do { let reply = try await Self.post(gw, query, "40/random,"); XCTAssertEqual(reply.text, "ok") }
            do { let reply = try await Self.get(gw, query); XCTAssertEqual(reply.text, #"44/random,{"message":"Invalid namespace"}"#) }
            do { let reply = try await Self.post(gw, query, "40"); XCTAssertEqual(reply.text, "ok") }
            do { let reply = try await Self.get(gw, query); XCTAssertEqual(reply.text, #"44{"message":"unauthorized"}"#) }
            do { let reply = try await Self.post(gw, query, #"40{"token":"not-a-jwt"}"#); XCTAssertEqual(reply.text, "ok") }
            do { let reply = try await Self.get(gw, query); XCTAssertEqual(reply.text, #"44{"message":"unauthorized"}"#) }
        }
    }

    func testSocketIOConnectWithTokenOverPolling() async throws {
        try await withGateway(["SOCKETIO_PING_INTERVAL_MS": "60000"]) { gw in
            let user = try await gw.signIn("+2348012345901", displayName: "Poller")
            let (sid, _) = try await Self.handshake(gw)
            let query = "EIO=4&transport=polling&sid=\(sid)"
            do { let reply = try await Self.post(gw, query, #"40{"token":"\#(user.accessToken)"}"#); XCTAssertEqual(reply.text, "ok") }
            let connected = try await Self.get(gw, query)
            XCTAssertTrue(connected.text.hasPrefix("40{\"sid\":\""), connected.text)
            // An event with an ack id gets its acknowledgement, here a refusal naming the field.
            do { let reply = try await Self.post(gw, query, #"421["sendMessage",{"content":"hi"}]"#); XCTAssertEqual(reply.text, "ok") }
            let ack = try await Self.get(gw, query)
            XCTAssertTrue(ack.text.hasPrefix(#"431[{"ok":false,"error":{"code":"BAD_USER_INPUT""#), ack.text)
        }
    }

    func testPayloadLargerThanMaxPayloadIsRefused() async throws {
        try await withGateway(["SOCKETIO_PING_INTERVAL_MS": "60000", "SOCKETIO_MAX_PAYLOAD_BYTES": "1024"]) { gw in
            let (sid, _) = try await Self.handshake(gw)
            let query = "EIO=4&transport=polling&sid=\(sid)"
            let big = try await Self.post(gw, query, "4" + String(repeating: "x", count: 2000))
            XCTAssertEqual(big.status, .contentTooLarge)
            let after = try await Self.get(gw, query)
            XCTAssertTrue(after.status == .badRequest || after.text == "1", after.text)
        }
    }

    func testCORSForBrowsers() async throws {
        try await withGateway(["CORS_ALLOWED_ORIGINS": "https://app.example.com"]) { gw in
            let allowed = try await Self.get(gw, "EIO=4&transport=polling", headers: [.origin: "https://app.example.com"])
            XCTAssertEqual(allowed.headers[.accessControlAllowOrigin], "https://app.example.com")
            XCTAssertEqual(allowed.headers[.accessControlAllowCredentials], "true")
            let other = try await Self.get(gw, "EIO=4&transport=polling", headers: [.origin: "https://evil.example"])
            XCTAssertNil(other.headers[.accessControlAllowOrigin])
            let preflight = try await gw.raw(method: .options, uri: "/socket.io/?EIO=4&transport=polling", headers: [
                .origin: "https://app.example.com", .accessControlRequestMethod: "POST", .accessControlRequestHeaders: "content-type",
            ])
            XCTAssertEqual(preflight.status, .noContent)
            XCTAssertEqual(preflight.headers[.accessControlAllowOrigin], "https://app.example.com")
            XCTAssertEqual(preflight.headers[.accessControlAllowHeaders], "content-type")
        }
    }
}
