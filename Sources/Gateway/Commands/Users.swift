import ArgumentParser
import Foundation
import Resolvers

/// `messagerie users`: account administration at the server's console.
struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Administer accounts.", subcommands: [GrantAdmin.self, RevokeAdmin.self])

    struct GrantAdmin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "grant-admin", abstract: "Make an account an operator (ADMIN): it may read the whole activity log.")
        @Argument(help: "Phone number of the account.") var phone: String
        @Option(help: "Path of the .env file to read.") var envFile = ".env"
        func run() async throws { try await Users.setOperator(phone: phone, true, envFile: envFile) }
    }

    struct RevokeAdmin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "revoke-admin", abstract: "Take the operator role away.")
        @Argument(help: "Phone number of the account.") var phone: String
        @Option(help: "Path of the .env file to read.") var envFile = ".env"
        func run() async throws { try await Users.setOperator(phone: phone, false, envFile: envFile) }
    }

    static func setOperator(phone text: String, _ granted: Bool, envFile: String) async throws {
        var settings = try Startup.settings(dotEnv: envFile)
        let logger = Startup.logger(settings)
        do {
            try Assembly.fillEmbeddedSecrets(&settings, logger: logger)
            let phone = try PhoneNumber(parsing: text, defaultCountryCallingCode: settings.auth.defaultCountryCallingCode)
            let user = try await OneOffDatabase.with(settings, logger: logger) { db, _ in
                try await UserService(db: db, logger: logger).setOperator(phone: phone, granted)
            }
            print("\(user.phone) (\(user.id.uuidString.lowercased())) \(granted ? "is now an operator" : "is no longer an operator")")
        } catch {
            throw Startup.fail(error)
        }
    }
}
