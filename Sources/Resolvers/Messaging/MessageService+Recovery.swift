import Foundation
import PostgresNIO

extension MessageService {
    /// Messages of every conversation the viewer may read, stored after the one at (`createdAt`
    /// in microseconds since 1970, `id`), oldest first: what a reconnecting real-time client
    /// missed. The message log is the source, so it survives a gateway restart.
    public func messages(afterMicros micros: Int64, id: UUID, limit: Int, viewer: Viewer) async throws -> [Message] {
        guard (1...1000).contains(limit) else { throw DomainError.badUserInput("limit must be 1 to 1000", field: "limit") }
        let since = Date(timeIntervalSince1970: Double(micros) / 1_000_000 - 0.001)
        return try await core.messages("""
            SELECT \(unescaped: MessagingCore.messageColumns) FROM messages m
            JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id = \(viewer.userId)
            WHERE m.created_at >= \(since)
              AND (floor(extract(epoch FROM m.created_at) * 1000000)::bigint, m.id) > (\(micros), \(id))
              AND m.seq > cm.joined_seq AND m.seq <= COALESCE(cm.left_seq, 9223372036854775807)
            ORDER BY m.created_at, m.id LIMIT \(limit)
            """)
    }
}
