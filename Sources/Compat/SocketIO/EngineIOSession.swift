import Foundation
import NIOConcurrencyHelpers
import Resolvers

/// What a session hands to the layer above: the data of message packets, in order.
public enum EngineIOMessage: Sendable, Equatable {
    case text(String)
    case binary([UInt8])
}

/// A frame for a WebSocket handler to write; `close` ends its connection.
public enum EngineIOFrame: Sendable, Equatable {
    case text(String)
    case binary([UInt8])
    case close
}

/// Who opened the session: the handshake request's query and headers, for authentication above.
public struct EngineIORequestInfo: Sendable {
    public let query: [String: String]
    public let headers: [String: String]
    public let remoteAddress: String?

    public init(query: [String: String], headers: [String: String], remoteAddress: String?) {
        self.query = query
        self.headers = headers
        self.remoteAddress = remoteAddress
    }
}

/// One Engine.IO session: its transport (long-polling, then perhaps a WebSocket), the packets
/// waiting for the next poll, and the heartbeat. Its messages come out of `inbound`, which ends
/// when the session closes.
public actor EngineIOSession {
    public nonisolated let sid: String
    public nonisolated let request: EngineIORequestInfo
    public nonisolated let inbound: AsyncStream<EngineIOMessage>
    private let inboundContinuation: AsyncStream<EngineIOMessage>.Continuation
    private let configuration: EngineIOConfiguration
    private let onFinished: @Sendable (String) -> Void

    enum Transport { case polling, websocket(EngineIOWebSocketLink) }
    enum State { case open, closing, closed }

    private var transport: Transport
    /// The WebSocket now carrying the session, read without a hop onto the actor; set once what
    /// waited for polling is queued on it, so that nothing overtakes that.
    private nonisolated let writing = NIOLockedValueBox<EngineIOWebSocketLink?>(nil)
    private var state = State.open
    private var probe: EngineIOWebSocketLink?
    /// After `3probe`, the next poll is answered at once with a noop so the client can finish
    /// the upgrade (once: a probe that never completes must not make polls spin).
    private var noopOwed = false
    private var outbox: [EngineIOPacket] = []
    private var pendingPoll: CheckedContinuation<PollResult, Never>?
    private var awaitingPong = false
    private var lastPong = ContinuousClock.now
    /// The next ping, or the wait for its pong; kept by the server's `Deadlines`.
    private var heartbeat: Deadlines.Token?
    nonisolated let deadlines: Deadlines
    public private(set) var closeReason: String?

    public enum PollResult: Sendable, Equatable {
        case payload(String)
        case failure(EngineIOError)
    }

    init(
        sid: String, request: EngineIORequestInfo, websocket: EngineIOWebSocketLink?, configuration: EngineIOConfiguration,
        deadlines: Deadlines, onFinished: @escaping @Sendable (String) -> Void
    ) {
        self.sid = sid
        self.deadlines = deadlines
        self.request = request
        self.configuration = configuration
        self.onFinished = onFinished
        transport = websocket.map { .websocket($0) } ?? .polling
        writing.withLockedValue { $0 = websocket }
        (inbound, inboundContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingOldest(configuration.maxQueuedPackets))
    }

    /// Returns once fewer than `limit` frames wait for the WebSocket (at once over polling, whose
    /// queue is bounded by `maxQueuedPackets`).
    public nonisolated func room(below limit: Int) async {
        guard let link = writing.withLockedValue({ $0 }) else { return }
        await link.room(below: limit)
    }

    public var isWebSocket: Bool { if case .websocket = transport { true } else { false } }
    public var isOpen: Bool { state == .open }

    /// Sends the `open` packet and starts the heartbeat.
    func start() {
        let handshake = EngineIOHandshake(
            sid: sid, upgrades: !isWebSocket && configuration.allowUpgrades ? ["websocket"] : [],
            pingInterval: EngineIOConfiguration.milliseconds(configuration.pingInterval),
            pingTimeout: EngineIOConfiguration.milliseconds(configuration.pingTimeout), maxPayload: configuration.maxPayload)
        enqueue([.open(handshake.json)])
        lastPong = .now
        scheduleBeat()
    }

    // MARK: Sending

    public func send(_ message: EngineIOMessage) {
        enqueue([Self.packet(message)])
    }

    /// A live event's message: over a WebSocket, written by the calling task when the socket is
    /// free, with no hop onto the actor nor onto a writer task; over polling, like `send`.
    public nonisolated func deliver(_ text: String) async {
        guard let link = writing.withLockedValue({ $0 }) else { return await send(.text(text)) }
        if await !link.deliver(.message(text)) { await fellBehind(link) }
    }

    private func fellBehind(_ link: EngineIOWebSocketLink) {
        if case .websocket(let current) = transport, current.id == link.id { finish("transport error") }
    }

    /// Several messages that must arrive together (a Socket.IO packet and its attachments).
    public func send(_ messages: [EngineIOMessage]) {
        enqueue(messages.map(Self.packet))
    }

    static func packet(_ message: EngineIOMessage) -> EngineIOPacket {
        switch message {
        case .text(let text): .message(text)
        case .binary(let bytes): .binary(bytes)
        }
    }

    private func enqueue(_ packets: [EngineIOPacket]) {
        guard state == .open else { return }
        switch transport {
        case .websocket(let link):
            for packet in packets where !link.send(packet) {
                finish("transport error")
                return
            }
        case .polling:
            outbox.append(contentsOf: packets)
            if outbox.count > configuration.maxQueuedPackets {
                finish("transport error")
                return
            }
            if let poll = pendingPoll {
                pendingPoll = nil
                poll.resume(returning: .payload(drain()))
            }
        }
    }

    private func drain() -> String {
        let payload = EngineIOPacket.encodePayload(outbox)
        outbox.removeAll()
        return payload
    }

    // MARK: Long-polling

    /// A GET: what is waiting, or wait for something. A second GET while one waits is the
    /// reference's "overlap from client": the session closes.
    func poll() async -> PollResult {
        switch state {
        case .closed: return .failure(.unknownSid)
        case .closing:
            let payload = drain()
            finish(closeReason ?? "forced close")
            return .payload(payload.isEmpty ? EngineIOPacket.close.text : payload)
        case .open: break
        }
        guard case .polling = transport else { return .failure(.badRequest) }
        if let waiting = pendingPoll {
            pendingPoll = nil
            waiting.resume(returning: .payload(EngineIOPacket.close.text))
            finish("transport error")
            return .failure(.badRequest)
        }
        if !outbox.isEmpty { return .payload(drain()) }
        if noopOwed, probe != nil {
            noopOwed = false
            return .payload(EngineIOPacket.noop.text)
        }
        return await withCheckedContinuation { pendingPoll = $0 }
    }

    /// A POST: its packets, all well formed, or the session closes.
    func post(_ body: String) -> EngineIOError? {
        guard state == .open else { return .unknownSid }
        guard case .polling = transport else { return .badRequest }
        let packets: [EngineIOPacket]
        do {
            packets = try EngineIOPacket.decodePayload(body)
        } catch {
            finish("parse error")
            return .badRequest
        }
        for packet in packets where state == .open { handle(packet) }
        return nil
    }

    // MARK: WebSocket

    /// A WebSocket opened with this sid: it may become the transport after `2probe` and `5`.
    func attachProbe(_ link: EngineIOWebSocketLink) -> Bool {
        guard state == .open, case .polling = transport, probe == nil, configuration.allowUpgrades else { return false }
        probe = link
        let timeout = configuration.upgradeTimeout
        Task { [weak self] in
            try? await Task.sleep(for: timeout)
            await self?.abandonProbe(link)
        }
        return true
    }

    private func abandonProbe(_ link: EngineIOWebSocketLink) {
        guard probe?.id == link.id else { return }
        probe = nil
        link.close()
    }

    /// A text or binary frame from a WebSocket of this session.
    func received(_ frame: EngineIOMessage, on link: EngineIOWebSocketLink) {
        guard state == .open else { return }
        let packet: EngineIOPacket
        switch frame {
        case .binary(let bytes): packet = .binary(bytes)
        case .text(let text):
            do {
                packet = try EngineIOPacket.decode(text: text)
            } catch {
                if probe?.id == link.id { abandonProbe(link) } else { finish("parse error") }
                return
            }
        }
        if probe?.id == link.id {
            upgrading(packet, on: link)
        } else if case .websocket(let current) = transport, current.id == link.id {
            handle(packet)
        }
    }

    private func upgrading(_ packet: EngineIOPacket, on link: EngineIOWebSocketLink) {
        switch packet {
        case .ping("probe"):
            link.send(.pong("probe"))
            // Ends a waiting poll at once so that the client can send `5`.
            if let poll = pendingPoll {
                pendingPoll = nil
                poll.resume(returning: .payload(outbox.isEmpty ? EngineIOPacket.noop.text : drain()))
            } else {
                noopOwed = true
            }
        case .upgrade:
            probe = nil
            if let poll = pendingPoll {
                pendingPoll = nil
                poll.resume(returning: .payload(EngineIOPacket.noop.text))
            }
            transport = .websocket(link)
            let waiting = outbox
            outbox.removeAll()
            enqueue(waiting)
            writing.withLockedValue { $0 = link }
        default:
            abandonProbe(link)
        }
    }

    /// The WebSocket ended (the peer closed it or the connection dropped).
    func closed(_ link: EngineIOWebSocketLink) {
        if probe?.id == link.id {
            probe = nil
            return
        }
        if case .websocket(let current) = transport, current.id == link.id { finish("transport close") }
    }

    // MARK: Packets

    private func handle(_ packet: EngineIOPacket) {
        switch packet {
        case .message(let text): deliver(.text(text))
        case .binary(let bytes): deliver(.binary(bytes))
        case .pong:
            awaitingPong = false
            lastPong = .now
        case .close:
            finish("transport close", clientInitiated: true)
        case .noop:
            break
        case .ping, .open, .upgrade:
            // v4 heartbeats go from server to client; anything else here is a broken client.
            finish("parse error")
        }
    }

    private func deliver(_ message: EngineIOMessage) {
        if case .dropped = inboundContinuation.yield(message) { finish("transport error") }
    }

    // MARK: Heartbeat

    private func scheduleBeat() {
        heartbeat = deadlines.schedule(at: lastPong + configuration.pingInterval) { [weak self] in
            guard let self else { return }
            Task { await self.pingDue() }
        }
    }

    private func pingDue() {
        guard state == .open else { return }
        awaitingPong = true
        enqueue([.ping("")])
        heartbeat = deadlines.schedule(after: configuration.pingTimeout) { [weak self] in
            guard let self else { return }
            Task { await self.pongDue() }
        }
    }

    private func pongDue() {
        guard state == .open else { return }
        if awaitingPong {
            finish("ping timeout")
        } else {
            scheduleBeat()
        }
    }

    private func stopBeat() {
        if let heartbeat { deadlines.cancel(heartbeat) }
        heartbeat = nil
    }

    // MARK: Closing

    /// Closes from the server side. A polling client is told by a `close` packet, at once if it
    /// is waiting or on its next poll (the session lingers one ping timeout for it).
    public func close(reason: String = "forced close") {
        guard state == .open else { return }
        switch transport {
        case .websocket:
            finish(reason)
        case .polling:
            outbox.append(.close)
            if let poll = pendingPoll {
                pendingPoll = nil
                poll.resume(returning: .payload(drain()))
                finish(reason)
                return
            }
            state = .closing
            closeReason = reason
            inboundContinuation.finish()
            stopBeat()
            let grace = configuration.pingTimeout
            Task { [weak self] in
                try? await Task.sleep(for: grace)
                await self?.finish(reason)
            }
        }
    }

    private func finish(_ reason: String, clientInitiated: Bool = false) {
        guard state != .closed else { return }
        state = .closed
        if closeReason == nil { closeReason = reason }
        stopBeat()
        inboundContinuation.finish()
        if let poll = pendingPoll {
            pendingPoll = nil
            poll.resume(returning: .payload(clientInitiated ? EngineIOPacket.noop.text : EngineIOPacket.close.text))
        }
        outbox.removeAll()
        probe?.close()
        probe = nil
        if case .websocket(let link) = transport { link.close() }
        onFinished(sid)
    }
}
