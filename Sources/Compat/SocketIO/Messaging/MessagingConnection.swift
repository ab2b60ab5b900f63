import Foundation
import NIOConcurrencyHelpers
import Resolvers

/// When a connection's access must end: its token's expiry, and its session as the watch sees it.
struct SessionExpiry: Sendable {
    var expiresAt: Date?
    var sessions: SessionWatch?
}

/// One signed-in Socket.IO client: it counts for presence while connected, receives the live
/// events its user may see, and acts through the domain services.
final class MessagingConnection: SocketIOEventHandler, Sendable {
    let socket: SocketIOSocket
    let viewer: Viewer
    let services: DomainServices
    private let state = NIOLockedValueBox(State())

    struct State {
        var feed: LiveSubscription?
        var task: Task<Void, Never>?
        var guards: Guards?
        var contacts: Set<UUID> = []
        var ended = false
        /// The last message sent per conversation, by number: drops what recovery already sent
        /// (the live feed may bring it again) and shows the gap a lost notification left.
        var positions: [UUID: Int64] = [:]
    }

    /// Most messages a reconnecting client is given before it must reload instead.
    static let recoveryLimit = 500

    /// Offsets ride as the last argument of `messageReceived`, as the reference's connection
    /// state recovery does; a JavaScript client ignores the extra argument, but stock clients of
    /// other languages may not, so they come only to clients that ask (`auth.recovery: true`)
    /// or that are recovering (`auth.pid`). Read once: looking it up in the CONNECT payload at
    /// every delivery was 1.4% of the server's samples in a 1,000-member fan-out (perf).
    let sendsOffsets: Bool

    private let onEnd: @Sendable () -> Void
    let expiry: SessionExpiry
    let cache: LiveMessageCache

    init(
        socket: SocketIOSocket, viewer: Viewer, services: DomainServices, expiry: SessionExpiry = .init(expiresAt: nil),
        cache: LiveMessageCache = LiveMessageCache(), onEnd: @escaping @Sendable () -> Void = {}
    ) {
        self.cache = cache
        self.socket = socket
        sendsOffsets = socket.auth?["recovery"] == .bool(true) || socket.auth?["pid"]?.stringValue != nil
        self.viewer = viewer
        self.services = services
        self.expiry = expiry
        self.onEnd = onEnd
    }

    /// Subscribes before the CONNECT reply, so nothing that happens meanwhile is missed.
    func prepare() async throws {
        let feed = try await services.live.subscribe(for: viewer.userId)
        state.withLockedValue { $0.feed = feed }
        let contacts = try await services.conversations.contacts(of: viewer.userId)
        state.withLockedValue { $0.contacts = contacts }
    }

    /// A client coming back with the `pid` it was given and the offset of the last message it
    /// saw gets what it missed from the message log, then the same `pid` (recovered). Otherwise,
    /// or with too much missed, a fresh `pid`: the client reloads.
    func connectReply() async -> [JSONMember] {
        var pid = SocketIOOffsets.newPid()
        if let given = socket.auth?["pid"]?.stringValue, SocketIOOffsets.isValidPid(given),
           let offset = socket.auth?["offset"]?.stringValue.flatMap(SocketIOOffsets.parse),
           let missed = try? await services.messages.messages(
               afterMicros: offset.micros, id: offset.id, limit: Self.recoveryLimit + 1, viewer: viewer),
           missed.count <= Self.recoveryLimit
        {
            pid = given
            state.withLockedValue { state in
                for message in missed { state.positions[message.conversationId] = max(state.positions[message.conversationId] ?? 0, message.seq) }
            }
            for message in missed {
                if let wire = await wire(message) { await emitMessage(message, wire: wire) }
            }
        }
        return [JSONMember("pid", .string(pid))]
    }

    private func emitMessage(_ message: Message, wire: JSONValue) async {
        await socket.emit("messageReceived", args: Self.messageArguments(message, wire: wire, offsets: sendsOffsets))
    }

    static func messageArguments(_ message: Message, wire: JSONValue, offsets: Bool) -> [JSONValue] {
        offsets ? [.object(["message": wire]), .string(SocketIOOffsets.offset(of: message))] : [.object(["message": wire])]
    }

    func connected() async {
        services.telemetry.connections("socket.io").increment()
        await services.presence.connected(viewer.userId)
        // Detached: children of the connect handler's task would each copy its task-local values
        // into a stack of their own, kept for the life of the socket.
        let task = Task.detached { [self] in await self.forward() }
        let guards = guardSession()
        let ended = state.withLockedValue { state in
            state.task = task
            state.guards = guards
            return state.ended
        }
        if ended {
            // Disconnected while connecting: it found no task, so the pairing undo is ours.
            task.cancel()
            stop(guards)
            services.telemetry.connections("socket.io").decrement()
            await services.presence.disconnected(viewer.userId)
        }
    }

    func disconnected(reason: String) async {
        let (task, guards, first) = state.withLockedValue { state in
            defer {
                state.ended = true
                state.feed = nil
                state.guards = nil
            }
            return (state.task, state.guards, !state.ended)
        }
        guard first else { return }
        onEnd()
        task?.cancel()
        if let guards { stop(guards) }
        if task != nil {
            services.telemetry.connections("socket.io").decrement()
            await services.presence.disconnected(viewer.userId)
        }
    }

    /// A connection lives no longer than its token and its session: at expiry, or once the
    /// session is found revoked (sign-out, told by the session watch), the server disconnects it;
    /// the client signs in again.
    struct Guards: Sendable {
        let watch: SessionWatch.Token?
        let expiring: Deadlines.Token?
    }

    /// Callbacks rather than a task waiting for either: a task per socket held its stack for
    /// the socket's life (`Deadlines`).
    private func guardSession() -> Guards {
        let socket = socket
        let end: @Sendable () -> Void = { Task { await socket.disconnect() } }
        let watch = expiry.sessions?.watch(viewer) { _ in end() }
        let expiring = expiry.expiresAt.map { expiresAt in
            socket.session.deadlines.schedule(
                after: .milliseconds(max(0, Int64(expiresAt.timeIntervalSinceNow * 1000)) + 1), end)
        }
        return Guards(watch: watch, expiring: expiring)
    }

    private func stop(_ guards: Guards) {
        if let watch = guards.watch { expiry.sessions?.unwatch(watch) }
        if let expiring = guards.expiring { socket.session.deadlines.cancel(expiring) }
    }

    // MARK: Server → client

    /// Frames a connection may have waiting for its socket before it takes the next live event:
    /// the rest waits in its live subscription, where messages go ahead of presence and typing,
    /// and a newer presence replaces an older one.
    static let writeAhead = 16

    private func forward() async {
        guard let feed = state.withLockedValue({ $0.feed }) else { return }
        var events = feed.makeAsyncIterator()
        var undelivered = false
        while true {
            await socket.room(below: Self.writeAhead)
            guard !Task.isCancelled, let event = await events.next() else { break }
            guard await deliver(event) else {
                undelivered = true
                break
            }
        }
        // The feed ends when this client fell too far behind, or when the gateway's LISTEN came
        // back after a drop; a new message whose parts could not be read (the database out of
        // reach for a moment), or that follows more lost notifications than `fill` sends, cannot
        // be shown. Either way the client missed something. Its Engine.IO session is closed rather
        // than the namespace left, because a Socket.IO client reconnects by itself after a closed
        // transport (and recovers with its `pid` and offset) but stays away after a DISCONNECT.
        if !Task.isCancelled {
            let reason = undelivered ? "a message could not be shown" : feed.wasInterrupted ? "live events interrupted" : "fell too far behind"
            await socket.session.close(reason: reason)
        }
    }

    /// What a live event asks of this socket.
    private enum Duty {
        case emit(String, JSONValue)
        /// `gapAfter`: the message does not follow the last one sent in its conversation (a
        /// notification was lost), and what lies between is read from the log first.
        case newMessage(Message, gapAfter: Int64?)
        case refreshContacts
    }

    /// The async functions of a delivery are kept few and small, and everything else is worked
    /// out in synchronous code: an async function's frame lives in its task's slabs, and a slab
    /// the forward task once needed stays with the socket for its life (heaptrack: of the 7.8 KB of
    /// slabs a socket kept after its first message, 4.5 KB were frames of this path). Out of
    /// line itself, so that `forward`'s own frame, in which every idle socket waits, stays small.
    /// False when a new message could not be shown to this socket.
    @inline(never)
    private func deliver(_ event: LiveEvent) async -> Bool {
        switch duty(for: event) {
        case .emit(let name, let argument)?: await socket.emit(name, args: [argument])
        case .newMessage(let message, let gapAfter)?:
            if let lastSent = gapAfter, await !fill(after: lastSent, before: message) { return false }
            let packet = await Self.newMessagePacket(
                message, viewer: viewer, namespace: socket.namespace, offsets: sendsOffsets, cache: cache, services: services)
            switch packet {
            case .encoded(let text)?: await socket.emit(encoded: text)
            case .value(let wire)?: await emitMessage(message, wire: wire)
            case nil: return false
            }
            services.telemetry.recordFanOut(of: message)
        case .refreshContacts?: await refreshContacts()
        case nil: break
        }
        return true
    }

    @inline(never)
    private func duty(for event: LiveEvent) -> Duty? {
        let me = viewer.userId
        switch event {
        case .message(let message, let audience):
            guard audience.contains(me) else { return nil }
            return state.withLockedValue { state -> Duty? in
                let last = state.positions[message.conversationId]
                if let last, message.seq <= last { return nil }
                state.positions[message.conversationId] = message.seq
                return .newMessage(message, gapAfter: last.flatMap { message.seq > $0 + 1 ? $0 : nil })
            }
        case .status(let message, let userId, let status, let at, let audience):
            guard status == .read, audience.contains(me) else { return nil }
            return .emit("messageRead", .object([
                "messageId": .string(message.id.wire), "conversationId": .string(message.conversationId.wire),
                "userId": .string(userId.wire), "readAt": .string(RestDates.format(at)),
            ]))
        case .reaction(let message, let userId, let emoji, let added, _, let audience):
            guard audience.contains(me) else { return nil }
            return .emit(added ? "reactionAdded" : "reactionRemoved", .object([
                "messageId": .string(message.id.wire), "conversationId": .string(message.conversationId.wire),
                "userId": .string(userId.wire), "emoji": .string(emoji),
            ]))
        case .typing(let conversationId, let userId, let isTyping, _, let audience):
            guard userId != me, audience.contains(me) else { return nil }
            return .emit(isTyping ? "typing" : "stopTyping", .object([
                "conversationId": .string(conversationId.wire), "userId": .string(userId.wire),
            ]))
        case .presence(let userId, let status, let lastSeenAt, _):
            guard state.withLockedValue({ $0.contacts.contains(userId) }) else { return nil }
            switch status {
            case .online:
                return .emit("userOnline", .object(["userId": .string(userId.wire), "at": .string(RestDates.format(Date()))]))
            case .offline:
                return .emit("userOffline", .object([
                    "userId": .string(userId.wire), "lastSeenAt": lastSeenAt.map { .string(RestDates.format($0)) } ?? .null,
                ]))
            case .away:
                return nil
            }
        case .membership(_, let userIds):
            guard userIds.contains(me) || !state.withLockedValue({ $0.contacts.isDisjoint(with: userIds) }) else { return nil }
            return .refreshContacts
        }
    }

    /// Sends the messages numbered after `lastSent` and before `message`, read from the log as
    /// this viewer sees them. False when they could not be read, or when more are missing than
    /// `MessageService.gapLimit`: the socket's session is then closed, and its client recovers
    /// from its offset.
    @inline(never)
    private func fill(after lastSent: Int64, before message: Message) async -> Bool {
        guard let missed = try? await services.messages.gap(in: message.conversationId, after: lastSent, before: message.seq, viewer: viewer)
        else { return false }
        for item in missed {
            guard let wire = await wire(item) else { return false }
            await emitMessage(item, wire: wire)
        }
        return true
    }

    private func refreshContacts() async {
        if let contacts = try? await services.conversations.contacts(of: viewer.userId) {
            state.withLockedValue { $0.contacts = contacts }
        }
    }

    private func wire(_ message: Message) async -> JSONValue? {
        try? await SocketIOWire.message(message, viewer: viewer, services: services)
    }

    // MARK: Client → server

    func event(_ name: String, _ args: [JSONValue], ack: SocketIOAck?) async {
        let input = args.first ?? .null
        await services.presence.touched(viewer.userId)
        do {
            let reply: [JSONMember]
            switch name {
            case "sendMessage": reply = try await sendMessage(input)
            case "typing": reply = try await typing(input, isTyping: true)
            case "stopTyping": reply = try await typing(input, isTyping: false)
            case "messageRead": reply = try await messageRead(input)
            case "react": reply = try await react(input, add: true)
            case "unreact": reply = try await react(input, add: false)
            default: throw DomainError.badUserInput("Unknown event \(name)")
            }
            await ack?(.object([JSONMember("ok", true)] + reply))
        } catch {
            let domain = PayloadNames.renaming(error as? DomainError ?? .internal("\(error)"), name == "sendMessage" ? PayloadNames.sendMessage : [:])
            var refusal: [JSONMember] = [JSONMember("code", .string(domain.code)), JSONMember("message", .string(domain.publicMessage))]
            if case .badUserInput(_, let field?) = domain { refusal.append(JSONMember("field", .string(field))) }
            await ack?(.object([JSONMember("ok", false), JSONMember("error", .object(refusal))]))
        }
    }

    private func sendMessage(_ input: JSONValue) async throws -> [JSONMember] {
        let fields = try SocketIOInput(input)
        let message = try await services.messages.send(SendMessageInput(
            conversationId: try fields.uuid("conversationId"), recipientId: try fields.uuid("receiverId"),
            text: try fields.string("content"), attachmentIds: try fields.uuids("attachmentIds"),
            replyToId: try fields.uuid("replyToId"), clientMessageId: try fields.string("clientMessageId")), viewer: viewer)
        return [JSONMember("message", try await SocketIOWire.message(message, viewer: viewer, services: services))]
    }

    private func typing(_ input: JSONValue, isTyping: Bool) async throws -> [JSONMember] {
        let fields = try SocketIOInput(input)
        let conversationId: UUID
        if let id = try fields.uuid("conversationId") {
            conversationId = id
        } else if let receiver = try fields.uuid("receiverId") {
            guard let id = try await services.conversations.existingDirectConversation(between: viewer.userId, and: receiver) else {
                throw DomainError.notFound("No conversation with this person yet")
            }
            conversationId = id
        } else {
            throw DomainError.badUserInput("Give conversationId or receiverId", field: "conversationId")
        }
        try await services.typing.set(conversationId: conversationId, isTyping: isTyping, viewer: viewer)
        return [JSONMember("conversationId", .string(conversationId.wire))]
    }

    private func messageRead(_ input: JSONValue) async throws -> [JSONMember] {
        let fields = try SocketIOInput(input)
        guard let messageId = try fields.uuid("messageId") else { throw DomainError.badUserInput("messageId is required", field: "messageId") }
        let message = try await services.messages.message(id: messageId, viewer: viewer)
        let count = try await services.receipts.markRead(conversationId: message.conversationId, upToMessageId: messageId, viewer: viewer)
        return [JSONMember("count", .number(Double(count)))]
    }

    private func react(_ input: JSONValue, add: Bool) async throws -> [JSONMember] {
        let fields = try SocketIOInput(input)
        guard let messageId = try fields.uuid("messageId") else { throw DomainError.badUserInput("messageId is required", field: "messageId") }
        guard let emoji = try fields.string("emoji") else { throw DomainError.badUserInput("emoji is required", field: "emoji") }
        let message = add
            ? try await services.reactions.add(messageId: messageId, emoji: emoji, viewer: viewer)
            : try await services.reactions.remove(messageId: messageId, emoji: emoji, viewer: viewer)
        return [JSONMember("message", try await SocketIOWire.message(message, viewer: viewer, services: services))]
    }
}
