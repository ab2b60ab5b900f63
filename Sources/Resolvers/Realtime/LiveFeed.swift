import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import ServiceLifecycle

/// The gateway's single consumer of the event hub. For each batch of events it loads what they
/// reference once (messages, audiences), turns unrefreshed typing into "stopped typing", and
/// hands the result to this process's live subscribers, each through a bounded buffer.
public final class LiveFeed: Service, Sendable {
    let core: MessagingCore
    let hub: EventHub
    let typingTimeout: Duration
    private let subscribers = NIOLockedValueBox(Registry())
    private let typing = NIOLockedValueBox([TypingKey: ContinuousClock.Instant]())
    public let bufferSize: Int
    /// Most people (or conversations' typists) whose latest presence (or typing) one subscriber
    /// may have waiting; beyond it the newest are dropped, as states of the moment.
    public let signalBufferSize: Int

    struct TypingKey: Hashable, Sendable { let conversationId: UUID; let userId: UUID }

    public init(core: MessagingCore, hub: EventHub, typingTimeout: Duration = .seconds(6), bufferSize: Int = 256) {
        self.core = core
        self.hub = hub
        self.typingTimeout = typingTimeout
        self.bufferSize = bufferSize
        signalBufferSize = 4 * bufferSize
    }

    /// A subscriber's live events (see `LiveSubscription` for its two queues); it ends when the
    /// subscriber falls `bufferSize` events behind on what must arrive, so a slow client is cut
    /// off (and catches up on reconnect) instead of holding memory.
    ///
    /// With `userId`, the subscription carries only the events whose audience includes that person
    /// (and those without an audience: membership), which is all its consumer would
    /// keep anyway; a message then costs work for its audience's subscribers only, not for every
    /// subscriber of the process (measured in Benchmarks/: pairs and idle scenarios). `kinds`
    /// narrows it further: a message subscriber never sees the presence of thousands of
    /// disconnecting clients.
    ///
    /// It waits, if need be, until the gateway hears the database's notifications (while it starts
    /// or after its LISTEN connection dropped), so that nothing committed after it returns is missed.
    public func subscribe(
        for userId: UUID? = nil, kinds: Set<LiveEvent.Kind> = Set(LiveEvent.Kind.allCases)
    ) async throws -> LiveSubscription {
        try await hub.untilListening()
        let id = UUID()
        let mailbox = LiveSubscription.Mailbox(limit: bufferSize, signalLimit: signalBufferSize) { [weak self] in
            self?.subscribers.withLockedValue { $0.remove(id) }
        }
        subscribers.withLockedValue { $0.add(id, user: userId, kinds: kinds, mailbox) }
        return LiveSubscription(mailbox: mailbox)
    }

    /// Whether this gateway hears the database's notifications now (`/readyz`).
    public var isListening: Bool { hub.isListening }

    public var subscriberCount: Int { subscribers.withLockedValue { $0.mailboxes.count } }

    /// Subscribers by id, by the person they follow, and by the kinds of event they take.
    struct Registry {
        var mailboxes: [UUID: LiveSubscription.Mailbox] = [:]
        var byUser: [UUID: Set<UUID>] = [:]
        var users: [UUID: UUID] = [:]
        var kinds: [UUID: Set<LiveEvent.Kind>] = [:]
        /// Subscribers of events without an audience, by kind.
        var byKind: [LiveEvent.Kind: Set<UUID>] = [:]
        /// Subscribers that asked for every event.
        var everything: Set<UUID> = []

        mutating func add(
            _ id: UUID, user: UUID?, kinds wanted: Set<LiveEvent.Kind> = Set(LiveEvent.Kind.allCases),
            _ mailbox: LiveSubscription.Mailbox
        ) {
            mailboxes[id] = mailbox
            kinds[id] = wanted
            for kind in wanted { byKind[kind, default: []].insert(id) }
            if let user {
                users[id] = user
                byUser[user, default: []].insert(id)
            } else {
                everything.insert(id)
            }
        }

        mutating func remove(_ id: UUID) {
            mailboxes.removeValue(forKey: id)
            everything.remove(id)
            for kind in kinds.removeValue(forKey: id) ?? [] {
                byKind[kind]?.remove(id)
                if byKind[kind]?.isEmpty == true { byKind.removeValue(forKey: kind) }
            }
            if let user = users.removeValue(forKey: id) {
                byUser[user]?.remove(id)
                if byUser[user]?.isEmpty == true { byUser.removeValue(forKey: user) }
            }
        }

        /// Who gets `event`: those who take its kind, among its audience's subscribers plus those
        /// who take everything.
        func recipients(of event: LiveEvent) -> [UUID] {
            let kind = event.kind
            guard let audience = event.audience else { return Array(byKind[kind] ?? []) }
            var ids: [UUID] = []
            func take(_ id: UUID) {
                if kinds[id]?.contains(kind) == true { ids.append(id) }
            }
            for id in everything { take(id) }
            if audience.count <= byUser.count {
                for user in audience { for id in byUser[user] ?? [] { take(id) } }
            } else {
                for (user, ids) in byUser where audience.contains(user) { for id in ids { take(id) } }
            }
            return ids
        }
    }

    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.expireTyping() }
            group.addTask { await self.consume() }
            try await group.next()
            group.cancelAll()
        }
    }

    /// The feed's buffer at the hub: bursts (thousands of clients connecting at once) arrive
    /// while the two cooperative threads are busy delivering; events are small.
    static let hubBuffer = 1 << 16

    /// The gateway's LISTEN connection came back after a drop: what was announced meanwhile
    /// reached no subscriber here, so each one ends (GraphQL closes with 1013, Socket.IO
    /// disconnects) and its client reconnects and catches up from the message log.
    public func listenerReconnected() {
        core.logger.warning("the event listener reconnected: live subscribers reconnect and catch up")
        endAllSubscribers()
    }

    private func endAllSubscribers() {
        let all = subscribers.withLockedValue { Array($0.mailboxes.values) }
        for mailbox in all { mailbox.finish(interrupted: true) }
    }

    /// Most events one `handle` call loads at once.
    static let maxBatch = 512

    /// The hub's stream is drained at once into a local queue (bounded too), and the queue is handled in
    /// batches: whatever arrived while one batch was loading is loaded together (one query for
    /// the messages, one for the audiences). Handled one by one, two queries per event capped the
    /// feed near a few hundred events per second; past that it fell `bufferSize` behind, the hub
    /// ended its stream and, the service having returned, the whole gateway stopped (seen with
    /// 400 direct messages per second in Benchmarks/, pairs scenario).
    private func consume() async {
        let pending = NIOLockedValueBox([DomainEvent]())
        let (wakeups, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isShuttingDownGracefully && !Task.isCancelled {
                    let (id, events) = self.hub.subscribe(bufferSize: Self.hubBuffer)
                    for await event in events.cancelOnGracefulShutdown() {
                        let full = pending.withLockedValue { queue in
                            guard queue.count < Self.hubBuffer else { return true }
                            queue.append(event)
                            return false
                        }
                        if full { break }
                        wake.yield()
                    }
                    self.hub.remove(id)
                    if Task.isShuttingDownGracefully || Task.isCancelled { break }
                    // Either queue overflowed: what was dropped is in the log, not in any stream.
                    // Live streams end (GraphQL closes with 1013, Socket.IO disconnects), so that
                    // clients reconnect and catch up from the log rather than miss events silently.
                    pending.withLockedValue { $0.removeAll() }
                    self.core.logger.error("the live feed fell behind the event hub: live subscribers reconnect and catch up")
                    self.endAllSubscribers()
                }
                wake.finish()
            }
            group.addTask {
                var gate = SequenceGate()
                var timer: (due: ContinuousClock.Instant, task: Task<Void, Never>)?
                for await _ in wakeups {
                    while true {
                        let batch = pending.withLockedValue { queue -> [DomainEvent] in
                            let count = min(queue.count, Self.maxBatch)
                            defer { queue.removeFirst(count) }
                            return Array(queue.prefix(count))
                        }
                        let now = ContinuousClock.now
                        var ready = gate.expire(at: now)
                        if !batch.isEmpty { ready += gate.admit(batch, at: now) }
                        if !ready.isEmpty { await self.handle(ready) }
                        if batch.isEmpty { break }
                    }
                    // Held messages go out when their wait ends even if nothing else arrives; one
                    // timer per wait, not one per wake-up while a conversation is held.
                    if timer?.due != gate.nextExpiry {
                        timer?.task.cancel()
                        timer = gate.nextExpiry.map { due in
                            (due, Task {
                                guard (try? await Task.sleep(until: due, clock: .continuous)) != nil else { return }
                                wake.yield()
                            })
                        }
                    }
                }
                timer?.task.cancel()
            }
        }
    }

    /// Event after event, so that each subscriber gets its events in order; per event, one list
    /// of mailboxes taken under the lock and offered outside it (a plan of events per
    /// subscriber cost an array per subscriber and event in a 1,000-member fan-out).
    func broadcast(_ live: [LiveEvent]) {
        for event in live {
            let targets = subscribers.withLockedValue { registry in
                registry.recipients(of: event).compactMap { registry.mailboxes[$0] }
            }
            for target in targets { _ = target.offer(event) }
        }
    }

    func handle(_ events: [DomainEvent]) async {
        do {
            broadcast(try await enrich(Self.inSequence(events)))
        } catch {
            core.logger.error("could not load live events", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    /// Two sends commit in sequence order but may publish in the other; each subscriber would take
    /// the swap for a lost notification and reload the gap from the database (a thousand queries
    /// for a thousand-member group). Within a batch, new messages go out in sequence order; the
    /// other events keep their places.
    static func inSequence(_ events: [DomainEvent]) -> [DomainEvent] {
        var slots: [Int] = []
        var created: [(seq: Int64, event: DomainEvent)] = []
        for (index, event) in events.enumerated() {
            if case .messageCreated(_, _, let seq, _) = event {
                slots.append(index)
                created.append((seq, event))
            }
        }
        guard created.count > 1 else { return events }
        var ordered = events
        for (slot, entry) in zip(slots, created.sorted { $0.seq < $1.seq }) { ordered[slot] = entry.event }
        return ordered
    }

    private func enrich(_ events: [DomainEvent]) async throws -> [LiveEvent] {
        var messageIds: Set<UUID> = []
        var conversationIds: Set<UUID> = []
        for event in events {
            switch event {
            case .messageCreated(_, let id, _, _), .reaction(_, let id, _, _, _, _): messageIds.insert(id)
            case .receipt(_, let ids, _, _, _): messageIds.formUnion(ids)
            default: break
            }
            if let conversation = event.conversationId { conversationIds.insert(conversation) }
        }
        let subjects = events.compactMap { event -> UUID? in
            if case .presence(let userId, _, _) = event { return userId } else { return nil }
        }
        let memberships = try await loadMemberships(subjects)
        for list in memberships.values { conversationIds.formUnion(list) }
        // On two connections at once: a message's first delivery waits for both answers.
        async let messagesLoad = loadMessages(Array(messageIds))
        async let audiencesLoad = loadAudiences(Array(conversationIds))
        let (messages, audiences) = try await (messagesLoad, audiencesLoad)
        var live: [LiveEvent] = []
        for event in events {
            switch event {
            case .messageCreated(let conversationId, let id, _, let senderId):
                guard let message = messages[id] else { continue }
                if let senderId, stopTyping(conversationId, senderId) {
                    live.append(.typing(conversationId: conversationId, userId: senderId, isTyping: false, at: Date(),
                                        audience: audiences[conversationId]?.members ?? []))
                }
                live.append(.message(message, audience: audiences[conversationId]?.seeing(message.seq) ?? []))
            case .receipt(let conversationId, let ids, let userId, let status, let at):
                for id in ids { if let message = messages[id] {
                    live.append(.status(message, userId: userId, status: status, at: at, audience: audiences[conversationId]?.seeing(message.seq) ?? []))
                } }
            case .reaction(let conversationId, let id, let userId, let emoji, let added, let at):
                guard let message = messages[id] else { continue }
                live.append(.reaction(message, userId: userId, emoji: emoji, added: added, at: at,
                                      audience: audiences[conversationId]?.seeing(message.seq) ?? []))
            case .typing(let conversationId, let userId, let isTyping, let at):
                let key = TypingKey(conversationId: conversationId, userId: userId)
                typing.withLockedValue { $0[key] = isTyping ? ContinuousClock.now + typingTimeout : nil }
                live.append(.typing(conversationId: conversationId, userId: userId, isTyping: isTyping, at: at,
                                    audience: audiences[conversationId]?.members ?? []))
            case .presence(let userId, let status, let lastSeenAt):
                // One conversation (the common case) shares its member set; no copy per event.
                let conversations = memberships[userId] ?? []
                let audience = conversations.count == 1
                    ? audiences[conversations[0]]?.members ?? []
                    : conversations.reduce(into: Set<UUID>()) { $0.formUnion(audiences[$1]?.members ?? []) }
                live.append(.presence(userId: userId, status: status, lastSeenAt: lastSeenAt, audience: audience))
            case .membership(let conversationId, let userIds):
                live.append(.membership(conversationId: conversationId, userIds: userIds))
            case .messageChanged:
                continue
            }
        }
        return live
    }

    private func stopTyping(_ conversationId: UUID, _ userId: UUID) -> Bool {
        typing.withLockedValue { $0.removeValue(forKey: TypingKey(conversationId: conversationId, userId: userId)) != nil }
    }

    /// Typing that is not refreshed ends by itself, in every process alike.
    private func expireTyping() async throws {
        while !Task.isCancelled {
            try await Task.sleep(for: .milliseconds(500))
            let now = ContinuousClock.now
            let expired = typing.withLockedValue { states in
                let gone = states.filter { $0.value <= now }.map(\.key)
                for key in gone { states.removeValue(forKey: key) }
                return gone
            }
            guard !expired.isEmpty else { continue }
            let audiences = (try? await loadAudiences(Array(Set(expired.map(\.conversationId))))) ?? [:]
            broadcast(expired.map {
                .typing(conversationId: $0.conversationId, userId: $0.userId, isTyping: false, at: Date(),
                        audience: audiences[$0.conversationId]?.members ?? [])
            })
        }
    }

    private func loadMessages(_ ids: [UUID]) async throws -> [UUID: Message] {
        guard !ids.isEmpty else { return [:] }
        let list = try await core.messages(AnnouncedMessages(ids: ids))
        return Dictionary(uniqueKeysWithValues: list.map { ($0.id, $0) })
    }

    /// The conversations each person belongs to now, big groups left out: their presence goes
    /// to those members only (see `MessagingLimits.presenceGroupLimit`).
    ///
    /// Each conversation's size is asked once, not once per member asked about: with the size
    /// asked per row, a batch of 512 people coming online who share 5,000- and 1,000-member
    /// groups took PostgreSQL 1.1 s (36 ms this way, same rows), and the live feed, waiting for
    /// it, held every message behind it: 5,000 Socket.IO clients connecting delayed the next
    /// messages by seconds (Benchmarks/, fan-out at 5,000 members).
    private func loadMemberships(_ userIds: [UUID]) async throws -> [UUID: [UUID]] {
        guard !userIds.isEmpty else { return [:] }
        var result: [UUID: [UUID]] = [:]
        for try await (userId, conversationId) in try await core.db.query("""
            SELECT m.user_id, m.conversation_id FROM conversation_members m
            WHERE m.user_id = ANY(\(userIds)) AND m.left_at IS NULL AND m.conversation_id IN (
                SELECT c.id FROM (
                    SELECT DISTINCT conversation_id AS id FROM conversation_members
                    WHERE user_id = ANY(\(userIds)) AND left_at IS NULL
                ) c
                WHERE \(unescaped: core.presenceSized("c.id")))
            """, logger: core.logger).decode((UUID, UUID).self)
        {
            result[userId, default: []].append(conversationId)
        }
        return result
    }

    private func loadAudiences(_ ids: [UUID]) async throws -> [UUID: ConversationAudience] {
        guard !ids.isEmpty else { return [:] }
        var result: [UUID: ConversationAudience] = [:]
        for row in try await core.db.execute(ConversationAudiences(conversationIds: ids), logger: core.logger).rows {
            var columns = ColumnReader(row)
            let conversationId = try columns.next(UUID.self)
            result[conversationId, default: ConversationAudience()].add(try columns.next(UUID.self), joinedSeq: try columns.next(Int64.self))
        }
        return result
    }
}

extension LiveEvent {
    /// Who may see the event; nil for events every subscriber of their kind gets (membership).
    var audience: Set<UUID>? {
        switch self {
        case .message(_, let audience), .status(_, _, _, _, let audience), .reaction(_, _, _, _, _, let audience),
             .typing(_, _, _, _, let audience), .presence(_, _, _, let audience):
            audience
        case .membership:
            nil
        }
    }
}
