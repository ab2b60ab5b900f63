import Foundation
import Logging
import PostgresNIO

/// Typing indicators: announced, never stored.
public struct TypingService: Sendable {
    let core: MessagingCore

    public init(core: MessagingCore) { self.core = core }

    public func set(conversationId: UUID, isTyping: Bool, viewer: Viewer) async throws {
        try await core.db.withConnection { connection in
            _ = try await core.activeMembership(conversationId, viewer.userId, on: connection)
        }
        core.events.publish(.typing(conversationId: conversationId, userId: viewer.userId, isTyping: isTyping, at: Date()))
    }
}
