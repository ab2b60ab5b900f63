/// The servers the official `socketio/engine.io-protocol` and `socketio/socket.io-protocol` test
/// suites expect (their READMEs): the same Engine.IO and Socket.IO code as production, with
/// echo handlers instead of the messaging events.
public enum ConformanceServers {
    /// Their reference configuration: short heartbeats so that timeouts are observable.
    public static var configuration: SocketIOConfiguration {
        var configuration = SocketIOConfiguration()
        configuration.engine.pingInterval = .milliseconds(300)
        configuration.engine.pingTimeout = .milliseconds(200)
        configuration.engine.maxPayload = 1_000_000
        configuration.engine.allowedOrigins = ["*"]
        configuration.connectTimeout = .milliseconds(1000)
        return configuration
    }

    /// `/` emits `auth` with the CONNECT payload, echoes `message` as `message-back` and answers
    /// `message-with-ack` with its arguments; `/custom` emits `auth`.
    public static func socketIO(_ configuration: SocketIOConfiguration = Self.configuration) -> SocketIOServer {
        SocketIOServer(configuration: configuration, namespaces: [
            SocketIONamespace("/") { socket in .accept(Echo(socket: socket)) },
            SocketIONamespace("/custom") { socket in .accept(Echo(socket: socket)) },
        ])
    }

    /// A bare Engine.IO server echoing every message.
    public static func engineIO(_ configuration: EngineIOConfiguration = Self.configuration.engine) -> EngineIOServer {
        EngineIOServer(configuration: configuration) { session in
            for await message in session.inbound { await session.send(message) }
        }
    }

    struct Echo: SocketIOEventHandler {
        let socket: SocketIOSocket

        func connected() async {
            await socket.emit("auth", socket.auth ?? .object([:]))
        }

        func event(_ name: String, _ args: [JSONValue], ack: SocketIOAck?) async {
            switch name {
            case "message" where socket.namespace == "/": await socket.emit("message-back", args: args)
            case "message-with-ack" where socket.namespace == "/": await ack?.send(args)
            default: break
            }
        }

        func disconnected(reason: String) async {}
    }
}
