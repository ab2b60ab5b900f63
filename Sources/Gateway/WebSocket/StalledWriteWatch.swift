import Foundation
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Closes sockets whose write has waited longer than `timeout`: their client stopped reading.
/// Subscription results are written by the subscription's task (`OutgoingLane`), which waits
/// while the socket is full, so the lane's queue alone no longer notices such a client. One
/// task looks at every socket's write for the whole process, as `SessionWatch` does for sessions.
final class StalledWriteWatch: Service, Sendable {
    typealias Check = @Sendable (ContinuousClock.Instant) -> Void

    /// The checks in an array, so that a pass takes them without copying: copying the values of
    /// a dictionary of every socket's check each second was a sixth of the watch's time at rest
    /// (perf, 15,000 idle sockets). The array is copied only when a socket comes or goes while a
    /// pass still holds it.
    private struct Entries {
        var checks: [Check] = []
        var ids: [UUID] = []
        var positions: [UUID: Int] = [:]
    }

    let timeout: Duration
    private let entries = NIOLockedValueBox(Entries())

    init(timeout: Duration) { self.timeout = timeout }

    /// `check` is called about every `interval` with the time of the pass.
    func watch(_ check: @escaping Check) -> UUID {
        let id = UUID()
        entries.withLockedValue { entries in
            entries.positions[id] = entries.checks.count
            entries.checks.append(check)
            entries.ids.append(id)
        }
        return id
    }

    func unwatch(_ id: UUID) {
        entries.withLockedValue { entries in
            guard let position = entries.positions.removeValue(forKey: id) else { return }
            let last = entries.checks.count - 1
            if position != last {
                entries.checks[position] = entries.checks[last]
                entries.ids[position] = entries.ids[last]
                entries.positions[entries.ids[position]] = position
            }
            entries.checks.removeLast()
            entries.ids.removeLast()
        }
    }

    /// Calls every watched check once with `now`.
    func pass(at now: ContinuousClock.Instant) {
        let checks = entries.withLockedValue { $0.checks }
        for check in checks { check(now) }
    }

    /// Often enough that a stalled socket goes within 1.5 × `timeout`, at most once a second.
    var interval: Duration { min(timeout / 2, .seconds(1)) }

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            } catch {
                return
            }
            pass(at: .now)
        }
    }
}
