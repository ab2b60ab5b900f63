import Foundation
import Metrics

/// The instruments of the domain, made from one factory that the gateway chooses, so that each
/// application (and each test) reads its own registry rather than a process-wide one.
public struct Telemetry: Sendable {
    public let factory: any MetricsFactory
    public let messagesStored: Counter
    /// From the commit that made an event to the moment its frame is written to a client.
    public let fanOutDelay: Timer

    public init(factory: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.factory = factory
        messagesStored = Counter(label: "messagerie_messages_stored_total", factory: factory)
        fanOutDelay = Timer(label: "messagerie_fanout_delay_seconds", factory: factory)
    }

    /// Records how long a live message took from being stored to being handed to a client's socket.
    public func recordFanOut(of message: Message) {
        let seconds = Date().timeIntervalSince(message.createdAt)
        fanOutDelay.recordNanoseconds(Int64(max(0, seconds) * 1_000_000_000))
    }

    /// Open client connections of one transport (`graphql-ws`, `socket.io`).
    public func connections(_ transport: String) -> Meter {
        Meter(label: "messagerie_open_connections", dimensions: [("transport", transport)], factory: factory)
    }

    /// Live subscriptions of one transport.
    public func subscriptions(_ transport: String) -> Meter {
        Meter(label: "messagerie_active_subscriptions", dimensions: [("transport", transport)], factory: factory)
    }
}
