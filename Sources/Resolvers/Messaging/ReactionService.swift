import Foundation
import Logging
import PostgresNIO

/// Emoji reactions: one of each emoji per person per message.
public struct ReactionService: Sendable {
    let core: MessagingCore

    public init(core: MessagingCore) { self.core = core }

    /// A single emoji: one grapheme cluster that renders as an emoji (flags, skin tones, ZWJ
    /// families and keycaps included), not arbitrary text.
    public static func validEmoji(_ raw: String) throws(DomainError) -> String {
        let emoji = raw.trimmingCharacters(in: .whitespaces)
        guard emoji.count == 1, emoji.utf8.count <= 64, let scalar = emoji.unicodeScalars.first else {
            throw .badUserInput("emoji must be a single emoji", field: "emoji")
        }
        let scalars = emoji.unicodeScalars
        // Regional indicators only make a flag in pairs; one alone renders as a boxed letter.
        let regional = scalars.filter { (0x1F1E6...0x1F1FF).contains($0.value) }.count
        guard regional == 0 || (regional == 2 && scalars.count == 2) else {
            throw .badUserInput("emoji must be a single emoji", field: "emoji")
        }
        let isEmoji = scalars.contains { $0.properties.isEmojiPresentation }
            || (scalar.properties.isEmoji && (scalar.value > 0xFF || scalars.contains { $0.value == 0xFE0F || $0.value == 0x20E3 }))
            || scalars.allSatisfy { (0x1F1E6...0x1F1FF).contains($0.value) }
        guard isEmoji else { throw .badUserInput("emoji must be a single emoji", field: "emoji") }
        return emoji
    }

    public func add(messageId: UUID, emoji raw: String, viewer: Viewer) async throws -> Message {
        let emoji = try Self.validEmoji(raw)
        let message = try await reactable(messageId, viewer: viewer)
        // Checked again as the row is written: a deletion that commits after `reactable` read the
        // message removed the reactions it saw, and a reaction written later would have stayed on
        // the tombstone. FOR SHARE waits for such a deletion and then sees it.
        var added = false, gone = true
        for try await inserted in try await core.db.query("""
            WITH live AS (
                SELECT m.id FROM messages m WHERE m.id = \(messageId) AND m.deleted_at IS NULL
                  AND EXISTS (SELECT 1 FROM conversation_members cm
                              WHERE cm.conversation_id = m.conversation_id AND cm.user_id = \(viewer.userId) AND cm.left_at IS NULL)
                FOR SHARE OF m
            ), written AS (
                INSERT INTO message_reactions (message_id, user_id, emoji) SELECT id, \(viewer.userId), \(emoji) FROM live
                ON CONFLICT DO NOTHING RETURNING 1
            )
            SELECT EXISTS (SELECT 1 FROM written) FROM live
            """, logger: core.logger).decode(Bool.self)
        {
            added = inserted
            gone = false
        }
        if gone { _ = try await reactable(messageId, viewer: viewer) }
        if added {
            core.events.publish(.reaction(conversationId: message.conversationId, messageId: messageId, userId: viewer.userId,
                                          emoji: emoji, added: true, at: Date()))
        }
        return message
    }

    public func remove(messageId: UUID, emoji raw: String, viewer: Viewer) async throws -> Message {
        let emoji = try Self.validEmoji(raw)
        let message = try await reactable(messageId, viewer: viewer)
        var removed = false
        for try await _ in try await core.db.query("""
            DELETE FROM message_reactions WHERE message_id = \(messageId) AND user_id = \(viewer.userId) AND emoji = \(emoji) RETURNING 1
            """, logger: core.logger)
        {
            removed = true
        }
        if removed {
            core.events.publish(.reaction(conversationId: message.conversationId, messageId: messageId, userId: viewer.userId,
                                          emoji: emoji, added: false, at: Date()))
        }
        return message
    }

    private func reactable(_ messageId: UUID, viewer: Viewer) async throws -> Message {
        let message = try await MessageService(core: core).message(id: messageId, viewer: viewer)
        try await core.db.withConnection { connection in
            _ = try await core.activeMembership(message.conversationId, viewer.userId, on: connection)
        }
        guard message.deletedAt == nil else { throw DomainError.conflict("This message was deleted") }
        guard message.kind == .user else { throw DomainError.badUserInput("System messages take no reactions", field: "messageId") }
        return message
    }

    /// Summaries per message, in the order each emoji was first used.
    public func summaries(messageIds: [UUID], viewer: UUID) async throws -> [UUID: [ReactionSummary]] {
        guard !messageIds.isEmpty else { return [:] }
        var result: [UUID: [ReactionSummary]] = [:]
        result.reserveCapacity(messageIds.count)
        for row in try await core.db.execute(ReactionSummaries(messageIds: messageIds, viewer: viewer), logger: core.logger).rows {
            var columns = ColumnReader(row)
            let messageId = try columns.next(UUID.self)
            let summary = ReactionSummary(
                messageId: messageId, emoji: try columns.next(), count: try columns.next(), reactedByMe: try columns.next())
            result[messageId, default: []].append(summary)
        }
        return result
    }
}

/// The reactions of a page of messages, prepared once per connection (read with every page).
struct ReactionSummaries: FixedQuery {
    static let sql = text(of: ReactionSummaries(messageIds: [], viewer: UUID()))
    let messageIds: [UUID]
    let viewer: UUID

    var query: PostgresQuery {
        """
        SELECT message_id, emoji, count(*), bool_or(user_id = \(viewer)) FROM message_reactions
        WHERE message_id = ANY(\(messageIds)) GROUP BY message_id, emoji ORDER BY message_id, min(created_at), emoji
        """
    }
}
