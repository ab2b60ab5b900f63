import Foundation
import Logging
import NIOConcurrencyHelpers
import XCTest

@testable import Compat
@testable import Gateway
@testable import Resolvers

/// The Socket.IO door's shared presentation of a just-sent message, without sockets.
final class LiveMessageCacheTests: XCTestCase {
    static func message() -> Message {
        Message(id: UUID(), conversationId: UUID(), seq: 1, senderId: nil, kind: .user, text: "hi", systemEvent: nil,
                replyToId: nil, clientMessageId: nil, createdAt: Date(), editedAt: nil, deletedAt: nil)
    }

    static let noParts = RestMessageParts(receipts: [:], reactions: [:], reactionsViewer: UUID(), attachments: [:], directPeople: [:])

    /// A load that failed is not kept: the next socket reads again (a failure cached for the
    /// process made every socket skip the message).
    func testAFailedLoadIsReadAgainByTheNextSocket() async {
        let cache = LiveMessageCache(capacity: 4)
        let message = Self.message()
        let loads = NIOLockedValueBox(0)
        let failed = await cache.parts(message) {
            loads.withLockedValue { $0 += 1 }
            return nil
        }
        XCTAssertNil(failed)
        XCTAssertNil(cache.loaded(message))
        let second = await cache.parts(message) {
            loads.withLockedValue { $0 += 1 }
            return Self.noParts
        }
        XCTAssertNotNil(second)
        XCTAssertNotNil(cache.loaded(message), "a successful load is kept")
        _ = await cache.parts(message) {
            loads.withLockedValue { $0 += 1 }
            return Self.noParts
        }
        XCTAssertEqual(loads.withLockedValue { $0 }, 2)
    }

    func testAPacketIsEncodedOncePerFormWhileItsMessageIsCached() async {
        let cache = LiveMessageCache(capacity: 2)
        let message = Self.message()
        _ = await cache.parts(message) { Self.noParts }
        let encodings = NIOLockedValueBox(0)
        func packet(_ form: String) -> String? {
            cache.packet(for: message, form: form) {
                encodings.withLockedValue { $0 += 1 }
                return SocketIOSocket.encodedEvent("messageReceived", namespace: "/", args: [.string(form)])
            }
        }
        let first = packet("/")
        XCTAssertEqual(packet("/"), first)
        XCTAssertEqual(encodings.withLockedValue { $0 }, 1, "the second socket reuses the first one's encoding")
        XCTAssertNotEqual(packet("/#offsets"), first, "another form is encoded for itself")
        XCTAssertEqual(encodings.withLockedValue { $0 }, 2)

        // Two newer messages push this one out; its packets go with it.
        for _ in 0..<2 {
            let other = Self.message()
            _ = await cache.parts(other) { Self.noParts }
        }
        XCTAssertEqual(cache.packetCount, 0)
        XCTAssertEqual(packet("/"), first, "encoded again, not kept, once the message left the cache")
        XCTAssertEqual(encodings.withLockedValue { $0 }, 3)
        XCTAssertEqual(cache.packetCount, 0)
    }

    /// The parts of a new message are read once, by whichever socket of the process comes first;
    /// the status and `reactedByMe` that socket's viewer would see must not reach the others. Here
    /// a recipient's device reported delivery and another recipient reacted before the process's
    /// first delivery, which can happen when they are connected to another gateway.
    func testEachViewerSeesTheirOwnStatusAndReactionsWhoeverReadTheParts() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(4)
            let (ada, bola, chidi, dayo) = (users[0], users[1], users[2], users[3])
            let group = try await gw.createGroup(ada, title: "Quick ones", members: [bola, chidi, dayo])
            let first = try await gw.send(ada, in: group, text: "who is up?")
            let second = try await gw.send(ada, in: group, text: "anyone?")
            let reacted = try XCTUnwrap(first["id"] as? String)
            let plain = try XCTUnwrap(second["id"] as? String)
            let deliver = "mutation($ids: [ID!]!) { markDelivered(messageIds: $ids) { id } }"
            try await gw.ok(bola, deliver, ["ids": [reacted, plain]], at: "markDelivered")
            try await gw.ok(chidi, ReactionTests.add, ["m": reacted, "e": "👍"], at: "addReaction")

            let logger = Logger(label: "messagerie.tests.live-message")
            try await withDatabasePool(gw.harness.endpoint, logger: logger) { db in
                let services = try await Assembly.domain(
                    settings: gw.harness.settings, db: db, endpoint: gw.harness.endpoint, logger: logger).services
                let cache = LiveMessageCache()
                func viewer(_ user: SignedIn) -> Viewer { Viewer(userId: UUID(uuidString: user.userId)!, sessionId: UUID(), isOperator: false) }
                /// Status and reactions (`emoji x count`, `*` when mine) of the packet each viewer
                /// gets, bola's first, so that the parts are read as bola sees them.
                func seen(_ id: String) async throws -> [String] {
                    let message = try await services.messages.message(id: UUID(uuidString: id)!, viewer: viewer(ada))
                    var views: [String] = []
                    for user in [bola, chidi, dayo, ada] {
                        let packet = await MessagingConnection.newMessagePacket(
                            message, viewer: viewer(user), namespace: "/", offsets: false, cache: cache, services: services)
                        guard case .encoded(let text)? = packet else { XCTFail("no packet: \(String(describing: packet))"); return [] }
                        XCTAssertTrue(text.hasPrefix("2["), text)
                        let wire = try JSONCodec.parse(String(text.dropFirst()))
                        guard case .array(let args) = wire, args.count == 2, case .object(let outer) = args[1],
                              case .object(let fields)? = outer.first(where: { $0.key == "message" })?.value
                        else { XCTFail("not a messageReceived packet: \(text)"); return [] }
                        let field = { (key: String) in fields.first { $0.key == key }?.value }
                        XCTAssertEqual(field("id"), .string(id))
                        guard case .string(let status)? = field("status"), case .array(let reactions)? = field("reactions") else {
                            XCTFail("no status or reactions: \(text)"); return []
                        }
                        let shown = reactions.map { reaction -> String in
                            guard case .object(let r) = reaction else { return "?" }
                            let value = { (key: String) in r.first { $0.key == key }?.value }
                            guard case .string(let emoji)? = value("emoji"), case .number(let count)? = value("count") else { return "?" }
                            return "\(emoji)x\(Int(count))" + (value("reactedByMe") == .bool(true) ? "*" : "")
                        }
                        views.append(([status] + shown).joined(separator: " "))
                    }
                    return views
                }

                let withReaction = try await seen(reacted)
                XCTAssertEqual(withReaction, ["DELIVERED 👍x1", "SENT 👍x1*", "SENT 👍x1", "SENT 👍x1"],
                               "bola, chidi, dayo, then ada, who sees SENT until every member has it")
                XCTAssertEqual(cache.packetCount, 0, "a message with reactions is encoded for each viewer")

                let withoutReaction = try await seen(plain)
                XCTAssertEqual(withoutReaction, ["DELIVERED", "SENT", "SENT", "SENT"])
                XCTAssertEqual(cache.packetCount, 2, "one packet per status seen, shared by the sockets that see it")
            }
        }
    }

    func testAnEventPacketIsTheSocketIOEncodingOfItsArguments() {
        XCTAssertEqual(
            SocketIOSocket.encodedEvent("messageReceived", namespace: "/", args: [.object(["message": .string("m")])]),
            #"2["messageReceived",{"message":"m"}]"#)
        XCTAssertEqual(
            SocketIOSocket.encodedEvent("typing", namespace: "/admin", args: []),
            #"2/admin,["typing"]"#)
    }
}
