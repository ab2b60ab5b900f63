import AsyncHTTPClient
import Foundation
import Logging
import Resolvers

/// Firebase Cloud Messaging HTTP v1: one `messages:send` per device, with a collapse key per
/// conversation so that a phone shows the latest rather than a pile.
public struct FCMTransport: PushTransport {
    let account: FCMServiceAccount
    let endpoint: String
    let tokens: GoogleAccessTokens
    let exchange: JSONExchange
    let logger: Logger

    /// - Parameters:
    ///   - baseURL: `https://fcm.googleapis.com` unless a test points it elsewhere.
    ///   - tokenURL: overrides the service account's `token_uri`.
    public init(account: FCMServiceAccount, baseURL: String, tokenURL: String?, httpClient: HTTPClient, logger: Logger) {
        self.account = account
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        endpoint = "\(base)/v1/projects/\(account.projectId)/messages:send"
        exchange = JSONExchange(client: httpClient, timeout: .seconds(10))
        tokens = GoogleAccessTokens(account: account, tokenURL: tokenURL, exchange: exchange)
        self.logger = logger
    }

    public func send(_ notifications: [PushNotification]) async -> [PushDelivery] {
        var answers: [PushDelivery] = []
        for notification in notifications { answers.append(await send(notification)) }
        return answers
    }

    func send(_ notification: PushNotification) async -> PushDelivery {
        let key = notification.collapseKey
        let message: [String: Any] = [
            "message": [
                "token": notification.token,
                "notification": ["title": notification.title, "body": notification.body],
                "data": [
                    "conversationId": notification.conversationId.uuidString.lowercased(),
                    "messageId": notification.messageId.uuidString.lowercased(),
                ],
                "android": ["collapse_key": key, "priority": "high"],
                "apns": ["headers": ["apns-collapse-id": key]],
            ],
        ]
        do {
            let token = try await tokens.token()
            let body = try JSONSerialization.data(withJSONObject: message, options: [.sortedKeys])
            let answer = try await exchange.post(endpoint, body: body, headers: [("Authorization", "Bearer \(token)")])
            return await classify(answer)
        } catch {
            logger.warning("FCM send failed", metadata: ["error": "\(error)"])
            return .failed("\(error)", retryable: true)
        }
    }

    /// FCM's error `status` names: UNREGISTERED / NOT_FOUND mean the token is gone; an
    /// INVALID_ARGUMENT about the token means it never was one.
    private func classify(_ answer: JSONExchange.Answer) async -> PushDelivery {
        if answer.status == 200 { return .accepted(ticket: nil) }
        let error = answer.json()?["error"] as? [String: Any]
        let status = error?["status"] as? String ?? ""
        let details = (error?["details"] as? [[String: Any]] ?? []).compactMap { $0["errorCode"] as? String }
        if answer.status == 404 || status == "NOT_FOUND" || details.contains("UNREGISTERED") { return .invalidToken }
        if answer.status == 400, status == "INVALID_ARGUMENT", (error?["message"] as? String ?? "").localizedCaseInsensitiveContains("token") {
            return .invalidToken
        }
        if answer.status == 401 { await tokens.invalidate() }
        let retryable = answer.status == 401 || answer.status == 429 || answer.status >= 500
        return .failed("FCM answered \(answer.status) \(status)", retryable: retryable)
    }
}
