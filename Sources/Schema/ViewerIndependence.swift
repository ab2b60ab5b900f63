import Foundation
import GraphQL
import Resolvers

/// Which subscription selections give every viewer the same result, so that the gateway may
/// execute them once per event for all their subscribers.
///
/// Every field reachable from a subscription is listed as one or the other (a test checks that
/// none is missing); a field added to the schema without a classification makes documents that
/// select it execute per viewer, which is always correct, only slower.
public enum ViewerIndependence {
    /// Fields that read who is asking: own phone number, the sender's aggregate status, whether I
    /// reacted, what my membership window lets me see (a reply's target, the last message, the
    /// activity time a removed member keeps), my unread count.
    static let viewerDependent: Set<String> = [
        "User.phone", "Message.status", "Message.replyTo", "ReactionSummary.reactedByMe",
        "Conversation.lastMessage", "Conversation.unreadCount", "Conversation.lastActivityAt",
    ]

    static let independent: Set<String> = [
        "Message.id", "Message.cursor", "Message.conversation", "Message.sender", "Message.kind", "Message.text",
        "Message.attachments", "Message.systemEvent", "Message.clientMessageId", "Message.createdAt",
        "Message.editedAt", "Message.deletedAt", "Message.receipts", "Message.reactions",
        "User.id", "User.displayName", "User.avatarUrl", "User.presence", "User.lastSeenAt", "User.createdAt",
        "Receipt.user", "Receipt.deliveredAt", "Receipt.readAt",
        "ReactionSummary.emoji", "ReactionSummary.count",
        "Attachment.id", "Attachment.kind", "Attachment.mimeType", "Attachment.byteSize", "Attachment.url",
        "Attachment.width", "Attachment.height", "Attachment.sha256", "Attachment.fileName",
        "SystemEvent.type", "SystemEvent.actor", "SystemEvent.users", "SystemEvent.title", "SystemEvent.role",
        "Conversation.id", "Conversation.kind", "Conversation.title", "Conversation.members", "Conversation.createdAt",
        "ConversationMember.user", "ConversationMember.role", "ConversationMember.joinedAt",
        "MessageStatusEvent.message", "MessageStatusEvent.user", "MessageStatusEvent.status", "MessageStatusEvent.at",
        "TypingEvent.conversationId", "TypingEvent.user", "TypingEvent.isTyping", "TypingEvent.at",
        "PresenceEvent.user", "PresenceEvent.status", "PresenceEvent.lastSeenAt",
        "ReactionEvent.message", "ReactionEvent.user", "ReactionEvent.emoji", "ReactionEvent.action", "ReactionEvent.at",
        "Subscription.messageReceived", "Subscription.messageStatusChanged", "Subscription.typing",
        "Subscription.presence", "Subscription.reactions",
    ]

    /// The classification of `Type.field`: true, false, or nil when it has none.
    public static func classification(of field: String) -> Bool? {
        independent.contains(field) ? true : viewerDependent.contains(field) ? false : nil
    }

    /// Whether the subscription's result is the same for every viewer who receives the event.
    public static func holds(
        for operation: OperationDefinition, fragments: [String: FragmentDefinition], schema: GraphQLSchema
    ) -> Bool {
        guard operation.operation == .subscription, let root = schema.subscriptionType else { return false }
        return holds(operation.selectionSet, in: root, fragments: fragments, schema: schema, visited: [])
    }

    private static func holds(
        _ set: SelectionSet, in type: GraphQLNamedType, fragments: [String: FragmentDefinition], schema: GraphQLSchema,
        visited: Set<String>
    ) -> Bool {
        for selection in set.selections {
            switch selection {
            case let field as GraphQL.Field:
                let name = field.name.value
                if name == "__typename" { continue }
                guard let object = type as? GraphQLObjectType, let definition = try? object.fields()[name],
                      classification(of: "\(object.name).\(name)") == true
                else { return false }
                if let children = field.selectionSet {
                    guard let child = getNamedType(type: definition.type),
                          holds(children, in: child, fragments: fragments, schema: schema, visited: visited)
                    else { return false }
                }
            case let inline as InlineFragment:
                let target = inline.typeCondition.flatMap { schema.getType(name: $0.name.value) } ?? type
                guard holds(inline.selectionSet, in: target, fragments: fragments, schema: schema, visited: visited) else {
                    return false
                }
            case let spread as FragmentSpread:
                let name = spread.name.value
                if visited.contains(name) { continue }
                guard let fragment = fragments[name], let target = schema.getType(name: fragment.typeCondition.name.value),
                      holds(fragment.selectionSet, in: target, fragments: fragments, schema: schema, visited: visited.union([name]))
                else { return false }
            default:
                return false
            }
        }
        return true
    }

    /// What identifies one event for every subscriber that receives it; nil for events that are
    /// never shared. Compared and hashed as it is: it is built for every delivery, and formatting
    /// ids and dates into a string cost more than the lookup it keys.
    public static func identity(of event: any Sendable) -> EventIdentity? {
        switch event {
        case let message as Message:
            .message(message.id, seq: message.seq, editedAt: message.editedAt, deletedAt: message.deletedAt)
        case let status as MessageStatusEvent:
            .status(status.message.id, userId: status.userId, status: status.status.rawValue, at: status.at)
        case let reaction as ReactionEvent:
            .reaction(reaction.message.id, userId: reaction.userId, emoji: reaction.emoji, action: reaction.action.rawValue, at: reaction.at)
        case let typing as TypingEvent:
            .typing(typing.conversationId, userId: typing.userId, isTyping: typing.isTyping, at: typing.at)
        case let presence as PresenceEvent:
            .presence(presence.userId, status: presence.status.rawValue, lastSeenAt: presence.lastSeenAt)
        default:
            nil
        }
    }
}

/// One event as every subscriber of it sees it (`ViewerIndependence.identity(of:)`).
public enum EventIdentity: Hashable, Sendable {
    case message(UUID, seq: Int64, editedAt: Date?, deletedAt: Date?)
    case status(UUID, userId: UUID, status: String, at: Date)
    case reaction(UUID, userId: UUID, emoji: String, action: String, at: Date)
    case typing(UUID, userId: UUID, isTyping: Bool, at: Date)
    case presence(UUID, status: String, lastSeenAt: Date?)

}
