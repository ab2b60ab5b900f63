import Crypto
import Foundation
import XCTest

@testable import Resolvers

final class BlindIndexTests: XCTestCase {
    private let index = BlindIndex(key: BlindIndex.derive(from: SymmetricKey(size: .bits256)))

    private func contains(_ tokens: [[UInt8]], all query: [[UInt8]]) -> Bool {
        Set(query).isSubset(of: Set(tokens))
    }

    // MARK: words

    func testFoldsCaseAccentsAndSharpS() {
        XCTAssertEqual(BlindIndex.words("Éléphant CAFÉ straße"), ["elephant", "cafe", "strasse"])
        XCTAssertEqual(BlindIndex.words("e\u{301}te\u{301} ﬁn Ｆｕｌｌ"), ["ete", "fin", "full"])
    }

    func testSplitsOnPunctuationAndEmojiAndDedups() {
        XCTAssertEqual(BlindIndex.words("Salut!!! ça va? 👋🏽ça-va...Salut,Bob👨‍👩‍👧le 2e"),
                       ["salut", "ca", "va", "bob", "le", "2e"])
        XCTAssertEqual(BlindIndex.words("  ...!! 🎉 "), [])
        XCTAssertEqual(BlindIndex.words(""), [])
    }

    func testCapsWordLengthAndCount() {
        let long = String(repeating: "a", count: 100)
        XCTAssertEqual(BlindIndex.words(long), [String(repeating: "a", count: BlindIndex.maxWordLength)])
        let many = (0..<1000).map { "w\($0)" }.joined(separator: " ")
        let words = BlindIndex.words(many)
        XCTAssertEqual(words.count, BlindIndex.maxWordsPerText)
        XCTAssertEqual(words.first, "w0")
        XCTAssertEqual(words.last, "w255")
    }

    // MARK: tokens

    func testTokensAreDeterministicPerKeyAndDifferAcrossKeys() {
        let text = "Rendez-vous au café"
        let a = index.tokens(for: text)
        XCTAssertEqual(a, index.tokens(for: text))
        XCTAssertEqual(a.count, 4)
        XCTAssertTrue(a.allSatisfy { $0.count == BlindIndex.tokenLength })
        XCTAssertEqual(Set(a).count, a.count)
        let other = BlindIndex(key: BlindIndex.derive(from: SymmetricKey(size: .bits256)))
        XCTAssertTrue(Set(a).isDisjoint(with: Set(other.tokens(for: text))))
    }

    func testDerivedKeyDiffersFromSourceAndIsStable() {
        let source = SymmetricKey(size: .bits256)
        let derived = BlindIndex.derive(from: source)
        XCTAssertEqual(derived, BlindIndex.derive(from: source))
        XCTAssertNotEqual(derived, source)
        XCTAssertEqual(derived.bitCount, 256)
    }

    func testTokensDoNotContainTheWords() {
        let tokens = index.tokens(for: "secretword")
        XCTAssertNil(Data(tokens.joined()).range(of: Data("secret".utf8)))
    }

    func testQueryMatchesRegardlessOfOrderAndCase() {
        let query = index.queryTokens(for: "cafe Elephant")
        XCTAssertEqual(query.count, 2)
        XCTAssertTrue(contains(index.tokens(for: "Un ÉLÉPHANT entre au Café."), all: query))
        XCTAssertFalse(contains(index.tokens(for: "Un éléphant entre au bar."), all: query))
        XCTAssertFalse(contains(index.tokens(for: "cafés et éléphants"), all: query), "whole words only")
    }

    func testEmptyQueryYieldsNoTokens() {
        XCTAssertEqual(index.queryTokens(for: " ?! 👋 "), [])
    }

    func testDescriptionHidesKey() {
        XCTAssertEqual(String(describing: index), "BlindIndex(key: <redacted>)")
        XCTAssertEqual(Mirror(reflecting: index).children.count, 0)
    }
}
