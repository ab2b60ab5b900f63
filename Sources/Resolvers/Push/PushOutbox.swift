import Foundation
import Logging
import PostgresNIO

/// Per-conversation mutes. Push jobs are written by the statement that stores a message
/// (`MessageService.store`), under this policy.
public struct PushOutbox: Sendable {
    let db: DatabasePool
    let logger: Logger
    let policy: PushPolicy

    public init(db: DatabasePool, logger: Logger, policy: PushPolicy) {
        self.db = db
        self.logger = logger
        self.policy = policy
    }

    /// Silences push for one conversation until `until` (nil unmutes). Members only.
    public func mute(conversationId: UUID, until: Date?, viewer: Viewer) async throws -> Date? {
        let rows = try await db.query("""
            UPDATE conversation_members SET muted_until = \(until)
            WHERE conversation_id = \(conversationId) AND user_id = \(viewer.userId) AND left_at IS NULL
            RETURNING muted_until
            """, logger: logger)
        for try await value in rows.decode(Date?.self) { return value }
        throw DomainError.notFound("Conversation not found")
    }
}
