/// Delivers a one-time code we generated to a phone. The code, its hash, expiry and lockout stay
/// ours; a provider only carries the text, so every provider enforces the same rules.
public protocol OTPSender: Sendable {
    /// `phone` is E.164. Throws `DomainError.upstream` when the provider refuses or fails.
    func send(code: String, to phone: String, expiresInMinutes: Int) async throws
}
