import Foundation
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Closes sockets whose write has waited longer than `timeout`: their client stopped reading.
/// Subscription results are written by the subscription's task (`OutgoingLane`), which waits
/// while the socket is full, so the lane's queue alone no longer notices such a client. One
/// task looks at every socket's write for the whole process, as `SessionWatch` does for sessions.
final class StalledWriteWatch: Service, Sendable {
    typealias Check = @Sendable (ContinuousClock.Instant) -> Void

    let timeout: Duration
    private let entries = NIOLockedValueBox<[UUID: Check]>([:])

    init(timeout: Duration) { self.timeout = timeout }

    /// `check` is called about every `interval` with the time of the pass.
    func watch(_ check: @escaping Check) -> UUID {
        let id = UUID()
        entries.withLockedValue { $0[id] = check }
        return id
    }

    func unwatch(_ id: UUID) { entries.withLockedValue { _ = $0.removeValue(forKey: id) } }

    /// Often enough that a stalled socket goes within 1.5 × `timeout`, at most once a second.
    var interval: Duration { min(timeout / 2, .seconds(1)) }

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            } catch {
                return
            }
            let checks = entries.withLockedValue { Array($0.values) }
            let now = ContinuousClock.now
            for check in checks { check(now) }
        }
    }
}
