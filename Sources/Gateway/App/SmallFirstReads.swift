import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore

/// A connection's reads start in a small buffer that grows with what arrives.
///
/// SwiftNIO keeps each connection's receive buffer between reads, sized by the channel's receive
/// allocator: 2 KB at first by default. A WebSocket reads a few small messages in its life, so
/// those 2 KB were part of every idle socket's memory (heaptrack, 2,000 idle sockets). Starting at
/// 512 bytes, the allocator doubles the buffer after each read that fills it: a larger request
/// costs a read or two more, once per connection.
struct SmallFirstReads<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    static var allocator: AdaptiveRecvByteBufferAllocator { .init(minimum: 64, initial: 512, maximum: 65536) }

    let base: Base

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.setOption(ChannelOptions.recvAllocator, value: Self.allocator).flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// Hummingbird's HTTP/1 server with WebSocket upgrades, reading into small buffers first, and
    /// with the kernel dropping a connection whose peer stops acknowledging (`userTimeout`).
    static func http1WebSocketUpgradeTuned<WebSocketRouter: HTTPResponderBuilder>(
        webSocketRouter: WebSocketRouter, configuration: HTTP1WebSocketUpgradeChannel.Configuration, userTimeout: Duration?
    ) -> HTTPServerBuilder where WebSocketRouter.Responder.Context: WebSocketRequestContext {
        let webSocketResponder = webSocketRouter.buildResponder()
        return .init { responder in
            UnacknowledgedTimeout(timeout: userTimeout, base: SmallFirstReads(base: HTTP1WebSocketUpgradeChannel(
                responder: responder, webSocketResponder: webSocketResponder, configuration: configuration)))
        }
    }
}
