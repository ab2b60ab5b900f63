import Foundation
import Graphiti
import Resolvers

struct SendMessageInputArgs: Codable, Sendable {
    let conversationId: UUID?
    let recipientId: UUID?
    let text: String?
    let attachmentIds: [UUID]?
    let replyToId: UUID?
    let clientMessageId: String?
}

struct CreateGroupInputArgs: Codable, Sendable {
    let title: String
    let memberIds: [UUID]
}

struct MessageSearchInputArgs: Codable, Sendable {
    let text: String?
    let senderId: UUID?
    let recipientId: UUID?
    let conversationId: UUID?
    let from: Date?
    let to: Date?
}

enum MessagingInputs {
    static var components: [Graphiti.Component<RootResolver, OperationContext>] {
        [
            Input(SendMessageInputArgs.self, as: "SendMessageInput") {
                InputField("conversationId", at: \.conversationId)
                InputField("recipientId", at: \.recipientId)
                InputField("text", at: \.text)
                InputField("attachmentIds", at: \.attachmentIds)
                InputField("replyToId", at: \.replyToId)
                InputField("clientMessageId", at: \.clientMessageId)
            },
            Input(CreateGroupInputArgs.self, as: "CreateGroupInput") {
                InputField("title", at: \.title)
                InputField("memberIds", at: \.memberIds)
            },
            Input(MessageSearchInputArgs.self, as: "MessageSearchInput") {
                InputField("text", at: \.text)
                InputField("senderId", at: \.senderId)
                InputField("recipientId", at: \.recipientId)
                InputField("conversationId", at: \.conversationId)
                InputField("from", at: \.from)
                InputField("to", at: \.to)
            },
        ]
    }
}
