import Foundation
import JWTKit

@testable import Gateway

/// Access tokens built by the tests: signed with jwt-kit like the server's, or hand-made with a
/// defect.
enum TestTokens {
    /// HS256 with `secret`, the server's claims; `expiresIn` negative gives an expired token.
    static func sign(secret: String, sub: String, sid: String, expiresIn: TimeInterval) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        let now = Date()
        let claims = AccessClaims(
            sub: .init(value: sub), exp: .init(value: now.addingTimeInterval(expiresIn)),
            iat: .init(value: now.addingTimeInterval(min(0, expiresIn) - 60)),
            jti: .init(value: UUID().uuidString.lowercased()), sid: sid)
        return try await keys.sign(claims)
    }

    /// `alg: none`, no signature: the classic forgery.
    static func unsigned(sub: String, sid: String) -> String {
        let header = base64URLEncode(Data(#"{"alg":"none","typ":"JWT"}"#.utf8))
        let now = Int(Date().timeIntervalSince1970)
        let payload: [String: Any] = ["sub": sub, "sid": sid, "iat": now, "exp": now + 600, "jti": UUID().uuidString]
        let body = base64URLEncode(try! JSONSerialization.data(withJSONObject: payload))
        return "\(header).\(body)."
    }

    /// Changes the first character of the signature (6 whole bits, so the bytes really change).
    static func tamperSignature(_ token: String) -> String {
        var parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        var signature = Array(parts[2])
        signature[0] = signature[0] == "A" ? "B" : "A"
        parts[2] = String(signature)
        return parts.joined(separator: ".")
    }

    /// Replaces `sub` in the payload and keeps the original signature.
    static func tamperPayload(_ token: String, sub: String) -> String {
        var parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        var claims = jwtClaims(token)
        claims["sub"] = sub
        parts[1] = base64URLEncode(try! JSONSerialization.data(withJSONObject: claims))
        return parts.joined(separator: ".")
    }
}
