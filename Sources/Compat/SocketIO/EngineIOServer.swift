import Foundation
import NIOConcurrencyHelpers
import Resolvers
import ServiceLifecycle

/// The Engine.IO sessions of one gateway process, and the protocol checks of every request
/// before it reaches a session. A Service so that shutdown closes every session.
public final class EngineIOServer: Service, Sendable {
    public let configuration: EngineIOConfiguration
    private let sessions = NIOLockedValueBox([String: EngineIOSession]())
    private let onSession: @Sendable (EngineIOSession) async -> Void
    /// Every session's heartbeat and every socket's time limits, on one task.
    public let deadlines = Deadlines()

    /// `onSession` runs once per session, for its whole life (it reads `inbound` until it ends).
    public init(configuration: EngineIOConfiguration, onSession: @escaping @Sendable (EngineIOSession) async -> Void) {
        self.configuration = configuration
        self.onSession = onSession
    }

    public var sessionCount: Int { sessions.withLockedValue { $0.count } }

    public func session(_ sid: String) -> EngineIOSession? { sessions.withLockedValue { $0[sid] } }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await self.deadlines.run() }
            try? await gracefulShutdown()
            await closeAll(reason: "server shutting down")
            group.cancelAll()
        }
    }

    /// Ends every session as the reference server does on close: polling clients get a close
    /// packet, WebSocket clients a closed socket; either way they reconnect.
    public func closeAll(reason: String) async {
        let all = sessions.withLockedValue { Array($0.values) }
        for session in all { await session.close(reason: reason) }
    }

    // MARK: Requests

    /// The parts of an HTTP request the protocol looks at.
    public struct Incoming: Sendable {
        public var method: String
        public var query: [String: String]
        public var headers: [String: String]
        public var remoteAddress: String?
        public var isUpgrade: Bool

        public init(method: String, query: [String: String], headers: [String: String], remoteAddress: String?, isUpgrade: Bool) {
            self.method = method
            self.query = query
            self.headers = headers
            self.remoteAddress = remoteAddress
            self.isUpgrade = isUpgrade
        }
    }

    public struct Answer: Sendable, Equatable {
        public var status: Int
        public var contentType: String
        public var body: String
    }

    /// Checks shared by polling requests and WebSocket upgrades, as the reference orders them.
    public func verify(_ request: Incoming) -> EngineIOError? {
        guard let transport = request.query["transport"], transport == "polling" || transport == "websocket" else {
            return .unknownTransport
        }
        if let sid = request.query["sid"] {
            guard let session = session(sid) else { return .unknownSid }
            _ = session
            if transport == "websocket", !request.isUpgrade { return .badRequest }
            return nil
        }
        guard request.method == "GET" else { return .badHandshakeMethod }
        guard request.query["EIO"] == "4" else { return .unsupportedProtocolVersion }
        if transport == "websocket", !request.isUpgrade { return .badRequest }
        guard sessionCount < configuration.maxSessions else { return .forbidden }
        return nil
    }

    /// A long-polling request: handshake, GET (poll) or POST (send). `body` is read only for a POST,
    /// at most `maxPayload` bytes (nil when larger).
    public func polling(_ request: Incoming, body: () async throws -> String?) async -> Answer {
        if let error = verify(request) { return Self.failure(error) }
        guard let sid = request.query["sid"] else {
            let session = await open(request, websocket: nil)
            let result = await session.poll()
            return Self.response(result)
        }
        guard let session = session(sid) else { return Self.failure(.unknownSid) }
        switch request.method {
        case "GET":
            return Self.response(await session.poll())
        case "POST":
            let text: String?
            do {
                text = try await body()
            } catch {
                return Self.failure(.badRequest)
            }
            guard let text else {
                await session.close(reason: "transport error")
                return Answer(status: 413, contentType: "text/plain; charset=UTF-8", body: "Payload Too Large")
            }
            if let error = await session.post(text) { return Self.failure(error) }
            return Answer(status: 200, contentType: "text/html", body: "ok")
        default:
            return Self.failure(.badRequest)
        }
    }

    // MARK: WebSocket

    /// A WebSocket that passed `verify`: a new session, or a probe to upgrade an existing one.
    /// `write` sends one frame on the connection (`close` closes it); the caller feeds received
    /// frames to `received` until `link.untilDone()` returns or the peer goes.
    public func webSocket(
        _ request: Incoming, write: @escaping EngineIOWebSocketLink.Write
    ) async -> (EngineIOSession, EngineIOWebSocketLink)? {
        let link = EngineIOWebSocketLink(bufferSize: configuration.maxQueuedPackets, write: write)
        if let sid = request.query["sid"] {
            guard let session = session(sid), await session.attachProbe(link) else { return nil }
            return (session, link)
        }
        return (await open(request, websocket: link), link)
    }

    // MARK: Sessions

    private func open(_ request: Incoming, websocket: EngineIOWebSocketLink?) async -> EngineIOSession {
        let info = EngineIORequestInfo(query: request.query, headers: request.headers, remoteAddress: request.remoteAddress)
        let session = EngineIOSession(
            sid: Self.newSid(), request: info, websocket: websocket, configuration: configuration,
            deadlines: deadlines, onFinished: { [weak self] sid in _ = self?.sessions.withLockedValue { $0.removeValue(forKey: sid) } })
        sessions.withLockedValue { $0[session.sid] = session }
        await session.start()
        let onSession = self.onSession
        Task.detached {
            await onSession(session)
            await session.close(reason: "server namespace disconnect")
        }
        return session
    }

    /// 15 random bytes in URL-safe base64, 20 characters, like the reference's ids.
    static func newSid() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<15).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    }

    static func response(_ result: EngineIOSession.PollResult) -> Answer {
        switch result {
        case .payload(let text): Answer(status: 200, contentType: "text/plain; charset=UTF-8", body: text)
        case .failure(let error): failure(error)
        }
    }

    static func failure(_ error: EngineIOError) -> Answer {
        Answer(status: error == .forbidden ? 403 : 400, contentType: "application/json", body: error.json)
    }
}
