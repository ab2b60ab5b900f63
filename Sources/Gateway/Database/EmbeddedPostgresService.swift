import Logging
import ServiceLifecycle

/// Ties the embedded cluster's life to the server's: it stops on graceful shutdown, but only if
/// this process started it, since a cluster found running belongs to whoever started it.
///
/// Put it before the services that use the database in the `ServiceGroup`: services shut down in
/// reverse order, so the database then goes last.
struct EmbeddedPostgresService: Service {
    let postgres: EmbeddedPostgres
    let logger: Logger

    init(postgres: EmbeddedPostgres, logger: Logger) {
        self.postgres = postgres
        self.logger = logger
    }

    func run() async throws {
        // Cancellation ends the wait too, and the cluster must be stopped in that case as well.
        try? await gracefulShutdown()
        guard postgres.startedByThisProcess else {
            logger.info("Leaving the embedded PostgreSQL running: it was already running when this process came")
            return
        }
        try await postgres.stop()
    }
}
