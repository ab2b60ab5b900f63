import Foundation

/// The original API signs up and signs in through separate doors: registering a known phone is a
/// conflict, signing in an unknown one is "not found". The code itself works the same either way.
public enum AccountIntent: Sendable { case register, signIn }

extension AuthService {
    private func check(_ phone: String, intent: AccountIntent) async throws {
        let registered = try await isRegistered(phone: normalise(phone: phone))
        switch intent {
        case .register where registered: throw DomainError.conflict("This phone number is already registered; sign in instead")
        case .signIn where !registered: throw DomainError.notFound("No account with this phone number; register first")
        default: break
        }
    }

    public func requestOTP(phone: String, ip: String?, intent: AccountIntent) async throws -> OTPChallengeInfo {
        try await check(phone, intent: intent)
        return try await requestOTP(phone: phone, ip: ip)
    }

    public func verifyOTP(
        phone: String, code: String, displayName: String?, ip: String?, userAgent: String?, intent: AccountIntent
    ) async throws -> AuthResult {
        try await check(phone, intent: intent)
        return try await verifyOTP(phone: phone, code: code, displayName: intent == .register ? displayName : nil, ip: ip, userAgent: userAgent)
    }
}
