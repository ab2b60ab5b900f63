import Foundation
import Graphiti
import Resolvers

struct MessageStatusEvent: Sendable { let message: Message; let userId: UUID; let status: MessageStatus; let at: Date }
struct TypingEvent: Sendable { let conversationId: UUID; let userId: UUID; let isTyping: Bool; let at: Date }
struct PresenceEvent: Sendable { let userId: UUID; let status: PresenceStatus; let lastSeenAt: Date? }
enum ReactionAction: String, Sendable, Codable, CaseIterable { case added = "ADDED", removed = "REMOVED" }
struct ReactionEvent: Sendable { let message: Message; let userId: UUID; let emoji: String; let action: ReactionAction; let at: Date }

/// Events name a user by id; the selection loads them through the operation's batcher.
protocol HasEventUser { var userId: UUID { get } }
extension MessageStatusEvent: HasEventUser {}
extension TypingEvent: HasEventUser {}
extension PresenceEvent: HasEventUser {}
extension ReactionEvent: HasEventUser {}

extension HasEventUser {
    func user(context: OperationContext, arguments: NoArguments) async throws -> User {
        guard let user = try await context.loaders.users.get(userId) else { throw DomainError.notFound("User not found") }
        return user
    }
}

extension PresenceInfo: HasEventUser {}

extension User {
    func presence(context: OperationContext, arguments: NoArguments) async throws -> PresenceStatus {
        try await context.loaders.presence.get(id)?.status ?? .offline
    }
}

enum RealtimeTypes {
    static var components: [Graphiti.Component<RootResolver, OperationContext>] {
        [
            Enum(PresenceStatus.self) { Value(.online); Value(.away); Value(.offline) },
            Enum(ReactionAction.self) { Value(.added); Value(.removed) },
            Type(PresenceInfo.self, as: "Presence") {
                Resolved("user", at: PresenceInfo.user)
                Prop("status", at: \.status)
                Prop("lastSeenAt", at: \.lastSeenAt)
            },
            Type(MessageStatusEvent.self) {
                Prop("message", at: \.message)
                Resolved("user", at: MessageStatusEvent.user)
                Prop("status", at: \.status)
                Prop("at", at: \.at)
            },
            Type(TypingEvent.self) {
                Prop("conversationId", at: \.conversationId)
                Resolved("user", at: TypingEvent.user)
                Prop("isTyping", at: \.isTyping)
                Prop("at", at: \.at)
            },
            Type(PresenceEvent.self) {
                Resolved("user", at: PresenceEvent.user)
                Prop("status", at: \.status)
                Prop("lastSeenAt", at: \.lastSeenAt)
            },
            Type(ReactionEvent.self) {
                Prop("message", at: \.message)
                Resolved("user", at: ReactionEvent.user)
                Prop("emoji", at: \.emoji)
                Prop("action", at: \.action)
                Prop("at", at: \.at)
            },
        ]
    }
}
