import Foundation
import Logging
import PostgresNIO

/// Conversations as their members see them: listing, direct conversations, and the facts each
/// list entry shows (members, last message, unread count), loaded for many at once.
public struct ConversationService: Sendable {
    let core: MessagingCore

    public init(core: MessagingCore) { self.core = core }

    /// Someone who left a group sees it as it was when they left: its title then (the latest
    /// title a system message announced up to their `left_seq`), not a later rename.
    static let columns = """
        c.id, c.kind,
        CASE WHEN m.left_seq IS NULL THEN c.title ELSE COALESCE((
            SELECT s.system_event->>'title' FROM messages s
            WHERE s.conversation_id = c.id AND s.kind = 'SYSTEM' AND s.seq <= m.left_seq AND s.system_event->>'title' IS NOT NULL
            ORDER BY s.seq DESC LIMIT 1), c.title) END,
        c.created_at,
        CASE WHEN m.left_at IS NULL THEN c.last_activity_at ELSE m.left_at END AS activity_at, m.joined_seq, m.left_seq
        """

    private func conversation(_ row: PostgresRow) throws -> Conversation {
        let (id, kind, title, createdAt, activity, joined, left) = try row.decode(
            (UUID, String, String?, Date, Date, Int64, Int64?).self)
        return Conversation(
            id: id, kind: ConversationKind(rawValue: kind) ?? .group, title: title, createdAt: createdAt,
            lastActivityAt: activity, viewerJoinedSeq: joined, viewerLeftSeq: left)
    }

    /// The one direct conversation of a pair, created on first use. Both people join at sequence
    /// 0, so either sees the whole history.
    func directConversation(between a: UUID, and b: UUID, on connection: PostgresConnection) async throws -> UUID {
        guard a != b else { throw DomainError.badUserInput("You cannot start a conversation with yourself", field: "recipientId") }
        var exists = false
        for try await _ in try await connection.query("SELECT 1 FROM users WHERE id = \(b)", logger: core.logger) { exists = true }
        guard exists else { throw DomainError.notFound("Recipient not found") }
        let key = [a, b].map { $0.uuidString.lowercased() }.sorted().joined(separator: ":")
        let id = UUID()
        for try await created in try await connection.query("""
            INSERT INTO conversations (id, kind, direct_key, created_by) VALUES (\(id), 'DIRECT', \(key), \(a))
            ON CONFLICT (direct_key) WHERE direct_key IS NOT NULL DO NOTHING RETURNING id
            """, logger: core.logger).decode(UUID.self)
        {
            try await connection.query("""
                INSERT INTO conversation_members (conversation_id, user_id, role, joined_seq)
                VALUES (\(created), \(a), 'MEMBER', 0), (\(created), \(b), 'MEMBER', 0)
                """, logger: core.logger)
            return created
        }
        for try await existing in try await connection.query(
            "SELECT id FROM conversations WHERE direct_key = \(key)", logger: core.logger
        ).decode(UUID.self) {
            return existing
        }
        throw DomainError.internal("direct conversation vanished")
    }

    /// Newest activity first; a former member's entry stays where they left it.
    public func list(viewer: Viewer, first: Int?, after: String?) async throws -> Page<Conversation> {
        let size = try PageRequest(first: first).size()
        let afterId = try after.map { cursor throws(DomainError) in try Cursor.id(cursor, prefix: "c", field: "after") }
        var items: [Conversation] = []
        let rows = try await core.db.query("""
            WITH mine AS (
                SELECT \(unescaped: Self.columns) FROM conversation_members m JOIN conversations c ON c.id = m.conversation_id
                WHERE m.user_id = \(viewer.userId)
            )
            SELECT * FROM mine
            WHERE \(afterId)::uuid IS NULL OR (activity_at, id) < (SELECT activity_at, id FROM mine WHERE id = \(afterId))
            ORDER BY activity_at DESC, id DESC LIMIT \(size + 1)
            """, logger: core.logger)
        for try await row in rows { items.append(try conversation(row)) }
        let more = items.count > size
        items = Array(items.prefix(size))
        return Page(items: items.map { (Cursor.encode("c", $0.id.uuidString), $0) }, hasNextPage: more, hasPreviousPage: afterId != nil)
    }

    public func conversation(id: UUID, viewer: Viewer) async throws -> Conversation? {
        try await conversations(ids: [id], viewer: viewer).first
    }

    /// Conversations the viewer belongs or belonged to, by id; others are left out.
    public func conversations(ids: [UUID], viewer: Viewer) async throws -> [Conversation] {
        guard !ids.isEmpty else { return [] }
        var result: [Conversation] = []
        for try await row in try await core.db.query("""
            SELECT \(unescaped: Self.columns) FROM conversation_members m JOIN conversations c ON c.id = m.conversation_id
            WHERE m.user_id = \(viewer.userId) AND c.id = ANY(\(ids))
            """, logger: core.logger)
        {
            result.append(try conversation(row))
        }
        return result
    }

    public func requireConversation(id: UUID, viewer: Viewer) async throws -> Conversation {
        guard let found = try await conversation(id: id, viewer: viewer) else { throw DomainError.notFound("Conversation not found") }
        return found
    }

    /// The members of each conversation the viewer belongs or belonged to, oldest first: the
    /// current ones, or for someone who left, those who were members when they left (who joined
    /// or left later is not theirs to know; roles are today's).
    public func members(conversationIds: [UUID], viewer: UUID) async throws -> [UUID: [Member]] {
        var result: [UUID: [Member]] = [:]
        for try await (conversationId, userId, role, joinedAt) in try await core.db.query("""
            SELECT cm.conversation_id, cm.user_id, cm.role, cm.joined_at FROM conversation_members cm
            JOIN conversation_members v ON v.conversation_id = cm.conversation_id AND v.user_id = \(viewer)
            WHERE cm.conversation_id = ANY(\(conversationIds)) AND CASE
                WHEN v.left_seq IS NULL THEN cm.left_at IS NULL
                ELSE cm.joined_seq < v.left_seq AND (cm.left_seq IS NULL OR cm.left_seq >= v.left_seq) END
            ORDER BY cm.joined_at, cm.user_id
            """, logger: core.logger).decode((UUID, UUID, String, Date).self)
        {
            result[conversationId, default: []].append(
                Member(conversationId: conversationId, userId: userId, role: MemberRole(rawValue: role) ?? .member, joinedAt: joinedAt))
        }
        return result
    }

    /// The two people of each direct conversation among `conversationIds` that the viewer
    /// belongs or belonged to; groups are left out. Messages name their receiver only in direct
    /// conversations, so showing a group's message reads none of its members.
    public func directPeople(conversationIds: [UUID], viewer: UUID) async throws -> [UUID: [UUID]] {
        guard !conversationIds.isEmpty else { return [:] }
        var result: [UUID: [UUID]] = [:]
        for try await (conversationId, userId) in try await core.db.query("""
            SELECT cm.conversation_id, cm.user_id FROM conversations c
            JOIN conversation_members v ON v.conversation_id = c.id AND v.user_id = \(viewer)
            JOIN conversation_members cm ON cm.conversation_id = c.id
            WHERE c.id = ANY(\(conversationIds)) AND c.kind = 'DIRECT'
            ORDER BY cm.joined_at, cm.user_id
            """, logger: core.logger).decode((UUID, UUID).self)
        {
            result[conversationId, default: []].append(userId)
        }
        return result
    }

    /// The newest message each viewer may read, per conversation, in one query.
    public func lastMessages(_ conversations: [Conversation]) async throws -> [UUID: Message] {
        guard !conversations.isEmpty else { return [:] }
        let ids = conversations.map(\.id)
        let limits = conversations.map { $0.viewerLeftSeq ?? .max }
        let messages = try await core.messages("""
            SELECT \(unescaped: MessagingCore.messageColumns)
            FROM unnest(\(ids)::uuid[], \(limits)::bigint[]) AS v(conversation_id, max_seq)
            CROSS JOIN LATERAL (
                SELECT * FROM messages x WHERE x.conversation_id = v.conversation_id AND x.seq <= v.max_seq
                ORDER BY x.seq DESC LIMIT 1
            ) m
            """)
        return Dictionary(messages.map { ($0.conversationId, $0) }, uniquingKeysWith: { a, _ in a })
    }

    public func unreadCounts(conversationIds: [UUID], viewer: Viewer) async throws -> [UUID: Int] {
        var result: [UUID: Int] = [:]
        for try await (id, count) in try await core.db.query("""
            SELECT cm.conversation_id, count(*) FROM conversation_members cm
            JOIN messages m ON m.conversation_id = cm.conversation_id
                AND m.seq > GREATEST(cm.last_read_seq, cm.joined_seq) AND m.seq <= COALESCE(cm.left_seq, \(Int64.max))
            WHERE cm.user_id = \(viewer.userId) AND cm.conversation_id = ANY(\(conversationIds))
              AND m.kind = 'USER' AND m.sender_id <> cm.user_id
            GROUP BY cm.conversation_id
            """, logger: core.logger).decode((UUID, Int).self)
        {
            result[id] = count
        }
        return result
    }

    /// People whose presence the user is told of: those sharing a direct conversation or a group
    /// within `MessagingLimits.presenceGroupLimit` with them.
    public func contacts(of userId: UUID) async throws -> Set<UUID> {
        var result = Set<UUID>()
        for try await id in try await core.db.query("""
            SELECT DISTINCT o.user_id FROM conversation_members m
            JOIN conversation_members o ON o.conversation_id = m.conversation_id
            WHERE m.user_id = \(userId) AND m.left_at IS NULL AND o.left_at IS NULL AND o.user_id <> \(userId)
            AND \(unescaped: core.presenceSized("m.conversation_id"))
            """, logger: core.logger).decode(UUID.self)
        {
            result.insert(id)
        }
        return result
    }
}
