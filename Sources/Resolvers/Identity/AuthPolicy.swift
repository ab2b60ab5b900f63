/// The knobs of sign-in, set by the gateway from settings.
public struct AuthPolicy: Sendable {
    public var codeLifetimeSeconds = 300
    public var maxWrongAttempts = 5
    public var resendCooldownSeconds = 60
    public var maxCodesPerPhonePerHour = 5
    public var maxCodesPerIPPerHour = 30
    public var refreshLifetimeSeconds = 30 * 24 * 3600
    public var defaultCountryCallingCode: String?

    public init() {}
}

public struct OTPChallengeInfo: Sendable, Equatable {
    public let phone: String
    public let expiresAt: Date
    /// Seconds before another code may be requested for this phone.
    public let retryAfterSeconds: Int
}

public struct AuthResult: Sendable {
    public let accessToken: String
    public let refreshToken: String
    public let accessTokenExpiresAt: Date
    public let user: User
    public let isNewUser: Bool
}

import Foundation
