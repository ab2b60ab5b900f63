import Crypto
import Foundation

/// A message body as stored: the key id travels with the ciphertext so keys can rotate without
/// re-encrypting old rows.
public struct SealedText: Sendable, Equatable {
    public let keyId: String
    /// `nonce || ciphertext || tag` (`AES.GCM.SealedBox.combined`).
    public let bytes: [UInt8]

    public init(keyId: String, bytes: [UInt8]) {
        self.keyId = keyId
        self.bytes = bytes
    }
}

/// Why `MESSAGE_KEYS` (or a programmatic ring) was refused. Texts name entries by position or by
/// an already-validated id, never by their content, because a mangled entry may be a key.
public enum MessageKeyringError: Error, Sendable, Equatable, CustomStringConvertible {
    case empty
    case emptyEntry(entry: Int)
    case missingSeparator(entry: Int)
    /// `entry` is nil when the ring was built from a dictionary rather than parsed.
    case invalidKeyId(entry: Int?)
    case duplicateKeyId(String)
    case invalidBase64(keyId: String)
    case wrongKeyLength(keyId: String, bytes: Int)
    case multipleActive
    case unknownActiveKeyId(String)

    public var description: String {
        let idRule = "ids are 1–16 characters from A–Z, a–z, 0–9, '_' and '-'"
        switch self {
        case .empty:
            return "MESSAGE_KEYS is empty: expected comma-separated id:base64key entries"
        case .emptyEntry(let n):
            return "MESSAGE_KEYS entry \(n) is empty (stray comma?)"
        case .missingSeparator(let n):
            return "MESSAGE_KEYS entry \(n) has no ':' between key id and base64 key"
        case .invalidKeyId(let n?):
            return "MESSAGE_KEYS entry \(n) has an invalid key id: \(idRule)"
        case .invalidKeyId(nil):
            return "message keyring has an invalid key id: \(idRule)"
        case .duplicateKeyId(let id):
            return "message key id \"\(id)\" appears more than once"
        case .invalidBase64(let id):
            return "message key \"\(id)\" is not valid base64"
        case .wrongKeyLength(let id, let bytes):
            return "message key \"\(id)\" is \(bytes) bytes; AES-256 needs exactly 32"
        case .multipleActive:
            return "MESSAGE_KEYS marks more than one entry active with '*'"
        case .unknownActiveKeyId(let id):
            return MessageKeyring.isValidKeyId(id)
                ? "active message key id \"\(id)\" is not in the keyring"
                : "active message key id is not in the keyring (and is not a valid id)"
        }
    }
}

/// AES-256-GCM keys for message bodies. Old keys stay in the ring to open old rows; only the
/// active one seals. The context is authenticated so a ciphertext pasted into another row or
/// column fails to open instead of showing someone else's text.
public struct MessageKeyring: Sendable {
    private let keys: [String: SymmetricKey]
    public let activeKeyId: String

    public init(keys: [String: SymmetricKey], activeKeyId: String) throws {
        for (id, key) in keys {
            guard Self.isValidKeyId(id) else { throw MessageKeyringError.invalidKeyId(entry: nil) }
            guard key.bitCount == 256 else {
                throw MessageKeyringError.wrongKeyLength(keyId: id, bytes: key.bitCount / 8)
            }
        }
        guard keys[activeKeyId] != nil else { throw MessageKeyringError.unknownActiveKeyId(activeKeyId) }
        self.keys = keys
        self.activeKeyId = activeKeyId
    }

    /// `k1:BASE64,*k2:BASE64`: the `*` entry is active, else the last one, so appending a new key
    /// is enough to rotate.
    public static func parse(_ setting: String) throws -> MessageKeyring {
        let trimmed = setting.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw MessageKeyringError.empty }
        var keys: [String: SymmetricKey] = [:]
        var marked: String?
        var last = ""
        for (index, raw) in trimmed.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let n = index + 1
            var entry = Substring(raw.trimmingCharacters(in: .whitespacesAndNewlines))
            guard !entry.isEmpty else { throw MessageKeyringError.emptyEntry(entry: n) }
            let isActive = entry.hasPrefix("*")
            if isActive { entry = entry.dropFirst() }
            guard let colon = entry.firstIndex(of: ":") else { throw MessageKeyringError.missingSeparator(entry: n) }
            let id = String(entry[..<colon])
            guard isValidKeyId(id) else { throw MessageKeyringError.invalidKeyId(entry: n) }
            guard keys[id] == nil else { throw MessageKeyringError.duplicateKeyId(id) }
            guard let data = Data(base64Encoded: String(entry[entry.index(after: colon)...])) else {
                throw MessageKeyringError.invalidBase64(keyId: id)
            }
            guard data.count == 32 else { throw MessageKeyringError.wrongKeyLength(keyId: id, bytes: data.count) }
            if isActive {
                guard marked == nil else { throw MessageKeyringError.multipleActive }
                marked = id
            }
            keys[id] = SymmetricKey(data: data)
            last = id
        }
        return try MessageKeyring(keys: keys, activeKeyId: marked ?? last)
    }

    /// A fresh single-key setting, for deployments that keep their secrets in the data folder.
    public static func generateSetting(id: String = "k1") -> String {
        precondition(isValidKeyId(id), "invalid message key id")
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return "\(id):\(key.base64EncodedString())"
    }

    static func isValidKeyId(_ id: String) -> Bool {
        (1...16).contains(id.utf8.count)
            && id.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D
            }
    }

    /// For deriving other keys (e.g. the blind index) from one that will never be retired.
    public func key(id: String) -> SymmetricKey? { keys[id] }

    public var keyIds: [String] { keys.keys.sorted() }

    public func seal(_ plaintext: String, context: String) throws -> SealedText {
        let box = try AES.GCM.seal(Data(plaintext.utf8), using: keys[activeKeyId]!, authenticating: Data(context.utf8))
        // Only nil for non-standard nonce sizes, which `seal` never picks.
        guard let combined = box.combined else {
            throw DomainError.internal("AES-GCM produced no combined form for message key \(activeKeyId)")
        }
        return SealedText(keyId: activeKeyId, bytes: Array(combined))
    }

    public func open(_ sealed: SealedText, context: String) throws -> String {
        guard let key = keys[sealed.keyId] else {
            throw DomainError.internal(
                "sealed text (\(context)) uses message key id \"\(sealed.keyId)\", which is not in MESSAGE_KEYS")
        }
        // 12-byte nonce + 16-byte tag; anything shorter was truncated, not merely altered.
        guard sealed.bytes.count >= 28, let box = try? AES.GCM.SealedBox(combined: sealed.bytes) else {
            throw DomainError.internal(
                "sealed text (\(context)) is \(sealed.bytes.count) bytes, too short for AES-GCM (at least 28)")
        }
        let plain: Data
        do {
            plain = try AES.GCM.open(box, using: key, authenticating: Data(context.utf8))
        } catch {
            throw DomainError.internal(
                "sealed text (\(context)) failed authentication with message key \"\(sealed.keyId)\": "
                    + "bytes altered, moved from another row/column, or key replaced (\(sealed.bytes.count) bytes)")
        }
        guard let text = String(data: plain, encoding: .utf8) else {
            throw DomainError.internal("sealed text (\(context)) authenticated but is not UTF-8")
        }
        return text
    }

    /// Nullable columns stay nullable: nil in, nil out.
    public func seal(_ plaintext: String?, context: String) throws -> SealedText? {
        try plaintext.map { try seal($0, context: context) }
    }

    public func open(_ sealed: SealedText?, context: String) throws -> String? {
        try sealed.map { try open($0, context: context) }
    }
}

/// Logging a config or a service must never print key bytes.
extension MessageKeyring: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "MessageKeyring(active: \(activeKeyId), ids: \(keyIds))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["activeKeyId": activeKeyId, "keyIds": keyIds]) }
}
