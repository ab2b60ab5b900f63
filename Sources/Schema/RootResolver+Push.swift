import Foundation
import Graphiti
import Resolvers

extension RootResolver {
    struct RegisterDeviceArguments: Codable { let token: String; let platform: PushPlatform }
    struct TokenArguments: Codable { let token: String }
    struct MuteArguments: Codable { let conversationId: UUID; let until: Date? }

    func registerPushDevice(context: OperationContext, arguments: RegisterDeviceArguments) async throws -> PushDevice {
        try await context.services.devices.register(token: arguments.token, platform: arguments.platform, viewer: context.requireViewer())
    }

    func unregisterPushDevice(context: OperationContext, arguments: TokenArguments) async throws -> Bool {
        try await context.services.devices.unregister(token: arguments.token, viewer: context.requireViewer())
    }

    /// Returns the end of the mute; null when unmuted (no `until`, or one already past).
    func muteConversation(context: OperationContext, arguments: MuteArguments) async throws -> Date? {
        let until = try await context.services.push.mute(
            conversationId: arguments.conversationId, until: arguments.until, viewer: context.requireViewer())
        return until.flatMap { $0 > Date() ? $0 : nil }
    }
}
