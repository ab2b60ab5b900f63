import Foundation
import Graphiti
import Resolvers

enum PushTypes {
    static var components: [Graphiti.Component<RootResolver, OperationContext>] {
        [
            Enum(PushPlatform.self) { Value(.fcm); Value(.expo) },
            Type(PushDevice.self) {
                Prop("token", at: \.token)
                Prop("platform", at: \.platform)
                Prop("createdAt", at: \.createdAt)
                Prop("updatedAt", at: \.updatedAt)
            }.description("An installed app that receives push notifications for its signed-in user."),
        ]
    }
}
