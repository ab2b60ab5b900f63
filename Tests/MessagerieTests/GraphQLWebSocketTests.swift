import Foundation
import HummingbirdTesting
import Resolvers
import XCTest

@testable import Gateway

/// GraphQL over WebSocket on live sockets, driven by real clients (`Tests/interop/gql_ws.py`:
/// Python `gql` over both subprotocols, `websocket-client` where exact frames matter).
final class GraphQLWebSocketTests: XCTestCase {
    static let protocols = ["graphql-transport-ws", "graphql-ws"]

    func testGqlReceivesAMessageSentOverHTTPOnBothSubprotocols() async throws {
        try await withGateway(setup: .live) { gw in
            let (ada, bola, conversationId) = try await WS.pair(gw)
            for (index, proto) in Self.protocols.enumerated() {
                var params = try WS.urls(gw)
                params.merge([
                    "proto": proto, "receiverToken": bola.accessToken, "senderToken": ada.accessToken,
                    "conversationId": conversationId, "text": "over \(proto)",
                    // Both places a token may travel in connection_init.
                    "tokenKey": index == 0 ? "Authorization" : "token",
                ]) { _, new in new }
                let result = try await WS.scenario("receive", params)
                XCTAssertEqual(result["subprotocol"] as? String, proto)
                XCTAssertTrue((result["extensions"] as? String ?? "").contains("permessage-deflate"), "deflate is negotiated: \(result)")
                XCTAssertEqual(result["me"] as? String, bola.userId, "queries run over the socket as the token's user")
                XCTAssertEqual(result["setTyping"] as? Bool, true, "mutations run over the socket")
                let event = try XCTUnwrap(result["event"] as? [String: Any])
                XCTAssertEqual(event["id"] as? String, result["sentId"] as? String)
                XCTAssertEqual(event["text"] as? String, "over \(proto)")
                XCTAssertEqual((event["sender"] as? [String: Any])?["id"] as? String, ada.userId)
                XCTAssertEqual((event["conversation"] as? [String: Any])?["id"] as? String, conversationId)
                XCTAssertEqual(result["refused"] as? String, "TransportQueryError", "a refused operation is an error of that operation")
                XCTAssertEqual(result["meAfterError"] as? String, bola.userId, "and the socket stays usable")
            }
        }
    }

    func testReceiptsAndReactionsReachTheAuthorOnBothSubprotocols() async throws {
        try await withGateway(setup: .live) { gw in
            let (author, reader, conversationId) = try await WS.pair(gw)
            for proto in Self.protocols {
                var params = try WS.urls(gw)
                params.merge(["proto": proto, "authorToken": author.accessToken, "readerToken": reader.accessToken,
                              "conversationId": conversationId]) { _, new in new }
                let result = try await WS.scenario("events", params)
                let messageId = try XCTUnwrap(result["messageId"] as? String)
                let status = try XCTUnwrap(result["status"] as? [String: Any])
                XCTAssertEqual((status["user"] as? [String: Any])?["id"] as? String, reader.userId, proto)
                XCTAssertEqual((status["message"] as? [String: Any])?["id"] as? String, messageId)
                let added = try XCTUnwrap(result["added"] as? [String: Any])
                let removed = try XCTUnwrap(result["removed"] as? [String: Any])
                XCTAssertEqual(added["action"] as? String, "ADDED", proto)
                XCTAssertEqual(removed["action"] as? String, "REMOVED", proto)
                for event in [added, removed] {
                    XCTAssertEqual(event["emoji"] as? String, "👍")
                    XCTAssertEqual((event["user"] as? [String: Any])?["id"] as? String, reader.userId)
                    XCTAssertEqual((event["message"] as? [String: Any])?["id"] as? String, messageId)
                }
            }
        }
    }

    func testReconnectWithAfterCatchesUpWithNothingMissingAndNothingDuplicated() async throws {
        try await withGateway(setup: .live) { gw in
            let (ada, bola, conversationId) = try await WS.pair(gw)
            for proto in Self.protocols {
                var params = try WS.urls(gw)
                params.merge(["proto": proto, "receiverToken": bola.accessToken, "senderToken": ada.accessToken,
                              "conversationId": conversationId]) { _, new in new }
                let result = try await WS.scenario("catchup", params)
                XCTAssertEqual(result["before"] as? [String], ["c1", "c2"], proto)
                XCTAssertEqual(result["after"] as? [String], ["c3", "c4", "c5", "c6"], "\(proto): missed ones in order, then live, once each")
                let ids = result["afterIds"] as? [String] ?? []
                XCTAssertEqual(Set(ids).count, 4)
                let stored = try await gw.harness.column("""
                    SELECT id::text FROM messages WHERE conversation_id = '\(conversationId)' ORDER BY seq DESC LIMIT 4
                    """)
                XCTAssertEqual(stored.reversed(), ids, "the order of the log")
            }
        }
    }

    /// A message whose notification was lost (written straight into the log) is read from the
    /// log by the subscriber when the next message shows the gap, and both arrive in order.
    func testAMessageWhoseNotificationWasLostArrivesBeforeTheNextOne() async throws {
        try await withGateway(setup: .live) { gw in
            let (ada, bola, conversationId) = try await WS.pair(gw)
            let ready = FileManager.default.temporaryDirectory.appendingPathComponent("gap-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: ready) }
            var params = try WS.urls(gw)
            params.merge(["receiverToken": bola.accessToken, "conversationId": conversationId, "ready": ready]) { _, new in new }
            async let received = WS.scenario("gap", params)
            try await eventually("the subscription is live", seconds: 60) { FileManager.default.fileExists(atPath: ready) }
            let before = try await gw.send(ada, in: conversationId, text: "before the loss")
            let lost = try await gw.harness.writeUnannounced(in: conversationId, from: ada.userId)
            let next = try await gw.send(ada, in: conversationId, text: "after the loss")
            let result = try await received
            let expected = [try XCTUnwrap(before["id"] as? String), try XCTUnwrap(lost.first), try XCTUnwrap(next["id"] as? String)]
            XCTAssertEqual(result["ids"] as? [String], expected, "\(result)")
            let texts = try XCTUnwrap(result["texts"] as? [Any])
            XCTAssertEqual(texts.first as? String, "before the loss")
            XCTAssertTrue(texts[1] is NSNull, "the lost one is a tombstone: \(texts)")
            XCTAssertEqual(texts.last as? String, "after the loss")
        }
    }

    /// More lost messages than a gap is filled with: the socket is closed (try again later, catch
    /// up with `after`) rather than sent the next message with the gap before it skipped.
    func testMoreLostMessagesThanAPageCloseTheSocket() async throws {
        try await withGateway(setup: .live) { gw in
            let (ada, bola, conversationId) = try await WS.pair(gw)
            let ready = FileManager.default.temporaryDirectory.appendingPathComponent("biggap-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: ready) }
            var params = try WS.urls(gw)
            params.merge(["receiverToken": bola.accessToken, "conversationId": conversationId, "ready": ready]) { _, new in new }
            async let received = WS.scenario("biggap", params)
            try await eventually("the subscription is live", seconds: 60) { FileManager.default.fileExists(atPath: ready) }
            try await gw.send(ada, in: conversationId, text: "before the loss")
            try await gw.harness.writeUnannounced(MessageService.gapLimit + 1, in: conversationId, from: ada.userId)
            try await gw.send(ada, in: conversationId, text: "after the loss")
            let result = try await received
            XCTAssertEqual(result["texts"] as? [String], ["before the loss"], "\(result)")
            XCTAssertEqual(result["code"] as? Int, 1013, "closed with try-again-later: \(result)")
            XCTAssertTrue((result["reason"] as? String)?.contains("after") == true, "\(result)")
        }
    }

    func testTypingReachesTheOtherMemberAndExpiresByItself() async throws {
        try await withGateway(["TYPING_TIMEOUT_SECONDS": "1"], setup: .live) { gw in
            let (ada, bola, conversationId) = try await WS.pair(gw)
            var params = try WS.urls(gw)
            params.merge(["proto": "graphql-transport-ws", "receiverToken": bola.accessToken, "senderToken": ada.accessToken,
                          "conversationId": conversationId]) { _, new in new }
            let result = try await WS.scenario("typing", params)
            let started = try XCTUnwrap(result["started"] as? [String: Any])
            let stopped = try XCTUnwrap(result["stopped"] as? [String: Any])
            XCTAssertEqual(started["isTyping"] as? Bool, true)
            XCTAssertEqual((started["user"] as? [String: Any])?["id"] as? String, ada.userId)
            XCTAssertEqual(started["conversationId"] as? String, conversationId)
            XCTAssertEqual(stopped["isTyping"] as? Bool, false, "nobody sent isTyping: false; the state expired")
            XCTAssertEqual((stopped["user"] as? [String: Any])?["id"] as? String, ada.userId)
            let from = try XCTUnwrap(parseRFC3339(started["at"] as? String ?? ""))
            let to = try XCTUnwrap(parseRFC3339(stopped["at"] as? String ?? ""))
            XCTAssertGreaterThan(to, from)
        }
    }

    func testRemovedMemberStopsReceivingAtOnce() async throws {
        try await withGateway(setup: .live) { gw in
            let users = try await gw.signInUsers(3)
            let (owner, member, other) = (users[0], users[1], users[2])
            let group = try await gw.createGroup(owner, title: "Team", members: [member, other])
            let direct = try await gw.send(owner, to: member, text: "direct")
            let directId = try XCTUnwrap((direct["conversation"] as? [String: Any])?["id"] as? String)
            for proto in Self.protocols {
                if proto == "graphql-ws" {
                    // Back in the group for the second round.
                    _ = try await gw.ok(owner, "mutation($c: ID!, $u: [ID!]!) { addGroupMembers(conversationId: $c, userIds: $u) { id } }",
                                        ["c": group, "u": [member.userId]], at: "addGroupMembers")
                }
                var params = try WS.urls(gw)
                params.merge(["proto": proto, "ownerToken": owner.accessToken, "memberToken": member.accessToken,
                              "memberId": member.userId, "groupId": group, "directId": directId]) { _, new in new }
                let result = try await WS.scenario("removed", params)
                let texts = result["texts"] as? [String] ?? []
                XCTAssertTrue(texts.contains("before removal"), "\(proto): \(texts)")
                XCTAssertTrue(texts.contains("marker"), "\(proto): \(texts)")
                XCTAssertFalse(texts.contains("after removal"), "\(proto): a removed member gets nothing more: \(texts)")
            }
        }
    }

    func testPresenceGoesOnlineAwayOfflineWithLastSeenAt() async throws {
        try await withGateway(["PRESENCE_AWAY_SECONDS": "5", "PRESENCE_OFFLINE_GRACE_MS": "200"], setup: .live) { gw in
            let (watcher, watched, _) = try await WS.pair(gw)
            var params = try WS.urls(gw)
            params.merge(["proto": "graphql-transport-ws", "watcherToken": watcher.accessToken, "watchedToken": watched.accessToken,
                          "watchedId": watched.userId]) { _, new in new }
            let result = try await WS.scenario("presence", params)
            let events = result["events"] as? [[String: Any]] ?? []
            XCTAssertEqual(events.map { $0["status"] as? String }, ["ONLINE", "AWAY", "OFFLINE"])
            XCTAssertEqual(Set(events.compactMap { ($0["user"] as? [String: Any])?["id"] as? String }), [watched.userId])
            let lastSeen = try XCTUnwrap(events.last?["lastSeenAt"] as? String, "OFFLINE carries lastSeenAt")
            let announced = try XCTUnwrap(parseRFC3339(lastSeen))
            let stored = try await gw.harness.column(
                "SELECT to_char(last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM users WHERE id = '\(watched.userId)'")
            let persisted = try XCTUnwrap(parseRFC3339(try XCTUnwrap(stored.first ?? nil)))
            XCTAssertEqual(announced.timeIntervalSince1970, persisted.timeIntervalSince1970, accuracy: 0.001, "lastSeenAt is persisted")
            let rows = try await gw.harness.column("SELECT count(*)::text FROM presence WHERE user_id = '\(watched.userId)'")
            XCTAssertEqual(rows, ["0"])
        }
    }

    func testTwoGatewayProcessesDeliverToEachOthersClients() async throws {
        let harness = try await GatewayHarness.make()
        do {
            try await harness.withApp(.live) { first in
                let (ada, bola, conversationId) = try await WS.pair(first)
                try await harness.withApp(.live) { second in
                    let one = try WS.urls(first)
                    let two = try WS.urls(second)
                    XCTAssertNotEqual(one["ws"] as? String, two["ws"] as? String)
                    for (index, proto) in Self.protocols.enumerated() {
                        // The subscriber on one process, the sender on the other, both ways.
                        let (subscriber, sender) = index == 0 ? (one, two) : (two, one)
                        let params: [String: Any] = [
                            "ws": subscriber["ws"]!, "http": sender["http"]!, "proto": proto,
                            "receiverToken": bola.accessToken, "senderToken": ada.accessToken,
                            "conversationId": conversationId, "text": "across processes \(index)",
                        ]
                        let result = try await WS.scenario("receive", params)
                        let event = try XCTUnwrap(result["event"] as? [String: Any])
                        XCTAssertEqual(event["text"] as? String, "across processes \(index)")
                        XCTAssertEqual(event["id"] as? String, result["sentId"] as? String)
                    }
                }
            }
            await harness.stop()
        } catch {
            await harness.stop()
            throw error
        }
    }

    func testSlowConsumerIsCutOffWithoutHurtingOthers() async throws {
        let settings = [
            "WS_OUTGOING_BUFFER": "4", "MESSAGE_MAX_LENGTH": "100000", "PRESENCE_OFFLINE_GRACE_MS": "0",
            "WS_CLOSE_GRACE_MS": "60000", "WS_WRITE_TIMEOUT_MS": "2000",
        ]
        try await withGateway(settings, setup: .live) { gw in
            let users = try await gw.signInUsers(3)
            let (sender, healthy, stalled) = (users[0], users[1], users[2])
            let group = try await gw.createGroup(sender, title: "Busy", members: [healthy, stalled])
            var params = try WS.urls(gw)
            params.merge([
                "conversationId": group, "senderToken": sender.accessToken, "healthyToken": healthy.accessToken,
                "slowToken": stalled.accessToken, "slowId": stalled.userId, "count": 12, "textLength": 99_000, "aliases": 20,
            ]) { _, new in new }
            let result = try await WS.scenario("slow", params, timeout: .seconds(180))
            let sent = result["sent"] as? [String] ?? []
            XCTAssertEqual(sent.count, 13)
            XCTAssertEqual(result["received"] as? [String], sent, "the healthy client got everything, in order")
            XCTAssertEqual(result["stalledCode"] as? Int, 1013, "closed with try-again-later: \(result)")
            XCTAssertEqual(result["stalledReason"] as? String, GraphQLWSConnection.slowConsumerReason)
            XCTAssertLessThan(result["stalledNextCount"] as? Int ?? 99, 12, "the stalled socket did not get everything")
        }
    }

    /// The session watch's pass is set to an hour: the sign-out reaches the socket through the
    /// trigger's notice, at once.
    func testExpiredTokenAndRevokedSessionCloseTheSocketWith4403() async throws {
        try await withGateway(["WS_SESSION_CHECK_SECONDS": "3600"], setup: .live) { gw in
            let user = try await gw.signIn("+2348012345901")
            let sid = try XCTUnwrap(jwtClaims(user.accessToken)["sid"] as? String)
            let soon = try await TestTokens.sign(secret: GatewayHarness.jwtSecret, sub: user.userId, sid: sid, expiresIn: 4)
            let later = try await TestTokens.sign(secret: GatewayHarness.jwtSecret, sub: user.userId, sid: sid, expiresIn: 10)
            var params = try WS.urls(gw)
            // A list, not an object: the sockets open in this order, before their tokens expire.
            params["sockets"] = [["graphql-transport-ws", soon], ["graphql-ws", later]]
            let expired = try await WS.scenario("closes", params)
            for proto in Self.protocols {
                let outcome = try XCTUnwrap(expired[proto] as? [String: Any], "\(expired)")
                XCTAssertEqual(outcome["code"] as? Int, 4403, "\(proto): \(outcome)")
                XCTAssertTrue((outcome["reason"] as? String ?? "").contains("expired"), "\(proto): \(outcome)")
            }

            var revoke = try WS.urls(gw)
            revoke["sockets"] = [["graphql-transport-ws", user.accessToken]]
            revoke["logout"] = true
            let revoked = try await WS.scenario("closes", revoke)
            let outcome = try XCTUnwrap(revoked["graphql-transport-ws"] as? [String: Any], "\(revoked)")
            XCTAssertEqual(outcome["code"] as? Int, 4403, "\(outcome)")
            XCTAssertTrue((outcome["reason"] as? String ?? "").contains("signed out"), "\(outcome)")
        }
    }

    /// Browsers offer permessage-deflate on every socket. The server compresses with a small
    /// window (`WS_COMPRESSION_WINDOW_BITS`) and asks the client for the same; a message larger than
    /// 16 KiB once inflated, which the library's default bound refused with 1011, passes both ways.
    func testCompressedSocketsCarryLargeMessagesBothWays() async throws {
        for compression in ["true", "false"] {
            try await withGateway(["WS_COMPRESSION": compression], setup: .live) { gw in
                let user = try await gw.signInUsers(1)[0]
                var params = try WS.urls(gw)
                params.merge(["token": user.accessToken, "padding": 40_000]) { _, new in new }
                let result = try await WS.scenario("deflate", params)
                let extensions = result["extensions"] as? String
                if compression == "true" {
                    XCTAssertEqual(
                        extensions, "permessage-deflate;client_max_window_bits=11;server_max_window_bits=11",
                        "the client's offer (client_max_window_bits) lets the server bound both windows")
                } else {
                    XCTAssertNil(extensions, "WS_COMPRESSION=false negotiates nothing")
                }
                XCTAssertEqual(result["me"] as? String, user.userId, "a 40 KB document arrives whole (\(compression))")
                XCTAssertGreaterThan(result["typesOverSocket"] as? Int ?? 0, 16_384, "the answer is larger than 16 KiB")
                XCTAssertEqual(result["sameAsHTTP"] as? Bool, true, "and inflates to what HTTP answers")
            }
        }
    }

    /// Keep-alives are the subprotocols' own messages, sent from the door's `Deadlines`
    /// (Hummingbird's WebSocket ping is off).
    func testKeepAlivePingsAnswerersAndClosesTheSilent() async throws {
        try await withGateway(["WS_PING_SECONDS": "1", "WS_KEEPALIVE_SECONDS": "1"], setup: .live) { gw in
            let user = try await gw.signIn("+2348012345911")
            var params = try WS.urls(gw)
            params.merge(["token": user.accessToken, "quietSeconds": 3.5]) { _, new in new }
            let result = try await WS.scenario("keepalive", params, timeout: .seconds(90))
            let transport = result["transport"] as? [String: Any] ?? [:]
            XCTAssertEqual(transport["answered"] as? [String], ["ping", "ping"], "\(result)")
            XCTAssertEqual(transport["afterSilence"] as? [String], ["ping"], "one more ping, then the close: \(result)")
            XCTAssertEqual(transport["code"] as? Int, 1001)
            XCTAssertEqual(transport["reason"] as? String, "Ping timeout")
            let legacy = result["legacy"] as? [String: Any] ?? [:]
            XCTAssertEqual(legacy["first"] as? [String], ["ka", "ka", "ka"], "\(result)")
            XCTAssertEqual(legacy["afterKa"] as? String, "data", "a legacy socket that never answers stays open")
            XCTAssertEqual(legacy["me"] as? String, user.userId)
            XCTAssertEqual(result["gqlAfterQuiet"] as? String, user.userId, "gql answers the pings by itself")
        }
    }

    func testProtocolRefusalsCloseWithTheirCodes() async throws {
        let settings = [
            "WS_INIT_TIMEOUT_MS": "500", "WS_MAX_MESSAGE_BYTES": "4096", "WS_MAX_SUBSCRIPTIONS": "3",
            "WS_MAX_CONNECTIONS_PER_USER": "2",
        ]
        try await withGateway(settings, setup: .live) { gw in
            let users = try await gw.signInUsers(2)
            var params = try WS.urls(gw)
            params.merge(["token": users[0].accessToken, "limitToken": users[1].accessToken, "tooLarge": 10_000,
                          "maxSubscriptions": 3, "maxConnections": 2]) { _, new in new }
            let result = try await WS.scenario("protocol", params, timeout: .seconds(40))
            func close(_ key: String) -> (Int?, String) {
                let pair = result[key] as? [Any] ?? []
                return (pair.first as? Int, pair.count > 1 ? pair[1] as? String ?? "" : "")
            }
            XCTAssertEqual(close("unknownSubprotocol").0, 4406)
            XCTAssertEqual(close("unknownSubprotocol").1, "Subprotocol not acceptable")
            XCTAssertNil(result["unknownSubprotocolAnswer"] as? String, "no subprotocol is claimed")
            XCTAssertEqual(close("noSubprotocol").0, 4406)
            XCTAssertEqual(result["chosen"] as? String, "graphql-transport-ws", "the chosen subprotocol is answered")
            XCTAssertEqual(close("initTimeout").0, 4408)
            XCTAssertEqual(close("initTimeout").1, "Connection initialisation timeout")
            XCTAssertEqual(close("subscribeBeforeInit").0, 4401)
            XCTAssertEqual(close("badToken").0, 4403)
            XCTAssertTrue(close("badToken").1.hasPrefix("Forbidden"), "\(close("badToken"))")
            let legacyBad = result["legacyBadToken"] as? [Any] ?? []
            XCTAssertEqual(legacyBad.first as? Int, 4403)
            XCTAssertEqual(legacyBad.last as? [String], ["connection_error"], "the legacy protocol says why before closing")
            let pong = result["pong"] as? [String: Any]
            XCTAssertEqual(pong?["type"] as? String, "pong")
            XCTAssertEqual((pong?["payload"] as? [String: Any])?["n"] as? Int, 1)
            XCTAssertEqual(close("secondInit").0, 4429)
            XCTAssertEqual(close("duplicateId").0, 4409)
            XCTAssertEqual(close("duplicateId").1, "Subscriber for dup already exists")
            XCTAssertEqual(close("malformed").0, 4400)
            XCTAssertEqual(close("tooLarge").0, 1009)
            let overLimit = result["overLimit"] as? [String: String]
            XCTAssertEqual(overLimit, ["type": "error", "id": "s3", "code": "RATE_LIMITED"])
            XCTAssertEqual(result["afterComplete"] as? [String], ["next", "complete"])
            XCTAssertEqual(result["meOverSocket"] as? String, users[0].userId)
            XCTAssertEqual(result["anonymousSubscription"] as? [String], ["error", "UNAUTHENTICATED"])
            XCTAssertEqual(close("tooManyConnections").0, 1008)
            let flow = result["legacyFlow"] as? [String] ?? []
            XCTAssertEqual(flow.first, "ka", "keep-alive right after the acknowledgement")
            XCTAssertEqual(Set(flow.filter { $0 != "ka" }), ["data:1", "complete:1", "complete:2"], "\(flow)")
            XCTAssertLessThan(flow.firstIndex(of: "data:1") ?? 99, flow.firstIndex(of: "complete:1") ?? -1)
            XCTAssertEqual(close("legacyTerminate").0, 1000)
        }
    }
}

/// Runs the scenarios of `Tests/interop/gql_ws.py` against a live gateway.
enum WS {
    static func scenario(
        _ name: String, _ params: [String: Any], timeout: Duration = .seconds(120), file: StaticString = #filePath, line: UInt = #line
    ) async throws -> [String: Any] {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: params), as: UTF8.self)
        let result = try await runPython(script: "Tests/interop/gql_ws.py", args: [name, json], timeout: timeout)
        XCTAssertEqual(result.status, 0, "\(name) failed:\n--- stdout\n\(result.stdout)\n--- stderr\n\(result.stderr)", file: file, line: line)
        let last = try XCTUnwrap(result.stdout.split(separator: "\n").last, "no output; stderr:\n\(result.stderr)", file: file, line: line)
        return try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any], "not JSON: \(last)", file: file, line: line)
    }

    static func urls(_ gw: GatewayClient) throws -> [String: Any] {
        let port = try XCTUnwrap(gw.port)
        return ["ws": "ws://127.0.0.1:\(port)/graphql", "http": "http://127.0.0.1:\(port)/graphql"]
    }

    /// Two people with a direct conversation; its id.
    static func pair(_ gw: GatewayClient) async throws -> (SignedIn, SignedIn, String) {
        let users = try await gw.signInUsers(2)
        let first = try await gw.send(users[0], to: users[1], text: "hello")
        let conversationId = try XCTUnwrap((first["conversation"] as? [String: Any])?["id"] as? String)
        return (users[0], users[1], conversationId)
    }
}
