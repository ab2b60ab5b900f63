import HummingbirdCore
import Logging
import NIOCore
import NIOEmbedded
import XCTest

@testable import Gateway

/// Connections read into a small buffer first: the allocator is set before Hummingbird's own
/// set-up of the connection, so that no read happens with the default one.
final class SmallFirstReadsTests: XCTestCase {
    /// Reports the receive allocator the channel has when the wrapped set-up runs.
    struct Probe: ServerChildChannel {
        struct Value: ServerChildChannelValue {
            let channel: any Channel
            let initial: Int?
        }

        func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
            channel.getOption(ChannelOptions.recvAllocator).map { allocator in
                Value(channel: channel, initial: (allocator as? AdaptiveRecvByteBufferAllocator)?.initial)
            }
        }

        func handle(value: Value, logger: Logger) async {}
    }

    func testTheSmallAllocatorIsSetBeforeTheServersOwnSetUp() throws {
        let channel = EmbeddedChannel()
        // What SwiftNIO gives a server's connections unless told otherwise.
        try channel.setOption(ChannelOptions.recvAllocator, value: AdaptiveRecvByteBufferAllocator()).wait()
        XCTAssertEqual(AdaptiveRecvByteBufferAllocator().initial, 2048)
        let value = try SmallFirstReads(base: Probe()).setup(channel: channel, logger: Logger(label: "messagerie.tests")).wait()
        XCTAssertEqual(value.initial, 512)
        XCTAssertEqual(SmallFirstReads<Probe>.allocator.maximum, 65536, "a large message still gets large reads")
    }
}
