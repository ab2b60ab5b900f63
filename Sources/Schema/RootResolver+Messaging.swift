import Foundation
import Graphiti
import Resolvers

extension RootResolver {
    struct PageArguments: Codable { let first: Int?; let after: String? }
    struct MessagesArguments: Codable {
        let conversationId: UUID
        let first: Int?
        let after: String?
        let last: Int?
        let before: String?
    }
    struct SearchArguments: Codable { let filter: MessageSearchInputArgs; let first: Int?; let after: String? }
    struct SendArguments: Codable { let input: SendMessageInputArgs }
    struct EditArguments: Codable { let id: UUID; let text: String }
    struct MessageIDsArguments: Codable { let messageIds: [UUID] }
    struct MarkReadArguments: Codable { let conversationId: UUID; let upToMessageId: UUID }
    struct ReactionArguments: Codable { let messageId: UUID; let emoji: String }
    struct CreateGroupArguments: Codable { let input: CreateGroupInputArgs }
    struct UpdateGroupArguments: Codable { let conversationId: UUID; let title: String? }
    struct AddMembersArguments: Codable { let conversationId: UUID; let userIds: [UUID] }
    struct MemberArguments: Codable { let conversationId: UUID; let userId: UUID }
    struct RoleArguments: Codable { let conversationId: UUID; let userId: UUID; let role: MemberRole }
    struct ConversationArguments: Codable { let conversationId: UUID }

    // MARK: Queries

    func conversations(context: OperationContext, arguments: PageArguments) async throws -> ConversationConnection {
        let page = try await context.services.conversations.list(viewer: context.requireViewer(), first: arguments.first, after: arguments.after)
        return await ConversationConnection(page, context: context)
    }

    func conversation(context: OperationContext, arguments: IDArguments) async throws -> Conversation? {
        guard let found = try await context.services.conversations.conversation(id: arguments.id, viewer: context.requireViewer()) else {
            return nil
        }
        await context.loaders.know(conversations: [found])
        return found
    }

    func messages(context: OperationContext, arguments: MessagesArguments) async throws -> MessageConnection {
        let page = try await context.services.messages.page(
            conversationId: arguments.conversationId,
            request: PageRequest(first: arguments.first, after: arguments.after, last: arguments.last, before: arguments.before),
            viewer: context.requireViewer())
        return await MessageConnection(page, context: context)
    }

    func searchMessages(context: OperationContext, arguments: SearchArguments) async throws -> MessageConnection {
        let f = arguments.filter
        let page = try await context.services.search.search(
            MessageSearch(text: f.text, senderId: f.senderId, recipientId: f.recipientId, conversationId: f.conversationId,
                          from: f.from, to: f.to),
            first: arguments.first, after: arguments.after, viewer: context.requireViewer())
        return await MessageConnection(page, context: context)
    }

    func myActivity(context: OperationContext, arguments: PageArguments) async throws -> ActivityConnection {
        let page = try await context.services.activity.mine(viewer: context.requireViewer(), first: arguments.first, after: arguments.after)
        await context.loaders.users.know(page.items.compactMap(\.item.targetUserId))
        return ActivityConnection(edges: page.items.map { ActivityEdge(cursor: $0.cursor, node: $0.item) }, pageInfo: page.pageInfo)
    }

    // MARK: Messages

    private func known(_ message: Message, _ context: OperationContext) async -> Message {
        await context.loaders.know(messages: [message])
        return message
    }

    func sendMessage(context: OperationContext, arguments: SendArguments) async throws -> Message {
        let i = arguments.input
        let message = try await context.services.messages.send(
            SendMessageInput(conversationId: i.conversationId, recipientId: i.recipientId, text: i.text,
                             attachmentIds: i.attachmentIds ?? [], replyToId: i.replyToId, clientMessageId: i.clientMessageId),
            viewer: context.requireViewer())
        return await known(message, context)
    }

    func editMessage(context: OperationContext, arguments: EditArguments) async throws -> Message {
        await known(try await context.services.messages.edit(id: arguments.id, text: arguments.text, viewer: context.requireViewer()), context)
    }

    func deleteMessage(context: OperationContext, arguments: IDArguments) async throws -> Message {
        await known(try await context.services.messages.delete(id: arguments.id, viewer: context.requireViewer()), context)
    }

    func markDelivered(context: OperationContext, arguments: MessageIDsArguments) async throws -> [Message] {
        let messages = try await context.services.receipts.markDelivered(messageIds: arguments.messageIds, viewer: context.requireViewer())
        await context.loaders.know(messages: messages)
        return messages
    }

    func markRead(context: OperationContext, arguments: MarkReadArguments) async throws -> Int {
        try await context.services.receipts.markRead(
            conversationId: arguments.conversationId, upToMessageId: arguments.upToMessageId, viewer: context.requireViewer())
    }

    func addReaction(context: OperationContext, arguments: ReactionArguments) async throws -> Message {
        await known(try await context.services.reactions.add(
            messageId: arguments.messageId, emoji: arguments.emoji, viewer: context.requireViewer()), context)
    }

    func removeReaction(context: OperationContext, arguments: ReactionArguments) async throws -> Message {
        await known(try await context.services.reactions.remove(
            messageId: arguments.messageId, emoji: arguments.emoji, viewer: context.requireViewer()), context)
    }

    // MARK: Groups

    private func reload(_ id: UUID, _ context: OperationContext) async throws -> Conversation {
        let conversation = try await context.services.conversations.requireConversation(id: id, viewer: context.requireViewer())
        await context.loaders.know(conversations: [conversation])
        return conversation
    }

    func createGroup(context: OperationContext, arguments: CreateGroupArguments) async throws -> Conversation {
        let id = try await context.services.groups.create(
            title: arguments.input.title, memberIds: arguments.input.memberIds, viewer: context.requireViewer())
        return try await reload(id, context)
    }

    func updateGroup(context: OperationContext, arguments: UpdateGroupArguments) async throws -> Conversation {
        try await context.services.groups.update(conversationId: arguments.conversationId, title: arguments.title, viewer: context.requireViewer())
        return try await reload(arguments.conversationId, context)
    }

    func addGroupMembers(context: OperationContext, arguments: AddMembersArguments) async throws -> Conversation {
        try await context.services.groups.addMembers(
            conversationId: arguments.conversationId, userIds: arguments.userIds, viewer: context.requireViewer())
        return try await reload(arguments.conversationId, context)
    }

    func removeGroupMember(context: OperationContext, arguments: MemberArguments) async throws -> Conversation {
        try await context.services.groups.removeMember(
            conversationId: arguments.conversationId, userId: arguments.userId, viewer: context.requireViewer())
        return try await reload(arguments.conversationId, context)
    }

    func setMemberRole(context: OperationContext, arguments: RoleArguments) async throws -> Conversation {
        try await context.services.groups.setRole(
            conversationId: arguments.conversationId, userId: arguments.userId, role: arguments.role, viewer: context.requireViewer())
        return try await reload(arguments.conversationId, context)
    }

    func leaveGroup(context: OperationContext, arguments: ConversationArguments) async throws -> Bool {
        try await context.services.groups.leave(conversationId: arguments.conversationId, viewer: context.requireViewer())
        return true
    }
}
