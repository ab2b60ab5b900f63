import AsyncHTTPClient
import Foundation
import Logging
import Resolvers

/// Expo's push service: notifications in batches of at most 100 to the send endpoint, which
/// answers with tickets; receipts for those tickets, fetched later, say whether a device is gone.
public struct ExpoTransport: PushTransport {
    static let batchLimit = 100
    let sendURL: String
    let receiptsURL: String
    let accessToken: String?
    let exchange: JSONExchange
    let logger: Logger

    /// - Parameter baseURL: `https://exp.host` unless a test points it elsewhere.
    public init(baseURL: String, accessToken: String?, httpClient: HTTPClient, logger: Logger) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        sendURL = base + "/--/api/v2/push/send"
        receiptsURL = base + "/--/api/v2/push/getReceipts"
        self.accessToken = accessToken
        exchange = JSONExchange(client: httpClient, timeout: .seconds(15))
        self.logger = logger
    }

    private var headers: [(String, String)] { accessToken.map { [("Authorization", "Bearer \($0)")] } ?? [] }

    public func send(_ notifications: [PushNotification]) async -> [PushDelivery] {
        var answers: [PushDelivery] = []
        var start = 0
        while start < notifications.count {
            let batch = Array(notifications[start..<min(start + Self.batchLimit, notifications.count)])
            answers += await sendBatch(batch)
            start += Self.batchLimit
        }
        return answers
    }

    private func sendBatch(_ batch: [PushNotification]) async -> [PushDelivery] {
        let messages: [[String: Any]] = batch.map { notification in
            [
                "to": notification.token,
                "title": notification.title,
                "body": notification.body,
                "sound": "default",
                "data": [
                    "conversationId": notification.conversationId.uuidString.lowercased(),
                    "messageId": notification.messageId.uuidString.lowercased(),
                ],
            ]
        }
        do {
            let body = try JSONSerialization.data(withJSONObject: messages, options: [.sortedKeys])
            let answer = try await exchange.post(sendURL, body: body, headers: headers)
            guard answer.status == 200, let tickets = answer.json()?["data"] as? [[String: Any]], tickets.count == batch.count else {
                let retryable = answer.status == 429 || answer.status >= 500
                return Array(repeating: .failed("Expo answered \(answer.status)", retryable: retryable), count: batch.count)
            }
            return tickets.map { ticket in
                if ticket["status"] as? String == "ok" { return .accepted(ticket: ticket["id"] as? String) }
                let details = ticket["details"] as? [String: Any]
                if details?["error"] as? String == "DeviceNotRegistered" { return .invalidToken }
                return .failed(ticket["message"] as? String ?? "Expo refused the notification", retryable: false)
            }
        } catch {
            logger.warning("Expo send failed", metadata: ["error": "\(error)"])
            return Array(repeating: .failed("\(error)", retryable: true), count: batch.count)
        }
    }

    public func receipts(for tickets: [String]) async -> [String: PushReceipt] {
        guard !tickets.isEmpty else { return [:] }
        do {
            let body = try JSONSerialization.data(withJSONObject: ["ids": tickets], options: [.sortedKeys])
            let answer = try await exchange.post(receiptsURL, body: body, headers: headers)
            guard answer.status == 200, let data = answer.json()?["data"] as? [String: [String: Any]] else { return [:] }
            return data.mapValues { receipt in
                if receipt["status"] as? String == "ok" { return .ok }
                if (receipt["details"] as? [String: Any])?["error"] as? String == "DeviceNotRegistered" { return .deviceNotRegistered }
                return .error(receipt["message"] as? String ?? "error")
            }
        } catch {
            logger.warning("Expo receipts failed", metadata: ["error": "\(error)"])
            return [:]
        }
    }
}
