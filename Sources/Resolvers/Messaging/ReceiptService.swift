import Foundation
import Logging
import PostgresNIO

/// Delivery and read receipts. Marking is idempotent and never moves a time backwards: an
/// existing time is kept, a read implies delivered.
public struct ReceiptService: Sendable {
    let core: MessagingCore

    public init(core: MessagingCore) { self.core = core }

    /// Marks the viewer's receipts; ids the viewer may not read are NOT_FOUND. Only messages of
    /// others the viewer received (a member when it was sent) get a receipt; a time once set stays.
    public func markDelivered(messageIds: [UUID], viewer: Viewer) async throws -> [Message] {
        let ids = Array(Set(messageIds))
        guard !ids.isEmpty else { return [] }
        let messages = try await MessageService(core: core).messages(ids: ids, viewer: viewer)
        guard messages.count == ids.count else { throw DomainError.notFound("Message not found") }
        var changed: [UUID: [UUID]] = [:]
        var at = Date()
        for row in try await core.db.execute(MarkDelivered(messageIds: ids, userId: viewer.userId), logger: core.logger).rows {
            var columns = ColumnReader(row)
            let messageId = try columns.next(UUID.self)
            changed[try columns.next(UUID.self), default: []].append(messageId)
            at = try columns.next(Date.self)
        }
        announce(changed, userId: viewer.userId, status: .delivered, at: at)
        // A client may repeat an id; each message is answered once, where it first appeared.
        var order: [UUID: Int] = [:]
        for (index, id) in messageIds.enumerated() where order[id] == nil { order[id] = index }
        return messages.sorted { order[$0.id, default: 0] < order[$1.id, default: 0] }
    }

    /// Everything up to and including `upToMessageId`; returns how many receipts became read.
    /// Messages at or below the member's `last_read_seq` are read already, so the work is the
    /// unread stretch only.
    public func markRead(conversationId: UUID, upToMessageId: UUID, viewer: Viewer) async throws -> Int {
        let core = self.core
        let marked: [UUID] = try await core.db.transaction(logger: core.logger) { connection in
            let membership = try await core.membership(conversationId, viewer.userId, on: connection)
            var target: Int64?
            for try await seq in try await connection.query(
                "SELECT seq FROM messages WHERE id = \(upToMessageId) AND conversation_id = \(conversationId)", logger: core.logger
            ).decode(Int64.self) {
                target = seq
            }
            guard let seq = target, membership.canSee(seq: seq) else { throw DomainError.notFound("Message not found") }
            // Lock the member's row first: two concurrent calls then read the same stretch in turn.
            var from: Int64 = membership.joinedSeq
            for try await lastRead in try await connection.query("""
                SELECT last_read_seq FROM conversation_members
                WHERE conversation_id = \(conversationId) AND user_id = \(viewer.userId) FOR UPDATE
                """, logger: core.logger).decode(Int64.self)
            {
                from = max(from, lastRead)
            }
            guard seq > from else { return [] }
            var marked: [UUID] = []
            for try await id in try await connection.query("""
                INSERT INTO message_receipts (message_id, user_id, conversation_id, seq, delivered_at, read_at)
                SELECT m.id, \(viewer.userId), m.conversation_id, m.seq, now(), now() FROM messages m
                WHERE m.conversation_id = \(conversationId) AND m.seq > \(from) AND m.seq <= \(seq)
                  AND m.kind = 'USER' AND m.sender_id <> \(viewer.userId)
                ON CONFLICT (message_id, user_id) DO UPDATE SET read_at = excluded.read_at
                    WHERE message_receipts.read_at IS NULL
                RETURNING message_id
                """, logger: core.logger).decode(UUID.self)
            {
                marked.append(id)
            }
            try await connection.query("""
                UPDATE conversation_members SET last_read_seq = \(seq)
                WHERE conversation_id = \(conversationId) AND user_id = \(viewer.userId)
                """, logger: core.logger)
            return marked
        }
        announce([conversationId: marked], userId: viewer.userId, status: .read, at: Date())
        return marked.count
    }

    /// Receipt events name their messages; long runs are split so each notification stays small.
    private func announce(_ changed: [UUID: [UUID]], userId: UUID, status: MessageStatus, at: Date) {
        var events: [DomainEvent] = []
        for (conversationId, ids) in changed where !ids.isEmpty {
            for start in stride(from: 0, to: ids.count, by: 100) {
                events.append(.receipt(conversationId: conversationId, messageIds: Array(ids[start..<min(start + 100, ids.count)]),
                                       userId: userId, status: status, at: at))
            }
        }
        core.events.publish(events)
    }

    /// Every recipient's receipt for each message, in one query: the members when it was sent
    /// other than its sender, with the times they reported (none yet: SENT).
    public func receipts(messageIds: [UUID]) async throws -> [UUID: [Receipt]] {
        guard !messageIds.isEmpty else { return [:] }
        var result: [UUID: [Receipt]] = [:]
        result.reserveCapacity(messageIds.count)
        for row in try await core.db.execute(ReceiptRows(messageIds: messageIds), logger: core.logger).rows {
            var columns = ColumnReader(row)
            let messageId = try columns.next(UUID.self)
            let receipt = Receipt(messageId: messageId, userId: try columns.next(), deliveredAt: try columns.next(), readAt: try columns.next())
            result[messageId, default: []].append(receipt)
        }
        return result
    }

    /// For the sender: SENT until every recipient has it, DELIVERED until every recipient read
    /// it, then READ. For a recipient: their own receipt.
    public static func status(of message: Message, receipts: [Receipt], viewer: UUID) -> MessageStatus {
        if message.senderId != viewer, let mine = receipts.first(where: { $0.userId == viewer }) { return mine.status }
        return summary(of: receipts)
    }

    /// The sender's status: what every recipient's receipt says together.
    public static func summary(of receipts: [Receipt]) -> MessageStatus {
        guard !receipts.isEmpty else { return .sent }
        if receipts.contains(where: { $0.deliveredAt == nil }) { return .sent }
        if receipts.contains(where: { $0.readAt == nil }) { return .delivered }
        return .read
    }
}

/// Every recipient's receipt for a page of messages, prepared once per connection (read with
/// every page).
struct ReceiptRows: FixedQuery {
    static let sql = text(of: ReceiptRows(messageIds: []))
    let messageIds: [UUID]

    var query: PostgresQuery {
        """
        SELECT m.id, cm.user_id, r.delivered_at, r.read_at FROM messages m
        JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id <> m.sender_id
            AND m.seq > cm.joined_seq AND m.seq <= COALESCE(cm.left_seq, 9223372036854775807)
        LEFT JOIN message_receipts r ON r.message_id = m.id AND r.user_id = cm.user_id
        WHERE m.id = ANY(\(messageIds)) AND m.kind = 'USER'
        ORDER BY m.id, cm.user_id
        """
    }
}

/// The viewer's delivery receipts for the messages of others they received; a receipt once
/// written stays. Every delivered message on every device runs it, so prepared once per connection.
struct MarkDelivered: FixedQuery {
    static let sql = text(of: MarkDelivered(messageIds: [], userId: UUID()))
    let messageIds: [UUID]
    let userId: UUID

    var query: PostgresQuery {
        """
        INSERT INTO message_receipts (message_id, user_id, conversation_id, seq, delivered_at)
        SELECT m.id, cm.user_id, m.conversation_id, m.seq, now() FROM messages m
        JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id = \(userId)
        WHERE m.id = ANY(\(messageIds)) AND m.kind = 'USER' AND m.sender_id <> cm.user_id
          AND m.seq > cm.joined_seq AND m.seq <= COALESCE(cm.left_seq, 9223372036854775807)
        ON CONFLICT (message_id, user_id) DO NOTHING
        RETURNING message_id, conversation_id, delivered_at
        """
    }
}
