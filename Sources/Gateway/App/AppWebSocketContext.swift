import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// Context of the WebSocket router, kept apart from the HTTP router so that upgrade requests are
/// matched only against the few paths that accept them (`/graphql`, `/socket.io/`).
struct AppWebSocketContext: RequestContext, WebSocketRequestContext {
    var coreContext: CoreRequestContextStorage
    let webSocket: WebSocketHandlerReference<AppWebSocketContext>
    let remoteIP: String?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        remoteIP = source.channel.remoteAddress?.ipAddress
    }
}
