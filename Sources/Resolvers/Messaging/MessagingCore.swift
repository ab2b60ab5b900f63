import Foundation
import Logging
import PostgresNIO

public struct MessagingLimits: Sendable {
    public var maxTextLength = 4000
    public var maxGroupMembers = 256
    /// Presence is pushed between people who share a direct conversation or a group of at most
    /// this many members. Everyone in a group of n members telling everyone else is n² events:
    /// 5,000 people opening the app in one group made 12.5 million `userOnline` frames, minutes
    /// of a server's time (Benchmarks/, Socket.IO fan-out). Bigger groups ask with `presence`.
    public var presenceGroupLimit = 256
    public init() {}
}

/// What the messaging services share: the database, the keys that seal text at rest, and the
/// membership checks every operation starts with.
public final class MessagingCore: Sendable {
    /// A condition on the conversation `id` (an SQL expression): it is small enough for presence
    /// to be pushed between its members (see `MessagingLimits.presenceGroupLimit`). The count
    /// stops one past the limit, so a big group's rows are not all fetched to find it too big
    /// (its index entries still are, by PostgreSQL's bitmap scan). Callers asking about many
    /// people ask it once per conversation (`LiveFeed.loadMemberships`).
    func presenceSized(_ id: String) -> String {
        """
        (SELECT count(*) FROM (SELECT 1 FROM conversation_members s WHERE s.conversation_id = \(id) \
        AND s.left_at IS NULL LIMIT \(limits.presenceGroupLimit + 1)) AS bounded) <= \(limits.presenceGroupLimit)
        """
    }

    let db: DatabasePool
    let logger: Logger
    let keyring: MessageKeyring
    let index: BlindIndex
    let limits: MessagingLimits
    let activity: ActivityLog
    let events: EventPublisher
    let telemetry: Telemetry
    let push: PushPolicy

    public init(
        db: DatabasePool, logger: Logger, keyring: MessageKeyring, index: BlindIndex, limits: MessagingLimits,
        events: EventPublisher, telemetry: Telemetry = Telemetry(), push: PushPolicy = PushPolicy()
    ) {
        self.events = events
        self.telemetry = telemetry
        self.push = push
        self.db = db
        self.logger = logger
        self.keyring = keyring
        self.index = index
        self.limits = limits
        self.activity = ActivityLog(logger: logger)
    }

    // MARK: Membership

    /// Someone who never belonged gets NOT_FOUND: the conversation's existence is not theirs to know.
    static let unknownConversation = DomainError.notFound("Conversation not found")
    static let noLongerMember = DomainError.forbidden("You are no longer a member of this conversation")

    struct Membership: Sendable {
        let kind: ConversationKind
        let role: MemberRole
        let joinedSeq: Int64
        let leftSeq: Int64?
        var isActive: Bool { leftSeq == nil }

        func canSee(seq: Int64) -> Bool { seq > joinedSeq && seq <= (leftSeq ?? .max) }
    }

    /// A stranger gets `unknownConversation`.
    func membership(_ conversationId: UUID, _ userId: UUID, on connection: PostgresConnection, lock: Bool = false) async throws -> Membership {
        if lock {
            // Lock first, read after, in its own statement: a read that waited for the lock would
            // otherwise see the role as it was before the change it waited for (a hand-over).
            try await connection.query("SELECT 1 FROM conversations WHERE id = \(conversationId) FOR UPDATE", logger: logger)
        }
        let rows = try await connection.query("""
            SELECT c.kind, m.role, m.joined_seq, m.left_seq FROM conversation_members m
            JOIN conversations c ON c.id = m.conversation_id
            WHERE m.conversation_id = \(conversationId) AND m.user_id = \(userId)
            """, logger: logger)
        for try await (kind, role, joined, left) in rows.decode((String, String, Int64, Int64?).self) {
            return Membership(kind: ConversationKind(rawValue: kind) ?? .group, role: MemberRole(rawValue: role) ?? .member,
                              joinedSeq: joined, leftSeq: left)
        }
        throw Self.unknownConversation
    }

    func activeMembership(_ conversationId: UUID, _ userId: UUID, on connection: PostgresConnection, lock: Bool = false) async throws -> Membership {
        let membership = try await membership(conversationId, userId, on: connection, lock: lock)
        guard membership.isActive else { throw Self.noLongerMember }
        return membership
    }

    func activeMemberIds(_ conversationId: UUID, on connection: PostgresConnection) async throws -> [UUID] {
        var ids: [UUID] = []
        for try await id in try await connection.query("""
            SELECT user_id FROM conversation_members WHERE conversation_id = \(conversationId) AND left_at IS NULL ORDER BY joined_at, user_id
            """, logger: logger).decode(UUID.self)
        {
            ids.append(id)
        }
        return ids
    }

    /// The next number in the conversation's own sequence. The row lock it takes orders
    /// concurrent sends, so sequence numbers have no gaps and no ties.
    func nextSeq(_ conversationId: UUID, on connection: PostgresConnection) async throws -> Int64 {
        for try await seq in try await connection.query("""
            UPDATE conversations SET last_seq = last_seq + 1, last_activity_at = now() WHERE id = \(conversationId) RETURNING last_seq
            """, logger: logger).decode(Int64.self)
        {
            return seq
        }
        throw Self.unknownConversation
    }

    /// A system message: the record of a group change, visible in the conversation.
    struct Appended: Sendable { let id: UUID; let seq: Int64 }

    @discardableResult
    func appendSystemMessage(_ conversationId: UUID, event: SystemEvent, on connection: PostgresConnection) async throws -> Appended {
        let seq = try await nextSeq(conversationId, on: connection)
        let id = UUID()
        let json = String(decoding: try JSONEncoder().encode(event), as: UTF8.self)
        try await connection.query("""
            INSERT INTO messages (id, conversation_id, seq, kind, system_event, created_at)
            VALUES (\(id), \(conversationId), \(seq), 'SYSTEM', \(json)::jsonb, clock_timestamp())
            """, logger: logger)
        return Appended(id: id, seq: seq)
    }

    /// After a group change commits: its system messages, and a membership change for everyone
    /// whose view changed, so live subscriptions re-check what they may see.
    func announce(_ conversationId: UUID, appended: [Appended], affected: [UUID]) {
        events.publish(
            appended.map { .messageCreated(conversationId: conversationId, messageId: $0.id, seq: $0.seq, senderId: nil) }
                + (affected.isEmpty ? [] : [.membership(conversationId: conversationId, userIds: affected)]))
    }

    // MARK: Messages

    static let messageColumns = """
        m.id, m.conversation_id, m.seq, m.sender_id, m.kind, m.body_key_id, m.body, m.system_event::text,
        m.reply_to_id, m.client_message_id, m.created_at, m.edited_at, m.deleted_at
        """

    func message(from row: PostgresRow) throws -> Message {
        var columns = ColumnReader(row)
        let id = try columns.next(UUID.self), conversationId = try columns.next(UUID.self), seq = try columns.next(Int64.self)
        let senderId = try columns.next(UUID?.self), kind = try columns.next(String.self)
        let keyId = try columns.next(String?.self), body = try columns.next(Data?.self), eventJSON = try columns.next(String?.self)
        let replyToId = try columns.next(UUID?.self), clientMessageId = try columns.next(String?.self)
        let createdAt = try columns.next(Date.self), editedAt = try columns.next(Date?.self), deletedAt = try columns.next(Date?.self)
        var text: String?
        if let keyId, let body {
            let sealed = SealedText(keyId: keyId, bytes: Array(body))
            text = try keyring.open(sealed, context: Self.sealContext(id)) as String
        }
        let event = try eventJSON.map { try JSONDecoder().decode(SystemEvent.self, from: Data($0.utf8)) }
        return Message(
            id: id, conversationId: conversationId, seq: seq, senderId: senderId, kind: MessageKind(rawValue: kind) ?? .user,
            text: text, systemEvent: event, replyToId: replyToId, clientMessageId: clientMessageId,
            createdAt: createdAt, editedAt: editedAt, deletedAt: deletedAt)
    }

    /// Bound into the ciphertext, so a body copied onto another row does not open.
    static func sealContext(_ messageId: UUID) -> String { "message:\(messageId.uuidString.lowercased()):body" }

    func messages(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [Message] {
        var result: [Message] = []
        for try await row in try await connection.query(query, logger: logger) { result.append(try message(from: row)) }
        return result
    }

    func messages(_ query: PostgresQuery) async throws -> [Message] {
        var result: [Message] = []
        for try await row in try await db.query(query, logger: logger) { result.append(try message(from: row)) }
        return result
    }

    func messages(_ statement: some FixedQuery) async throws -> [Message] {
        try await db.execute(statement, logger: logger).map(message(from:))
    }

    func validText(_ raw: String?, required: Bool) throws(DomainError) -> String? {
        guard let raw else {
            if required { throw .badUserInput("A message needs text or attachments", field: "text") }
            return nil
        }
        if raw.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            if required { throw .badUserInput("A message needs text or attachments", field: "text") }
            return nil
        }
        guard raw.count <= limits.maxTextLength else {
            throw .badUserInput("Text is longer than \(limits.maxTextLength) characters", field: "text")
        }
        return raw
    }
}

extension PSQLError {
    var isUniqueViolation: Bool { serverInfo?[.sqlState] == "23505" }
}
