import Foundation
import GraphQL

/// The rules of one connection, as a value: what each client message leads to, given what came
/// before. The handler performs the actions; this decides them (and is tested without sockets).
struct GraphQLWSSession: Sendable {
    enum Phase: Equatable, Sendable {
        case awaitingInit
        /// `connection_init` arrived; its token is being checked.
        case authenticating
        case ready
        case closed
    }

    enum Action: Equatable, Sendable {
        case none
        case send(WSServerFrameKind)
        /// Check the `connection_init` payload, then call `authenticated()` or close.
        case authenticate([String: Map])
        case start(id: String, WSOperationRequest)
        /// Stop the operation; `acknowledge` says whether to answer `complete` (the legacy protocol does).
        case stop(id: String, acknowledge: Bool)
        case close(WSCloseCode, String)
    }

    /// The replies the session decides alone (the handler builds results and errors).
    enum WSServerFrameKind: Equatable, Sendable {
        case pong(Map?)
        case tooManySubscriptions(id: String, limit: Int)
    }

    /// What the keep-alive does when it comes due.
    enum KeepAlive: Equatable, Sendable {
        /// Legacy `ka`: the protocol has no message a client must answer.
        case keepAlive
        /// graphql-transport-ws `ping`; a client answers with `pong`.
        case ping
        case close(WSCloseCode, String)
        /// The connection is closed.
        case none
    }

    let subprotocol: GraphQLWSSubprotocol
    let maxOperations: Int
    private(set) var phase = Phase.awaitingInit
    private(set) var operations: Set<String> = []
    /// A keep-alive `ping` went out and nothing has come from the client since.
    private(set) var pingUnanswered = false

    init(subprotocol: GraphQLWSSubprotocol, maxOperations: Int) {
        self.subprotocol = subprotocol
        self.maxOperations = maxOperations
    }

    mutating func receive(_ frame: WSClientFrame) -> Action {
        guard phase != .closed else { return .none }
        // Any message shows the client is there, not only the `pong`.
        pingUnanswered = false
        switch frame {
        case .connectionInit(let payload):
            guard phase == .awaitingInit else { return close(.tooManyInit, "Too many initialisation requests") }
            phase = .authenticating
            return .authenticate(payload)
        case .ping(let payload):
            return .send(.pong(payload))
        case .pong:
            return .none
        case .subscribe(let id, let request):
            guard phase == .ready else { return close(.unauthorized, "Unauthorized") }
            guard !operations.contains(id) else { return close(.subscriberExists, "Subscriber for \(id) already exists") }
            guard operations.count < maxOperations else { return .send(.tooManySubscriptions(id: id, limit: maxOperations)) }
            operations.insert(id)
            return .start(id: id, request)
        case .complete(let id):
            // Unknown ids are ignored: the operation may have just completed on its own.
            guard operations.remove(id) != nil else { return .none }
            return .stop(id: id, acknowledge: subprotocol == .legacy)
        case .terminate:
            return close(.normal, "Normal closure")
        }
    }

    /// The token was accepted: the client gets its `connection_ack`.
    mutating func authenticated() -> Bool {
        guard phase == .authenticating else { return false }
        phase = .ready
        return true
    }

    /// The initialisation period ended: true if the client never sent `connection_init`.
    mutating func initTimedOut() -> Bool {
        guard phase == .awaitingInit else { return false }
        phase = .closed
        return true
    }

    /// The keep-alive's period ended. A ping unanswered for a whole period ends the connection,
    /// as Hummingbird's own WebSocket ping did (same period and close code) before this took its
    /// place.
    mutating func keepAliveDue() -> KeepAlive {
        guard phase != .closed else { return .none }
        guard subprotocol == .transport else { return .keepAlive }
        guard !pingUnanswered else {
            closed()
            return .close(.goingAway, "Ping timeout")
        }
        pingUnanswered = true
        return .ping
    }

    /// An operation ended by itself; true if the client must still be told (`complete`).
    mutating func finished(_ id: String) -> Bool {
        operations.remove(id) != nil && phase != .closed
    }

    mutating func closed() {
        phase = .closed
        operations.removeAll()
    }

    private mutating func close(_ code: WSCloseCode, _ reason: String) -> Action {
        closed()
        return .close(code, reason)
    }
}
