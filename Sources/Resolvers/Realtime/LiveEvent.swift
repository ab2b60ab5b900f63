import Foundation

/// A domain event with what subscribers need already loaded, once per gateway process: the
/// message (opened once, not once per subscriber) and who may see it right now.
public enum LiveEvent: Sendable {
    case message(Message, audience: Set<UUID>)
    case status(Message, userId: UUID, status: MessageStatus, at: Date, audience: Set<UUID>)
    case reaction(Message, userId: UUID, emoji: String, added: Bool, at: Date, audience: Set<UUID>)
    case typing(conversationId: UUID, userId: UUID, isTyping: Bool, at: Date, audience: Set<UUID>)
    case presence(userId: UUID, status: PresenceStatus, lastSeenAt: Date?)
    case membership(conversationId: UUID, userIds: [UUID])
}
