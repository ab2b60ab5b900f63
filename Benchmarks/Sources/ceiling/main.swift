import Hummingbird
import HummingbirdWebSocket
import NIOConcurrencyHelpers

/// The framework's own limit for fan-out: every text frame a client sends is written to every
/// other connected client. No GraphQL, no JSON, no database; the same Hummingbird WebSocket stack
/// the gateway uses, so "full stack / ceiling" shows what the layers above it cost.
final class Room: Sendable {
    private let members = NIOLockedValueBox<[Int: AsyncStream<String>.Continuation]>([:])
    private let counter = NIOLockedValueBox(0)

    func join() -> (Int, AsyncStream<String>) {
        let id = counter.withLockedValue { $0 += 1; return $0 }
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .unbounded)
        members.withLockedValue { $0[id] = continuation }
        return (id, stream)
    }

    func leave(_ id: Int) {
        members.withLockedValue { $0.removeValue(forKey: id) }?.finish()
    }

    func broadcast(_ text: String, from sender: Int) {
        let targets = members.withLockedValue { Array($0.filter { $0.key != sender }.values) }
        for target in targets { target.yield(text) }
    }
}

let port = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 4090
let room = Room()
let router = Router(context: BasicWebSocketRequestContext.self)
router.ws("/ws") { inbound, outbound, _ in
    let (id, stream) = room.join()
    defer { room.leave(id) }
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            for await text in stream { try await outbound.write(.text(text)) }
        }
        for try await message in inbound.messages(maxSize: 1 << 20) {
            if case .text(let text) = message { room.broadcast(text, from: id) }
        }
        group.cancelAll()
    }
}
let app = Application(router: Router(), server: .http1WebSocketUpgrade(webSocketRouter: router),
                      configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
