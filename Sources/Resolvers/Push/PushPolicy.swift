import Foundation

public struct PushPolicy: Sendable {
    public enum Preview: String, Sendable { case full, none }

    /// `full`: sender name and the start of the text; `none`: a content-free "New message".
    public var preview: Preview = .full
    public var maxAttempts = 8
    public var retryBase: Duration = .seconds(2)
    public var retryCap: Duration = .seconds(3600)
    /// How long a claimed job stays invisible to other workers while it is being sent.
    public var lease: Duration = .seconds(60)
    public var batchSize = 100
    public var pollInterval: Duration = .seconds(1)
    /// Expo's receipts are ready some minutes after the send.
    public var receiptDelay: Duration = .seconds(900)
    /// A recipient whose every connection has been idle this long is told by push too.
    public var idleAfter: Duration = .seconds(300)
    /// Presence rows of gateways silent this long do not count as connections.
    public var gatewayTimeout: Duration = .seconds(10)
    public init() {}

    /// Exponential, capped, with ±50% jitter so that a burst of failures does not retry in step.
    public func retryDelay(afterAttempt attempt: Int, jitter: Double = Double.random(in: 0.5...1.5)) -> Duration {
        let base = Double(retryBase.components.seconds) + Double(retryBase.components.attoseconds) / 1e18
        let cap = Double(retryCap.components.seconds)
        let seconds = min(cap, base * pow(2, Double(max(0, attempt - 1)))) * jitter
        return .milliseconds(Int64(seconds * 1000))
    }
}
