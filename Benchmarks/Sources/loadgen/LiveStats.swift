import BenchCore
import Foundation
import NIOConcurrencyHelpers

/// Monotonic nanoseconds; the same clock stamps the send and the arrival.
@inline(__always) func nowNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// What arrives during one step, shared by every connection's event loop.
final class LiveStats: Sendable {
    struct State {
        var deliveries = LatencyRecorder()
        var receipts = LatencyRecorder()
        var received = 0
        var receiptCount = 0
        var errors = 0
        var firstError: String?
        var stepStart: UInt64 = 0
        var lastArrival: UInt64 = 0
    }

    private let box = NIOLockedValueBox(State())

    func reset() {
        let now = nowNanos()
        box.withLockedValue { $0 = State(stepStart: now, lastArrival: now) }
    }

    /// Frames sent before the step began (a slow server's backlog) are not counted in it.
    func delivered(sentAt: UInt64) {
        let now = nowNanos()
        box.withLockedValue { state in
            state.lastArrival = now
            guard sentAt >= state.stepStart else { return }
            state.received += 1
            state.deliveries.record(nanoseconds: now &- sentAt)
        }
    }

    func receipt(sentAt: UInt64) {
        let now = nowNanos()
        box.withLockedValue { state in
            state.lastArrival = now
            guard sentAt >= state.stepStart else { return }
            state.receiptCount += 1
            state.receipts.record(nanoseconds: now &- sentAt)
        }
    }

    func error(_ text: String) {
        box.withLockedValue { state in
            state.errors += 1
            if state.firstError == nil { state.firstError = text }
        }
    }

    var snapshot: State { box.withLockedValue { $0 } }

    /// Waits until `done` holds, or nothing has arrived for `stall`, or `cap` has passed.
    func drain(cap: Duration, stall: UInt64 = 2_000_000_000, _ done: (State) -> Bool) async {
        let deadline = ContinuousClock.now + cap
        let started = nowNanos()
        while ContinuousClock.now < deadline {
            let s = snapshot
            if done(s) { return }
            let now = nowNanos()
            if now - max(s.lastArrival, started) > stall { return }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Lets the previous step's backlog finish arriving before the next one starts.
    func quiet(for gap: UInt64 = 1_000_000_000, cap: Duration = .seconds(60)) async {
        let deadline = ContinuousClock.now + cap
        while ContinuousClock.now < deadline {
            if nowNanos() - snapshot.lastArrival > gap { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// Counts requests in flight so an open-loop sender notices when the server stops keeping up
/// instead of piling up unbounded tasks in the client.
final class InFlight: Sendable {
    private let box = NIOLockedValueBox(0)
    let limit: Int
    init(limit: Int) { self.limit = limit }
    func enter() -> Bool { box.withLockedValue { if $0 >= limit { return false }; $0 += 1; return true } }
    func leave() { box.withLockedValue { $0 -= 1 } }
    var count: Int { box.withLockedValue { $0 } }

    /// A saturated step leaves requests queued at the server; the next step (or scenario) waits
    /// for them so that it does not measure the previous one's backlog.
    /// Returns how many never finished (unanswered requests or acknowledgements).
    @discardableResult
    func drained(cap: Duration = .seconds(30)) async -> Int {
        let deadline = ContinuousClock.now + cap
        while count > 0 && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(100)) }
        if count > 0 { log("  \(count) requests still unanswered after \(cap)") }
        return count
    }
}
