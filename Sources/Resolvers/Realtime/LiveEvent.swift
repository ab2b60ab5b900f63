import Foundation

/// A domain event with what subscribers need already loaded, once per gateway process: the
/// message (opened once, not once per subscriber) and who may see it right now.
///
/// Indirect, so that an event is one pointer wherever it is held: every async function a
/// subscriber waits in reserves room for the events it handles in its frame, and Swift keeps a
/// task's largest stack of frames until the task ends, for as long as the socket lives. Inline,
/// an event with its message is some 200 bytes, held in several places of several frames: the
/// waiting chain of an idle subscription took about 2 KB more (heaptrack, 2,000 idle sockets).
public indirect enum LiveEvent: Sendable {
    case message(Message, audience: Set<UUID>)
    case status(Message, userId: UUID, status: MessageStatus, at: Date, audience: Set<UUID>)
    case reaction(Message, userId: UUID, emoji: String, added: Bool, at: Date, audience: Set<UUID>)
    case typing(conversationId: UUID, userId: UUID, isTyping: Bool, at: Date, audience: Set<UUID>)
    /// `audience`: the members of the person's conversations, the only ones who are told.
    case presence(userId: UUID, status: PresenceStatus, lastSeenAt: Date?, audience: Set<UUID>)
    case membership(conversationId: UUID, userIds: [UUID])
}

extension LiveEvent {
    /// What a subscriber may ask for: a GraphQL subscription wants one kind, so that a storm of
    /// another kind (presence as thousands of clients disconnect) cannot fill its buffer.
    public enum Kind: Sendable, Hashable, CaseIterable {
        case message, status, reaction, typing, presence, membership
    }

    public var kind: Kind {
        switch self {
        case .message: .message
        case .status: .status
        case .reaction: .reaction
        case .typing: .typing
        case .presence: .presence
        case .membership: .membership
        }
    }
}
