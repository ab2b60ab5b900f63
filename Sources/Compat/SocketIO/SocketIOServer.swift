import Foundation

public struct SocketIOConfiguration: Sendable {
    public var engine = EngineIOConfiguration()
    /// A session that has joined no namespace after this long is closed.
    public var connectTimeout: Duration = .seconds(45)
    public init() {}
}

/// Socket.IO v5 over Engine.IO: namespaces, CONNECT/DISCONNECT, events and acknowledgements.
public final class SocketIOServer: Sendable {
    public let engine: EngineIOServer
    public let namespaces: [String: SocketIONamespace]

    public init(configuration: SocketIOConfiguration, namespaces: [SocketIONamespace]) {
        let table = Dictionary(namespaces.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.namespaces = table
        let timeout = configuration.connectTimeout
        engine = EngineIOServer(configuration: configuration.engine) { session in
            await SocketIOClient(session: session, namespaces: table, connectTimeout: timeout).run()
        }
    }
}

/// The Socket.IO side of one Engine.IO session: its decoder and its connected namespaces.
actor SocketIOClient {
    let session: EngineIOSession
    let namespaces: [String: SocketIONamespace]
    let connectTimeout: Duration
    private var decoder = SocketIODecoder()
    private var sockets: [String: (socket: SocketIOSocket, handler: any SocketIOEventHandler)] = [:]
    private var connecting: Set<String> = []

    init(session: EngineIOSession, namespaces: [String: SocketIONamespace], connectTimeout: Duration) {
        self.session = session
        self.namespaces = namespaces
        self.connectTimeout = connectTimeout
    }

    /// The session's whole life is spent waiting in this frame, and Swift keeps the largest
    /// stack of async frames a task ever had until the task ends: decoding and the last
    /// disconnections happen in functions of their own, whose frames exist only while they run
    /// (inline, this frame took about 1.5 KB per connection; heaptrack).
    func run() async {
        let watchdog = session.deadlines.schedule(after: connectTimeout) { [weak self] in
            guard let self else { return }
            Task { await self.closeIfUnconnected() }
        }
        defer { session.deadlines.cancel(watchdog) }
        for await message in session.inbound {
            guard let decoded = decode(message) else {
                await session.close(reason: "parse error")
                break
            }
            // Handled in a child task: a connect or an event grows the stack of the task it runs in
            // (authentication, database queries), and Swift keeps a task's stack until the task
            // ends; this one lasts as long as the session.
            if let packet = decoded { await withTaskGroup(of: Void.self) { group in group.addTask { await self.handle(packet) } } }
        }
        await disconnectAll()
    }

    /// `.some(packet)` when `message` completes a packet, `.some(nil)` while a packet still
    /// waits for its binary attachments, `nil` when the message is malformed.
    @inline(never)
    private func decode(_ message: EngineIOMessage) -> SocketIOPacket?? {
        do {
            switch message {
            case .text(let text): return .some(try decoder.receive(text: text))
            case .binary(let bytes): return .some(try decoder.receive(binary: bytes))
            }
        } catch {
            return nil
        }
    }

    @inline(never)
    private func disconnectAll() async {
        let reason = await session.closeReason ?? "transport close"
        let remaining = sockets.values
        sockets.removeAll()
        for (socket, handler) in remaining where socket.markDisconnected() {
            await handler.disconnected(reason: reason)
        }
    }

    private func closeIfUnconnected() async {
        if sockets.isEmpty, connecting.isEmpty { await session.close(reason: "connect timeout") }
    }

    private func handle(_ packet: SocketIOPacket) async {
        switch packet.kind {
        case .connect:
            await connect(packet)
        case .disconnect:
            guard let entry = sockets.removeValue(forKey: packet.namespace), entry.socket.markDisconnected() else { return }
            await entry.handler.disconnected(reason: "client namespace disconnect")
        case .event, .binaryEvent:
            guard let entry = sockets[packet.namespace], case .array(let items)? = packet.data,
                  let name = items.first?.stringValue
            else { return }
            let ack = packet.ackId.map { id in
                let socket = entry.socket
                return SocketIOAck { args in
                    guard socket.isConnected else { return }
                    await socket.send(SocketIOPacket(.ack, namespace: socket.namespace, ackId: id, data: .array(args)))
                }
            }
            await entry.handler.event(name, Array(items.dropFirst()), ack: ack)
        case .ack, .binaryAck, .connectError:
            // The server emits no events expecting acknowledgements; a CONNECT_ERROR from a client means nothing.
            break
        }
    }

    private func connect(_ packet: SocketIOPacket) async {
        let name = packet.namespace
        guard sockets[name] == nil, !connecting.contains(name) else { return }
        guard let namespace = namespaces[name] else {
            await send(SocketIOPacket(.connectError, namespace: name, data: .object(["message": "Invalid namespace"])))
            return
        }
        connecting.insert(name)
        defer { connecting.remove(name) }
        let socket = SocketIOSocket(id: EngineIOServer.newSid(), namespace: name, auth: packet.data, session: session) { [weak self] socket in
            await self?.serverDisconnect(socket)
        }
        switch await namespace.connect(socket) {
        case .refuse(let data):
            await send(SocketIOPacket(.connectError, namespace: name, data: data))
        case .accept(let handler):
            guard await session.isOpen else {
                _ = socket.markDisconnected()
                await handler.disconnected(reason: "transport close")
                return
            }
            sockets[name] = (socket, handler)
            let extras = await handler.connectReply()
            await send(SocketIOPacket(.connect, namespace: name, data: .object([JSONMember("sid", .string(socket.id))] + extras)))
            await handler.connected()
        }
    }

    private func serverDisconnect(_ socket: SocketIOSocket) async {
        guard let entry = sockets[socket.namespace], entry.socket === socket, socket.markDisconnected() else { return }
        sockets[socket.namespace] = nil
        await send(SocketIOPacket(.disconnect, namespace: socket.namespace))
        await entry.handler.disconnected(reason: "server namespace disconnect")
    }

    private func send(_ packet: SocketIOPacket) async {
        let (text, attachments) = packet.encode()
        await session.send([.text(text)] + attachments.map { .binary($0) })
    }
}
