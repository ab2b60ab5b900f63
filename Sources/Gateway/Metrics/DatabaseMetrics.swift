import Logging
import Metrics
import PostgresNIO
import Resolvers

/// The pool as this process sees it (connections leased, operations queued for one) and the
/// connections to this database as PostgreSQL counts them, by state. Both are read at scrape
/// time, on a connection of the pool, so a scrape always sees at least its own lease.
enum DatabaseMetrics {
    static func sample(_ db: DatabasePool, into factory: any MetricsFactory, logger: Logger) async {
        do {
            try await db.withConnection { connection in
                let usage = db.usage
                Gauge(label: "messagerie_db_pool_connections_in_use", factory: factory).record(usage.inUse)
                Gauge(label: "messagerie_db_pool_requests_waiting", factory: factory).record(usage.waiting)
                var seen: Set<String> = []
                for try await (state, count) in try await connection.query("""
                    SELECT COALESCE(state, 'unknown'), count(*)::int FROM pg_stat_activity
                    WHERE datname = current_database() AND backend_type = 'client backend' GROUP BY 1
                    """, logger: logger).decode((String, Int).self)
                {
                    seen.insert(state)
                    Gauge(label: "messagerie_db_connections", dimensions: [("state", state)], factory: factory).record(count)
                }
                for state in ["active", "idle", "idle in transaction"] where !seen.contains(state) {
                    Gauge(label: "messagerie_db_connections", dimensions: [("state", state)], factory: factory).record(0)
                }
            }
        } catch {
            logger.warning("database metrics unavailable", metadata: ["error": "\(error)"])
        }
    }
}
