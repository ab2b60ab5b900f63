import Foundation
import JWTKit
import Resolvers

extension AccessTokens {
    /// `verify`, plus when the token stops being valid: a socket outlives a request and must be
    /// closed at that moment.
    func verifyWithExpiry(_ token: String) async throws(DomainError) -> (userId: UUID, sessionId: UUID, expiresAt: Date) {
        let (userId, sessionId) = try await verify(token)
        guard let claims = try? await keys.verify(token, as: AccessClaims.self) else {
            throw .unauthenticated("Invalid access token")
        }
        return (userId, sessionId, claims.exp.value)
    }
}
