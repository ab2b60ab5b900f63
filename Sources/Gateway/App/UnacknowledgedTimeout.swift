import HummingbirdCore
import Logging
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The kernel drops a connection when what the server sent stays unacknowledged for `timeout`
/// (TCP_USER_TIMEOUT, Linux), instead of retransmitting for about 15 minutes. The WebSocket
/// keep-alives are protocol messages; a legacy graphql-ws client answers none of them, so a
/// vanished one (a phone out of coverage) is found this way: its `ka` is never acknowledged.
struct UnacknowledgedTimeout<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let timeout: Duration?
    let base: Base

    #if os(Linux)
    static var option: ChannelOptions.Types.SocketOption {
        ChannelOptions.Types.SocketOption(level: .tcp, name: NIOBSDSocket.Option(rawValue: TCP_USER_TIMEOUT))
    }
    #endif

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        #if os(Linux)
        if let timeout {
            let milliseconds = SocketOptionValue(clamping: timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
            return channel.setOption(Self.option, value: milliseconds).flatMap {
                base.setup(channel: channel, logger: logger)
            }
        }
        #endif
        return base.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
