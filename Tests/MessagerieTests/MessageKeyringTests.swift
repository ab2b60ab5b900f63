import Crypto
import Foundation
import XCTest

@testable import Resolvers

final class MessageKeyringTests: XCTestCase {
    private func base64Key() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
    }

    private func ring(_ setting: String) throws -> MessageKeyring { try MessageKeyring.parse(setting) }

    private func assertInternal(_ body: @autoclosure () throws -> String, mentions: String,
                                file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard case DomainError.internal(let text) = error else {
                return XCTFail("expected DomainError.internal, got \(error)", file: file, line: line)
            }
            XCTAssertTrue(text.contains(mentions), "\(text)", file: file, line: line)
        }
    }

    // MARK: sealing

    func testRoundTripsUnicodeAndEmptyText() throws {
        let keys = try ring(MessageKeyring.generateSetting())
        for text in ["bonjour 👋 Éléphant", "", String(repeating: "x", count: 10_000)] {
            let sealed = try keys.seal(text, context: "m1:body")
            XCTAssertEqual(sealed.keyId, "k1")
            XCTAssertEqual(try keys.open(sealed, context: "m1:body"), text)
        }
    }

    func testEachSealDiffersAndHoldsNoPlaintextBytes() throws {
        let keys = try ring(MessageKeyring.generateSetting())
        let text = "meet me at the usual place at noon"
        let a = try keys.seal(text, context: "m1:body")
        let b = try keys.seal(text, context: "m1:body")
        XCTAssertNotEqual(a.bytes, b.bytes)
        XCTAssertNotEqual(Array(a.bytes.prefix(12)), Array(b.bytes.prefix(12)), "nonce must be fresh")
        XCTAssertEqual(a.bytes.count, 12 + text.utf8.count + 16)
        let hay = Data(a.bytes)
        for word in ["meet", "usual", "place", "noon"] {
            XCTAssertNil(hay.range(of: Data(word.utf8)), word)
        }
    }

    func testTamperedByteIsRefused() throws {
        let keys = try ring(MessageKeyring.generateSetting())
        let sealed = try keys.seal("hello", context: "m1:body")
        for index in [0, 12, sealed.bytes.count - 1] {
            var bytes = sealed.bytes
            bytes[index] ^= 0x01
            assertInternal(try keys.open(SealedText(keyId: "k1", bytes: bytes), context: "m1:body"),
                           mentions: "failed authentication")
        }
        assertInternal(try keys.open(SealedText(keyId: "k1", bytes: Array(sealed.bytes.prefix(20))), context: "m1:body"),
                       mentions: "too short")
    }

    func testWrongContextIsRefused() throws {
        let keys = try ring(MessageKeyring.generateSetting())
        let sealed = try keys.seal("hello", context: "m1:body")
        assertInternal(try keys.open(sealed, context: "m2:body"), mentions: "failed authentication")
        assertInternal(try keys.open(sealed, context: "m1:caption"), mentions: "failed authentication")
    }

    func testUnknownKeyIdIsRefused() throws {
        let keys = try ring(MessageKeyring.generateSetting())
        let sealed = try keys.seal("hello", context: "c")
        assertInternal(try keys.open(SealedText(keyId: "k9", bytes: sealed.bytes), context: "c"), mentions: "\"k9\"")
    }

    func testOptionalsPassNilThrough() throws {
        let keys = try ring(MessageKeyring.generateSetting())
        let none: String? = nil
        XCTAssertNil(try keys.seal(none, context: "c"))
        XCTAssertNil(try keys.open(nil as SealedText?, context: "c"))
        let some: String? = "hi"
        XCTAssertEqual(try keys.open(keys.seal(some, context: "c"), context: "c"), "hi")
    }

    func testRotationKeepsOldCiphertextReadableAndSealsWithNewKey() throws {
        let k1 = base64Key(), k2 = base64Key()
        let old = try ring("k1:\(k1)")
        let sealedOld = try old.seal("before", context: "m1:body")

        let rotated = try ring("k1:\(k1),k2:\(k2)")
        XCTAssertEqual(rotated.activeKeyId, "k2")
        XCTAssertEqual(try rotated.open(sealedOld, context: "m1:body"), "before")
        let sealedNew = try rotated.seal("after", context: "m2:body")
        XCTAssertEqual(sealedNew.keyId, "k2")
        assertInternal(try old.open(sealedNew, context: "m2:body"), mentions: "\"k2\"")

        let pinned = try ring("*k1:\(k1), k2:\(k2)")
        XCTAssertEqual(pinned.activeKeyId, "k1")
    }

    func testInitChecksActiveIdAndKeySize() throws {
        XCTAssertEqual(try MessageKeyring(keys: ["a": SymmetricKey(size: .bits256)], activeKeyId: "a").activeKeyId, "a")
        XCTAssertThrowsError(try MessageKeyring(keys: ["a": SymmetricKey(size: .bits256)], activeKeyId: "b")) {
            XCTAssertEqual($0 as? MessageKeyringError, .unknownActiveKeyId("b"))
        }
        XCTAssertThrowsError(try MessageKeyring(keys: ["a": SymmetricKey(size: .bits128)], activeKeyId: "a")) {
            XCTAssertEqual($0 as? MessageKeyringError, .wrongKeyLength(keyId: "a", bytes: 16))
        }
        XCTAssertThrowsError(try MessageKeyring(keys: ["a b": SymmetricKey(size: .bits256)], activeKeyId: "a b")) {
            XCTAssertEqual($0 as? MessageKeyringError, .invalidKeyId(entry: nil))
        }
    }

    // MARK: setting

    func testParserAcceptsValidSettings() throws {
        let k = base64Key()
        XCTAssertEqual(try ring("k1:\(k)").keyIds, ["k1"])
        XCTAssertEqual(try ring("  a-1:\(k) ,\n*B_2:\(base64Key())\n").activeKeyId, "B_2")
        XCTAssertEqual(try ring("0123456789abcdef:\(k)").activeKeyId, "0123456789abcdef")
        let generated = MessageKeyring.generateSetting(id: "fresh")
        XCTAssertTrue(generated.hasPrefix("fresh:"))
        XCTAssertNotEqual(generated, MessageKeyring.generateSetting(id: "fresh"))
        XCTAssertEqual(try ring(generated).activeKeyId, "fresh")
    }

    func testParserRefusesBadSettingsWithoutEchoingKeys() {
        let k = base64Key()
        let short = Data(repeating: 7, count: 16).base64EncodedString()
        let cases: [(String, MessageKeyringError, String)] = [
            ("", .empty, ""),
            ("  \n", .empty, ""),
            ("k1:\(k),", .emptyEntry(entry: 2), k),
            ("\(k)", .missingSeparator(entry: 1), k),
            ("k1:not*base64!!", .invalidBase64(keyId: "k1"), "not*base64"),
            ("k1:\(short)", .wrongKeyLength(keyId: "k1", bytes: 16), short),
            ("k1:\(k),k1:\(base64Key())", .duplicateKeyId("k1"), k),
            ("k 1:\(k)", .invalidKeyId(entry: 1), k),
            ("k1:\(k),k/2:\(k)", .invalidKeyId(entry: 2), k),
            (":\(k)", .invalidKeyId(entry: 1), k),
            ("abcdefghijklmnopq:\(k)", .invalidKeyId(entry: 1), k),
            ("*k1:\(k),*k2:\(base64Key())", .multipleActive, k),
            ("\(k.prefix(20)):\(k.dropFirst(20))", .invalidKeyId(entry: 1), String(k.prefix(20))),
        ]
        for (setting, expected, secret) in cases {
            XCTAssertThrowsError(try MessageKeyring.parse(setting), setting) { error in
                XCTAssertEqual(error as? MessageKeyringError, expected, setting)
                let text = String(describing: error)
                XCTAssertFalse(text.isEmpty)
                if !secret.isEmpty {
                    XCTAssertFalse(text.contains(secret), text)
                    XCTAssertFalse(text.contains(secret.prefix(8)), text)
                }
            }
        }
    }

    func testDescriptionNeverShowsKeyMaterial() throws {
        let k = base64Key()
        let keys = try ring("k1:\(k)")
        for text in [String(describing: keys), String(reflecting: keys), "\(Mirror(reflecting: keys).children.map { $0 })"] {
            XCTAssertFalse(text.contains(k.prefix(8)), text)
            XCTAssertTrue(text.contains("k1"), text)
        }
    }
}
