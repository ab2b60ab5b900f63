import Compat
import Hummingbird
import Resolvers
import ServiceLifecycle

/// The Socket.IO door: long-polling on the HTTP router, the WebSocket transport on the upgrade
/// router, and the Engine.IO sessions as a service (closed on shutdown). Compat gets a way to
/// check tokens, never the keys.
enum SocketIOWiring {
    static let path = "/socket.io"

    static func add(
        router: Router<AppRequestContext>, webSocketRouter: Router<AppWebSocketContext>, services: DomainServices,
        tokens: AccessTokens, settings: Settings, lifecycle: GatewayLifecycle, sessions: SessionWatch
    ) -> any Service {
        var configuration = settings.socketIO.configuration
        configuration.engine.allowedOrigins = settings.compat.corsAllowedOrigins.isEmpty ? nil : settings.compat.corsAllowedOrigins
        let server = SocketIOServer(configuration: configuration, namespaces: [
            MessagingNamespace.make(
                services: services, maxConnectionsPerUser: settings.socketIO.maxConnectionsPerUser, sessions: sessions
            ) { token in
                let (userId, sessionId, expiresAt) = try await tokens.verifyWithExpiry(token)
                let viewer = try await services.auth.authenticate(userId: userId, sessionId: sessionId)
                return MessagingNamespace.Identity(viewer: viewer, expiresAt: expiresAt)
            },
        ])
        server.engine.addPollingRoutes(to: router, path: path)
        server.engine.addWebSocketRoute(to: webSocketRouter, path: path)
        // Sessions end with the GraphQL sockets, once the drain delay is over: the clients
        // reconnect, through the load balancer, to a gateway that is staying.
        let engine = server.engine
        lifecycle.whenStopping(all: { await engine.closeAll(reason: "server shutting down") }, open: { engine.sessionCount })
        return engine
    }
}
