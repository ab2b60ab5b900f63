import Logging
import PostgresNIO
import Resolvers

/// A database client for commands that run and exit (`migrate`, and later `keys`, `activity`,
/// `users`): the configured server, or the embedded cluster, stopped again only if this command
/// started it.
enum OneOffDatabase {
    static func with<T: Sendable>(
        _ settings: Settings, logger: Logger, _ body: @Sendable @escaping (DatabasePool, DatabaseEndpoint) async throws -> T
    ) async throws -> T {
        var embedded: EmbeddedPostgres?
        let endpoint: DatabaseEndpoint
        switch settings.database {
        case .external(let configured):
            endpoint = configured
        case .embedded:
            let postgres = EmbeddedPostgres(dataDirectory: settings.dataDirectory + "/postgres", logger: logger)
            let startup = try await postgres.startIfNeeded()
            endpoint = startup.endpoint
            if startup.startedByThisProcess { embedded = postgres }
        }
        let client = DatabasePool(client: PostgresClient(configuration: .init(endpoint), backgroundLogger: logger))
        let result: Result<T, Error> = await withTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            do { return .success(try await body(client, endpoint)) } catch { return .failure(error) }
        }
        if let embedded { try await embedded.stop() }
        return try result.get()
    }
}
