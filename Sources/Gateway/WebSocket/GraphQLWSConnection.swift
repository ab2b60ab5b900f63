import Foundation
import GraphQL
import HummingbirdWebSocket
import Logging
import NIOConcurrencyHelpers
import NIOWebSocket
import Resolvers
import Schema

/// One GraphQL socket: reads client messages, runs operations, and writes every outgoing frame
/// through one bounded buffer, so that a socket that stops reading is closed (1013) instead of
/// holding memory or slowing anyone else.
final class GraphQLWSConnection: Sendable {
    /// Why the connection ends.
    enum Ending: Sendable {
        /// The client closed (or the socket broke); `error` is what the WebSocket layer reported.
        case clientGone(error: (any Error)?)
        case close(WSCloseCode, String, slow: Bool)
    }

    private struct State {
        var session: GraphQLWSSession
        var viewer: Viewer?
        var admitted: UUID?
        /// Running operations; the token tells a finished one from a later one reusing its id.
        var operations: [String: (token: UUID, task: Task<Void, Never>)] = [:]
        /// The time to send `connection_init`, then the token's expiry (`route.deadlines`).
        var deadlines: [Deadlines.Token] = []
        /// The next keep-alive (`route.deadlines`), replaced each period.
        var keepAlive: Deadlines.Token?
        var watch: SessionWatch.Token?
        var ended = false
    }

    let route: GraphQLWebSocketRoute
    let subprotocol: GraphQLWSSubprotocol
    let codec: any GraphQLWSCodec
    let outbound: WebSocketOutboundWriter
    let authorizationHeader: String?
    let clientIP: String?
    let userAgent: String?
    let logger: Logger
    private let state: NIOLockedValueBox<State>
    /// Every outgoing frame goes through it, bounded in frames and in bytes.
    private let lane: OutgoingLane
    private let endings: AsyncStream<Ending>
    private let endingSink: AsyncStream<Ending>.Continuation

    static let slowConsumerReason = "Slow consumer: fell too far behind; reconnect and catch up with the after cursor"
    static let interruptedReason = "Live events interrupted; reconnect and catch up with the after cursor"

    var limits: GraphQLWSLimits { route.limits }
    var services: DomainServices { route.services }
    var engine: GraphQLEngine { route.engine }

    init(
        route: GraphQLWebSocketRoute, subprotocol: GraphQLWSSubprotocol, outbound: WebSocketOutboundWriter,
        authorizationHeader: String?, clientIP: String?, userAgent: String?, logger: Logger
    ) {
        self.route = route
        self.subprotocol = subprotocol
        codec = subprotocol.codec
        self.outbound = outbound
        self.authorizationHeader = authorizationHeader
        self.clientIP = clientIP
        self.userAgent = userAgent
        self.logger = logger
        state = NIOLockedValueBox(State(session: GraphQLWSSession(
            subprotocol: subprotocol, maxOperations: route.limits.maxOperationsPerConnection)))
        lane = OutgoingLane(maxFrames: route.limits.outgoingBuffer, maxBytes: route.limits.outgoingBufferBytes) { [outbound] text in
            try await outbound.writeTextMessage(text)
        }
        (endings, endingSink) = AsyncStream.makeStream(bufferingPolicy: .bufferingOldest(1))
    }

    // MARK: Lifecycle

    /// What waits for the socket's whole life is kept small: Swift keeps the largest stack of
    /// async frames a task ever had until the task ends, and the frame of this function is part
    /// of every socket's. Setting up and closing happen in functions of their own, whose frames
    /// exist only while they run (with them inline this frame was about 1.7 KB; heaptrack).
    func run(_ inbound: WebSocketInboundStream) async throws {
        // The connection's own tasks are detached: a child of the upgrade's task would copy its
        // task-local values into a stack of its own, about a kilobyte per task and socket.
        let reader = Task.detached { await self.read(inbound) }
        let stallWatch = beginWatching()
        defer { route.stalls.unwatch(stallWatch) }
        var iterator = endings.makeAsyncIterator()
        let ending = await iterator.next() ?? .clientGone(error: nil)
        try await close(ending, reader: reader)
    }

    @inline(never)
    private func beginWatching() -> UUID {
        addDeadline(after: limits.initTimeout) {
            if self.state.withLockedValue({ $0.session.initTimedOut() }) {
                self.end(.close(.initTimeout, "Connection initialisation timeout", slow: false))
            }
        }
        let stallLimit = route.stalls.timeout
        return route.stalls.watch { [lane] now in
            if let waited = lane.stalled(at: now), waited > stallLimit {
                self.end(.close(.tryAgainLater, Self.slowConsumerReason, slow: true))
            }
        }
    }

    @inline(never)
    private func close(_ ending: Ending, reader: Task<Void, Never>) async throws {
        let (operations, deadlines, admitted, viewer, watch) = state.withLockedValue { state in
            state.session.closed()
            defer { state.operations = [:]; state.deadlines = []; state.keepAlive = nil; state.watch = nil }
            return (state.operations.values.map(\.task), state.deadlines + [state.keepAlive].compactMap { $0 }, state.admitted, state.viewer, state.watch)
        }
        for task in operations { task.cancel() }
        for deadline in deadlines { route.deadlines.cancel(deadline) }
        if let watch { route.sessions.unwatch(watch) }
        if let admitted { route.registry.release(admitted) }
        if let viewer { await services.presence.disconnected(viewer.userId) }

        switch ending {
        case .clientGone(let error):
            lane.close()
            if let error { throw error }
        case .close(let code, let reason, let slow):
            if slow {
                lane.close()
            } else {
                // What was already decided (a `connection_error`, a last `complete`) goes out first.
                lane.seal()
                let lane = lane
                _ = await within(limits.closeGrace, { await lane.flushed() }, orElse: { lane.close() })
            }
            let outbound = outbound
            let closing = Task {
                try? await outbound.close(.init(codeNumber: Int(code.rawValue)), reason: Self.closeReason(reason))
            }
            // The close frame goes out first: when the reader has already stopped (a message too
            // large), waiting for it alone returned at once and cancelled the close before it was
            // written, and the client saw the connection drop without a code.
            _ = await within(limits.closeGrace, { await closing.value }, orElse: { closing.cancel() })
            // The client answers the close frame; its answer ends the reader. One that never reads
            // again is dropped when the grace period ends.
            let answered = await within(limits.closeGrace, { await reader.value }, orElse: { reader.cancel() })
            if answered == nil {
                logger.debug("socket did not answer the close frame in time", metadata: ["code": "\(code)"])
            }
        }
    }

    /// A close frame carries at most 123 bytes of reason.
    static func closeReason(_ reason: String) -> String {
        var text = reason
        while text.utf8.count > 123 { text.removeLast() }
        return text
    }

    /// The first ending wins; later ones are ignored.
    func end(_ ending: Ending) {
        let first = state.withLockedValue { state in
            defer { state.ended = true }
            return !state.ended
        }
        guard first else { return }
        endingSink.yield(ending)
        endingSink.finish()
    }

    private func read(_ inbound: WebSocketInboundStream) async {
        do {
            for try await message in inbound.messages(maxSize: limits.maxMessageBytes) {
                guard case .text(let text) = message else {
                    end(.close(.badRequest, "Invalid message received: binary frames are not part of the protocol", slow: false))
                    return
                }
                // A message in one frame is not measured by the WebSocket layer; measure it here.
                guard text.utf8.count <= limits.maxMessageBytes else {
                    end(.close(.messageTooBig, "Message larger than \(limits.maxMessageBytes) bytes", slow: false))
                    return
                }
                // Handled in a child task: what a message needs (token checks, a subscription's
                // resolver, database queries) grows the stack of the task it runs in, and Swift
                // keeps a task's stack until the task ends; the reader lasts as long as the socket.
                await withTaskGroup(of: Void.self) { group in group.addTask { await self.receive(text) } }
            }
            end(.clientGone(error: nil))
        } catch {
            end(.clientGone(error: error))
        }
    }

    /// Queues a frame; false once the queue is full, which ends the connection, or closed.
    @discardableResult
    func send(_ frame: WSServerFrame) -> Bool {
        guard let text = codec.encode(frame) else { return true }
        do {
            try lane.enqueue(text)
            return true
        } catch {
            return refused(error)
        }
    }

    /// A subscription's result, written by the calling task when nothing is ahead of it.
    private func deliver(_ frame: WSServerFrame) async -> Bool {
        guard let text = codec.encode(frame) else { return true }
        do {
            try await lane.deliver(text)
            return true
        } catch {
            return refused(error)
        }
    }

    private func refused(_ refusal: OutgoingLane.Refusal) -> Bool {
        if case .full = refusal { end(.close(.tryAgainLater, Self.slowConsumerReason, slow: true)) }
        return false
    }

    /// A deadline of this connection, cancelled when it ends.
    private func addDeadline(after delay: Duration, _ action: @escaping Deadlines.Action) {
        let deadline = route.deadlines.schedule(after: delay, action)
        let ended = state.withLockedValue { state in
            if !state.ended { state.deadlines.append(deadline) }
            return state.ended
        }
        if ended { route.deadlines.cancel(deadline) }
    }

    /// The keep-alive is an entry in the door's `Deadlines`, not Hummingbird's WebSocket ping,
    /// which kept a task per socket (about 3 KiB of async frames, and a wake-up per ping): the
    /// legacy protocol's `ka`, or graphql-transport-ws's `ping`, which its clients answer, so
    /// that one that stopped answering (gone without closing) is found and closed.
    private func scheduleKeepAlive() {
        let period = subprotocol == .transport ? limits.pingInterval : limits.keepAliveInterval
        let next = route.deadlines.schedule(after: period) {
            switch self.state.withLockedValue({ $0.session.keepAliveDue() }) {
            case .none:
                return
            case .keepAlive:
                self.send(.keepAlive)
            case .ping:
                self.send(.ping)
            case .close(let code, let reason):
                self.end(.close(code, reason, slow: false))
                return
            }
            self.scheduleKeepAlive()
        }
        let ended = state.withLockedValue { state in
            if !state.ended { state.keepAlive = next }
            return state.ended
        }
        if ended { route.deadlines.cancel(next) }
    }

    // MARK: Messages

    private func receive(_ text: String) async {
        let frame: WSClientFrame
        do {
            frame = try codec.decode(text)
        } catch {
            end(.close(error.code, error.reason, slow: false))
            return
        }
        let (action, viewer) = state.withLockedValue { ($0.session.receive(frame), $0.viewer) }
        switch action {
        case .none:
            break
        case .send(.pong(let payload)):
            send(.pong(payload: payload))
        case .send(.tooManySubscriptions(let id, let limit)):
            send(.error(id: id, [GraphQLError(
                message: "Too many operations on this connection (limit \(limit)); complete some first",
                extensions: ["code": "RATE_LIMITED"])]))
        case .authenticate(let payload):
            await authenticate(payload)
        case .start(let id, let request):
            if let viewer { await services.presence.touched(viewer.userId) }
            await start(id, request)
        case .stop(let id, let acknowledge):
            let running = state.withLockedValue { $0.operations.removeValue(forKey: id) }
            running?.task.cancel()
            if acknowledge { send(.complete(id: id)) }
        case .close(let code, let reason):
            end(.close(code, reason, slow: false))
        }
    }

    // MARK: Authentication

    /// The token of `connection_init`, else the upgrade request's `Authorization` header.
    static func token(in payload: [String: Map], header: String?) -> String? {
        func bearer(_ value: String) -> String? {
            var text = value.trimmingCharacters(in: .whitespaces)
            if text.lowercased().hasPrefix("bearer ") { text = String(text.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            return text.isEmpty ? nil : text
        }
        var places = [payload]
        if case .dictionary(let headers)? = payload["headers"] {
            places.append(Dictionary(headers.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last }))
        }
        for place in places {
            for key in ["Authorization", "authorization", "token", "accessToken"] {
                if case .string(let value)? = place[key], let token = bearer(value) { return token }
            }
        }
        return header.flatMap(bearer)
    }

    private func authenticate(_ payload: [String: Map]) async {
        guard let token = Self.token(in: payload, header: authorizationHeader) else {
            // No token: anonymous operations (sign-in) work; those that need a viewer say so.
            if state.withLockedValue({ !$0.ended && $0.session.authenticated() }) {
                acknowledge(viewer: nil, expiresAt: nil)
            }
            return
        }
        let viewer: Viewer
        let expiresAt: Date
        do {
            let verified = try await route.tokens.verifyWithExpiry(token)
            viewer = try await services.auth.authenticate(userId: verified.userId, sessionId: verified.sessionId)
            expiresAt = verified.expiresAt
        } catch let error as DomainError {
            refuse(.forbidden, "Forbidden: \(error.publicMessage)")
            return
        } catch {
            logger.error("socket authentication failed", metadata: ["error": "\(error)"])
            refuse(.internalError, "Internal server error")
            return
        }
        guard route.registry.admit(viewer.userId, limit: limits.maxConnectionsPerUser) else {
            refuse(.policyViolation, "Too many connections for this user (limit \(limits.maxConnectionsPerUser))")
            return
        }
        // Counted as connected before the connection records its viewer: the ending disconnects
        // exactly the viewers it finds recorded, so the two always pair up.
        await services.presence.connected(viewer.userId)
        let accepted = state.withLockedValue { state in
            guard !state.ended, state.session.authenticated() else { return false }
            state.admitted = viewer.userId
            state.viewer = viewer
            return true
        }
        guard accepted else {
            // Closed while the token was checked: undo what was counted.
            route.registry.release(viewer.userId)
            await services.presence.disconnected(viewer.userId)
            return
        }
        acknowledge(viewer: viewer, expiresAt: expiresAt)
    }

    private func refuse(_ code: WSCloseCode, _ reason: String) {
        send(.connectionError(message: reason))
        end(.close(code, reason, slow: false))
    }

    /// Sends `connection_ack` and starts what an accepted connection needs: keep-alives, and the
    /// watch on the token's expiry and session.
    private func acknowledge(viewer: Viewer?, expiresAt: Date?) {
        send(.connectionAck)
        if subprotocol == .legacy { send(.keepAlive) }
        scheduleKeepAlive()
        guard let viewer, let expiresAt else { return }
        addDeadline(after: .milliseconds(max(0, Int(expiresAt.timeIntervalSinceNow * 1000)))) {
            self.end(.close(.forbidden, "Forbidden: access token expired; reconnect with a fresh token", slow: false))
        }
        let watch = route.sessions.watch(viewer) { error in
            self.end(.close(.forbidden, "Forbidden: \(error.publicMessage)", slow: false))
        }
        let ended = state.withLockedValue { state in
            state.watch = watch
            return state.ended
        }
        if ended { route.sessions.unwatch(watch) }
    }

    // MARK: Operations

    /// Parses the operation and, for a subscription, runs its resolver before the next client
    /// message is read: once a later operation on this socket is answered, the subscription is
    /// live (clients and tests can rely on that order). The rest runs in its own task.
    private func start(_ id: String, _ request: WSOperationRequest) async {
        let viewer = state.withLockedValue { $0.viewer }
        let context = OperationContext(services: services, viewer: viewer, clientIP: clientIP, userAgent: userAgent)
        let work: @Sendable () async -> Void
        do throws(RequestFailure) {
            let prepared = try engine.prepare(request.query)
            guard let operation = prepared.operation(named: request.operationName) else {
                let text = request.operationName.map { "Unknown operation named \"\($0)\"" }
                    ?? "Must provide operation name if query contains multiple operations"
                fail(id, [GraphQLError(message: text, extensions: ["code": "BAD_REQUEST"])])
                return
            }
            if operation.operation == .subscription {
                let stream = try await engine.subscribe(
                    request.query, prepared: prepared, operation: operation, variables: request.variables, context: context)
                let active = services.telemetry.subscriptions("graphql-ws")
                work = {
                    active.increment()
                    defer { active.decrement() }
                    if await self.pump(id, stream) { self.completed(id) }
                }
            } else {
                work = { await self.execute(id, prepared, operation, request.variables, context) }
            }
        } catch {
            switch error {
            case .syntax(let errors), .invalid(let errors): fail(id, engine.requestErrors(errors))
            }
            return
        }
        let token = UUID()
        state.withLockedValue { state in
            guard !state.ended, state.session.operations.contains(id) else { return }
            state.operations[id] = (token, Task.detached {
                await work()
                self.state.withLockedValue { state in
                    if state.operations[id]?.token == token { state.operations[id] = nil }
                }
            })
        }
    }

    private func execute(
        _ id: String, _ prepared: PreparedDocument, _ operation: OperationDefinition, _ variables: [String: Map],
        _ context: OperationContext
    ) async {
        do throws(RequestFailure) {
            let result = try await engine.execute(prepared, operation: operation, variables: variables, context: context)
            guard !Task.isCancelled else { return }
            if case .some = result.data {
                if send(.next(id: id, payload: WSJSON.encode(result))) { completed(id) }
            } else {
                fail(id, result.errors)
            }
        } catch {
            switch error {
            case .syntax(let errors), .invalid(let errors): fail(id, engine.requestErrors(errors))
            }
        }
    }

    private func completed(_ id: String) {
        guard !Task.isCancelled else { return }
        if state.withLockedValue({ $0.session.finished(id) }) { send(.complete(id: id)) }
    }

    /// Forwards a subscription's results; false when it ended otherwise than by completing.
    private func pump(_ id: String, _ stream: SubscriptionPayloads) async -> Bool {
        do {
            for try await payload in stream {
                guard !Task.isCancelled, await deliver(.next(id: id, payload: payload)) else { return false }
            }
            return true
        } catch is CancellationError {
            return false
        } catch is SlowConsumer {
            end(.close(.tryAgainLater, Self.slowConsumerReason, slow: true))
            return false
        } catch is LiveEventsInterrupted {
            end(.close(.tryAgainLater, Self.interruptedReason, slow: false))
            return false
        } catch {
            fail(id, [engine.shape(GraphQLError(error))])
            return false
        }
    }

    /// The operation ends with errors (no `complete` follows an `error`).
    private func fail(_ id: String, _ errors: [GraphQLError]) {
        guard !Task.isCancelled, state.withLockedValue({ $0.session.finished(id) }) else { return }
        send(.error(id: id, errors))
    }
}

/// The value of `body` if it finishes within `limit`; otherwise nil, after `orElse` (which must
/// make `body` return, e.g. by cancelling the task it waits for).
func within<T: Sendable>(
    _ limit: Duration, _ body: @escaping @Sendable () async -> T, orElse: @escaping @Sendable () -> Void
) async -> T? {
    await withTaskGroup(of: T?.self) { group in
        group.addTask { await body() }
        group.addTask {
            try? await Task.sleep(for: limit)
            return nil
        }
        let first = await group.next() ?? nil
        if first == nil { orElse() }
        group.cancelAll()
        return first
    }
}
