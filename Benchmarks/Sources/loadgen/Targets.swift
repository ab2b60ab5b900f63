import BenchCore
import Foundation
import NIOConcurrencyHelpers
import NIOCore

struct BenchUser: Codable, Sendable {
    let id: String
    let token: String
}

/// How the load generator reaches one server: who the users are, how a conversation is made, how a
/// recipient listens and how a sender sends. Scenarios are written once against this.
enum Protocol: String { case graphql, socketio, ceiling }

struct Target: Sendable {
    let name: String
    let proto: Protocol
    /// Messagerie signs users in through OTP; the peers have a set-up route (their auth is a user id).
    let isMessagerie: Bool
    let host: String
    let port: Int
    let http: HTTPJSON
    let group: EventLoopGroup
    let sources: [String]
    let termii: FakeTermii?
    let usersCache: String?

    static func named(_ name: String) -> (Protocol, Bool)? {
        switch name {
        case "messagerie-graphql": (.graphql, true)
        case "messagerie-socketio": (.socketio, true)
        case "peer-graphql": (.graphql, false)
        case "peer-socketio": (.socketio, false)
        case "ceiling": (.ceiling, false)
        default: nil
        }
    }

    func source(_ index: Int) -> String? { sources.isEmpty ? nil : sources[index % sources.count] }

    // MARK: users and conversations

    func users(_ count: Int) async throws -> [BenchUser] {
        switch (proto, isMessagerie) {
        case (.ceiling, _):
            return (0..<count).map { BenchUser(id: "u\($0)", token: "") }
        case (_, false):
            let answer = try await http.postJSON(path: "/setup/users", object: ["count": count])
            guard let list = answer as? [[String: Any]], list.count == count else { throw HTTPJSON.Failed(description: "peer /setup/users answered badly") }
            return list.map { BenchUser(id: "\($0["id"]!)", token: "\($0["token"]!)") }
        case (_, true):
            return try await signIn(count)
        }
    }

    static func phone(_ index: Int) -> String { "+23481" + String(format: "%08d", index) }

    /// Real sign-in through `requestOtp` and `verifyOtp`, the code read back from the fake Termii;
    /// kept in a cache file so the next target on the same server does not sign in again.
    private func signIn(_ count: Int) async throws -> [BenchUser] {
        guard let termii else { throw HTTPJSON.Failed(description: "Messagerie targets need --termii-port") }
        var cache: [String: BenchUser] = [:]
        if let usersCache, let data = FileManager.default.contents(atPath: usersCache) {
            cache = (try? JSONDecoder().decode([String: BenchUser].self, from: data)) ?? [:]
        }
        let missing = (0..<count).filter { cache[Self.phone($0)] == nil }
        if !missing.isEmpty {
            log("signing in \(missing.count) users through requestOtp/verifyOtp")
            let started = ContinuousClock.now
            let http = self.http
            let fresh = try await boundedMap(missing, limit: 24) { index -> (String, BenchUser) in
                let phone = Self.phone(index)
                _ = try await http.graphQL("mutation($p: String!) { requestOtp(phone: $p) { phone } }", variables: ["p": phone], token: nil)
                let code = await termii.code(for: phone)
                let data = try await http.graphQL(
                    "mutation($p: String!, $c: String!, $n: String) { verifyOtp(phone: $p, code: $c, displayName: $n) { accessToken user { id } } }",
                    variables: ["p": phone, "c": code, "n": "Bench \(index)"], token: nil)
                guard let payload = data["verifyOtp"] as? [String: Any], let token = payload["accessToken"] as? String,
                      let user = payload["user"] as? [String: Any], let id = user["id"] as? String
                else { throw HTTPJSON.Failed(description: "verifyOtp answered without a token") }
                return (phone, BenchUser(id: id, token: token))
            }
            for (phone, user) in fresh { cache[phone] = user }
            log("signed in \(missing.count) users in \(started.duration(to: .now))")
            if let usersCache { try JSONEncoder().encode(cache).write(to: URL(fileURLWithPath: usersCache)) }
        }
        return (0..<count).map { cache[Self.phone($0)]! }
    }

    func makeGroup(_ members: [BenchUser]) async throws -> String {
        switch (proto, isMessagerie) {
        case (.ceiling, _):
            return "all"
        case (_, false):
            let answer = try await http.postJSON(path: "/setup/group", object: ["memberIds": members.map(\.id)])
            guard let object = answer as? [String: Any], let id = object["conversationId"] else { throw HTTPJSON.Failed(description: "peer /setup/group answered badly") }
            return "\(id)"
        case (_, true):
            let data = try await http.graphQL(
                "mutation($t: String!, $m: [ID!]!) { createGroup(input: {title: $t, memberIds: $m}) { id } }",
                variables: ["t": "bench \(members.count)", "m": members.dropFirst().map(\.id)], token: members[0].token)
            guard let group = data["createGroup"] as? [String: Any], let id = group["id"] as? String else { throw HTTPJSON.Failed(description: "createGroup gave no id") }
            return id
        }
    }

    func makeDirect(_ a: BenchUser, _ b: BenchUser) async throws -> String {
        if !isMessagerie {
            let answer = try await http.postJSON(path: "/setup/direct", object: ["a": a.id, "b": b.id])
            guard let object = answer as? [String: Any], let id = object["conversationId"] else { throw HTTPJSON.Failed(description: "peer /setup/direct answered badly") }
            return "\(id)"
        }
        let data = try await http.graphQL(
            "mutation($r: ID!) { sendMessage(input: {recipientId: $r, text: \"hello\"}) { conversation { id } } }",
            variables: ["r": b.id], token: a.token)
        guard let message = data["sendMessage"] as? [String: Any], let conversation = message["conversation"] as? [String: Any],
              let id = conversation["id"] as? String else { throw HTTPJSON.Failed(description: "first direct message gave no conversation") }
        return id
    }

    // MARK: connections

    static let receivedQuery = "subscription { messageReceived { mid: id text } }"
    static let statusQuery = "subscription { messageStatusChanged { status message { text } } }"

    /// A connection of `user` that receives new messages (and, for GraphQL, also the extra
    /// subscriptions given); `onFrame` sees every application frame after set-up.
    func connect(_ user: BenchUser, index: Int, subscriptions: [String] = [Target.receivedQuery],
                 onFrame: @escaping @Sendable (ByteBuffer, WSConnection) -> Void) async throws -> Session {
        switch proto {
        case .ceiling:
            let connection = try await WSConnection.connect(host: host, port: port, path: "/ws", subprotocol: nil, source: source(index), group: group)
            connection.setHandler(onFrame)
            return Session(connection: connection, acks: nil)
        case .graphql:
            let connection = try await WSConnection.connect(host: host, port: port, path: "/graphql", subprotocol: "graphql-transport-ws", source: source(index), group: group)
            _ = try await connection.expect(sending: GraphQLWSFrame.connectionInit(token: user.token)) {
                GraphQLWSFrame.kind(of: $0.readableBytesView) == .connectionAck
            }
            connection.setHandler { buffer, connection in
                if GraphQLWSFrame.kind(of: buffer.readableBytesView) == .ping { connection.send(GraphQLWSFrame.pong); return }
                onFrame(buffer, connection)
            }
            for (n, query) in subscriptions.enumerated() {
                connection.send(GraphQLWSFrame.subscribe(id: String(n + 1), query: query))
            }
            // A ping answered after the subscribe frames: the server has read them (Messagerie makes
            // a subscription live before reading the next frame).
            _ = try await connection.expect(sending: "{\"type\":\"ping\"}") { GraphQLWSFrame.kind(of: $0.readableBytesView) == .pong }
            return Session(connection: connection, acks: nil)
        case .socketio:
            let connection = try await WSConnection.connect(host: host, port: port, path: "/socket.io/?EIO=4&transport=websocket", subprotocol: nil, source: source(index), group: group)
            _ = try await connection.expect(sending: nil) { $0.readableBytesView.first == UInt8(ascii: "0") }
            let acks = AckBook()
            let auth = "{\"token\":\(GraphQLWSFrame.json(user.token))}"
            let reply = try await connection.expect(sending: "40" + auth) { bytes in
                let view = bytes.readableBytesView
                return view.starts(with: Array("40".utf8)) || view.starts(with: Array("44".utf8))
            }
            guard reply.readableBytesView.starts(with: Array("40".utf8)) else {
                throw HTTPJSON.Failed(description: "Socket.IO connect refused: \(String(buffer: reply).prefix(200))")
            }
            connection.setHandler { buffer, connection in
                let view = buffer.readableBytesView
                guard let first = view.first else { return }
                if first == UInt8(ascii: "2") { connection.send("3" + String(decoding: view.dropFirst(), as: UTF8.self)); return }
                if view.starts(with: Array("43".utf8)) { acks.settle(buffer); return }
                if view.starts(with: Array("42".utf8)) { onFrame(buffer, connection) }
            }
            return Session(connection: connection, acks: acks)
        }
    }

    // MARK: sending

    /// Sends one message into a conversation; GraphQL over HTTP, Socket.IO as an event with an
    /// acknowledgement on the sender's own connection, the ceiling as a bare frame.
    func send(text: String, conversationId: String, sender: BenchUser, session: Session?) async throws {
        switch proto {
        case .ceiling:
            session!.connection.send(text)
        case .graphql:
            _ = try await http.graphQL(
                "mutation($c: ID!, $t: String!) { sendMessage(input: {conversationId: $c, text: $t}) { id } }",
                variables: ["c": conversationId, "t": text], token: sender.token)
        case .socketio:
            let session = session!
            let payload = "{\"conversationId\":\(GraphQLWSFrame.json(conversationId)),\"content\":\(GraphQLWSFrame.json(text))}"
            let answer = try await session.acks!.call(on: session.connection, event: "sendMessage", payload: payload)
            guard answer.contains("\"ok\":true") else { throw HTTPJSON.Failed(description: "sendMessage refused: \(answer.prefix(200))") }
        }
    }
}

struct Session: Sendable {
    let connection: WSConnection
    let acks: AckBook?
}

/// Socket.IO acknowledgements waiting for their `43<id>[...]` packet.
final class AckBook: Sendable {
    private let state = NIOLockedValueBox<(next: Int, waiting: [Int: CheckedContinuation<String, Never>])>((0, [:]))

    func call(on connection: WSConnection, event: String, payload: String) async throws -> String {
        await withCheckedContinuation { continuation in
            let id = state.withLockedValue { state -> Int in
                state.next += 1
                state.waiting[state.next] = continuation
                return state.next
            }
            connection.send("42\(id)[\(GraphQLWSFrame.json(event)),\(payload)]")
        }
    }

    func settle(_ buffer: ByteBuffer) {
        let text = String(buffer: buffer)
        guard let frame = try? EngineIOFrame.parse(text), case .message(let packet) = frame, let id = packet.ackId else { return }
        let waiter = state.withLockedValue { $0.waiting.removeValue(forKey: id) }
        waiter?.resume(returning: packet.json)
    }

    /// Connections that close leave no caller hanging.
    func failAll() {
        let all = state.withLockedValue { state in defer { state.waiting = [:] }; return state.waiting }
        for waiter in all.values { waiter.resume(returning: "{\"ok\":false,\"error\":\"closed\"}") }
    }
}

func log(_ text: String) {
    FileHandle.standardError.write(Data("[loadgen \(Date().formatted(.iso8601.time(includingFractionalSeconds: false)))] \(text)\n".utf8))
}

/// Runs `body` on every element with at most `limit` at once, keeping the input order.
func boundedMap<T: Sendable, R: Sendable>(_ items: [T], limit: Int, _ body: @escaping @Sendable (T) async throws -> R) async throws -> [R] {
    try await withThrowingTaskGroup(of: (Int, R).self) { group in
        var results = [R?](repeating: nil, count: items.count)
        var next = 0
        while next < min(limit, items.count) {
            let i = next
            group.addTask { (i, try await body(items[i])) }
            next += 1
        }
        while let (i, r) = try await group.next() {
            results[i] = r
            if next < items.count {
                let j = next
                group.addTask { (j, try await body(items[j])) }
                next += 1
            }
        }
        return results.map { $0! }
    }
}
