import ArgumentParser
import Compat
import Hummingbird
import HummingbirdWebSocket
import Logging

/// `messagerie socketio-conformance`: the reference configuration of the official Engine.IO and
/// Socket.IO test suites, served by the production protocol code without the messaging events
/// (and without a database).
struct SocketIOConformance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "socketio-conformance",
        abstract: "Serve the Socket.IO (/socket.io/) and Engine.IO (/engine.io/) endpoints the official protocol test suites expect.")

    @Option(help: "Port to listen on.") var port = 3000
    @Option(help: "Address to bind.") var host = "127.0.0.1"

    func run() async throws {
        var logger = Logger(label: "messagerie.socketio-conformance")
        logger.logLevel = .notice
        let app = buildConformanceApplication(host: host, port: port, logger: logger)
        logger.notice("serving the Socket.IO conformance endpoints", metadata: ["port": "\(port)"])
        try await app.runService()
    }
}

func buildConformanceApplication(host: String, port: Int, logger: Logger) -> some ApplicationProtocol {
    let router = Router(context: AppRequestContext.self)
    let webSocketRouter = Router(context: AppWebSocketContext.self)
    let socketIO = ConformanceServers.socketIO()
    socketIO.engine.addPollingRoutes(to: router, path: "/socket.io")
    socketIO.engine.addWebSocketRoute(to: webSocketRouter, path: "/socket.io")
    let engineIO = ConformanceServers.engineIO()
    engineIO.addPollingRoutes(to: router, path: "/engine.io")
    engineIO.addWebSocketRoute(to: webSocketRouter, path: "/engine.io")
    return Application(
        router: router,
        server: .http1WebSocketUpgrade(webSocketRouter: webSocketRouter, configuration: .init(ws: .init(maxFrameSize: 1_000_000, autoPing: .disabled))),
        configuration: .init(address: .hostname(host, port: port), serverName: "messagerie"),
        services: [socketIO.engine, engineIO],
        logger: logger)
}
