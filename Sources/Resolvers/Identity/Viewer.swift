import Foundation

/// Who is asking: the signed-in user and the session their token belongs to.
public struct Viewer: Sendable, Equatable {
    public let userId: UUID
    public let sessionId: UUID
    public let isOperator: Bool

    public init(userId: UUID, sessionId: UUID, isOperator: Bool) {
        self.userId = userId
        self.sessionId = sessionId
        self.isOperator = isOperator
    }
}

/// Signs access tokens. The domain decides when a token is due; the gateway owns the key and
/// the format, so this is the only thing the domain knows about JWT.
public protocol AccessTokenIssuer: Sendable {
    func issue(userId: UUID, sessionId: UUID) async throws -> (token: String, expiresAt: Date)
}
