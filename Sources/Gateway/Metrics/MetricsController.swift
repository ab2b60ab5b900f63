import Foundation
import Hummingbird
import Logging
import Metrics
import PostgresNIO
import Prometheus
import Resolvers

/// `/metrics` in the Prometheus text format. With `METRICS_TOKEN` set, scrapers present it as a
/// bearer token; without it, only callers on the loopback interface are answered, so a server
/// bound to a public address never publishes its internals by default.
struct MetricsController {
    let registry: PrometheusCollectorRegistry
    let factory: any MetricsFactory
    let token: String?
    let db: DatabasePool
    let logger: Logger

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/metrics") { request, context in
            try authorize(request, context)
            ProcessMetrics.sample(into: factory)
            await DatabaseMetrics.sample(db, into: factory, logger: logger)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
    }

    private func authorize(_ request: Request, _ context: AppRequestContext) throws {
        if let token {
            guard let presented = request.headers[.authorization], presented == "Bearer \(token)" else {
                throw HTTPError(.unauthorized, message: "A valid metrics token is required")
            }
        } else if !Self.isLoopback(context.remoteIP) {
            throw HTTPError(.forbidden, message: "Metrics are served on loopback only unless METRICS_TOKEN is set")
        }
    }

    static func isLoopback(_ address: String?) -> Bool {
        guard let address else { return false }
        return address == "::1" || address.hasPrefix("127.") || address.hasPrefix("::ffff:127.")
    }
}
