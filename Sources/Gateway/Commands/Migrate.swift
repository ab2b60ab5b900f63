import ArgumentParser
import Foundation
import Resolvers

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending database migrations (with --check, only report them).")

    @Flag(help: "Only report applied and pending migrations; exit 1 when some are pending.") var check = false
    @Option(help: "Path of the .env file to read.") var envFile = ".env"

    func run() async throws {
        let settings = try Startup.settings(dotEnv: envFile)
        let logger = Startup.logger(settings)
        let check = self.check
        do {
            let migrator = try Migrator(directory: MigrationsLocation.resolve(settings.migrationsDirectory))
            let pending = try await OneOffDatabase.with(settings, logger: logger) { db, _ in
                if check {
                    let status = try await migrator.status(db, logger: logger)
                    for m in status.applied { print("applied  \(String(format: "%04d", m.version))_\(m.name)") }
                    for m in status.pending { print("pending  \(String(format: "%04d", m.version))_\(m.name)") }
                    return status.pending.count
                }
                let applied = try await migrator.apply(db, logger: logger)
                for m in applied { print("applied  \(String(format: "%04d", m.version))_\(m.name)") }
                if applied.isEmpty { print("nothing to apply: the schema is current") }
                return 0
            }
            if pending > 0 { throw ExitCode.failure }
        } catch let error as ExitCode {
            throw error
        } catch {
            throw Startup.fail(error)
        }
    }
}
