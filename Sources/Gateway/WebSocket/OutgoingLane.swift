import NIOConcurrencyHelpers
import NIOCore

/// A socket's outgoing frames, written one at a time in the order they were handed over.
///
/// A subscription's results are written by the subscription's own task when nothing else is
/// queued or being written (the common case): handing every frame to a writer task cost a task
/// switch per delivery, about a quarter of the server's CPU in a 1,000-member fan-out (measured in
/// Benchmarks/). Frames from synchronous code (acknowledgements, pongs, errors) and frames that
/// arrive while a write is under way wait in a queue bounded in frames and bytes; whoever holds
/// the lane writes them before letting go. A write that never completes (a client that stopped
/// reading) is found by `stalled(since:)`.
final class OutgoingLane: Sendable {
    enum Refusal: Error, Equatable { case full, closed }

    private struct State {
        var queue = CircularBuffer<String>()
        var queuedBytes = 0
        /// Someone holds the lane: a task is writing, or about to take the next queued frame.
        var writing = false
        /// When the write under way started.
        var writeStarted: ContinuousClock.Instant?
        /// No new frames (a close is under way); what is queued may still go out.
        var sealed = false
        var drainer: Task<Void, Never>?
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = NIOLockedValueBox(State())
    private let write: @Sendable (String) async throws -> Void
    let maxFrames: Int
    let maxBytes: Int
    init(maxFrames: Int, maxBytes: Int, write: @escaping @Sendable (String) async throws -> Void) {
        self.maxFrames = maxFrames
        self.maxBytes = maxBytes
        self.write = write
    }

    /// Queues `text`; a task of the lane's own writes it when no one holds the lane.
    func enqueue(_ text: String) throws(Refusal) {
        let start = state.withLockedValue { state -> Result<Bool, Refusal> in
            if let refusal = Self.admit(text, into: &state, maxFrames: maxFrames, maxBytes: maxBytes) { return .failure(refusal) }
            guard !state.writing else { return .success(false) }
            state.writing = true
            return .success(true)
        }
        if try start.get() { launchDrain() }
    }

    /// Writes `text` in the calling task when the lane is free, then whatever was queued
    /// meanwhile; otherwise queues it like `enqueue`. Returns once the frame is written or queued.
    func deliver(_ text: String) async throws(Refusal) {
        enum Route { case direct, drain, queued }
        let route = state.withLockedValue { state -> Result<Route, Refusal> in
            if state.sealed { return .failure(.closed) }
            if !state.writing && state.queue.isEmpty {
                state.writing = true
                state.writeStarted = .now
                return .success(.direct)
            }
            if let refusal = Self.admit(text, into: &state, maxFrames: maxFrames, maxBytes: maxBytes) { return .failure(refusal) }
            guard !state.writing else { return .success(.queued) }
            state.writing = true
            return .success(.drain)
        }
        switch try route.get() {
        case .queued:
            return
        case .drain:
            await drain()
        case .direct:
            do {
                try await write(text)
            } catch {
                abandon()
                throw .closed
            }
            await drain()
        }
    }

    /// Queues `text`, or says why not.
    private static func admit(_ text: String, into state: inout State, maxFrames: Int, maxBytes: Int) -> Refusal? {
        if state.sealed { return .closed }
        let size = text.utf8.count
        // One frame larger than the byte bound still goes out when nothing else waits.
        guard state.queue.count < maxFrames, state.queuedBytes == 0 || state.queuedBytes + size <= maxBytes else {
            return .full
        }
        state.queue.append(text)
        state.queuedBytes += size
        return nil
    }

    private func launchDrain() {
        // Detached: the drain belongs to the lane, not to the task that queued the frame.
        let task = Task.detached { await self.drain() }
        state.withLockedValue { $0.drainer = task }
    }

    /// Writes queued frames until none is left, then lets go of the lane. Called by its holder.
    /// Finding the queue empty and letting go happen under one lock: a frame queued in between
    /// would otherwise wait for a holder that had already left.
    private func drain() async {
        while true {
            let (next, waiters) = state.withLockedValue { state -> (String?, [CheckedContinuation<Void, Never>]) in
                guard let text = state.queue.popFirst() else { return (nil, Self.letGo(&state)) }
                state.queuedBytes -= text.utf8.count
                state.writeStarted = .now
                return (text, [])
            }
            guard let next else {
                for waiter in waiters { waiter.resume() }
                return
            }
            do {
                try await write(next)
            } catch {
                return abandon()
            }
        }
    }

    /// A write failed: the socket is going away, what is queued is dropped.
    private func abandon() {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.queue.removeAll()
            state.queuedBytes = 0
            return Self.letGo(&state)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The holder lets go of the lane; returns those waiting for it to go idle.
    private static func letGo(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
        state.writing = false
        state.writeStarted = nil
        state.drainer = nil
        return state.idleWaiters.removeAllAndReturn()
    }

    /// Refuses new frames; what is queued still goes out (see `flushed`).
    func seal() { state.withLockedValue { $0.sealed = true } }

    /// Returns once nothing is queued or being written.
    func flushed() async {
        await withCheckedContinuation { continuation in
            let idle = state.withLockedValue { state -> Bool in
                guard state.writing || !state.queue.isEmpty else { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    /// Refuses new frames, drops what is queued and cancels the lane's own drain task. A
    /// subscription task writing directly is cancelled by its owner.
    func close() {
        let (drainer, waiters) = state.withLockedValue { state in
            state.sealed = true
            state.queue.removeAll()
            state.queuedBytes = 0
            return (state.drainer, state.idleWaiters.removeAllAndReturn())
        }
        drainer?.cancel()
        // Those waiting for the queue to empty stop waiting: it was dropped.
        for waiter in waiters { waiter.resume() }
    }

    /// How long the write under way has been waiting, if one is.
    func stalled(at now: ContinuousClock.Instant = .now) -> Duration? {
        state.withLockedValue { $0.writeStarted.map { now - $0 } }
    }

    var queuedFrames: Int { state.withLockedValue { $0.queue.count } }
}

extension Array {
    fileprivate mutating func removeAllAndReturn() -> [Element] {
        defer { removeAll() }
        return self
    }
}
