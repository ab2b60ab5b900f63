import Foundation

public enum ConversationKind: String, Sendable, Codable, CaseIterable { case direct = "DIRECT", group = "GROUP" }

public enum MemberRole: String, Sendable, Codable, CaseIterable {
    case owner = "OWNER", admin = "ADMIN", member = "MEMBER"

    var canManageMembers: Bool { self != .member }
}

public enum MessageStatus: String, Sendable, Codable, CaseIterable { case sent = "SENT", delivered = "DELIVERED", read = "READ" }

public enum MessageKind: String, Sendable, Codable, CaseIterable { case user = "USER", system = "SYSTEM" }

public struct Conversation: Sendable, Equatable {
    public let id: UUID
    public let kind: ConversationKind
    public let title: String?
    public let createdAt: Date
    public let lastActivityAt: Date
    /// The viewer's window: messages with `joinedSeq < seq <= visibleUpToSeq` are theirs to read.
    public let viewerJoinedSeq: Int64
    public let viewerLeftSeq: Int64?
}

public struct Member: Sendable, Equatable {
    public let conversationId: UUID
    public let userId: UUID
    public let role: MemberRole
    public let joinedAt: Date
}

/// What a system message records: who did what to whom. Names are resolved when shown.
public struct SystemEvent: Sendable, Equatable, Codable {
    public let type: String
    public let actorId: UUID?
    public let userIds: [UUID]
    public let title: String?
    public let role: String?
}

public struct Message: Sendable, Equatable {
    public let id: UUID
    public let conversationId: UUID
    public let seq: Int64
    public let senderId: UUID?
    public let kind: MessageKind
    /// Opened text; nil when there is none or the message was deleted.
    public let text: String?
    public let systemEvent: SystemEvent?
    public let replyToId: UUID?
    public let clientMessageId: String?
    public let createdAt: Date
    public let editedAt: Date?
    public let deletedAt: Date?
}

public struct Receipt: Sendable, Equatable {
    public let messageId: UUID
    public let userId: UUID
    public let deliveredAt: Date?
    public let readAt: Date?

    public var status: MessageStatus { readAt != nil ? .read : deliveredAt != nil ? .delivered : .sent }
}

public struct ReactionSummary: Sendable, Equatable {
    public let messageId: UUID
    public let emoji: String
    public let count: Int
    public let reactedByMe: Bool
}

/// One page of a list in a stable order, with opaque cursors for each item.
public struct Page<Item: Sendable>: Sendable {
    public let items: [(cursor: String, item: Item)]
    public let hasNextPage: Bool
    public let hasPreviousPage: Bool
}

public struct PageRequest: Sendable {
    public var first: Int?
    public var after: String?
    public var last: Int?
    public var before: String?

    public init(first: Int? = nil, after: String? = nil, last: Int? = nil, before: String? = nil) {
        self.first = first
        self.after = after
        self.last = last
        self.before = before
    }

    static let maxPageSize = 100
    static let defaultPageSize = 50

    /// The page size asked for, refused when out of range rather than silently clamped.
    func size() throws(DomainError) -> Int {
        if first != nil, last != nil {
            throw .badUserInput("Use first or last, not both", field: "first")
        }
        let size = first ?? last ?? Self.defaultPageSize
        guard (0...Self.maxPageSize).contains(size) else {
            throw .badUserInput("Page size must be between 0 and \(Self.maxPageSize)", field: first != nil ? "first" : "last")
        }
        return size
    }
}

/// Cursors are opaque to clients; inside they are a prefix and values, base64url-encoded.
enum Cursor {
    static func encode(_ parts: String...) -> String {
        WireText.base64URL(parts.joined(separator: "|").utf8)
    }

    static func decode(_ cursor: String, parts count: Int, field: String) throws(DomainError) -> [String] {
        var base = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base.count % 4 != 0 { base += "=" }
        guard let data = Data(base64Encoded: base), let text = String(data: data, encoding: .utf8) else {
            throw .badUserInput("Malformed cursor", field: field)
        }
        let parts = text.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == count else { throw .badUserInput("Malformed cursor", field: field) }
        return parts
    }

    static func seq(_ cursor: String, field: String) throws(DomainError) -> Int64 {
        let parts = try decode(cursor, parts: 2, field: field)
        guard parts[0] == "s", let seq = Int64(parts[1]) else { throw .badUserInput("Malformed cursor", field: field) }
        return seq
    }

    /// A row id: lists ordered by time resume after the row the cursor names, which keeps the
    /// order exact without carrying timestamps through clients.
    static func id(_ cursor: String, prefix: String, field: String) throws(DomainError) -> UUID {
        let parts = try decode(cursor, parts: 2, field: field)
        guard parts[0] == prefix, let id = UUID(uuidString: parts[1]) else { throw .badUserInput("Malformed cursor", field: field) }
        return id
    }

}

/// The cursor of a message within its conversation, as `messages` pages and live events give it.
public enum MessageCursor {
    public static func encode(seq: Int64) -> String { Cursor.encode("s", String(seq)) }
}
