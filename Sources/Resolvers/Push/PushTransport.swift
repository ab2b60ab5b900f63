import Foundation

/// One notification for one device, already worded: transports only carry it.
public struct PushNotification: Sendable, Equatable {
    public let token: String
    public let title: String
    public let body: String
    public let conversationId: UUID
    public let messageId: UUID

    /// Later notifications of a conversation replace earlier ones on the device.
    public var collapseKey: String { "conversation-" + conversationId.uuidString.lowercased() }
}

/// What a push service said about one notification.
public enum PushDelivery: Sendable, Equatable {
    /// Accepted; Expo gives a ticket whose receipt says later whether the device still exists.
    case accepted(ticket: String?)
    /// The token is unknown to the service: the app was uninstalled or the token rotated.
    case invalidToken
    case failed(String, retryable: Bool)
}

public enum PushReceipt: Sendable, Equatable {
    case ok
    case deviceNotRegistered
    case error(String)
}

/// A push service (FCM, Expo). Implemented over HTTP outside this module; the domain decides
/// who is told what and when, transports only deliver.
public protocol PushTransport: Sendable {
    /// One answer per notification, in order.
    func send(_ notifications: [PushNotification]) async -> [PushDelivery]
    /// Receipts for earlier tickets; tickets not ready yet are absent.
    func receipts(for tickets: [String]) async -> [String: PushReceipt]
}

extension PushTransport {
    public func receipts(for tickets: [String]) async -> [String: PushReceipt] { [:] }
}
