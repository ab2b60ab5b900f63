import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// A WebSocket client connection on plain SwiftNIO. HummingbirdWSClient cannot choose the local
/// address, and spreading connections over several loopback source addresses is what lets one
/// machine open more than ~28k connections to one port; so the upgrade is done here with
/// NIOWebSocket's client upgrader, and frames are handled on the event loop without a task per
/// connection (the client must stay cheap next to the server it measures on the same 2 cores).
final class WSConnection: @unchecked Sendable {
    let channel: Channel
    /// Event-loop confined.
    private var onText: (@Sendable (ByteBuffer, WSConnection) -> Void)?
    private var waiter: (match: (ByteBuffer) -> Bool, promise: EventLoopPromise<ByteBuffer>)?
    private var fragments: ByteBuffer?
    /// Frames that came before anyone listened (a Socket.IO server speaks first).
    private var backlog: [ByteBuffer] = []
    let closed: EventLoopPromise<Void>

    init(channel: Channel) {
        self.channel = channel
        closed = channel.eventLoop.makePromise()
    }

    struct Failed: Error, CustomStringConvertible { let description: String }

    static func connect(
        host: String, port: Int, path: String, subprotocol: String?, source: String?, group: EventLoopGroup
    ) async throws -> WSConnection {
        var bootstrap = ClientBootstrap(group: group)
            .channelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .connectTimeout(.seconds(20))
        if let source {
            bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: source, port: 0))
        }
        let upgraded: EventLoopFuture<WSConnection?> = try await bootstrap.connect(host: host, port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                let upgrader = NIOTypedWebSocketClientUpgrader<WSConnection?>(
                    maxFrameSize: 1 << 24,
                    upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            let connection = WSConnection(channel: channel)
                            try channel.pipeline.syncOperations.addHandler(FrameHandler(connection: connection))
                            return connection
                        }
                    }
                )
                var headers = HTTPHeaders()
                headers.add(name: "Host", value: "\(host):\(port)")
                if let subprotocol { headers.add(name: "Sec-WebSocket-Protocol", value: subprotocol) }
                let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
                let configuration = NIOTypedHTTPClientUpgradeConfiguration<WSConnection?>(
                    upgradeRequestHead: head,
                    upgraders: [upgrader],
                    notUpgradingCompletionHandler: { channel in
                        channel.close(promise: nil)
                        return channel.eventLoop.makeSucceededFuture(nil)
                    }
                )
                var pipeline = NIOUpgradableHTTPClientPipelineConfiguration(upgradeConfiguration: configuration)
                // A server that speaks first (Engine.IO's open packet) may put its first frame in
                // the same read as the 101 answer; NIO drops such bytes unless told to forward them.
                pipeline.leftOverBytesStrategy = .forwardBytes
                return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(configuration: pipeline)
            }
        }
        guard let connection = try await upgraded.get() else {
            throw Failed(description: "the server refused the WebSocket upgrade on \(path)")
        }
        return connection
    }

    /// Frames that no `expect` is waiting for go here.
    func setHandler(_ handler: @escaping @Sendable (ByteBuffer, WSConnection) -> Void) {
        channel.eventLoop.execute {
            self.onText = handler
            let early = self.backlog
            self.backlog = []
            for frame in early { handler(frame, self) }
        }
    }

    func send(_ text: String) {
        if Self.debug { log("\(ObjectIdentifier(self).hashValue % 10000) send \(text.prefix(80))") }
        let buffer = channel.allocator.buffer(string: text)
        let frame = WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer)
        channel.writeAndFlush(frame, promise: nil)
    }

    /// Sends `text` (if any) and waits for the first frame that `match` accepts.
    func expect(sending text: String?, timeout: TimeAmount = .seconds(30), _ match: @escaping (ByteBuffer) -> Bool) async throws -> ByteBuffer {
        let loop = channel.eventLoop
        let promise = loop.makePromise(of: ByteBuffer.self)
        loop.execute {
            if let i = self.backlog.firstIndex(where: match) {
                promise.succeed(self.backlog.remove(at: i))
                return
            }
            self.waiter = (match, promise)
            if let text { self.send(text) }
            let timer = loop.scheduleTask(in: timeout) {
                promise.fail(Failed(description: "no expected frame within \(timeout)"))
            }
            promise.futureResult.whenComplete { _ in timer.cancel() }
        }
        return try await promise.futureResult.get()
    }

    func close() {
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: channel.allocator.buffer(bytes: [0x03, 0xE8]))
        channel.writeAndFlush(frame).whenComplete { _ in self.channel.close(promise: nil) }
    }

    static let debug = ProcessInfo.processInfo.environment["LOADGEN_DEBUG"] != nil

    fileprivate func deliver(_ frame: WebSocketFrame) {
        if Self.debug { log("\(ObjectIdentifier(self).hashValue % 10000) frame \(frame.opcode) fin=\(frame.fin): \(String(buffer: frame.unmaskedData).prefix(200))") }
        switch frame.opcode {
        case .text, .binary, .continuation:
            var data = frame.unmaskedData
            if !frame.fin || fragments != nil {
                if fragments == nil { fragments = channel.allocator.buffer(capacity: data.readableBytes * 2) }
                fragments!.writeBuffer(&data)
                guard frame.fin else { return }
                data = fragments!
                fragments = nil
            }
            if let waiter, waiter.match(data) {
                self.waiter = nil
                waiter.promise.succeed(data)
                return
            }
            if let onText { onText(data, self) } else { backlog.append(data) }
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            channel.writeAndFlush(pong, promise: nil)
        case .connectionClose:
            channel.close(promise: nil)
        default:
            break
        }
    }

    fileprivate func channelClosed() {
        waiter?.promise.fail(Failed(description: "connection closed"))
        waiter = nil
        closed.succeed(())
    }
}

private final class FrameHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    let connection: WSConnection

    init(connection: WSConnection) { self.connection = connection }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection.deliver(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection.channelClosed()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
