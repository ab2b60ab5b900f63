import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Whether the gateway is on its way out. It turns first, before anything stops, so that
/// `/readyz` sends load balancers elsewhere while requests and sockets still work; then open
/// sockets are told to reconnect elsewhere, with their protocol's own words, before the server
/// closes what is left.
final class GatewayLifecycle: Sendable {
    private struct State {
        var draining = false
        var stopping = false
        var hooks: [UUID: @Sendable () -> Void] = [:]
        var groups: [(close: @Sendable () async -> Void, open: @Sendable () -> Int)] = []
    }

    private let state = NIOLockedValueBox(State())

    init() {}

    var isDraining: Bool { state.withLockedValue { $0.draining } }

    func startDraining() { state.withLockedValue { $0.draining = true } }

    /// Registers what to do to a long-lived connection when the gateway stops. Returns nil when it
    /// is stopping already: the caller ends the connection at once.
    func whenStopping(_ hook: @escaping @Sendable () -> Void) -> UUID? {
        state.withLockedValue { state in
            guard !state.stopping else { return nil }
            let id = UUID()
            state.hooks[id] = hook
            return id
        }
    }

    /// Registers a door that keeps its own connections (the Engine.IO sessions): `close` ends
    /// them all when the gateway stops, `open` counts those still open.
    func whenStopping(all close: @escaping @Sendable () async -> Void, open: @escaping @Sendable () -> Int) {
        state.withLockedValue { $0.groups.append((close, open)) }
    }

    /// The connection ended by itself.
    func forget(_ id: UUID?) {
        guard let id else { return }
        _ = state.withLockedValue { $0.hooks.removeValue(forKey: id) }
    }

    var openConnections: Int {
        let (count, groups) = state.withLockedValue { ($0.hooks.count, $0.groups) }
        return groups.reduce(count) { $0 + $1.open() }
    }

    func stopConnections() async {
        let (hooks, groups) = state.withLockedValue { state in
            state.stopping = true
            return (Array(state.hooks.values), state.groups)
        }
        for hook in hooks { hook() }
        for group in groups { await group.close() }
    }
}

/// Runs beside the application in the `serve` service group, after it in order so that it is
/// the first told to shut down: it marks the gateway draining, waits `delay` for load balancers
/// to notice, tells open sockets to reconnect elsewhere and gives them a moment to close, and
/// only then lets the group stop the server (no new connections, in-flight requests finish).
struct DrainGate: Service {
    let lifecycle: GatewayLifecycle
    let delay: Duration
    let logger: Logger
    var closeGrace: Duration = .seconds(3)

    func run() async throws {
        try? await gracefulShutdown()
        lifecycle.startDraining()
        logger.notice("draining: /readyz now answers 503", metadata: ["seconds": "\(delay.components.seconds)"])
        try? await Task.sleep(for: delay)
        await lifecycle.stopConnections()
        let deadline = ContinuousClock.now + closeGrace
        while lifecycle.openConnections > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
