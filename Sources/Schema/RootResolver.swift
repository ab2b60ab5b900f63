import Foundation
import Graphiti
import Resolvers

/// The root operations: each one checks who asks and calls one domain service.
public struct RootResolver: Sendable {
    public init() {}

    // MARK: Identity

    struct PhoneArguments: Codable { let phone: String }
    struct VerifyArguments: Codable { let phone: String; let code: String; let displayName: String? }
    struct RefreshArguments: Codable { let refreshToken: String }
    struct IDArguments: Codable { let id: UUID }
    struct ProfileArguments: Codable { let displayName: String?; let avatarAttachmentId: UUID? }

    func requestOtp(context: OperationContext, arguments: PhoneArguments) async throws -> OtpChallenge {
        OtpChallenge(try await context.services.auth.requestOTP(phone: arguments.phone, ip: context.clientIP))
    }

    func verifyOtp(context: OperationContext, arguments: VerifyArguments) async throws -> AuthPayload {
        let result = try await context.services.auth.verifyOTP(
            phone: arguments.phone, code: arguments.code, displayName: arguments.displayName,
            ip: context.clientIP, userAgent: context.userAgent)
        context.recognise(result.user.id)
        return AuthPayload(result)
    }

    func refreshSession(context: OperationContext, arguments: RefreshArguments) async throws -> AuthPayload {
        let result = try await context.services.auth.refresh(token: arguments.refreshToken)
        context.recognise(result.user.id)
        return AuthPayload(result)
    }

    func logout(context: OperationContext, arguments: NoArguments) async throws -> Bool {
        try await context.services.auth.logout(viewer: context.requireViewer())
        return true
    }

    func me(context: OperationContext, arguments: NoArguments) async throws -> User {
        try await context.services.users.requireUser(id: context.requireViewer().userId)
    }

    func user(context: OperationContext, arguments: IDArguments) async throws -> User? {
        _ = try context.requireViewer()
        return try await context.services.users.user(id: arguments.id)
    }

    func updateProfile(context: OperationContext, arguments: ProfileArguments) async throws -> User {
        let viewer = try context.requireViewer()
        return try await context.services.users.updateProfile(
            viewer: viewer, displayName: arguments.displayName, avatarAttachmentId: arguments.avatarAttachmentId)
    }
}
