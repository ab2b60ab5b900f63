import Logging

/// Lets sign-in be exercised on a laptop or in CI with no SMS account and no cost: the code goes to
/// the server log instead of a phone. It must never be wired in production, since anyone who can
/// read the log can sign in as anyone.
public struct ConsoleOTPSender: OTPSender {
    private let logger: Logger

    public init(logger: Logger = Logger(label: "messagerie.otp.console")) {
        self.logger = logger
    }

    public func send(code: String, to phone: String, expiresInMinutes: Int) async throws {
        // Notice, not debug: the default log level must still show it, or development sign-in stalls.
        logger.notice(
            "OTP for \(phone) is \(code) (expires in \(expiresInMinutes) min)",
            metadata: ["otp.sender": "console"]
        )
    }
}
