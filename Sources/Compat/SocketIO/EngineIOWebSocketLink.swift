import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// The writing side of one WebSocket connection, as the session sees it.
///
/// A live event's frame is written by the task that produced it when nothing is queued or being
/// written, as the GraphQL sockets do: handing every frame to a writer task cost a task switch
/// per delivery. Frames from the session's actor (the handshake, pings, replies) and frames that
/// arrive while a write is under way wait in a queue of at most `bufferSize`, written in order by
/// whoever holds the link before it lets go.
public final class EngineIOWebSocketLink: Sendable {
    public typealias Write = @Sendable (EngineIOFrame) async throws -> Void

    let id = UUID()
    let bufferSize: Int
    private let write: Write
    private let state = NIOLockedValueBox(State())

    struct State {
        var queue = CircularBuffer<EngineIOFrame>()
        /// Someone holds the link: a task is writing, or about to take the next queued frame.
        var writing = false
        /// The frame being written, if one is: with the queue, what is handed over and not written.
        var inFlight = 0
        /// A close is queued or written: nothing more is taken.
        var closed = false
        /// The close frame went out, or a write failed: the connection may end.
        var done = false
        var roomWaiters: [(limit: Int, continuation: UnsafeContinuation<Void, Never>)] = []
        var doneWaiters: [CheckedContinuation<Void, Never>] = []

        var unwritten: Int { queue.count + inFlight }
    }

    init(bufferSize: Int, write: @escaping Write) {
        self.bufferSize = bufferSize
        self.write = write
    }

    static func frame(_ packet: EngineIOPacket) -> EngineIOFrame {
        if case .binary(let bytes) = packet { .binary(bytes) } else { .text(packet.text) }
    }

    private enum Route { case direct, drain, queued, full, ignored }

    /// Hands `frame` over, to be written by the caller (`direct`) or to wait in the queue.
    private func admit(_ frame: EngineIOFrame, direct: Bool) -> Route {
        state.withLockedValue { state in
            if state.closed { return .ignored }
            if direct, !state.writing, state.queue.isEmpty {
                state.writing = true
                state.inFlight = 1
                return .direct
            }
            guard state.unwritten < bufferSize else { return .full }
            state.queue.append(frame)
            guard !state.writing else { return .queued }
            state.writing = true
            return .drain
        }
    }

    /// From synchronous code: queued, and written by a task of the link's own when no one holds
    /// it. False when the writer has fallen `bufferSize` frames behind.
    @discardableResult
    func send(_ packet: EngineIOPacket) -> Bool {
        switch admit(Self.frame(packet), direct: false) {
        case .full: return false
        case .drain: launchDrain()
        case .direct, .queued, .ignored: break
        }
        return true
    }

    /// Written in the calling task when the link is free, then whatever was queued meanwhile;
    /// otherwise queued like `send`. Returns once the frame is written or queued; false when the
    /// writer has fallen `bufferSize` frames behind.
    func deliver(_ packet: EngineIOPacket) async -> Bool {
        let frame = Self.frame(packet)
        switch admit(frame, direct: true) {
        case .full: return false
        case .queued, .ignored: return true
        case .drain: await drain()
        case .direct:
            guard await written(frame) else { return true }
            await drain()
        }
        return true
    }

    private func launchDrain() {
        // Detached: the drain belongs to the link, not to the code that queued the frame.
        Task.detached { await self.drain() }
    }

    /// Writes queued frames until none is left, then lets go. Finding the queue empty and letting
    /// go happen under one lock: a frame queued in between would wait for a holder that had left.
    private func drain() async {
        while true {
            let next = state.withLockedValue { state -> EngineIOFrame? in
                guard let frame = state.queue.popFirst() else {
                    state.writing = false
                    return nil
                }
                state.inFlight = 1
                return frame
            }
            guard let next, await written(next) else { return }
        }
    }

    /// Writes one frame the caller holds the link for; false when the link is done (closed or failed).
    private func written(_ frame: EngineIOFrame) async -> Bool {
        do {
            try await write(frame)
        } catch {
            finish()
            return false
        }
        if case .close = frame {
            finish()
            return false
        }
        let ready = state.withLockedValue { state -> [UnsafeContinuation<Void, Never>] in
            state.inFlight = 0
            guard !state.roomWaiters.isEmpty else { return [] }
            let unwritten = state.unwritten
            let ready = state.roomWaiters.filter { unwritten < $0.limit }.map(\.continuation)
            state.roomWaiters.removeAll { unwritten < $0.limit }
            return ready
        }
        for continuation in ready { continuation.resume() }
        return true
    }

    /// The connection is over for the link: what is queued is dropped, everyone waiting returns.
    private func finish() {
        let (rooms, done) = state.withLockedValue { state in
            state.closed = true
            state.done = true
            state.writing = false
            state.inFlight = 0
            state.queue.removeAll()
            defer {
                state.roomWaiters.removeAll()
                state.doneWaiters.removeAll()
            }
            return (state.roomWaiters.map(\.continuation), state.doneWaiters)
        }
        for waiter in rooms { waiter.resume() }
        for waiter in done { waiter.resume() }
    }

    /// Returns once fewer than `limit` frames wait to be written, or the link closed: a producer
    /// that can wait (live events) leaves its events where they can still be ordered and merged.
    func room(below limit: Int) async {
        if state.withLockedValue({ $0.closed || $0.unwritten < limit }) { return }
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                let now = state.withLockedValue { state -> Bool in
                    if state.closed || state.unwritten < limit || Task.isCancelled { return true }
                    state.roomWaiters.append((limit, continuation))
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            releaseRoomWaiters()
        }
    }

    private func releaseRoomWaiters() {
        let waiting = state.withLockedValue { state in
            defer { state.roomWaiters.removeAll() }
            return state.roomWaiters.map(\.continuation)
        }
        for continuation in waiting { continuation.resume() }
    }

    /// Queues the close frame after what waits; nothing is taken after it.
    func close() {
        let launch = state.withLockedValue { state -> Bool in
            if state.closed { return false }
            state.closed = true
            state.queue.append(.close)
            guard !state.writing else { return false }
            state.writing = true
            return true
        }
        if launch { launchDrain() }
        releaseRoomWaiters()
    }

    /// The socket will read nothing more (the client closed it, or it broke): the link is over.
    func inboundEnded() { finish() }

    /// Returns once the close frame is written, a write failed or the socket's inbound ended:
    /// the connection may end.
    /// A cancelled wait returns too (the connection's other side ended first).
    public func untilDone() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let done = state.withLockedValue { state -> Bool in
                    if state.done || Task.isCancelled { return true }
                    state.doneWaiters.append(continuation)
                    return false
                }
                if done { continuation.resume() }
            }
        } onCancel: {
            let waiting = state.withLockedValue { state in
                defer { state.doneWaiters.removeAll() }
                return state.doneWaiters
            }
            for waiter in waiting { waiter.resume() }
        }
    }
}
