import Foundation
import Resolvers

/// What messages show besides their rows. Only two fields depend on who looks: the status (a
/// recipient's own receipt, the sender's summary of all) is worked out per viewer from every
/// receipt; `reactedByMe` holds for `reactionsViewer` only.
struct RestMessageParts: Sendable {
    let receipts: [UUID: [Receipt]]
    let reactions: [UUID: [ReactionSummary]]
    let reactionsViewer: UUID
    let attachments: [UUID: [Attachment]]
    /// The two people of each direct conversation, by conversation (`directPeople`).
    let directPeople: [UUID: [UUID]]

    /// `message` as `viewer` sees it.
    func present(_ message: Message, viewer: UUID) -> RestMessage {
        present(message, status: ReceiptService.status(of: message, receipts: receipts[message.id] ?? [], viewer: viewer).rawValue,
                reactions: reactions[message.id] ?? [])
    }

    /// `message` with the two fields that depend on who looks given.
    func present(_ message: Message, status: String, reactions: [ReactionSummary]) -> RestMessage {
        let receiver = directPeople[message.conversationId]?.first { $0 != message.senderId }
        return RestMessage(
            id: message.id.rest, conversationId: message.conversationId.rest, senderId: message.senderId?.rest,
            receiverId: receiver?.rest, content: message.text, attachments: (attachments[message.id] ?? []).map(RestAttachment.init),
            status: status, reactions: reactions.map { RestReaction(emoji: $0.emoji, count: $0.count, reactedByMe: $0.reactedByMe) },
            replyToId: message.replyToId?.rest, clientMessageId: message.clientMessageId, kind: message.kind.rawValue,
            createdAt: message.createdAt, editedAt: message.editedAt, deletedAt: message.deletedAt)
    }
}
