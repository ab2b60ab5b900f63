import Foundation
import Logging
import PostgresNIO

public struct SendMessageInput: Sendable {
    public var conversationId: UUID?
    public var recipientId: UUID?
    public var text: String?
    public var attachmentIds: [UUID]
    public var replyToId: UUID?
    public var clientMessageId: String?

    public init(conversationId: UUID? = nil, recipientId: UUID? = nil, text: String? = nil, attachmentIds: [UUID] = [],
                replyToId: UUID? = nil, clientMessageId: String? = nil)
    {
        self.conversationId = conversationId
        self.recipientId = recipientId
        self.text = text
        self.attachmentIds = attachmentIds
        self.replyToId = replyToId
        self.clientMessageId = clientMessageId
    }
}

/// Sending, editing, deleting and reading messages.
public struct MessageService: Sendable {
    let core: MessagingCore

    public init(core: MessagingCore) { self.core = core }

    private enum SendOutcome: Sendable { case stored(Message), duplicate }

    /// Idempotent per sender and `clientMessageId`: a retry returns the stored message, also
    /// when two retries race (the unique index decides, the loser reads the winner's row).
    public func send(_ input: SendMessageInput, viewer: Viewer) async throws -> Message {
        guard (input.conversationId == nil) != (input.recipientId == nil) else {
            throw DomainError.badUserInput("Give exactly one of conversationId or recipientId", field: "conversationId")
        }
        let text = try core.validText(input.text, required: input.attachmentIds.isEmpty)
        if let clientId = input.clientMessageId {
            // Counted in code points, as the column's check does.
            guard (1...128).contains(clientId.unicodeScalars.count) else {
                throw DomainError.badUserInput("clientMessageId must be 1 to 128 characters", field: "clientMessageId")
            }
            // PostgreSQL's text cannot hold U+0000; control characters are refused alike.
            guard !clientId.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw DomainError.badUserInput("clientMessageId must not contain control characters", field: "clientMessageId")
            }
            if let existing = try await existing(clientMessageId: clientId, sender: viewer.userId) { return existing }
        }
        let core = self.core
        let id = UUID()
        let sealed = try text.map { try core.keyring.seal($0, context: MessagingCore.sealContext(id)) }
        let outcome: SendOutcome
        do {
            // Without a retry key, attachments or a conversation to find, the one statement is
            // the whole send (one round trip); otherwise a transaction holds it with the rest, so
            // that a lost race on the retry key gives back its sequence number.
            if input.clientMessageId == nil, input.attachmentIds.isEmpty, let conversationId = input.conversationId {
                outcome = try await core.db.withConnection { connection in
                    .stored(try await store(id: id, in: conversationId, text: text, sealed: sealed, input: input, viewer: viewer, on: connection))
                }
            } else {
                outcome = try await core.db.transaction(logger: core.logger) { connection in
                    let conversationId: UUID
                    if let recipientId = input.recipientId {
                        conversationId = try await ConversationService(core: core).directConversation(
                            between: viewer.userId, and: recipientId, on: connection)
                    } else {
                        conversationId = input.conversationId!
                    }
                    let stored = try await store(id: id, in: conversationId, text: text, sealed: sealed, input: input, viewer: viewer, on: connection)
                    try await AttachmentService.link(input.attachmentIds, to: id, sender: viewer.userId, core: core, on: connection)
                    return .stored(stored)
                }
            }
        } catch is DuplicateSend {
            outcome = .duplicate
        }
        switch outcome {
        case .stored(let message):
            core.telemetry.messagesStored.increment()
            core.events.publish(.messageCreated(conversationId: message.conversationId, messageId: message.id, seq: message.seq, senderId: message.senderId))
            return message
        case .duplicate:
            guard let clientId = input.clientMessageId,
                  let existing = try await existing(clientMessageId: clientId, sender: viewer.userId)
            else { throw DomainError.internal("duplicate send without a stored message") }
            return existing
        }
    }

    private struct DuplicateSend: Error {}

    /// Checks the sender's membership and the message replied to, takes the conversation's next
    /// sequence number (its row lock orders concurrent sends: no gaps, no ties), stores the
    /// message and queues its push jobs: one statement, where it was five round trips.
    ///
    /// No receipt rows: recipients have the message as SENT until they report it
    /// (ReceiptService), so a send costs the same whatever the size of the group. Push goes to
    /// members other than the sender, not muted, with a device, and with no connection that was
    /// active within `idleAfter` on a live gateway (`PushOutbox`, `PushPolicy`).
    private func store(
        id: UUID, in conversationId: UUID, text: String?, sealed: SealedText?, input: SendMessageInput, viewer: Viewer,
        on connection: PostgresConnection
    ) async throws -> Message {
        let tokens = (text.map { core.index.tokens(for: $0) } ?? []).map { ByteBuffer(bytes: $0) }
        let push = core.push
        let rows = try await connection.execute(StoreMessage(
            id: id, conversationId: conversationId, senderId: viewer.userId, replyToId: input.replyToId,
            keyId: sealed?.keyId, body: sealed.map { Data($0.bytes) }, clientMessageId: input.clientMessageId, tokens: tokens,
            gatewaySeconds: PresenceService.seconds(push.gatewayTimeout), idleSeconds: PresenceService.seconds(push.idleAfter)
        ), logger: core.logger)
        for try await (verdict, seq, createdAt) in rows.decode((String, Int64?, Date?).self) {
            switch verdict {
            case "stranger": throw MessagingCore.unknownConversation
            case "left": throw MessagingCore.noLongerMember
            case "reply": throw DomainError.badUserInput("replyToId is not a message of this conversation", field: "replyToId")
            case "duplicate": throw DuplicateSend()  // a concurrent retry won; the transaction gives the number back
            default:
                guard let seq, let createdAt else { break }
                return Message(
                    id: id, conversationId: conversationId, seq: seq, senderId: viewer.userId, kind: .user, text: text,
                    systemEvent: nil, replyToId: input.replyToId, clientMessageId: input.clientMessageId, createdAt: createdAt,
                    editedAt: nil, deletedAt: nil)
            }
        }
        throw DomainError.internal("sending stored no message and gave no reason")
    }

    private func existing(clientMessageId: String, sender: UUID) async throws -> Message? {
        try await core.messages("""
            SELECT \(unescaped: MessagingCore.messageColumns) FROM messages m
            WHERE m.sender_id = \(sender) AND m.client_message_id = \(clientMessageId)
            """).first
    }

    public func edit(id: UUID, text raw: String, viewer: Viewer) async throws -> Message {
        guard let text = try core.validText(raw, required: true) else { throw DomainError.badUserInput("Text is required", field: "text") }
        let core = self.core
        let edited = try await core.db.transaction(logger: core.logger) { connection in
            _ = try await ownMessageForChange(id: id, viewer: viewer, on: connection)
            let sealed = try core.keyring.seal(text, context: MessagingCore.sealContext(id))
            let rows = try await connection.query("""
                UPDATE messages m SET body_key_id = \(sealed.keyId), body = \(Data(sealed.bytes)),
                       search_tokens = \(core.index.tokens(for: text).map { ByteBuffer(bytes: $0) }), edited_at = now()
                WHERE m.id = \(id) RETURNING \(unescaped: MessagingCore.messageColumns)
                """, logger: core.logger)
            for try await row in rows { return try core.message(from: row) }
            throw DomainError.notFound("Message not found")
        }
        core.events.publish(.messageChanged(conversationId: edited.conversationId, messageId: id))
        return edited
    }

    /// A tombstone: text gone for everyone, the row kept so order and receipts stay whole.
    public func delete(id: UUID, viewer: Viewer) async throws -> Message {
        let core = self.core
        let deleted = try await core.db.transaction(logger: core.logger) { connection in
            let message = try await ownMessageForChange(id: id, viewer: viewer, on: connection)
            let rows = try await connection.query("""
                UPDATE messages m SET body_key_id = NULL, body = NULL, search_tokens = '{}', deleted_at = now()
                WHERE m.id = \(id) RETURNING \(unescaped: MessagingCore.messageColumns)
                """, logger: core.logger)
            try await connection.query("DELETE FROM message_reactions WHERE message_id = \(id)", logger: core.logger)
            try await core.activity.append(
                .messageDeleted, actor: viewer.userId, conversation: message.conversationId,
                details: ["message": id.uuidString.lowercased()], on: connection)
            for try await row in rows { return try core.message(from: row) }
            throw DomainError.notFound("Message not found")
        }
        core.events.publish(.messageChanged(conversationId: deleted.conversationId, messageId: id))
        return deleted
    }

    private func ownMessageForChange(id: UUID, viewer: Viewer, on connection: PostgresConnection) async throws -> Message {
        guard let message = try await core.messages("""
            SELECT \(unescaped: MessagingCore.messageColumns) FROM messages m WHERE m.id = \(id) FOR UPDATE
            """, on: connection).first
        else { throw DomainError.notFound("Message not found") }
        let membership: MessagingCore.Membership
        do {
            membership = try await core.membership(message.conversationId, viewer.userId, on: connection)
        } catch is DomainError {
            // The same answer as for an id that does not exist: a stranger learns nothing.
            throw DomainError.notFound("Message not found")
        }
        guard membership.canSee(seq: message.seq) else { throw DomainError.notFound("Message not found") }
        guard membership.isActive else { throw MessagingCore.noLongerMember }
        guard message.senderId == viewer.userId else { throw DomainError.forbidden("Only the sender can change this message") }
        guard message.deletedAt == nil else { throw DomainError.conflict("This message was deleted") }
        return message
    }

    // MARK: Reading

    /// Messages the viewer may read, by id; others are left out.
    public func messages(ids: [UUID], viewer: Viewer) async throws -> [Message] {
        guard !ids.isEmpty else { return [] }
        return try await core.messages(MessagesById(ids: ids, userId: viewer.userId))
    }

    public func message(id: UUID, viewer: Viewer) async throws -> Message {
        guard let message = try await messages(ids: [id], viewer: viewer).first else { throw DomainError.notFound("Message not found") }
        return message
    }

    /// A page in sequence order; `after`/`first` walks forward, `before`/`last` walks back.
    /// The viewer's membership and the page are one statement (a row with no message when the
    /// window is empty, none when the viewer was never a member): a page is read at every
    /// scroll, and the membership check was a round trip of its own.
    public func page(conversationId: UUID, request: PageRequest, viewer: Viewer) async throws -> Page<Message> {
        let size = try request.size()
        let after = try request.after.map { cursor throws(DomainError) in try Cursor.seq(cursor, field: "after") }
        let before = try request.before.map { cursor throws(DomainError) in try Cursor.seq(cursor, field: "before") }
        let backwards = request.last != nil || (request.before != nil && request.first == nil)
        let core = self.core
        return try await core.db.withConnection { connection in
            let window = MessageWindow(conversationId: conversationId, userId: viewer.userId, after: after ?? 0,
                                       before: before ?? .max, limit: size + 1)
            let rows = backwards
                ? try await connection.execute(MessagePage<Backwards>(window: window), logger: core.logger)
                : try await connection.execute(MessagePage<Forwards>(window: window), logger: core.logger)
            var membership: (joinedSeq: Int64, leftSeq: Int64?)?
            var items: [Message] = []
            for try await row in rows {
                let cells = row.makeRandomAccess()
                let columns = cells.count
                membership = (try cells[columns - 2].decode(Int64.self), try cells[columns - 1].decode(Int64?.self))
                if try cells[0].decode(UUID?.self) != nil { items.append(try core.message(from: row)) }
            }
            guard let membership else { throw MessagingCore.unknownConversation }
            let windowHigh = membership.leftSeq.map { $0 + 1 } ?? .max
            let low = max(after ?? 0, membership.joinedSeq)
            let high = min(before ?? .max, windowHigh)
            let more = items.count > size
            items = Array(items.prefix(size))
            if backwards { items.reverse() }
            let hasNext: Bool
            let hasPrevious: Bool
            // The other direction is looked at only when the request has a cursor that way: a page
            // without one starts at an end (one round trip less for the first page of history).
            if backwards {
                hasPrevious = more
                hasNext = request.before == nil ? false
                    : try await exists(conversationId, above: items.last?.seq ?? (high - 1), below: windowHigh, on: connection)
            } else {
                hasNext = more
                hasPrevious = request.after == nil ? false
                    : try await exists(conversationId, above: membership.joinedSeq, below: items.first?.seq ?? (low + 1), on: connection)
            }
            return Page(items: items.map { (Cursor.encode("s", String($0.seq)), $0) }, hasNextPage: hasNext, hasPreviousPage: hasPrevious)
        }
    }

    /// Most messages a gap in a live stream is filled with; with more missing, the client
    /// catches up from its own position instead.
    public static let gapLimit = 100

    /// The messages of a conversation numbered after `after` and before `before`, as `viewer`
    /// sees them, oldest first: what a live stream missed when notifications were lost. Nil when
    /// more than `gapLimit` are missing, since sending part of them would skip the rest in silence.
    public func gap(in conversationId: UUID, after: Int64, before: Int64, viewer: Viewer) async throws -> [Message]? {
        let page = try await page(
            conversationId: conversationId, request: PageRequest(first: Self.gapLimit, after: MessageCursor.encode(seq: after)), viewer: viewer)
        let missed = page.items.map(\.item).filter { $0.seq < before }
        if page.hasNextPage, missed.count == page.items.count { return nil }
        return missed
    }

    private func exists(_ conversationId: UUID, above: Int64, below: Int64, on connection: PostgresConnection) async throws -> Bool {
        guard above < .max - 1, below > above + 1 else { return false }
        for try await _ in try await connection.query("""
            SELECT 1 FROM messages WHERE conversation_id = \(conversationId) AND seq > \(above) AND seq < \(below) LIMIT 1
            """, logger: core.logger)
        {
            return true
        }
        return false
    }
}

/// The send statement (`MessageService.store`), prepared once per connection: its parsing and
/// planning took longer than running it.
struct StoreMessage: FixedQuery {
    static let sql = text(of: StoreMessage(
        id: UUID(), conversationId: UUID(), senderId: UUID(), replyToId: nil, keyId: nil, body: nil, clientMessageId: nil,
        tokens: [], gatewaySeconds: 0, idleSeconds: 0))
    let id: UUID
    let conversationId: UUID
    let senderId: UUID
    let replyToId: UUID?
    let keyId: String?
    let body: Data?
    let clientMessageId: String?
    let tokens: [ByteBuffer]
    let gatewaySeconds: Double
    let idleSeconds: Double

    var query: PostgresQuery {
        get throws { try """
        WITH mem AS (
            SELECT joined_seq, left_seq FROM conversation_members
            WHERE conversation_id = \(conversationId) AND user_id = \(senderId)
        ), reply AS (
            SELECT \(replyToId)::uuid IS NULL OR EXISTS (
                SELECT 1 FROM messages r, mem WHERE r.id = \(replyToId) AND r.conversation_id = \(conversationId)
                  AND r.seq > mem.joined_seq AND r.seq <= COALESCE(mem.left_seq, 9223372036854775807)) AS ok
        ), next AS (
            UPDATE conversations SET last_seq = last_seq + 1, last_activity_at = now()
            WHERE id = \(conversationId) AND EXISTS (SELECT 1 FROM mem WHERE left_seq IS NULL) AND (SELECT ok FROM reply)
            RETURNING last_seq
        ), stored AS (
            INSERT INTO messages (id, conversation_id, seq, sender_id, kind, body_key_id, body, reply_to_id, client_message_id, search_tokens, created_at)
            SELECT \(id), \(conversationId), next.last_seq, \(senderId), 'USER', \(keyId), \(body),
                   \(replyToId), \(clientMessageId), \(tokens), clock_timestamp() FROM next
            ON CONFLICT (sender_id, client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING
            RETURNING seq, created_at
        ), push AS (
            INSERT INTO push_jobs (user_id, message_id, conversation_id)
            SELECT m.user_id, \(id), \(conversationId) FROM conversation_members m
            WHERE EXISTS (SELECT 1 FROM stored)
              AND m.conversation_id = \(conversationId) AND m.left_at IS NULL AND m.user_id <> \(senderId)
              AND (m.muted_until IS NULL OR m.muted_until <= now())
              AND EXISTS (SELECT 1 FROM push_devices d WHERE d.user_id = m.user_id)
              AND NOT EXISTS (
                SELECT 1 FROM presence p JOIN gateways g ON g.id = p.gateway_id
                WHERE p.user_id = m.user_id
                  AND g.heartbeat_at > now() - make_interval(secs => \(gatewaySeconds))
                  AND p.last_activity_at > now() - make_interval(secs => \(idleSeconds)))
            ON CONFLICT (message_id, user_id) DO NOTHING
        )
        SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM mem) THEN 'stranger'
                    WHEN EXISTS (SELECT 1 FROM mem WHERE left_seq IS NOT NULL) THEN 'left'
                    WHEN NOT (SELECT ok FROM reply) THEN 'reply'
                    WHEN NOT EXISTS (SELECT 1 FROM stored) THEN 'duplicate'
                    ELSE 'stored' END,
               (SELECT seq FROM stored), (SELECT created_at FROM stored)
        """ }
    }
}

/// What a page of messages asks for: the viewer's window of a conversation between two cursors.
struct MessageWindow: Sendable {
    let conversationId: UUID
    let userId: UUID
    let after: Int64
    let before: Int64
    let limit: Int
}

protocol PageDirection: Sendable { static var order: String { get } }
enum Forwards: PageDirection { static let order = "ASC" }
enum Backwards: PageDirection { static let order = "DESC" }

/// The messages of `ids` that `userId` received or sent (a member when each was sent). Read
/// by every receipt and reaction call, so prepared once per connection.
struct MessagesById: FixedQuery {
    static let sql = text(of: MessagesById(ids: [], userId: UUID()))
    let ids: [UUID]
    let userId: UUID

    var query: PostgresQuery {
        """
        SELECT \(unescaped: MessagingCore.messageColumns) FROM messages m
        JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id = \(userId)
        WHERE m.id = ANY(\(ids)) AND m.seq > cm.joined_seq AND m.seq <= COALESCE(cm.left_seq, 9223372036854775807)
        """
    }
}

/// The page statement (`MessageService.page`), prepared once per connection in each direction:
/// a page is read at every scroll.
struct MessagePage<Direction: PageDirection>: FixedQuery {
    static var sql: String { Direction.self == Forwards.self ? forwardsPageSQL : backwardsPageSQL }
    let window: MessageWindow

    var query: PostgresQuery {
        """
        SELECT \(unescaped: MessagingCore.messageColumns), cm.joined_seq, cm.left_seq
        FROM conversation_members cm
        LEFT JOIN LATERAL (
            SELECT * FROM messages m
            WHERE m.conversation_id = cm.conversation_id
              AND m.seq > GREATEST(\(window.after), cm.joined_seq)
              AND m.seq < LEAST(\(window.before), COALESCE(cm.left_seq + 1, 9223372036854775807))
            ORDER BY m.seq \(unescaped: Direction.order) LIMIT \(window.limit)
        ) m ON true
        WHERE cm.conversation_id = \(window.conversationId) AND cm.user_id = \(window.userId)
        ORDER BY m.seq \(unescaped: Direction.order)
        """
    }
}

private let pageStandIn = MessageWindow(conversationId: UUID(), userId: UUID(), after: 0, before: 0, limit: 0)
private let forwardsPageSQL = MessagePage<Forwards>.text(of: MessagePage(window: pageStandIn))
private let backwardsPageSQL = MessagePage<Backwards>.text(of: MessagePage(window: pageStandIn))
