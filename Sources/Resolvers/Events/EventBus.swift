import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import ServiceLifecycle

/// Local delivery of domain events to this process's subscribers. Whatever the origin (this
/// process or another gateway), events arrive here through PostgreSQL's LISTEN, so every
/// process sees the same stream in the same way.
public final class EventHub: Sendable {
    private struct Subscriber: Sendable {
        let continuation: AsyncStream<DomainEvent>.Continuation
    }

    /// Why a subscriber's stream ended early.
    public static let overflowed = "overflowed"

    private let subscribers = NIOLockedValueBox([UUID: Subscriber]())
    /// Each subscriber has a bounded buffer; one that falls behind loses its oldest events and is
    /// told so by the stream ending, so it reconnects and catches up rather than growing memory.
    public let bufferSize: Int

    public init(bufferSize: Int = 1024) { self.bufferSize = bufferSize }

    /// `bufferSize` overrides the hub's default for one subscriber that must ride out bursts.
    public func subscribe(bufferSize: Int? = nil) -> (id: UUID, events: AsyncStream<DomainEvent>) {
        let id = UUID()
        let (stream, continuation) = AsyncStream<DomainEvent>.makeStream(bufferingPolicy: .bufferingOldest(bufferSize ?? self.bufferSize))
        continuation.onTermination = { [weak self] _ in self?.remove(id) }
        subscribers.withLockedValue { $0[id] = Subscriber(continuation: continuation) }
        return (id, stream)
    }

    public func remove(_ id: UUID) {
        _ = subscribers.withLockedValue { $0.removeValue(forKey: id) }
    }

    public var count: Int { subscribers.withLockedValue { $0.count } }

    // MARK: Listening

    private struct Listening {
        var on = false
        var waiters: [UUID: CheckedContinuation<Void, any Error>] = [:]
    }

    private let listening = NIOLockedValueBox(Listening())

    /// Whether notifications reach this hub now: the gateway's LISTEN is in place.
    public var isListening: Bool { listening.withLockedValue { $0.on } }

    /// Returns once notifications reach this hub. A live subscriber registers after this, so that
    /// nothing committed after it registers can pass unheard: a socket that subscribed while the
    /// gateway was starting, before its LISTEN, missed the messages of that moment for good.
    public func untilListening() async throws {
        if isListening { return }
        let id = UUID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Checked under the lock that `onCancel` takes too, so a cancellation is never missed.
                let outcome = self.listening.withLockedValue { state -> Result<Bool, CancellationError> in
                    if state.on { return .success(true) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters[id] = continuation
                    return .success(false)
                }
                switch outcome {
                case .success(true): continuation.resume()
                case .success(false): break
                case .failure(let error): continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            self.listening.withLockedValue { $0.waiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }

    func listeningChanged(_ on: Bool) {
        let waiters = listening.withLockedValue { state in
            state.on = on
            guard on else { return [CheckedContinuation<Void, any Error>]() }
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    func deliver(_ events: [DomainEvent]) {
        let targets = subscribers.withLockedValue { Array($0.values) }
        for target in targets {
            for event in events {
                if case .dropped = target.continuation.yield(event) {
                    // Too far behind: end its stream; the client reconnects and catches up.
                    target.continuation.finish()
                    break
                }
            }
        }
    }
}

/// Announces committed changes to every gateway. At most one NOTIFY goes out per `window`: a burst
/// of commits is one notification, not a burst. An event after a quiet spell goes out at once
/// rather than waiting for companions that are not coming (the window used to delay every
/// message of a quiet conversation).
public final class EventPublisher: Service, Sendable {
    private let db: DatabasePool
    private let logger: Logger
    private let pending = NIOLockedValueBox([DomainEvent]())
    /// Wakes the sender when the first event of a batch arrives; holds at most one wake-up.
    private let (wakeups, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    static let channel = "messagerie_events"
    let window: Duration

    public init(db: DatabasePool, logger: Logger, window: Duration = .milliseconds(5)) {
        self.db = db
        self.logger = logger
        self.window = window
    }

    public func publish(_ events: DomainEvent...) { publish(events) }

    public func publish(_ events: [DomainEvent]) {
        guard !events.isEmpty else { return }
        let wasEmpty = pending.withLockedValue { queue in
            defer { queue.append(contentsOf: events) }
            return queue.isEmpty
        }
        if wasEmpty { wake.yield() }
    }

    public func run() async throws {
        var last: ContinuousClock.Instant?
        for await _ in wakeups.cancelOnGracefulShutdown() {
            if let last, last + window > .now { try? await Task.sleep(until: last + window, clock: .continuous) }
            last = .now
            await flush()
        }
        await flush()
    }

    private func flush() async {
        let batch = pending.withLockedValue { queue in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
        for payload in EventCodec.payloads(batch) {
            do {
                try await db.query("SELECT pg_notify(\(Self.channel), \(payload))", logger: logger)
            } catch {
                // Subscribers recover what a lost notification carried through catch-up.
                logger.error("could not announce events", metadata: ["error": "\(String(reflecting: error))", "events": "\(batch.count)"])
            }
        }
    }
}

/// The one LISTEN connection of a gateway. It reconnects when the connection drops; whatever was
/// announced meanwhile was heard by no one here, so `onReconnect` runs once LISTEN is back
/// (the live feed ends its subscribers there, and clients reconnect and catch up).
public final class EventListener: Service, Sendable {
    let endpoint: DatabaseEndpoint
    let hub: EventHub
    let logger: Logger
    let onReconnect: @Sendable () async -> Void
    /// Told of sessions that ended, on the same connection, and of when LISTEN is in place.
    let sessions: SessionNotices?

    public init(
        endpoint: DatabaseEndpoint, hub: EventHub, sessions: SessionNotices? = nil, logger: Logger,
        onReconnect: @escaping @Sendable () async -> Void = {}
    ) {
        self.endpoint = endpoint
        self.hub = hub
        self.sessions = sessions
        self.logger = logger
        self.onReconnect = onReconnect
    }

    public func run() async throws {
        // Set once LISTEN was first in place: a failed first attempt (the database still starting) is no reconnection.
        let listenedBefore = NIOLockedValueBox(false)
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown {
                    let connection = try await PostgresConnection.connect(
                        configuration: .init(
                            host: self.endpoint.host, port: self.endpoint.port, username: self.endpoint.username,
                            password: self.endpoint.password, database: self.endpoint.database, tls: .disable),
                        id: 1, logger: self.logger)
                    do {
                        try await connection.listen(on: EventPublisher.channel) { notifications in
                            try await connection.listen(on: SessionNotices.channel) { notices in
                                if listenedBefore.withLockedValue({ before in defer { before = true }; return before }) {
                                    await self.onReconnect()
                                }
                                self.sessions?.listeningChanged(true)
                                self.hub.listeningChanged(true)
                                defer {
                                    self.hub.listeningChanged(false)
                                    self.sessions?.listeningChanged(false)
                                }
                                try await self.consume(notifications, notices)
                            }
                        }
                    } catch {
                        try? await connection.close()
                        throw error
                    }
                    try? await connection.close()
                }
            } catch is CancellationError {
                return
            } catch {
                if Task.isShuttingDownGracefully { return }
                logger.warning("event listener connection lost; reconnecting", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    /// Both channels until the connection ends: when either sequence ends or fails, so does the other's reader.
    private func consume(_ notifications: PostgresNotificationSequence, _ notices: PostgresNotificationSequence) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await notice in notices { self.sessions?.heard(payload: notice.payload) }
            }
            group.addTask {
                for try await notification in notifications { self.hub.deliver(EventCodec.decode(notification.payload)) }
            }
            try await group.next()
            group.cancelAll()
        }
    }
}
