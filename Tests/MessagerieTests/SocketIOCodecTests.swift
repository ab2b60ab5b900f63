import XCTest

@testable import Compat

/// Engine.IO and Socket.IO codecs on the specifications' examples, without sockets.
final class SocketIOCodecTests: XCTestCase {
    // MARK: JSON

    func testJSONKeepsKeyOrderAndRoundTrips() throws {
        let text = #"{"b":1,"a":[true,false,null,"x\"y\\z\n",-1.5,2e3],"c":{}}"#
        let value = try JSONCodec.parse(text)
        XCTAssertEqual(JSONCodec.serialize(value), #"{"b":1,"a":[true,false,null,"x\"y\\z\n",-1.5,2000],"c":{}}"#)
        XCTAssertEqual(value["a"]?.arrayValue?.count, 6)
    }

    func testJSONDecodesUnicodeEscapesIncludingSurrogatePairs() throws {
        XCTAssertEqual(try JSONCodec.parse(#""\u00e9\ud83d\ude00/\/""#), .string("é😀//"))
        XCTAssertEqual(JSONCodec.serialize(.string("\u{01}é")), "\"\\u0001é\"")
    }

    func testJSONRejectsMalformedText() {
        for bad in ["", "{", "[1,]", "{\"a\"}", "01", "1.", "tru", "\"\u{01}\"", "[1] x", "{'a':1}", "\"\\x\"", "-", "1e"] {
            XCTAssertThrowsError(try JSONCodec.parse(bad), bad)
        }
        XCTAssertThrowsError(try JSONCodec.parse(String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000)))
    }

    // MARK: Engine.IO

    func testEngineIOPacketsEncodeAsTheSpecificationShows() {
        XCTAssertEqual(EngineIOPacket.open(#"{"sid":"x"}"#).text, #"0{"sid":"x"}"#)
        XCTAssertEqual(EngineIOPacket.close.text, "1")
        XCTAssertEqual(EngineIOPacket.ping("").text, "2")
        XCTAssertEqual(EngineIOPacket.ping("probe").text, "2probe")
        XCTAssertEqual(EngineIOPacket.pong("probe").text, "3probe")
        XCTAssertEqual(EngineIOPacket.message("hello").text, "4hello")
        XCTAssertEqual(EngineIOPacket.upgrade.text, "5")
        XCTAssertEqual(EngineIOPacket.noop.text, "6")
        XCTAssertEqual(EngineIOPacket.binary([1, 2, 3, 4]).text, "bAQIDBA==")
    }

    func testEngineIOPayloadJoinsWithRecordSeparator() throws {
        let payload = EngineIOPacket.encodePayload([.message("hello"), .binary([1, 2, 3, 4])])
        XCTAssertEqual(payload, "4hello\u{1E}bAQIDBA==")
        XCTAssertEqual(try EngineIOPacket.decodePayload(payload), [.message("hello"), .binary([1, 2, 3, 4])])
        XCTAssertEqual(try EngineIOPacket.decodePayload("4test1\u{1E}4test2\u{1E}4test3"),
                       [.message("test1"), .message("test2"), .message("test3")])
        XCTAssertEqual(try EngineIOPacket.decodePayload("2probe"), [.ping("probe")])
        XCTAssertEqual(try EngineIOPacket.decodePayload("4é😀"), [.message("é😀")])
    }

    func testEngineIORejectsMalformedPackets() {
        for bad in ["", "abc", "7", "9x", "b!!!", "4a\u{1E}", "\u{1E}4a", "4a\u{1E}x"] {
            XCTAssertThrowsError(try EngineIOPacket.decodePayload(bad), bad)
        }
    }

    func testHandshakeJSONHasTheFiveFieldsInOrder() {
        let handshake = EngineIOHandshake(sid: "abc", upgrades: ["websocket"], pingInterval: 300, pingTimeout: 200, maxPayload: 1_000_000)
        XCTAssertEqual(handshake.json, #"{"sid":"abc","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#)
    }

    // MARK: Socket.IO

    private func decode(_ text: String) throws -> SocketIOPacket {
        var decoder = SocketIODecoder()
        return try XCTUnwrap(try decoder.receive(text: text))
    }

    func testSocketIOConnectPackets() throws {
        XCTAssertEqual(try decode("0"), SocketIOPacket(.connect))
        XCTAssertEqual(try decode(#"0{"token":"123"}"#), SocketIOPacket(.connect, data: .object(["token": "123"])))
        XCTAssertEqual(try decode("0/admin,"), SocketIOPacket(.connect, namespace: "/admin"))
        XCTAssertEqual(try decode("0/custom"), SocketIOPacket(.connect, namespace: "/custom"))
        XCTAssertEqual(try decode(#"0/admin,{"token":"abc"}"#), SocketIOPacket(.connect, namespace: "/admin", data: .object(["token": "abc"])))
        XCTAssertEqual(SocketIOPacket(.connect, data: .object(["sid": "oSO0OpakMV_3jnilAAAA"])).encode().text, #"0{"sid":"oSO0OpakMV_3jnilAAAA"}"#)
        XCTAssertEqual(SocketIOPacket(.connect, namespace: "/admin", data: .object(["sid": "x"])).encode().text, #"0/admin,{"sid":"x"}"#)
    }

    func testSocketIOConnectErrorAndDisconnect() throws {
        XCTAssertEqual(SocketIOPacket(.connectError, namespace: "/random", data: .object(["message": "Invalid namespace"])).encode().text,
                       #"4/random,{"message":"Invalid namespace"}"#)
        XCTAssertEqual(try decode(#"4{"message":"Not authorized"}"#).data?["message"], "Not authorized")
        XCTAssertEqual(try decode("1"), SocketIOPacket(.disconnect))
        XCTAssertEqual(try decode("1/admin,"), SocketIOPacket(.disconnect, namespace: "/admin"))
        XCTAssertEqual(SocketIOPacket(.disconnect, namespace: "/admin").encode().text, "1/admin,")
    }

    func testSocketIOEventsAndAcks() throws {
        XCTAssertEqual(try decode(#"2["foo"]"#), SocketIOPacket(.event, data: ["foo"]))
        XCTAssertEqual(try decode(#"2/admin,["bar"]"#), SocketIOPacket(.event, namespace: "/admin", data: ["bar"]))
        XCTAssertEqual(try decode(#"212["foo"]"#), SocketIOPacket(.event, ackId: 12, data: ["foo"]))
        XCTAssertEqual(try decode(#"3/admin,13["bar"]"#), SocketIOPacket(.ack, namespace: "/admin", ackId: 13, data: ["bar"]))
        XCTAssertEqual(SocketIOPacket(.event, ackId: 12, data: ["foo"]).encode().text, #"212["foo"]"#)
        XCTAssertEqual(SocketIOPacket(.ack, namespace: "/admin", ackId: 13, data: ["bar"]).encode().text, #"3/admin,13["bar"]"#)
        let echoed = try decode(#"42["message",1,"2",{"3":[true]}]"#.dropFirst().description)
        XCTAssertEqual(JSONCodec.serialize(echoed.data!), #"["message",1,"2",{"3":[true]}]"#)
    }

    func testSocketIOBinaryEventWithAttachments() throws {
        var decoder = SocketIODecoder()
        XCTAssertNil(try decoder.receive(text: #"52-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#))
        XCTAssertTrue(decoder.isAwaitingAttachments)
        XCTAssertNil(try decoder.receive(binary: [1, 2, 3]))
        let packet = try XCTUnwrap(try decoder.receive(binary: [4, 5, 6]))
        XCTAssertEqual(packet, SocketIOPacket(.event, data: ["message", .binary([1, 2, 3]), .binary([4, 5, 6])]))

        let (text, attachments) = SocketIOPacket(.event, data: ["message-back", .binary([1, 2, 3]), .binary([4, 5, 6])]).encode()
        XCTAssertEqual(text, #"52-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#)
        XCTAssertEqual(attachments, [[1, 2, 3], [4, 5, 6]])
    }

    func testSocketIOBinaryAckWithNamespaceAndId() throws {
        let (text, attachments) = SocketIOPacket(.ack, namespace: "/admin", ackId: 15, data: ["bar", .binary([9])]).encode()
        XCTAssertEqual(text, #"61-/admin,15["bar",{"_placeholder":true,"num":0}]"#)
        XCTAssertEqual(attachments, [[9]])
        var decoder = SocketIODecoder()
        XCTAssertNil(try decoder.receive(text: text))
        XCTAssertEqual(try decoder.receive(binary: [9]), SocketIOPacket(.ack, namespace: "/admin", ackId: 15, data: ["bar", .binary([9])]))
    }

    func testSocketIORejectsMalformedPackets() {
        let bad = [
            "", "abc", "7", "9", "2", "2{}", "2[]", "2[1]", "2\"x\"", "0[]", "0\"x\"", "1{}", "3[]", "4", "4[1]",
            "2[\"a\"", "5[\"a\"]", "5x-[\"a\"]", "51[\"a\"]", "5999-[\"a\"]", "2/admin,[\"a\"] x", "21234567890123456[\"a\"]",
        ]
        for text in bad {
            var decoder = SocketIODecoder()
            XCTAssertThrowsError(try decoder.receive(text: text), text)
        }
    }

    func testSocketIOAttachmentOrderViolationsAreErrors() throws {
        var decoder = SocketIODecoder()
        XCTAssertThrowsError(try decoder.receive(binary: [1]), "binary without a pending packet")
        XCTAssertNil(try decoder.receive(text: #"51-["a",{"_placeholder":true,"num":0}]"#))
        XCTAssertThrowsError(try decoder.receive(text: #"2["b"]"#), "text while awaiting attachments")

        var pointingNowhere = SocketIODecoder()
        XCTAssertNil(try pointingNowhere.receive(text: #"51-["a",{"_placeholder":true,"num":3}]"#))
        XCTAssertThrowsError(try pointingNowhere.receive(binary: [1]))
    }

    /// Arbitrary input never crashes the decoders; it is accepted or refused.
    func testFuzzedInputNeverCrashes() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789-/,[]{}\":_placeholdernumtrue\u{1E}b4=é \\u")
        for _ in 0..<5000 {
            let length = Int.random(in: 0...40, using: &generator)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            _ = try? EngineIOPacket.decodePayload(text)
            var decoder = SocketIODecoder()
            _ = try? decoder.receive(text: text)
            _ = try? decoder.receive(binary: Array(text.utf8))
            _ = try? JSONCodec.parse(text)
        }
    }
}
