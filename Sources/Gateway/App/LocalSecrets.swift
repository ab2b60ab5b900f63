import Crypto
import Foundation
import Logging

/// Secrets the embedded default generates on first run and keeps in its data folder, so a
/// development server works without configuration and keeps its sessions across restarts.
struct LocalSecrets {
    let directory: String

    func value(named name: String, logger: Logger, generate: () -> String = {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64EncodedString()
    }) throws -> String {
        let path = directory + "/" + name
        if let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8),
           !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        {
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let secret = generate()
        guard FileManager.default.createFile(atPath: path, contents: Data(secret.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw SettingsError(name: name, reason: "could not write \(path)")
        }
        logger.warning("generated a development secret; set it in the environment for production", metadata: ["file": "\(path)"])
        return secret
    }
}

/// Keys derived from the token secret for other purposes, so one secret configures the server
/// while each use has its own key.
enum DerivedKeys {
    static func otpKey(from secret: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data(secret.utf8)), info: Data("messagerie otp code digest".utf8),
            outputByteCount: 32)
    }

    /// Used only when SEARCH_INDEX_KEY is not set; changing the token secret then means reindexing.
    static func searchIndexKey(from secret: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data(secret.utf8)), info: Data("messagerie blind index".utf8),
            outputByteCount: 32)
    }
}
