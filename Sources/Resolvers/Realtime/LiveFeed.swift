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
    private let subscribers = NIOLockedValueBox([UUID: AsyncStream<LiveEvent>.Continuation]())
    private let typing = NIOLockedValueBox([TypingKey: ContinuousClock.Instant]())
    public let bufferSize: Int

    struct TypingKey: Hashable, Sendable { let conversationId: UUID; let userId: UUID }

    public init(core: MessagingCore, hub: EventHub, typingTimeout: Duration = .seconds(6), bufferSize: Int = 256) {
        self.core = core
        self.hub = hub
        self.typingTimeout = typingTimeout
        self.bufferSize = bufferSize
    }

    /// A live stream of events; it ends when the subscriber falls `bufferSize` events behind, so
    /// a slow client is cut off (and catches up on reconnect) instead of holding memory.
    public func subscribe() -> AsyncStream<LiveEvent> {
        let id = UUID()
        let (stream, continuation) = AsyncStream<LiveEvent>.makeStream(bufferingPolicy: .bufferingOldest(bufferSize))
        continuation.onTermination = { [weak self] _ in _ = self?.subscribers.withLockedValue { $0.removeValue(forKey: id) } }
        subscribers.withLockedValue { $0[id] = continuation }
        return stream
    }

    public var subscriberCount: Int { subscribers.withLockedValue { $0.count } }

    public func run() async throws {
        let (_, events) = hub.subscribe()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.expireTyping() }
            group.addTask {
                for await event in events.cancelOnGracefulShutdown() {
                    await self.handle([event])
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    func broadcast(_ live: [LiveEvent]) {
        guard !live.isEmpty else { return }
        let targets = subscribers.withLockedValue { Array($0.values) }
        for target in targets {
            for event in live {
                if case .dropped = target.yield(event) {
                    target.finish()
                    break
                }
            }
        }
    }

    func handle(_ events: [DomainEvent]) async {
        do {
            broadcast(try await enrich(events))
        } catch {
            core.logger.error("could not load live events", metadata: ["error": "\(String(reflecting: error))"])
        }
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
        let messages = try await loadMessages(Array(messageIds))
        let audiences = try await loadAudiences(Array(conversationIds))
        var live: [LiveEvent] = []
        for event in events {
            switch event {
            case .messageCreated(let conversationId, let id, _, let senderId):
                guard let message = messages[id] else { continue }
                if let senderId, stopTyping(conversationId, senderId) {
                    live.append(.typing(conversationId: conversationId, userId: senderId, isTyping: false, at: Date(),
                                        audience: audiences[conversationId] ?? []))
                }
                live.append(.message(message, audience: audiences[conversationId] ?? []))
            case .receipt(let conversationId, let ids, let userId, let status, let at):
                for id in ids { if let message = messages[id] {
                    live.append(.status(message, userId: userId, status: status, at: at, audience: audiences[conversationId] ?? []))
                } }
            case .reaction(let conversationId, let id, let userId, let emoji, let added, let at):
                guard let message = messages[id] else { continue }
                live.append(.reaction(message, userId: userId, emoji: emoji, added: added, at: at, audience: audiences[conversationId] ?? []))
            case .typing(let conversationId, let userId, let isTyping, let at):
                let key = TypingKey(conversationId: conversationId, userId: userId)
                typing.withLockedValue { $0[key] = isTyping ? ContinuousClock.now + typingTimeout : nil }
                live.append(.typing(conversationId: conversationId, userId: userId, isTyping: isTyping, at: at,
                                    audience: audiences[conversationId] ?? []))
            case .presence(let userId, let status, let lastSeenAt):
                live.append(.presence(userId: userId, status: status, lastSeenAt: lastSeenAt))
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
                        audience: audiences[$0.conversationId] ?? [])
            })
        }
    }

    private func loadMessages(_ ids: [UUID]) async throws -> [UUID: Message] {
        guard !ids.isEmpty else { return [:] }
        let list = try await core.messages("SELECT \(unescaped: MessagingCore.messageColumns) FROM messages m WHERE m.id = ANY(\(ids))")
        return Dictionary(uniqueKeysWithValues: list.map { ($0.id, $0) })
    }

    private func loadAudiences(_ ids: [UUID]) async throws -> [UUID: Set<UUID>] {
        guard !ids.isEmpty else { return [:] }
        var result: [UUID: Set<UUID>] = [:]
        for try await (conversationId, userId) in try await core.db.query("""
            SELECT conversation_id, user_id FROM conversation_members WHERE conversation_id = ANY(\(ids)) AND left_at IS NULL
            """, logger: core.logger).decode((UUID, UUID).self)
        {
            result[conversationId, default: []].insert(userId)
        }
        return result
    }
}
