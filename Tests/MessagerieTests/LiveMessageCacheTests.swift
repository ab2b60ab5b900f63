import Foundation
import NIOConcurrencyHelpers
import XCTest

@testable import Compat
@testable import Resolvers

/// The Socket.IO door's shared presentation of a just-sent message, without sockets.
final class LiveMessageCacheTests: XCTestCase {
    static func message() -> Message {
        Message(id: UUID(), conversationId: UUID(), seq: 1, senderId: nil, kind: .user, text: "hi", systemEvent: nil,
                replyToId: nil, clientMessageId: nil, createdAt: Date(), editedAt: nil, deletedAt: nil)
    }

    func testAPacketIsEncodedOncePerFormWhileItsMessageIsCached() async {
        let cache = LiveMessageCache(capacity: 2)
        let message = Self.message()
        _ = await cache.wire(message) { .object(["id": .string(message.id.uuidString)]) }
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
            _ = await cache.wire(other) { .null }
        }
        XCTAssertEqual(cache.packetCount, 0)
        XCTAssertEqual(packet("/"), first, "encoded again, not kept, once the message left the cache")
        XCTAssertEqual(encodings.withLockedValue { $0 }, 3)
        XCTAssertEqual(cache.packetCount, 0)
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
