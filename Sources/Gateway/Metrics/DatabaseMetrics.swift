import Logging
import Metrics
import PostgresNIO

/// Connections to this database as PostgreSQL counts them, by state (`active`, `idle`, `idle in
/// transaction`), read at scrape time. postgres-nio keeps its pool's lease counts private, so the
/// server's own view stands in for "in use"; a backlog shows as a pool stuck at its size, all active.
enum DatabaseMetrics {
    static func sample(_ db: PostgresClient, into factory: any MetricsFactory, logger: Logger) async {
        do {
            var seen: Set<String> = []
            for try await (state, count) in try await db.query("""
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
        } catch {
            logger.warning("database metrics unavailable", metadata: ["error": "\(error)"])
        }
    }
}
