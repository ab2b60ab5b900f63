import Foundation
import Logging
import PostgresNIO

/// Writes push jobs inside the transaction that stores a message, and keeps per-conversation mutes.
public struct PushOutbox: Sendable {
    let db: DatabasePool
    let logger: Logger
    let policy: PushPolicy

    public init(db: DatabasePool, logger: Logger, policy: PushPolicy) {
        self.db = db
        self.logger = logger
        self.policy = policy
    }

    /// Recipients who should be told: members other than the sender, not muted, with a device,
    /// and with no connection that was active within `idleAfter` on a live gateway.
    static func enqueue(
        messageId: UUID, conversationId: UUID, senderId: UUID, policy: PushPolicy, on connection: PostgresConnection, logger: Logger
    ) async throws {
        try await connection.query("""
            INSERT INTO push_jobs (user_id, message_id, conversation_id)
            SELECT m.user_id, \(messageId), \(conversationId) FROM conversation_members m
            WHERE m.conversation_id = \(conversationId) AND m.left_at IS NULL AND m.user_id <> \(senderId)
              AND (m.muted_until IS NULL OR m.muted_until <= now())
              AND EXISTS (SELECT 1 FROM push_devices d WHERE d.user_id = m.user_id)
              AND NOT EXISTS (
                SELECT 1 FROM presence p JOIN gateways g ON g.id = p.gateway_id
                WHERE p.user_id = m.user_id
                  AND g.heartbeat_at > now() - make_interval(secs => \(PresenceService.seconds(policy.gatewayTimeout)))
                  AND p.last_activity_at > now() - make_interval(secs => \(PresenceService.seconds(policy.idleAfter))))
            ON CONFLICT (message_id, user_id) DO NOTHING
            """, logger: logger)
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
