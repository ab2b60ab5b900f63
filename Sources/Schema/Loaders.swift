import Foundation
import Resolvers

/// The batchers of one operation, for one viewer.
final class Loaders: Sendable {
    let users: Batcher<User>
    let receipts: Batcher<[Receipt]>
    let reactions: Batcher<[ReactionSummary]>
    let messages: Batcher<Message>
    let conversations: Batcher<Conversation>
    let members: Batcher<[Member]>
    let lastMessages: Batcher<Message>
    let unreadCounts: Batcher<Int>
    let presence: Batcher<PresenceInfo>
    let attachments: Batcher<[Attachment]>

    init(services: DomainServices, viewer: Viewer?) {
        let presence = Batcher<PresenceInfo> { ids in
            Dictionary(uniqueKeysWithValues: try await services.presence.presence(of: ids).map { ($0.userId, $0) })
        }
        self.presence = presence
        let users = Batcher<User> { ids in
            await presence.know(ids)
            return Dictionary(uniqueKeysWithValues: try await services.users.users(ids: ids).map { ($0.id, $0) })
        }
        self.users = users
        // The people named by receipts and members are loaded with the first of them asked for,
        // not one query each.
        receipts = Batcher { ids in
            let receipts = try await services.receipts.receipts(messageIds: ids)
            await users.know(receipts.values.flatMap { $0.map(\.userId) })
            return receipts
        }
        attachments = Batcher { ids in try await services.attachments.attachments(messageIds: ids) }
        reactions = Batcher { ids in
            guard let viewer else { return [:] }
            return try await services.reactions.summaries(messageIds: ids, viewer: viewer.userId)
        }
        messages = Batcher { ids in
            guard let viewer else { return [:] }
            return Dictionary(uniqueKeysWithValues: try await services.messages.messages(ids: ids, viewer: viewer).map { ($0.id, $0) })
        }
        let conversations = Batcher<Conversation> { ids in
            guard let viewer else { return [:] }
            return Dictionary(uniqueKeysWithValues: try await services.conversations.conversations(ids: ids, viewer: viewer).map { ($0.id, $0) })
        }
        self.conversations = conversations
        members = Batcher { ids in
            guard let viewer else { return [:] }
            let members = try await services.conversations.members(conversationIds: ids, viewer: viewer.userId)
            await users.know(members.values.flatMap { $0.map(\.userId) })
            return members
        }
        lastMessages = Batcher { ids in
            var known: [Conversation] = []
            for id in ids { if let conversation = try await conversations.get(id) { known.append(conversation) } }
            return try await services.conversations.lastMessages(known)
        }
        unreadCounts = Batcher { ids in
            guard let viewer else { return [:] }
            return try await services.conversations.unreadCounts(conversationIds: ids, viewer: viewer)
        }
    }

    /// Called with every list of messages a resolver returns.
    func know(messages list: [Message]) async {
        let ids = list.map(\.id)
        await receipts.know(ids)
        await reactions.know(ids)
        await attachments.know(ids)
        await users.know(list.compactMap(\.senderId) + list.flatMap { $0.systemEvent.map { ($0.actorId.map { [$0] } ?? []) + $0.userIds } ?? [] })
        await messages.know(list.compactMap(\.replyToId))
        await messages.prime(list.map { ($0.id, $0) })
        await conversations.know(list.map(\.conversationId))
    }

    func know(conversations list: [Conversation]) async {
        await conversations.prime(list.map { ($0.id, $0) })
        let ids = list.map(\.id)
        await members.know(ids)
        await lastMessages.know(ids)
        await unreadCounts.know(ids)
    }
}
