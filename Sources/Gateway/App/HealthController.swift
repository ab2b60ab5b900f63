import Hummingbird
import Logging
import PostgresNIO
import Resolvers

/// `/healthz` says the process answers; `/readyz` says it can serve: the database answers, its
/// schema is current and the gateway hears its notifications (live sockets get what is sent).
/// Load balancers route on the second.
struct HealthController: Sendable {
    let db: DatabasePool
    let migrator: Migrator
    let logger: Logger
    let lifecycle: GatewayLifecycle
    let live: LiveFeed

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/healthz") { _, _ in Self.json(.ok, #"{"status":"ok"}"#) }
        router.get("/readyz") { _, _ in
            if lifecycle.isDraining {
                return Self.json(.serviceUnavailable, #"{"status":"unready","reason":"draining"}"#)
            }
            do {
                let status = try await migrator.status(db, logger: logger)
                guard status.pending.isEmpty else {
                    return Self.json(.serviceUnavailable, #"{"status":"unready","reason":"migrations pending"}"#)
                }
                guard live.isListening else {
                    return Self.json(.serviceUnavailable, #"{"status":"unready","reason":"not listening for events"}"#)
                }
                return Self.json(.ok, #"{"status":"ready"}"#)
            } catch {
                logger.warning("readiness check failed", metadata: ["error": "\(error)"])
                return Self.json(.serviceUnavailable, #"{"status":"unready","reason":"database unavailable"}"#)
            }
        }
    }

    static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
