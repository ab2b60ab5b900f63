import ArgumentParser
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

@main
struct MessagerieCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "messagerie",
        abstract: "Messagerie: a real-time messaging backend (GraphQL, REST and Socket.IO over PostgreSQL).",
        discussion: """
            Settings come from the environment and an optional .env file (PORT, HOST, DATABASE_URL or \
            DB_HOST/DB_PORT/DB_USER/DB_PASSWORD/DB_NAME, JWT_SECRET, OTP_PROVIDER, TERMII_API_KEY, ...). \
            With no database configured, a private PostgreSQL cluster is started in .messagerie/postgres.
            """,
        subcommands: [Serve.self, Migrate.self, PrintSchema.self, Keys.self, Activity.self, Users.self, SocketIOConformance.self],
        defaultSubcommand: Serve.self)
}

/// Shared start-up of every command: settings, then logging at the configured level. A bad
/// setting ends the process with one line naming it.
struct Startup {
    static func settings(dotEnv: String) throws -> Settings {
        do {
            return try Settings.load(dotEnvPath: dotEnv)
        } catch {
            FileHandle.standardError.write(Data("messagerie: \(error.description)\n".utf8))
            throw ExitCode(78)
        }
    }

    static func logger(_ settings: Settings) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = settings.logLevel
            return handler
        }
        var logger = Logger(label: "messagerie")
        logger.logLevel = settings.logLevel
        return logger
    }

    static func fail(_ error: Error) -> ExitCode {
        FileHandle.standardError.write(Data("messagerie: \(error)\n".utf8))
        return ExitCode.failure
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the gateway (applies pending migrations first).")

    @Option(help: "Port to listen on (overrides PORT).") var port: Int?
    @Option(help: "Address to bind (overrides HOST).") var host: String?
    @Flag(help: "Do not apply pending migrations on start.") var noMigrate = false
    @Option(help: "Path of the .env file to read.") var envFile = ".env"

    func run() async throws {
        AllocatorTuning.restartWithTunedAllocator()
        var settings = try Startup.settings(dotEnv: envFile)
        // Before anything touches the shared event loop group (the server, the database pool).
        NIOSingletons.groupLoopCountSuggestion = settings.eventLoops
        if let port { settings.port = port }
        if let host { settings.host = host }
        if noMigrate { settings.migrateOnStart = false }
        let logger = Startup.logger(settings)
        do {
            let lifecycle = GatewayLifecycle()
            let app = try await buildApplication(settings: settings, logger: logger, lifecycle: lifecycle)
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: app), .init(service: DrainGate(lifecycle: lifecycle, delay: settings.drainDelay, logger: logger))],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        } catch let error as SettingsError {
            FileHandle.standardError.write(Data("messagerie: \(error.description)\n".utf8))
            throw ExitCode(78)
        } catch {
            throw Startup.fail(error)
        }
    }
}

struct PrintSchema: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "print-schema", abstract: "Print the GraphQL schema (SDL) generated from the typed schema.")

    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.") var output: String?

    func run() async throws {
        let sdl = try GatewaySchema.printed()
        if let output {
            try sdl.write(toFile: output, atomically: true, encoding: .utf8)
        } else {
            print(sdl, terminator: "")
        }
    }
}
