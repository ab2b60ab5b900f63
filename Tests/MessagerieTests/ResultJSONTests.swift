import Compat
import Foundation
import GraphQL
import XCTest

@testable import Gateway

/// The direct JSON writer says the same as the Codable encoder it replaces.
final class ResultJSONTests: XCTestCase {
    static let sample: Map = [
        "messages": [
            ["id": "a1", "text": "quote \" backslash \\ slash / tab \t newline \n bell \u{07} nul \u{0}", "count": 3, "ratio": 1.5, "ok": true],
            ["id": "a2", "text": "émoji 👍🏽 日本語 \u{2028}", "count": -7, "ratio": 0.1, "ok": false, "none": .null],
            ["nested": [[], [:], ["deep": [1, 2, 3]]]],
        ],
        "empty": "",
    ]

    func testTheSameJSONAsTheCodableEncoder() throws {
        for result in [
            GraphQLResult(data: Self.sample),
            GraphQLResult(data: .null, errors: [GraphQLError(message: "boom \"x\"", extensions: ["code": "INTERNAL"])]),
            GraphQLResult(errors: [GraphQLError(message: "no data")]),
            GraphQLResult(data: ["me": .null]),
        ] {
            let direct = ResultJSON.encode(result)
            let codable = String(decoding: try GraphQLJSONEncoder().encode(result), as: UTF8.self)
            XCTAssertEqual(try Self.canonical(direct), try Self.canonical(codable), direct)
        }
    }

    func testDataNullIsKeptAndAbsentDataIsLeftOut() throws {
        let withNull = try Self.object(ResultJSON.encode(GraphQLResult(data: .null, errors: [GraphQLError(message: "x")])))
        XCTAssertTrue(withNull.keys.contains("data"), "a field error at the root leaves data: null")
        XCTAssertTrue(withNull["data"] is NSNull)
        let without = try Self.object(ResultJSON.encode(GraphQLResult(errors: [GraphQLError(message: "x")])))
        XCTAssertFalse(without.keys.contains("data"), "a request error has no data")
    }

    func testControlCharactersAreEscaped() {
        var out = ""
        ResultJSON.quote("a\u{1}b\u{1f}\"", to: &out)
        XCTAssertEqual(out, #""a\u0001b\u001f\"""#)
    }

    /// The Socket.IO codec's string writer and the result writer's bytes share one escaper.
    func testStringAndByteWritersAgree() throws {
        for text in ["", "plain", "quote \" and \\", "tab\tnl\ncr\rbs\u{08}ff\u{0C}", "nul \u{0} unit \u{1f} del \u{7f}",
                     "émoji 👍🏽 日本語 \u{2028}", "mixed é\n👍"] {
            var string = ""
            JSONCodec.writeString(text, to: &string)
            var bytes: [UInt8] = []
            JSONCodec.writeString(text, to: &bytes)
            XCTAssertEqual(string, String(decoding: bytes, as: UTF8.self), text)
            let parsed = try JSONSerialization.jsonObject(with: Data(bytes), options: .fragmentsAllowed) as? String
            XCTAssertEqual(parsed, text, "the literal reads back as the same text")
        }
    }

    static func object(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    static func canonical(_ text: String) throws -> String {
        let value = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return String(decoding: try JSONSerialization.data(withJSONObject: value, options: .sortedKeys), as: UTF8.self)
    }
}
