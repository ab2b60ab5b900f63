import Crypto
import Foundation

/// Lets PostgreSQL answer "which messages contain these words" while it only ever holds
/// ciphertext: each normalised word becomes a keyed HMAC stored in a `bytea[]` column, and a
/// search is `tokens @> query`.
///
/// What someone with the database (but not the key) learns: which messages share a word; how many
/// distinct words each message has; word frequencies, so common words can be guessed by frequency
/// analysis; and since the key is global, equality holds across every conversation and user.
/// What they do not learn: the words themselves, their order or repetitions within a message,
/// or the message text. See docs/search-index.md.
public struct BlindIndex: Sendable {
    /// 16 of SHA-256's 32 bytes: a chance collision (a false search hit, never a missed one) needs
    /// ~2^64 distinct words, while rows stay half the size. Changing it invalidates every index.
    public static let tokenLength = 16
    public static let maxWordLength = 64
    public static let maxWordsPerText = 256

    private let key: SymmetricKey

    public init(key: SymmetricKey) {
        self.key = key
    }

    /// Separates the index key from message keys, so neither use weakens the other. The source
    /// must never rotate: a new index key makes every stored token unsearchable until reindexed.
    public static func derive(from key: SymmetricKey) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data("messagerie blind index".utf8), outputByteCount: 32)
    }

    /// Search should not care about case, accents or ligatures, so both stored text and queries are
    /// reduced to the same form. Overlong words are truncated (not dropped) so they stay findable;
    /// scripts written without spaces yield one word per run, so only whole runs match.
    public static func words(_ text: String) -> [String] {
        let folded = text.precomposedStringWithCompatibilityMapping
            .folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
            .lowercased()
            // Ligatures are letters of their own to Unicode, but French readers type "oeuvre" for "œuvre".
            .replacingOccurrences(of: "œ", with: "oe").replacingOccurrences(of: "æ", with: "ae")
            .replacingOccurrences(of: "ß", with: "ss")
        var seen = Set<String>()
        var result: [String] = []
        for piece in folded.split(whereSeparator: { !($0.isLetter || $0.isNumber) }) {
            let word = String(piece.prefix(maxWordLength))
            guard seen.insert(word).inserted else { continue }
            result.append(word)
            if result.count == maxWordsPerText { break }
        }
        return result
    }

    public func tokens(for text: String) -> [[UInt8]] {
        var seen = Set<[UInt8]>()
        return Self.words(text).compactMap { word in
            let mac = HMAC<SHA256>.authenticationCode(for: Data(word.utf8), using: key)
            let token = Array(mac.prefix(Self.tokenLength))
            return seen.insert(token).inserted ? token : nil
        }
    }

    /// A message matches when its tokens contain all of these. An empty result means the phrase has
    /// no searchable word; refuse it, since `tokens @> '{}'` matches every row.
    public func queryTokens(for phrase: String) -> [[UInt8]] {
        tokens(for: phrase)
    }
}

extension BlindIndex: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "BlindIndex(key: <redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: []) }
}
