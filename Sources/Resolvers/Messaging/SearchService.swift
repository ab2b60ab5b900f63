import Foundation
import Logging
import PostgresNIO

public struct MessageSearch: Sendable {
    public var text: String?
    public var senderId: UUID?
    public var recipientId: UUID?
    public var conversationId: UUID?
    public var from: Date?
    public var to: Date?

    public init(text: String? = nil, senderId: UUID? = nil, recipientId: UUID? = nil, conversationId: UUID? = nil,
                from: Date? = nil, to: Date? = nil)
    {
        self.text = text
        self.senderId = senderId
        self.recipientId = recipientId
        self.conversationId = conversationId
        self.from = from
        self.to = to
    }
}

/// Search over messages the viewer may read, newest first. Words match through the blind index
/// (no text is decrypted to search); only the page returned is opened.
public struct SearchService: Sendable {
    let core: MessagingCore

    public init(core: MessagingCore) { self.core = core }

    public func search(_ filter: MessageSearch, first: Int?, after: String?, viewer: Viewer) async throws -> Page<Message> {
        let size = try PageRequest(first: first).size()
        var binds = PostgresBindings()
        func bind(_ value: some PostgresNonThrowingEncodable & Sendable) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        var sql = """
            SELECT \(MessagingCore.messageColumns) FROM messages m
            JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id = \(bind(viewer.userId))
            WHERE m.seq > cm.joined_seq AND m.seq <= COALESCE(cm.left_seq, 9223372036854775807)
              AND m.kind = 'USER' AND m.deleted_at IS NULL
            """
        if let text = filter.text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            let tokens = core.index.queryTokens(for: text)
            guard !tokens.isEmpty else { throw DomainError.badUserInput("text has no words to search for", field: "text") }
            sql += " AND m.search_tokens @> \(bind(tokens.map { ByteBuffer(bytes: $0) }))::bytea[]"
        }
        if let sender = filter.senderId { sql += " AND m.sender_id = \(bind(sender))" }
        if let conversation = filter.conversationId { sql += " AND m.conversation_id = \(bind(conversation))" }
        if let recipient = filter.recipientId {
            let r = bind(recipient)
            sql += """
                 AND m.sender_id <> \(r) AND EXISTS (SELECT 1 FROM conversation_members r WHERE r.conversation_id = m.conversation_id
                 AND r.user_id = \(r) AND m.seq > r.joined_seq AND m.seq <= COALESCE(r.left_seq, 9223372036854775807))
                """
        }
        if let from = filter.from, let to = filter.to, from > to {
            throw DomainError.badUserInput("from is after to", field: "from")
        }
        if let from = filter.from { sql += " AND m.created_at >= \(bind(from))" }
        // DateTime travels with millisecond precision while rows keep microseconds: `to` taken
        // from a message's createdAt must still include that message.
        if let to = filter.to { sql += " AND m.created_at < \(bind(to.addingTimeInterval(0.001)))" }
        if let after {
            let id = try Cursor.id(after, prefix: "m", field: "after")
            // The cursor's message is looked up among those the viewer may read: any other id
            // gives an empty page, like an id that does not exist, and tells nothing of when it was sent.
            sql += """
                 AND (m.created_at, m.id) < (SELECT c.created_at, c.id FROM messages c
                     JOIN conversation_members v ON v.conversation_id = c.conversation_id AND v.user_id = \(bind(viewer.userId))
                     WHERE c.id = \(bind(id)) AND c.seq > v.joined_seq AND c.seq <= COALESCE(v.left_seq, 9223372036854775807))
                """
        }
        sql += " ORDER BY m.created_at DESC, m.id DESC LIMIT \(size + 1)"
        var items = try await core.messages(PostgresQuery(unsafeSQL: sql, binds: binds))
        let more = items.count > size
        items = Array(items.prefix(size))
        return Page(items: items.map { (Cursor.encode("m", $0.id.uuidString), $0) }, hasNextPage: more, hasPreviousPage: after != nil)
    }
}
