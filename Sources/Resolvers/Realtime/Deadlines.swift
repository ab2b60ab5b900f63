import HeapModule
import NIOConcurrencyHelpers
import ServiceLifecycle

/// The timers of long-lived connections (a socket's time to authenticate, a token's expiry, a
/// heartbeat) kept by one task per door (GraphQL over WebSocket; Engine.IO) for all its sockets.
/// A task sleeping per timer held a kilobyte or two per socket (the task, its stack, the clock's
/// sleep) for as long as the socket lived (heaptrack, idle sockets in Benchmarks/).
///
/// Actions run on the watch's task, one after the other: they must not block (they end a
/// connection, or start a task of their own).
public final class Deadlines: Service, Sendable {
    public typealias Action = @Sendable () -> Void

    public struct Token: Hashable, Sendable {
        let id: UInt64
    }

    private struct Due: Comparable {
        let at: ContinuousClock.Instant
        let id: UInt64
        static func < (a: Due, b: Due) -> Bool { (a.at, a.id) < (b.at, b.id) }
    }

    private struct State {
        var last: UInt64 = 0
        var actions: [UInt64: Action] = [:]
        /// Cancelled entries stay until they come due or the heap is rebuilt (`compact`).
        var queue = Heap<Due>()
        var sleeper: (until: ContinuousClock.Instant, task: Task<Void, Never>)?

        /// A heap mostly of cancelled entries (sockets that closed long before their token
        /// expired) is rebuilt from the live ones.
        mutating func compact() {
            guard queue.count > 1024, queue.count > 2 * actions.count else { return }
            queue = Heap(queue.unordered.filter { actions[$0.id] != nil })
        }
    }

    private let state = NIOLockedValueBox(State())

    /// How long the task sleeps when nothing is scheduled.
    static let idle: Duration = .seconds(60)

    public init() {}

    /// Runs `action` once, at `instant` or soon after, unless cancelled before.
    @discardableResult
    public func schedule(at instant: ContinuousClock.Instant, _ action: @escaping Action) -> Token {
        let (token, wake) = state.withLockedValue { state -> (Token, Task<Void, Never>?) in
            state.last += 1
            state.actions[state.last] = action
            state.queue.insert(Due(at: instant, id: state.last))
            state.compact()
            guard let sleeper = state.sleeper, instant < sleeper.until else { return (Token(id: state.last), nil) }
            state.sleeper = nil
            return (Token(id: state.last), sleeper.task)
        }
        wake?.cancel()
        return token
    }

    @discardableResult
    public func schedule(after delay: Duration, _ action: @escaping Action) -> Token {
        schedule(at: .now + delay, action)
    }

    /// The action will not run (it may be running already).
    public func cancel(_ token: Token) {
        state.withLockedValue { _ = $0.actions.removeValue(forKey: token.id) }
    }

    /// Scheduled and not yet run or cancelled.
    public var pending: Int { state.withLockedValue { $0.actions.count } }

    /// Entries in the heap, cancelled ones included (for tests of `compact`).
    var queued: Int { state.withLockedValue { $0.queue.count } }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now = ContinuousClock.now
            let (due, sleeper) = state.withLockedValue { state -> ([Action], Task<Void, Never>?) in
                var due: [Action] = []
                while let first = state.queue.min, first.at <= now {
                    state.queue.removeMin()
                    if let action = state.actions.removeValue(forKey: first.id) { due.append(action) }
                }
                guard due.isEmpty else { return (due, nil) }
                let until = state.queue.min?.at ?? now + Self.idle
                let task = Task { _ = try? await Task.sleep(until: until, clock: .continuous) }
                state.sleeper = (until, task)
                return ([], task)
            }
            for action in due { action() }
            guard let sleeper else { continue }
            await cancelWhenGracefulShutdown {
                await withTaskCancellationHandler { await sleeper.value } onCancel: { sleeper.cancel() }
            }
        }
    }
}
