import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import XCTest

@testable import Gateway

/// The kernel's TCP_USER_TIMEOUT is set on accepted connections before Hummingbird's own set-up.
final class UnacknowledgedTimeoutTests: XCTestCase {
    /// Reports the option's value on the accepted socket when the wrapped set-up runs.
    struct Probe: ServerChildChannel {
        struct Value: ServerChildChannelValue {
            let channel: any Channel
        }

        let seen: EventLoopPromise<SocketOptionValue>

        func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
            #if os(Linux)
            channel.getOption(UnacknowledgedTimeout<Probe>.option).map { value in
                seen.succeed(value)
                return Value(channel: channel)
            }
            #else
            channel.eventLoop.makeSucceededFuture(Value(channel: channel))
            #endif
        }

        func handle(value: Value, logger: Logger) async {}
    }

    /// The option's value on a real accepted socket, with `timeout` given to the wrapper.
    private func accepted(timeout: Duration?) async throws -> SocketOptionValue {
        let group = MultiThreadedEventLoopGroup.singleton
        let seen = group.next().makePromise(of: SocketOptionValue.self)
        let wrapper = UnacknowledgedTimeout(timeout: timeout, base: Probe(seen: seen))
        let server = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                wrapper.setup(channel: channel, logger: Logger(label: "messagerie.tests")).map { _ in }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let client = try await ClientBootstrap(group: group).connect(to: try XCTUnwrap(server.localAddress)).get()
        defer {
            client.close(promise: nil)
            server.close(promise: nil)
        }
        return try await seen.futureResult.get()
    }

    func testAcceptedSocketsGetTheTimeoutInMilliseconds() async throws {
        #if os(Linux)
        let set = try await accepted(timeout: .milliseconds(2500))
        XCTAssertEqual(set, 2500)
        let unset = try await accepted(timeout: nil)
        XCTAssertEqual(unset, 0, "nil leaves the kernel's default")
        #else
        throw XCTSkip("TCP_USER_TIMEOUT is Linux's")
        #endif
    }
}
