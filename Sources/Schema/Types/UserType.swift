import Foundation
import Graphiti
import Resolvers

extension User {
    /// A phone number is personal: only its owner sees it.
    func visiblePhone(context: OperationContext, arguments: NoArguments) -> String? {
        context.isSelf(id) ? phone : nil
    }

    func avatarURL(context: OperationContext, arguments: NoArguments) -> String? {
        avatarAttachmentId.map { "/api/files/\($0.uuidString.lowercased())" }
    }
}

enum UserType {
    static var type: Graphiti.`Type`<RootResolver, OperationContext, User> {
        Type(User.self, as: "User") {
            Prop("id", at: \.id)
            Resolved("phone", at: User.visiblePhone)
                .description("Visible to its owner only.")
            Prop("displayName", at: \.displayName)
            Resolved("avatarUrl", at: User.avatarURL)
            Resolved("presence", at: User.presence)
            Prop("lastSeenAt", at: \.lastSeenAt)
            Prop("createdAt", at: \.createdAt)
        }
    }
}
