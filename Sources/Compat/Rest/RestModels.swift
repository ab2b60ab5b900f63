import Foundation
import Resolvers

/// The REST shapes of the original API. Ids are lower-case UUID strings, dates RFC 3339 UTC.
struct RestUser: Encodable {
    let id: String
    let phone: String?
    /// The original API's name for the display name; `displayName` is the same value.
    let name: String?
    let displayName: String?
    let avatarUrl: String?
    let lastSeenAt: Date?
    let createdAt: Date

    init(_ user: User, viewer: UUID?) {
        id = user.id.rest
        phone = user.id == viewer ? user.phone : nil
        name = user.displayName
        displayName = user.displayName
        avatarUrl = user.avatarAttachmentId.map(Attachment.url)
        lastSeenAt = user.lastSeenAt
        createdAt = user.createdAt
    }
}

struct RestAttachment: Encodable {
    let id: String
    let url: String
    let kind: String
    let mimeType: String
    let size: Int64
    let width: Int?
    let height: Int?
    let sha256: String
    let fileName: String?

    init(_ a: Attachment) {
        id = a.id.rest
        url = a.url
        kind = a.kind.rawValue
        mimeType = a.mimeType
        size = a.byteSize
        width = a.width
        height = a.height
        sha256 = a.sha256
        fileName = a.fileName
    }
}

struct RestReaction: Encodable {
    let emoji: String
    let count: Int
    let reactedByMe: Bool
}

struct RestMessage: Encodable {
    let id: String
    let conversationId: String
    let senderId: String?
    /// The other person of a direct conversation; null in groups.
    let receiverId: String?
    let content: String?
    let attachments: [RestAttachment]
    let status: String
    let reactions: [RestReaction]
    let replyToId: String?
    let clientMessageId: String?
    let kind: String
    let createdAt: Date
    let editedAt: Date?
    let deletedAt: Date?
}

struct RestMember: Encodable {
    let userId: String
    let role: String
    let joinedAt: Date
}

struct RestConversation: Encodable {
    let id: String
    let kind: String
    let title: String?
    let members: [RestMember]
    let lastMessage: RestMessage?
    let unreadCount: Int
    let createdAt: Date
    let lastActivityAt: Date
}

struct RestMessages: Encodable {
    let messages: [RestMessage]
    let nextCursor: String?
}

struct RestOneMessage: Encodable { let message: RestMessage }

extension UUID {
    var rest: String { uuidString.lowercased() }
}

/// Builds REST messages with everything they show loaded for the whole list at once, through the
/// same services GraphQL reads.
struct RestPresenter: Sendable {
    let services: DomainServices

    func messages(_ list: [Message], viewer: Viewer) async throws -> [RestMessage] {
        guard !list.isEmpty else { return [] }
        let parts = try await parts(of: list, viewer: viewer)
        return list.map { parts.present($0, viewer: viewer.userId) }
    }

    /// Everything `list` shows besides its rows, read once for the whole list; reactions say
    /// `reactedByMe` for `viewer`.
    func parts(of list: [Message], viewer: Viewer) async throws -> RestMessageParts {
        let ids = list.map(\.id)
        let conversationIds = Array(Set(list.map(\.conversationId)))
        async let receipts = services.receipts.receipts(messageIds: ids)
        async let reactions = services.reactions.summaries(messageIds: ids, viewer: viewer.userId)
        async let attachments = services.attachments.attachments(messageIds: ids)
        async let people = services.conversations.directPeople(conversationIds: conversationIds, viewer: viewer.userId)
        let (r, x, a, p) = try await (receipts, reactions, attachments, people)
        return RestMessageParts(receipts: r, reactions: x, reactionsViewer: viewer.userId, attachments: a, directPeople: p)
    }

    func message(_ message: Message, viewer: Viewer) async throws -> RestMessage {
        try await messages([message], viewer: viewer)[0]
    }

    func conversations(_ list: [Conversation], viewer: Viewer) async throws -> [RestConversation] {
        guard !list.isEmpty else { return [] }
        let ids = list.map(\.id)
        async let members = services.conversations.members(conversationIds: ids, viewer: viewer.userId)
        async let last = services.conversations.lastMessages(list)
        async let unread = services.conversations.unreadCounts(conversationIds: ids, viewer: viewer)
        let (m, l, u) = try await (members, last, unread)
        let lastMessages = try await messages(Array(l.values), viewer: viewer)
        let byConversation = Dictionary(uniqueKeysWithValues: zip(l.values.map(\.conversationId), lastMessages))
        return list.map { c in
            RestConversation(
                id: c.id.rest, kind: c.kind.rawValue, title: c.title,
                members: (m[c.id] ?? []).map { RestMember(userId: $0.userId.rest, role: $0.role.rawValue, joinedAt: $0.joinedAt) },
                lastMessage: byConversation[c.id], unreadCount: u[c.id] ?? 0, createdAt: c.createdAt, lastActivityAt: c.lastActivityAt)
        }
    }
}

/// REST answers spell out every field, with `null` for absent values, as the original API did:
/// this shadows the standard `encodeIfPresent` for the synthesized encoders of this module.
extension KeyedEncodingContainer {
    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }

    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }

    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }

    mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }

    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }
}
