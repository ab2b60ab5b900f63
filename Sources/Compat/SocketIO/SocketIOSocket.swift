import NIOConcurrencyHelpers

/// What a namespace answers to a CONNECT.
public enum SocketIOConnectDecision: Sendable {
    case accept(any SocketIOEventHandler)
    /// The CONNECT_ERROR payload, `{message}` (and optionally `data`) as the reference sends it.
    case refuse(JSONValue)

    public static func refuse(message: String) -> SocketIOConnectDecision { .refuse(.object(["message": .string(message)])) }
}

/// The events of one connected socket, called in the order the client sent them.
public protocol SocketIOEventHandler: Sendable {
    /// Before the CONNECT reply: what it carries besides `sid` (such as a recovery `pid`). Events
    /// emitted here reach the client before the reply (a recovering client's missed events).
    func connectReply() async -> [JSONMember]
    /// Right after the CONNECT reply has been queued.
    func connected() async
    func event(_ name: String, _ args: [JSONValue], ack: SocketIOAck?) async
    func disconnected(reason: String) async
}

extension SocketIOEventHandler {
    public func connectReply() async -> [JSONMember] { [] }
    public func connected() async {}
}

/// One namespace a client can connect to.
public struct SocketIONamespace: Sendable {
    public let name: String
    public let connect: @Sendable (SocketIOSocket) async -> SocketIOConnectDecision

    public init(_ name: String, connect: @escaping @Sendable (SocketIOSocket) async -> SocketIOConnectDecision) {
        self.name = name
        self.connect = connect
    }
}

/// The acknowledgement callback of one client event; only the first answer is sent.
public struct SocketIOAck: Sendable {
    let answer: @Sendable ([JSONValue]) async -> Void

    public func callAsFunction(_ args: JSONValue...) async { await answer(args) }
    public func send(_ args: [JSONValue]) async { await answer(args) }
}

/// A client connected to one namespace over one Engine.IO session.
public final class SocketIOSocket: Sendable {
    public let id: String
    public let namespace: String
    /// The CONNECT payload (`socket.handshake.auth` in the reference).
    public let auth: JSONValue?
    public let request: EngineIORequestInfo
    let session: EngineIOSession
    private let connected = NIOLockedValueBox(true)
    private let onDisconnect: @Sendable (SocketIOSocket) async -> Void

    init(
        id: String, namespace: String, auth: JSONValue?, session: EngineIOSession,
        onDisconnect: @escaping @Sendable (SocketIOSocket) async -> Void
    ) {
        self.id = id
        self.namespace = namespace
        self.auth = auth
        self.request = session.request
        self.session = session
        self.onDisconnect = onDisconnect
    }

    public var isConnected: Bool { connected.withLockedValue { $0 } }

    func markDisconnected() -> Bool {
        connected.withLockedValue { was in
            defer { was = false }
            return was
        }
    }

    public func emit(_ event: String, _ args: JSONValue...) async {
        await emit(event, args: args)
    }

    public func emit(_ event: String, args: [JSONValue]) async {
        guard isConnected else { return }
        await send(SocketIOPacket(.event, namespace: namespace, data: .array([.string(event)] + args)))
    }

    /// Sends an event packet made by `encodedEvent`: events that go alike to many sockets are
    /// encoded once.
    public func emit(encoded text: String) async {
        guard isConnected else { return }
        await session.deliver(text)
    }

    /// The packet text of an event on `namespace`; nil when it carries binary data (attachments
    /// go as packets of their own).
    public static func encodedEvent(_ event: String, namespace: String, args: [JSONValue]) -> String? {
        let (text, attachments) = SocketIOPacket(.event, namespace: namespace, data: .array([.string(event)] + args)).encode()
        return attachments.isEmpty ? text : nil
    }

    /// Returns once fewer than `limit` frames wait to be written to the client.
    public func room(below limit: Int) async {
        await session.room(below: limit)
    }

    func send(_ packet: SocketIOPacket) async {
        let (text, attachments) = packet.encode()
        await session.send([.text(text)] + attachments.map { .binary($0) })
    }

    /// From the server side: the client is told with a DISCONNECT packet.
    public func disconnect() async {
        await onDisconnect(self)
    }
}
