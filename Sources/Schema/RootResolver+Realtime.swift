import Foundation
import Graphiti
import NIOConcurrencyHelpers
import Resolvers

/// The client fell too far behind the live stream; it reconnects and catches up with `after`.
public struct SlowConsumer: Error, CustomStringConvertible {
    public var description: String { "Subscriber fell too far behind; reconnect and catch up with the after cursor" }
}

/// The gateway's own stream of events was interrupted (its LISTEN connection came back after a
/// drop): events may have passed unheard; the client reconnects and catches up with `after`.
public struct LiveEventsInterrupted: Error, CustomStringConvertible {
    public var description: String { "Live events were interrupted; reconnect and catch up with the after cursor" }
}

extension RootResolver {
    struct ConversationFilterArguments: Codable { let conversationId: UUID? }
    struct MessageReceivedArguments: Codable { let conversationId: UUID?; let after: String? }
    struct UserIDsArguments: Codable { let userIds: [UUID]? }
    struct RequiredUserIDsArguments: Codable { let userIds: [UUID] }
    struct TypingArguments: Codable { let conversationId: UUID; let isTyping: Bool }

    func presence(context: OperationContext, arguments: RequiredUserIDsArguments) async throws -> [PresenceInfo] {
        _ = try context.requireViewer()
        return try await context.services.presence.presence(of: Array(arguments.userIds.prefix(500)))
    }

    func setTyping(context: OperationContext, arguments: TypingArguments) async throws -> Bool {
        let viewer = try context.requireViewer()
        try await context.services.typing.set(conversationId: arguments.conversationId, isTyping: arguments.isTyping, viewer: viewer)
        await context.services.presence.touched(viewer.userId)
        return true
    }

    /// Checks the filter, then leaves this subscriber's view of the live feed in the context for
    /// the gateway to execute (see `EventPull`); GraphQLSwift itself gets an empty stream.
    private func stream<Element: Sendable>(
        _ context: OperationContext, conversationId: UUID?, kinds: Set<LiveEvent.Kind>,
        catchUp: EventPull<Element>.CatchUp? = nil,
        _ transform: @escaping @Sendable (LiveEvent, Viewer) async throws -> [Element]
    ) async throws -> AsyncThrowingStream<Element, Error> {
        let viewer = try context.requireViewer()
        if let conversationId {
            _ = try await context.services.conversations.requireConversation(id: conversationId, viewer: viewer)
        }
        // Subscribe before catching up, so nothing falls between the two.
        let live = try await context.services.live.subscribe(for: viewer.userId, kinds: kinds)
        context.offer(EventPull(live: live, context: context, catchUp: catchUp) { try await transform($0, viewer) })
        return AsyncThrowingStream { $0.finish() }
    }

    func messageReceived(context: OperationContext, arguments: MessageReceivedArguments) async throws -> AsyncThrowingStream<Message, Error> {
        let services = context.services
        let filter = arguments.conversationId
        let positions = SeqPositions()
        if arguments.after != nil, filter == nil {
            throw DomainError.badUserInput("after needs conversationId: cursors count within one conversation", field: "after")
        }
        var catchUp: EventPull<Message>.CatchUp?
        if let conversationId = filter, let after = arguments.after {
            let viewer = try context.requireViewer()
            let cursor = PageCursor(after)
            catchUp = {
                guard let current = await cursor.value else { return nil }
                let page = try await services.messages.page(
                    conversationId: conversationId, request: PageRequest(first: 100, after: current), viewer: viewer)
                var fresh: [Message] = []
                for (_, message) in page.items where positions.record(message) { fresh.append(message) }
                await cursor.move(to: page.hasNextPage ? page.items.last?.cursor : nil)
                return fresh
            }
        }
        return try await stream(context, conversationId: filter, kinds: [.message], catchUp: catchUp) { event, viewer in
            guard case .message(let message, let audience) = event, audience.contains(viewer.userId),
                  filter == nil || message.conversationId == filter
            else { return [] }
            // A gap means a notification was lost: load what lies between from the log.
            if let from = positions.gap(before: message) {
                return try await Self.filling(gap: from, before: message, positions: positions, services: services, viewer: viewer)
            }
            guard positions.record(message) else { return [] }
            services.telemetry.recordFanOut(of: message)
            return [message]
        }
    }

    /// The messages from `from` up to `message`, read from the log; with more missing than
    /// `MessageService.gapLimit`, the socket is closed and its client catches up with `after`.
    /// Apart from the filter above, which runs for every event: an async function's frame is sized
    /// for all it might do, and the slabs the subscription's task once needed stay with it for the
    /// connection's life.
    @inline(never)
    private static func filling(
        gap from: Int64, before message: Message, positions: SeqPositions, services: DomainServices, viewer: Viewer
    ) async throws -> [Message] {
        guard var result = try await services.messages.gap(in: message.conversationId, after: from, before: message.seq, viewer: viewer)
        else { throw LiveEventsInterrupted() }
        result.append(message)
        var fresh: [Message] = []
        for item in result where positions.record(item) { fresh.append(item) }
        if fresh.last?.id == message.id { services.telemetry.recordFanOut(of: message) }
        return fresh
    }

    func messageStatusChanged(context: OperationContext, arguments: ConversationFilterArguments) async throws -> AsyncThrowingStream<MessageStatusEvent, Error> {
        let filter = arguments.conversationId
        return try await stream(context, conversationId: filter, kinds: [.status]) { event, viewer in
            guard case .status(let message, let userId, let status, let at, let audience) = event, audience.contains(viewer.userId),
                  filter == nil || message.conversationId == filter
            else { return [] }
            return [MessageStatusEvent(message: message, userId: userId, status: status, at: at)]
        }
    }

    func typing(context: OperationContext, arguments: ConversationFilterArguments) async throws -> AsyncThrowingStream<TypingEvent, Error> {
        let filter = arguments.conversationId
        return try await stream(context, conversationId: filter, kinds: [.typing]) { event, viewer in
            guard case .typing(let conversationId, let userId, let isTyping, let at, let audience) = event,
                  audience.contains(viewer.userId), userId != viewer.userId, filter == nil || conversationId == filter
            else { return [] }
            return [TypingEvent(conversationId: conversationId, userId: userId, isTyping: isTyping, at: at)]
        }
    }

    func reactions(context: OperationContext, arguments: ConversationFilterArguments) async throws -> AsyncThrowingStream<ReactionEvent, Error> {
        let filter = arguments.conversationId
        return try await stream(context, conversationId: filter, kinds: [.reaction]) { event, viewer in
            guard case .reaction(let message, let userId, let emoji, let added, let at, let audience) = event,
                  audience.contains(viewer.userId), filter == nil || message.conversationId == filter
            else { return [] }
            return [ReactionEvent(message: message, userId: userId, emoji: emoji, action: added ? .added : .removed, at: at)]
        }
    }

    /// The viewer's contacts (people sharing a direct conversation or a group within
    /// `PRESENCE_MAX_GROUP_MEMBERS` with them), or the given ids among them.
    func presenceEvents(context: OperationContext, arguments: UserIDsArguments) async throws -> AsyncThrowingStream<PresenceEvent, Error> {
        let viewer = try context.requireViewer()
        let services = context.services
        let contacts = Contacts(ids: try await services.conversations.contacts(of: viewer.userId), only: arguments.userIds.map(Set.init))
        return try await stream(context, conversationId: nil, kinds: [.presence, .membership]) { event, viewer in
            switch event {
            case .presence(let userId, let status, let lastSeenAt, _):
                guard contacts.contains(userId) else { return [] }
                return [PresenceEvent(userId: userId, status: status, lastSeenAt: lastSeenAt)]
            case .membership:
                // Group changes are rare; re-reading the contacts keeps joins and removals exact.
                contacts.replace(try await services.conversations.contacts(of: viewer.userId))
                return []
            default:
                return []
            }
        }
    }
}

/// Last sequence number delivered per conversation: drops what catch-up already sent and
/// detects gaps left by a lost notification. A lock, not an actor: it is asked twice per
/// delivery, and the two actor hops were a measurable share of a fan-out's cost.
final class SeqPositions: Sendable {
    private let last = NIOLockedValueBox<[UUID: Int64]>([:])

    /// False when the message was already delivered.
    @discardableResult
    func record(_ message: Message) -> Bool {
        last.withLockedValue { last in
            if let seen = last[message.conversationId], message.seq <= seen { return false }
            last[message.conversationId] = message.seq
            return true
        }
    }

    /// The last delivered sequence number when `message` does not follow it directly.
    func gap(before message: Message) -> Int64? {
        last.withLockedValue { last in
            guard let seen = last[message.conversationId], message.seq > seen + 1 else { return nil }
            return seen
        }
    }
}

final class Contacts: Sendable {
    private let ids: NIOLockedValueBox<Set<UUID>>
    private let only: Set<UUID>?

    init(ids: Set<UUID>, only: Set<UUID>?) {
        self.ids = NIOLockedValueBox(ids)
        self.only = only
    }

    func contains(_ id: UUID) -> Bool { ids.withLockedValue { $0.contains(id) } && (only?.contains(id) ?? true) }
    func replace(_ next: Set<UUID>) { ids.withLockedValue { $0 = next } }
}
