import Foundation

/// What happened, as announced between gateway processes. Events carry references (ids and
/// sequence numbers), never message text; receivers load what they need once.
public enum DomainEvent: Sendable, Equatable, Codable {
    case messageCreated(conversationId: UUID, messageId: UUID, seq: Int64, senderId: UUID?)
    case messageChanged(conversationId: UUID, messageId: UUID)
    case receipt(conversationId: UUID, messageIds: [UUID], userId: UUID, status: MessageStatus, at: Date)
    case reaction(conversationId: UUID, messageId: UUID, userId: UUID, emoji: String, added: Bool, at: Date)
    case typing(conversationId: UUID, userId: UUID, isTyping: Bool, at: Date)
    case presence(userId: UUID, status: PresenceStatus, lastSeenAt: Date?)
    /// Members joined or left: subscribers re-check what they may see.
    case membership(conversationId: UUID, userIds: [UUID])

    public var conversationId: UUID? {
        switch self {
        case .messageCreated(let c, _, _, _), .messageChanged(let c, _), .receipt(let c, _, _, _, _),
             .reaction(let c, _, _, _, _, _), .typing(let c, _, _, _), .membership(let c, _):
            c
        case .presence:
            nil
        }
    }
}

public enum PresenceStatus: String, Sendable, Codable, CaseIterable { case online = "ONLINE", away = "AWAY", offline = "OFFLINE" }
