import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Whether the gateway is on its way out. It turns first, before anything stops, so that
/// `/readyz` sends load balancers elsewhere while requests and sockets still work.
final class GatewayLifecycle: Sendable {
    private let state = NIOLockedValueBox(false)

    init() {}

    var isDraining: Bool { state.withLockedValue { $0 } }

    func startDraining() { state.withLockedValue { $0 = true } }
}

/// Runs beside the application in the `serve` service group, after it in order so that it is
/// the first told to shut down: it marks the gateway draining, waits `delay` for load balancers
/// to notice, and only then lets the group stop the server (which stops accepting, finishes
/// in-flight requests and closes sockets with "going away, reconnect elsewhere").
struct DrainGate: Service {
    let lifecycle: GatewayLifecycle
    let delay: Duration
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        lifecycle.startDraining()
        logger.notice("draining: /readyz now answers 503", metadata: ["seconds": "\(delay.components.seconds)"])
        try? await Task.sleep(for: delay)
    }
}
