import ArgumentParser
import Foundation
import Resolvers

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the keys that seal message text at rest.",
        subcommands: [Generate.self, Rotate.self])

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a new key entry to add to MESSAGE_KEYS (mark it active with a leading *).")

        @Option(help: "Identifier of the new key.") var id = "k1"

        func run() async throws {
            print(MessageKeyring.generateSetting(id: id))
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-seal every message still under an older key with the active key, in batches; safe to interrupt and run again.")

        @Option(help: "Messages per transaction.") var batchSize = 500
        @Option(help: "Path of the .env file to read.") var envFile = ".env"

        func run() async throws {
            var settings = try Startup.settings(dotEnv: envFile)
            let logger = Startup.logger(settings)
            let batchSize = self.batchSize
            do {
                try Assembly.fillEmbeddedSecrets(&settings, logger: logger)
                let settings = settings
                let total = try await OneOffDatabase.with(settings, logger: logger) { db, endpoint in
                    let domain = try await Assembly.domain(settings: settings, db: db, endpoint: endpoint, logger: logger).services
                    let before = try await domain.keyRotation.remaining()
                    print("\(before) messages to re-seal")
                    return try await domain.keyRotation.run(batchSize: batchSize) { done in print("re-sealed \(done)") }
                }
                print("done: \(total) messages now use the active key")
            } catch {
                throw Startup.fail(error)
            }
        }
    }
}
