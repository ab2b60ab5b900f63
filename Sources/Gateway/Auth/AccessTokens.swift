import Foundation
import JWTKit
import Resolvers

/// Claims of an access token. `sid` ties the token to its session so that revoking the session
/// ends the token before it expires.
struct AccessClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim
    var jti: IDClaim
    var sid: String

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

/// Signs and checks access tokens with HS256 (`JWT_SECRET`) or ES256 (a PEM key).
struct AccessTokens: AccessTokenIssuer {
    enum Key {
        case hs256(secret: String)
        case es256(pem: String)
    }

    let keys: JWTKeyCollection
    let lifetime: TimeInterval

    init(key: Key, lifetime: TimeInterval) async throws {
        keys = JWTKeyCollection()
        switch key {
        case .hs256(let secret):
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        case .es256(let pem):
            await keys.add(ecdsa: try ES256PrivateKey(pem: pem))
        }
        self.lifetime = lifetime
    }

    func issue(userId: UUID, sessionId: UUID) async throws -> (token: String, expiresAt: Date) {
        let now = Date()
        let expiresAt = now.addingTimeInterval(lifetime)
        let claims = AccessClaims(
            sub: .init(value: userId.uuidString.lowercased()), exp: .init(value: expiresAt), iat: .init(value: now),
            jti: .init(value: UUID().uuidString.lowercased()), sid: sessionId.uuidString.lowercased())
        return (try await keys.sign(claims), expiresAt)
    }

    /// Any defect (format, algorithm, signature, expiry) is the same refusal to the client.
    func verify(_ token: String) async throws(DomainError) -> (userId: UUID, sessionId: UUID) {
        do {
            let claims = try await keys.verify(token, as: AccessClaims.self)
            guard let user = UUID(uuidString: claims.sub.value), let session = UUID(uuidString: claims.sid) else {
                throw DomainError.unauthenticated("Invalid access token")
            }
            return (user, session)
        } catch let error as JWTError where error.errorType == .claimVerificationFailure {
            throw .unauthenticated("Access token expired")
        } catch {
            throw .unauthenticated("Invalid access token")
        }
    }
}
