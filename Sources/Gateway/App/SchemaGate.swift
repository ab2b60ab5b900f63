import Foundation
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Holds back the services that use the tables until the schema is current. They start with the
/// service group, alongside `beforeServerStarts` where migrations run, and on a first start the
/// push worker and the presence heartbeat queried tables that did not exist yet.
final class SchemaGate: Sendable {
    private struct State {
        var open = false
        var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = NIOLockedValueBox(State())

    func open() {
        let waiters = state.withLockedValue { state in
            state.open = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once open, or once the waiting task is cancelled.
    func wait() async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLockedValue { state -> Bool in
                    if state.open || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLockedValue { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}

/// A service that starts once its gate opens (when `gated`: migrations run on start); stopped
/// before that, it never starts.
struct AfterSchema: Service {
    let inner: any Service
    let gate: SchemaGate
    var gated = true

    func run() async throws {
        if gated {
            // Opening on shutdown only ends the wait; the check below keeps the service from starting.
            await withGracefulShutdownHandler { await gate.wait() } onGracefulShutdown: { gate.open() }
        }
        guard !Task.isCancelled, !Task.isShuttingDownGracefully else { return }
        try await inner.run()
    }
}
