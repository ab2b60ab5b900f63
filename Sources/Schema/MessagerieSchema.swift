import Foundation
import Graphiti
import GraphQL
import Resolvers

/// The typed schema; `schema.graphql` is printed from it.
public enum MessagerieSchema {
    public static func build() throws -> Graphiti.Schema<RootResolver, OperationContext> {
        let types: [Graphiti.Component<RootResolver, OperationContext>] = [
            Scalar(UUID.self, as: "ID", serialize: { value, _ in
                guard let id = value as? UUID else { throw DomainError.internal("ID scalar given \(type(of: value))") }
                return .string(WireText.lowercased(id))
            }).description("Opaque identifier."),
            // Formatted directly: the default route encodes every date through the Coders.
            Scalar(Date.self, as: "DateTime", serialize: { value, _ in
                guard let date = value as? Date else { throw DomainError.internal("DateTime scalar given \(type(of: value))") }
                return .string(format(date))
            }).description("RFC 3339 timestamp in UTC."),
            UserType.type,
            AuthTypes.otpChallenge,
            AuthTypes.authPayload,
        ] + MessagingTypes.components + MessagingInputs.components + ActivityTypes.components + RealtimeTypes.components
            + PushTypes.components + AttachmentTypes.components
        let components = types + [query, mutation, subscription]
        return try Graphiti.Schema<RootResolver, OperationContext>(coders: coders) { return components }
    }

    static var query: Graphiti.Component<RootResolver, OperationContext> {
        Query {
            Field("me", at: RootResolver.me)
            Field("user", at: RootResolver.user) {
                Argument("id", at: \.id)
            }
            Field("conversations", at: RootResolver.conversations) {
                Argument("first", at: \.first)
                Argument("after", at: \.after)
            }
            Field("conversation", at: RootResolver.conversation) {
                Argument("id", at: \.id)
            }
            Field("messages", at: RootResolver.messages) {
                Argument("conversationId", at: \.conversationId)
                Argument("first", at: \.first)
                Argument("after", at: \.after)
                Argument("last", at: \.last)
                Argument("before", at: \.before)
            }
            Field("presence", at: RootResolver.presence) {
                Argument("userIds", at: \.userIds)
            }
            Field("myActivity", at: RootResolver.myActivity) {
                Argument("first", at: \.first)
                Argument("after", at: \.after)
            }
            Field("activityLog", at: RootResolver.activityLog) {
                Argument("filter", at: \.filter)
                Argument("first", at: \.first)
                Argument("after", at: \.after)
            }.description("The whole activity log, newest first; operators only.")
            Field("searchMessages", at: RootResolver.searchMessages) {
                Argument("filter", at: \.filter)
                Argument("first", at: \.first)
                Argument("after", at: \.after)
            }
        }
    }

    static var mutation: Graphiti.Component<RootResolver, OperationContext> {
        Mutation {
            Field("requestOtp", at: RootResolver.requestOtp) {
                Argument("phone", at: \.phone)
            }
            Field("verifyOtp", at: RootResolver.verifyOtp) {
                Argument("phone", at: \.phone)
                Argument("code", at: \.code)
                Argument("displayName", at: \.displayName)
            }
            Field("refreshSession", at: RootResolver.refreshSession) {
                Argument("refreshToken", at: \.refreshToken)
            }
            Field("logout", at: RootResolver.logout)
            Field("updateProfile", at: RootResolver.updateProfile) {
                Argument("displayName", at: \.displayName)
                Argument("avatarAttachmentId", at: \.avatarAttachmentId)
            }
            Field("sendMessage", at: RootResolver.sendMessage) {
                Argument("input", at: \.input)
            }
            Field("editMessage", at: RootResolver.editMessage) {
                Argument("id", at: \.id)
                Argument("text", at: \.text)
            }
            Field("deleteMessage", at: RootResolver.deleteMessage) {
                Argument("id", at: \.id)
            }
            Field("markDelivered", at: RootResolver.markDelivered) {
                Argument("messageIds", at: \.messageIds)
            }
            Field("markRead", at: RootResolver.markRead) {
                Argument("conversationId", at: \.conversationId)
                Argument("upToMessageId", at: \.upToMessageId)
            }
            Field("addReaction", at: RootResolver.addReaction) {
                Argument("messageId", at: \.messageId)
                Argument("emoji", at: \.emoji)
            }
            Field("removeReaction", at: RootResolver.removeReaction) {
                Argument("messageId", at: \.messageId)
                Argument("emoji", at: \.emoji)
            }
            Field("createGroup", at: RootResolver.createGroup) {
                Argument("input", at: \.input)
            }
            Field("updateGroup", at: RootResolver.updateGroup) {
                Argument("conversationId", at: \.conversationId)
                Argument("title", at: \.title)
            }
            Field("addGroupMembers", at: RootResolver.addGroupMembers) {
                Argument("conversationId", at: \.conversationId)
                Argument("userIds", at: \.userIds)
            }
            Field("removeGroupMember", at: RootResolver.removeGroupMember) {
                Argument("conversationId", at: \.conversationId)
                Argument("userId", at: \.userId)
            }
            Field("setMemberRole", at: RootResolver.setMemberRole) {
                Argument("conversationId", at: \.conversationId)
                Argument("userId", at: \.userId)
                Argument("role", at: \.role)
            }
            Field("leaveGroup", at: RootResolver.leaveGroup) {
                Argument("conversationId", at: \.conversationId)
            }
            Field("setTyping", at: RootResolver.setTyping) {
                Argument("conversationId", at: \.conversationId)
                Argument("isTyping", at: \.isTyping)
            }
            Field("registerPushDevice", at: RootResolver.registerPushDevice) {
                Argument("token", at: \.token)
                Argument("platform", at: \.platform)
            }
            Field("unregisterPushDevice", at: RootResolver.unregisterPushDevice) {
                Argument("token", at: \.token)
            }
            Field("muteConversation", at: RootResolver.muteConversation) {
                Argument("conversationId", at: \.conversationId)
                Argument("until", at: \.until).description("Omit to unmute.")
            }
        }
    }

    static var subscription: Graphiti.Component<RootResolver, OperationContext> {
        Subscription {
            SubscriptionField("messageReceived", as: Message.self, atSub: RootResolver.messageReceived) {
                Argument("conversationId", at: \.conversationId)
                Argument("after", at: \.after)
            }
            SubscriptionField("messageStatusChanged", as: MessageStatusEvent.self, atSub: RootResolver.messageStatusChanged) {
                Argument("conversationId", at: \.conversationId)
            }
            SubscriptionField("typing", as: TypingEvent.self, atSub: RootResolver.typing) {
                Argument("conversationId", at: \.conversationId)
            }
            SubscriptionField("presence", as: PresenceEvent.self, atSub: RootResolver.presenceEvents) {
                Argument("userIds", at: \.userIds)
            }
            SubscriptionField("reactions", as: ReactionEvent.self, atSub: RootResolver.reactions) {
                Argument("conversationId", at: \.conversationId)
            }
        }
    }

    /// SDL of the schema, as committed in `schema.graphql`.
    public static func printed() throws -> String {
        printSchema(schema: try build().schema) + "\n"
    }

    static let dateStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// The format truncates to milliseconds, and a date parsed from "….887Z" is the nearest
    /// double, often just below .887: half a microsecond keeps it from printing as .886.
    static func format(_ date: Date) -> String { WireText.rfc3339(date.addingTimeInterval(0.0000005)) }

    static let coders: Coders = {
        let coders = Coders()
        let style = dateStyle
        coders.encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(format(date))
        }
        coders.decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            if let date = try? style.parse(text) { return date }
            if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
            throw DomainError.badUserInput("\(text) is not an RFC 3339 date-time")
        }
        return coders
    }()
}
