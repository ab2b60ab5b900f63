import Foundation
import Graphiti
import Resolvers

struct OtpChallenge: Sendable, Codable {
    let phone: String
    let expiresAt: Date
    let retryAfterSeconds: Int

    init(_ info: OTPChallengeInfo) {
        phone = info.phone
        expiresAt = info.expiresAt
        retryAfterSeconds = info.retryAfterSeconds
    }
}

struct AuthPayload: Sendable {
    let accessToken: String
    let refreshToken: String
    let accessTokenExpiresAt: Date
    let user: User
    let isNewUser: Bool

    init(_ result: AuthResult) {
        accessToken = result.accessToken
        refreshToken = result.refreshToken
        accessTokenExpiresAt = result.accessTokenExpiresAt
        user = result.user
        isNewUser = result.isNewUser
    }
}

enum AuthTypes {
    static var otpChallenge: Graphiti.`Type`<RootResolver, OperationContext, OtpChallenge> {
        Type(OtpChallenge.self) {
            Prop("phone", at: \.phone)
            Prop("expiresAt", at: \.expiresAt)
            Prop("retryAfterSeconds", at: \.retryAfterSeconds)
        }
    }

    static var authPayload: Graphiti.`Type`<RootResolver, OperationContext, AuthPayload> {
        Type(AuthPayload.self) {
            Prop("accessToken", at: \.accessToken)
            Prop("refreshToken", at: \.refreshToken)
            Prop("accessTokenExpiresAt", at: \.accessTokenExpiresAt)
            Prop("user", at: \.user)
            Prop("isNewUser", at: \.isNewUser)
        }
    }
}
