import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOWebSocket
import Resolvers

/// GraphQL over WebSocket at `/graphql`: `graphql-transport-ws` or the legacy `graphql-ws`,
/// whichever the client offers first in `Sec-WebSocket-Protocol`.
struct GraphQLWebSocketRoute: Sendable {
    let engine: GraphQLEngine
    let services: DomainServices
    let tokens: AccessTokens
    let limits: GraphQLWSLimits
    let lifecycle: GatewayLifecycle
    /// Checks the sessions of every connection of this route at `limits.sessionCheckInterval`.
    let sessions: SessionWatch
    /// Closes sockets whose client stopped reading (`limits.writeTimeout`).
    let stalls: StalledWriteWatch
    /// Its connections' timers: the time to authenticate, a token's expiry.
    let deadlines: Deadlines
    let registry = WSConnectionRegistry()

    func addRoutes(to router: Router<AppWebSocketContext>) {
        router.ws("/graphql", shouldUpgrade: { request, _ in
            // An unknown subprotocol still upgrades, then closes with 4406 as graphql-ws servers do:
            // clients see the code rather than a bare refused handshake.
            guard let chosen = Self.subprotocol(of: request) else { return .upgrade([:]) }
            return .upgrade([.secWebSocketProtocol: chosen.rawValue])
        }, onUpgrade: { inbound, outbound, context in
            guard let connection = self.accept(outbound, context) else {
                try await outbound.close(.init(codeNumber: Int(WSCloseCode.subprotocolNotAcceptable.rawValue)), reason: "Subprotocol not acceptable")
                return
            }
            try await self.serve(connection, inbound)
        })
    }

    /// Built outside the async functions a socket waits in for its whole life: Swift keeps the
    /// largest stack of async frames a task ever had until the task ends, and a connection built
    /// inline made the upgrade's frame about 1.7 KB per socket (heaptrack).
    @inline(never)
    private func accept(_ outbound: WebSocketOutboundWriter, _ context: WebSocketRouterContext<AppWebSocketContext>) -> GraphQLWSConnection? {
        guard let chosen = Self.subprotocol(of: context.request) else { return nil }
        return GraphQLWSConnection(
            route: self, subprotocol: chosen, outbound: outbound,
            authorizationHeader: context.request.headers[.authorization],
            clientIP: context.requestContext.remoteIP, userAgent: context.request.headers[.userAgent],
            logger: context.logger)
    }

    @inline(never)
    private func serve(_ connection: GraphQLWSConnection, _ inbound: WebSocketInboundStream) async throws {
        let open = services.telemetry.connections("graphql-ws")
        open.increment()
        defer { open.decrement() }
        // A stopping gateway tells its clients to reconnect elsewhere rather than just vanishing.
        let goingAway: @Sendable () -> Void = {
            connection.end(.close(.serviceRestart, "Server restarting; reconnect and catch up", slow: false))
        }
        let stop = lifecycle.whenStopping(goingAway)
        defer { lifecycle.forget(stop) }
        if stop == nil { goingAway() }
        try await connection.run(inbound)
    }

    static func subprotocol(of request: Request) -> GraphQLWSSubprotocol? {
        GraphQLWSSubprotocol.negotiate(request.headers[values: .secWebSocketProtocol])
    }
}
