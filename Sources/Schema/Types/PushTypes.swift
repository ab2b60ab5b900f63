import Foundation
import Graphiti
import Resolvers

enum PushTypes {
    static var components: [Graphiti.Component<RootResolver, OperationContext>] {
        [
            Enum(PushPlatform.self) { Value(.fcm); Value(.expo) },
            Type(PushDevice.self) {
                Field("token", at: \.token)
                Field("platform", at: \.platform)
                Field("createdAt", at: \.createdAt)
                Field("updatedAt", at: \.updatedAt)
            }.description("An installed app that receives push notifications for its signed-in user."),
        ]
    }
}
