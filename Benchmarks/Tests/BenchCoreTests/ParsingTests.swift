import BenchCore
import Foundation
import NIOCore
import XCTest

final class ArgumentsTests: XCTestCase {
    func testOptionsFlagsAndPositionals() throws {
        let args = try Arguments(["run", "--config", "a.json", "--only=fanout,idle", "--verbose", "x"], valued: ["config", "only"])
        XCTAssertEqual(args.positional, ["run", "x"])
        XCTAssertEqual(args.options, ["config": "a.json", "only": "fanout,idle"])
        XCTAssertEqual(args.flags, ["verbose"])
        XCTAssertEqual(try args.required("config"), "a.json")
    }

    func testMissingValueAndBadNumbersAreRefused() throws {
        XCTAssertThrowsError(try Arguments(["--config"], valued: ["config"])) { error in
            XCTAssertEqual((error as? Arguments.Problem)?.description, "--config needs a value")
        }
        XCTAssertThrowsError(try Arguments(["--config", "--out", "x"], valued: ["config", "out"]))
        XCTAssertThrowsError(try Arguments(["--flag=1"], valued: []))
        let args = try Arguments(["--server-pid", "12a"], valued: ["server-pid"])
        XCTAssertThrowsError(try args.int("server-pid")) { error in
            XCTAssertEqual((error as? Arguments.Problem)?.description, "--server-pid must be a whole number, got '12a'")
        }
        XCTAssertThrowsError(try args.required("out"))
    }
}

final class MarkerTests: XCTestCase {
    func testRoundTripInsideJSON() {
        let text = Marker.text(sentAt: 1_234_567_890_123)
        let frame = #"{"id":"1","type":"next","payload":{"data":{"messageReceived":{"mid":"x","text":"\#(text)"}}}}"#
        XCTAssertEqual(Marker.find(in: Array(frame.utf8)), 1_234_567_890_123)
    }

    func testOtherKeysAndMalformedMarkers() {
        let frame = Array("p ~t42~ ~u7~".utf8)
        XCTAssertEqual(Marker.find(in: frame, key: "u"), 7)
        XCTAssertEqual(Marker.find(in: frame), 42)
        XCTAssertNil(Marker.find(in: Array("no marker".utf8)))
        XCTAssertNil(Marker.find(in: Array("~t~".utf8)))
        XCTAssertNil(Marker.find(in: Array("~t12".utf8)))
        XCTAssertNil(Marker.find(in: Array("~t99999999999999999999~".utf8)), "more than 19 digits does not fit")
        XCTAssertEqual(Marker.find(in: Array("~tx~ then ~t5~".utf8)), 5, "a malformed marker is skipped, the next one is read")
    }
}

final class GraphQLWSFrameTests: XCTestCase {
    func testEncodedFramesAreValidJSON() throws {
        let initFrame = try JSONSerialization.jsonObject(with: Data(GraphQLWSFrame.connectionInit(token: "a\"b").utf8)) as? [String: Any]
        XCTAssertEqual(initFrame?["type"] as? String, "connection_init")
        XCTAssertEqual((initFrame?["payload"] as? [String: String])?["Authorization"], "Bearer a\"b")
        let sub = try JSONSerialization.jsonObject(with: Data(GraphQLWSFrame.subscribe(id: "1", query: "subscription { x }", variables: #"{"a":1}"#).utf8)) as? [String: Any]
        XCTAssertEqual(sub?["id"] as? String, "1")
        XCTAssertEqual((sub?["payload"] as? [String: Any])?["query"] as? String, "subscription { x }")
    }

    func testKindsAndValues() {
        XCTAssertEqual(GraphQLWSFrame.kind(of: Array(#"{"type":"connection_ack"}"#.utf8)), .connectionAck)
        XCTAssertEqual(GraphQLWSFrame.kind(of: Array(#"{"id":"2","type": "next","payload":{}}"#.utf8)), .next)
        XCTAssertEqual(GraphQLWSFrame.kind(of: Array(#"{"type":"ping"}"#.utf8)), .ping)
        XCTAssertNil(GraphQLWSFrame.kind(of: Array(#"{"type":"weird"}"#.utf8)))
        XCTAssertNil(GraphQLWSFrame.kind(of: Array("{}".utf8)))
        XCTAssertEqual(GraphQLWSFrame.stringValue(of: "mid", in: Array(#"{"data":{"m":{"mid":"abc-1","text":"t"}}}"#.utf8)), "abc-1")
        XCTAssertNil(GraphQLWSFrame.stringValue(of: "mid", in: Array(#"{"mid":12}"#.utf8)), "not a string")
        XCTAssertNil(GraphQLWSFrame.stringValue(of: "mid", in: Array(#"{"mid":"a\"b"}"#.utf8)), "escapes are not read")
        XCTAssertNil(GraphQLWSFrame.stringValue(of: "mid", in: Array(#"{"mid":"unterminated"#.utf8)))
    }
}

final class SocketIOFrameTests: XCTestCase {
    func testEngineIOPackets() throws {
        XCTAssertEqual(try EngineIOFrame.parse(#"0{"sid":"x"}"#), .open(#"{"sid":"x"}"#))
        XCTAssertEqual(try EngineIOFrame.parse("2"), .ping(""))
        XCTAssertEqual(try EngineIOFrame.parse("3probe"), .pong("probe"))
        XCTAssertEqual(try EngineIOFrame.parse("6"), .noop)
        XCTAssertThrowsError(try EngineIOFrame.parse(""))
        XCTAssertThrowsError(try EngineIOFrame.parse("9"))
        XCTAssertEqual(EngineIOFrame.ping("").encoded, "2")
    }

    func testSocketIOPackets() throws {
        let event = try EngineIOFrame.parse(#"42["messageReceived",{"message":{"id":"1"}}]"#)
        guard case .message(let packet) = event else { return XCTFail("not a message") }
        XCTAssertEqual(packet.type, .event)
        XCTAssertEqual(packet.eventName, "messageReceived")
        XCTAssertNil(packet.ackId)

        let ack = try SocketIOFrame.parse(#"3/chat,17[{"ok":true}]"#)
        XCTAssertEqual(ack.type, .ack)
        XCTAssertEqual(ack.namespace, "/chat")
        XCTAssertEqual(ack.ackId, 17)
        XCTAssertEqual(ack.json, #"[{"ok":true}]"#)
        XCTAssertEqual(ack.encoded, #"3/chat,17[{"ok":true}]"#)
        XCTAssertNil(ack.eventName)

        let connect = try SocketIOFrame.parse(#"0{"token":"t"}"#)
        XCTAssertEqual(EngineIOFrame.message(connect).encoded, #"40{"token":"t"}"#)
        XCTAssertEqual(try SocketIOFrame.parse(#"4{"message":"unauthorized"}"#).type, .connectError)

        // Ack ids that start with 5 or 6 are ids, not the binary packet types 5 and 6.
        XCTAssertEqual(try SocketIOFrame.parse(#"35[{"ok":true}]"#).ackId, 5)
        XCTAssertEqual(try SocketIOFrame.parse(#"3612[{"ok":true}]"#).ackId, 612)
        XCTAssertThrowsError(try SocketIOFrame.parse("9[]"))
        XCTAssertThrowsError(try SocketIOFrame.parse("/chat[]"))
        XCTAssertThrowsError(try SocketIOFrame.parse(#"51-["x",{"_placeholder":true,"num":0}]"#), "binary packets are refused")
        XCTAssertThrowsError(try SocketIOFrame.parse("2/nons[]"), "namespace without comma")
        XCTAssertThrowsError(try SocketIOFrame.parse("399999999999999999999999[]"), "ack id too large")
    }
}

final class ByteSearchTests: XCTestCase {
    func testFindsWhatTheNaiveSearchFinds() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let haystack = (0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 97...99, using: &generator) }
            let needle = (0..<Int.random(in: 1...4, using: &generator)).map { _ in UInt8.random(in: 97...99, using: &generator) }
            let expected = haystack.count >= needle.count
                && (0...(haystack.count - needle.count)).contains { Array(haystack[$0..<$0 + needle.count]) == needle }
            let found = haystack.withUnsafeBytes { ByteSearch.contains($0, needle) }
            XCTAssertEqual(found, expected, "\(needle) in \(haystack)")
        }
    }

    func testBuffers() {
        let body = ByteBuffer(string: #"{"data":{"messages":[]},"errors":[{"message":"x"}]}"#)
        XCTAssertTrue(ByteSearch.contains(body, "\"errors\""))
        XCTAssertFalse(ByteSearch.contains(body, "\"errorz\""))
        XCTAssertTrue(ByteSearch.contains(body, ""))
        XCTAssertFalse(ByteSearch.contains(ByteBuffer(), "a"))
    }
}
