import Foundation
import Graphiti
import Resolvers


struct ConnectionPageInfo: Sendable, Codable {
    let hasNextPage: Bool
    let hasPreviousPage: Bool
    let startCursor: String?
    let endCursor: String?
}

struct MessageEdge: Sendable { let cursor: String; let node: Message }
struct MessageConnection: Sendable { let edges: [MessageEdge]; let pageInfo: ConnectionPageInfo }
struct ConversationEdge: Sendable { let cursor: String; let node: Conversation }
struct ConversationConnection: Sendable { let edges: [ConversationEdge]; let pageInfo: ConnectionPageInfo }

extension Page {
    var pageInfo: ConnectionPageInfo {
        ConnectionPageInfo(hasNextPage: hasNextPage, hasPreviousPage: hasPreviousPage,
                           startCursor: items.first?.cursor, endCursor: items.last?.cursor)
    }
}

extension MessageConnection {
    init(_ page: Page<Message>, context: OperationContext) async {
        await context.loaders.know(messages: page.items.map(\.item))
        self.init(edges: page.items.map { MessageEdge(cursor: $0.cursor, node: $0.item) }, pageInfo: page.pageInfo)
    }
}

extension ConversationConnection {
    init(_ page: Page<Conversation>, context: OperationContext) async {
        await context.loaders.know(conversations: page.items.map(\.item))
        self.init(edges: page.items.map { ConversationEdge(cursor: $0.cursor, node: $0.item) }, pageInfo: page.pageInfo)
    }
}

// MARK: Field resolvers reading through the operation's batchers

extension Message {
    func conversation(context: OperationContext, arguments: NoArguments) async throws -> Conversation {
        guard let conversation = try await context.loaders.conversations.get(conversationId) else {
            throw DomainError.notFound("Conversation not found")
        }
        return conversation
    }

    func sender(context: OperationContext, arguments: NoArguments) async throws -> User? {
        guard let senderId else { return nil }
        return try await context.loaders.users.get(senderId)
    }

    func replyTo(context: OperationContext, arguments: NoArguments) async throws -> Message? {
        guard let replyToId else { return nil }
        return try await context.loaders.messages.get(replyToId)
    }

    func receipts(context: OperationContext, arguments: NoArguments) async throws -> [Receipt] {
        try await context.loaders.receipts.get(id) ?? []
    }

    func status(context: OperationContext, arguments: NoArguments) async throws -> MessageStatus {
        let receipts = try await context.loaders.receipts.get(id) ?? []
        return ReceiptService.status(of: self, receipts: receipts, viewer: try context.requireViewer().userId)
    }

    func reactions(context: OperationContext, arguments: NoArguments) async throws -> [ReactionSummary] {
        try await context.loaders.reactions.get(id) ?? []
    }
}

extension Message {
    var cursor: String { MessageCursor.encode(seq: seq) }
}

extension Receipt {
    func user(context: OperationContext, arguments: NoArguments) async throws -> User {
        guard let user = try await context.loaders.users.get(userId) else { throw DomainError.notFound("User not found") }
        return user
    }
}

extension SystemEvent {
    func actor(context: OperationContext, arguments: NoArguments) async throws -> User? {
        guard let actorId else { return nil }
        return try await context.loaders.users.get(actorId)
    }

    func users(context: OperationContext, arguments: NoArguments) async throws -> [User] {
        var result: [User] = []
        for id in userIds { if let user = try await context.loaders.users.get(id) { result.append(user) } }
        return result
    }
}

extension Conversation {
    func members(context: OperationContext, arguments: NoArguments) async throws -> [Member] {
        let members = try await context.loaders.members.get(id) ?? []
        await context.loaders.users.know(members.map(\.userId))
        return members
    }

    func lastMessage(context: OperationContext, arguments: NoArguments) async throws -> Message? {
        guard let message = try await context.loaders.lastMessages.get(id) else { return nil }
        await context.loaders.know(messages: [message])
        return message
    }

    func unreadCount(context: OperationContext, arguments: NoArguments) async throws -> Int {
        try await context.loaders.unreadCounts.get(id) ?? 0
    }
}

extension Member {
    func user(context: OperationContext, arguments: NoArguments) async throws -> User {
        guard let user = try await context.loaders.users.get(userId) else { throw DomainError.notFound("User not found") }
        return user
    }
}


enum MessagingTypes {
    typealias T<Object> = Graphiti.`Type`<RootResolver, OperationContext, Object>

    static var components: [Graphiti.Component<RootResolver, OperationContext>] {
        [
            Enum(ConversationKind.self) { Value(.direct); Value(.group) },
            Enum(MemberRole.self) { Value(.owner); Value(.admin); Value(.member) },
            Enum(MessageStatus.self) { Value(.sent); Value(.delivered); Value(.read) },
            Enum(MessageKind.self) { Value(.user); Value(.system) },
            Type(ConnectionPageInfo.self, as: "PageInfo") {
                Prop("hasNextPage", at: \.hasNextPage)
                Prop("hasPreviousPage", at: \.hasPreviousPage)
                Prop("startCursor", at: \.startCursor)
                Prop("endCursor", at: \.endCursor)
            },
            Type(Receipt.self) {
                Resolved("user", at: Receipt.user)
                Prop("deliveredAt", at: \.deliveredAt)
                Prop("readAt", at: \.readAt)
            },
            Type(ReactionSummary.self) {
                Prop("emoji", at: \.emoji)
                Prop("count", at: \.count)
                Prop("reactedByMe", at: \.reactedByMe)
            },
            Type(SystemEvent.self) {
                Prop("type", at: \.type)
                Resolved("actor", at: SystemEvent.actor)
                Resolved("users", at: SystemEvent.users)
                Prop("title", at: \.title)
                Prop("role", at: \.role)
            }.description("What a system message records: a group change."),
            Type(Message.self) {
                Prop("id", at: \.id)
                Prop("cursor", at: \.cursor)
                    .description("Position in its conversation: pass as `after` to page on or to catch up on reconnect.")
                Resolved("conversation", at: Message.conversation)
                Resolved("sender", at: Message.sender)
                Prop("kind", at: \.kind)
                Prop("text", at: \.text)
                Resolved("attachments", at: Message.attachments)
                Prop("systemEvent", at: \.systemEvent)
                Resolved("replyTo", at: Message.replyTo)
                Prop("clientMessageId", at: \.clientMessageId)
                Prop("createdAt", at: \.createdAt)
                Prop("editedAt", at: \.editedAt)
                Prop("deletedAt", at: \.deletedAt)
                Resolved("status", at: Message.status)
                Resolved("receipts", at: Message.receipts)
                Resolved("reactions", at: Message.reactions)
            },
            Type(MessageEdge.self) {
                Prop("cursor", at: \.cursor)
                Prop("node", at: \.node)
            },
            Type(MessageConnection.self) {
                Prop("edges", at: \.edges)
                Prop("pageInfo", at: \.pageInfo)
            },
            Type(Member.self, as: "ConversationMember") {
                Resolved("user", at: Member.user)
                Prop("role", at: \.role)
                Prop("joinedAt", at: \.joinedAt)
            },
            Type(Conversation.self) {
                Prop("id", at: \.id)
                Prop("kind", at: \.kind)
                Prop("title", at: \.title)
                Resolved("members", at: Conversation.members)
                Resolved("lastMessage", at: Conversation.lastMessage)
                Resolved("unreadCount", at: Conversation.unreadCount)
                Prop("createdAt", at: \.createdAt)
                Prop("lastActivityAt", at: \.lastActivityAt)
            },
            Type(ConversationEdge.self) {
                Prop("cursor", at: \.cursor)
                Prop("node", at: \.node)
            },
            Type(ConversationConnection.self) {
                Prop("edges", at: \.edges)
                Prop("pageInfo", at: \.pageInfo)
            },
        ]
    }
}

struct ActivityEdge: Sendable { let cursor: String; let node: ActivityEntry }
struct ActivityConnection: Sendable { let edges: [ActivityEdge]; let pageInfo: ConnectionPageInfo }

extension ActivityEntry {
    func target(context: OperationContext, arguments: NoArguments) async throws -> User? {
        guard let targetUserId else { return nil }
        return try await context.loaders.users.get(targetUserId)
    }
}

enum ActivityTypes {
    static var components: [Graphiti.Component<RootResolver, OperationContext>] {
        [
            Type(ActivityEntry.self) {
                Prop("id", at: \.idText)
                Prop("at", at: \.at)
                Prop("kind", at: \.kind)
                Field("actor", at: ActivityEntry.actor).description("Who did it; null for the system and the command line.")
                Resolved("target", at: ActivityEntry.target)
                Prop("conversationId", at: \.conversationId)
                Prop("details", at: \.details).description("JSON object with the event's particulars; never message text.")
            },
            Input(ActivityLogFilterInput.self, as: "ActivityLogFilter") {
                InputField("userId", at: \.userId).description("Entries where this person is the actor or the target.")
                InputField("kind", at: \.kind)
                InputField("since", at: \.since)
                InputField("until", at: \.until)
            },
            Type(ActivityEdge.self) {
                Prop("cursor", at: \.cursor)
                Prop("node", at: \.node)
            },
            Type(ActivityConnection.self) {
                Prop("edges", at: \.edges)
                Prop("pageInfo", at: \.pageInfo)
            },
        ]
    }
}

extension ActivityEntry {
    var idText: String { String(id) }
}
