import Foundation
import Outbound
import Resolvers

/// Push settings: where FCM and Expo are (tests point them at loopback fakes), the service
/// account FCM needs, and how the outbox retries.
struct PushSettings: Sendable {
    var policy = PushPolicy()
    /// Parsed at load, so a broken key file stops start-up rather than the first push.
    var fcmAccount: FCMServiceAccount?
    var fcmBaseURL = "https://fcm.googleapis.com"
    var fcmTokenURL: String?
    var expoBaseURL = "https://exp.host"
    var expoAccessToken: String?

    init() {}

    init(_ reader: Reader, awayAfter: Duration) throws(SettingsError) {
        policy.idleAfter = awayAfter
        if let preview = reader.string("PUSH_PREVIEW") {
            guard let value = PushPolicy.Preview(rawValue: preview.lowercased()) else {
                throw SettingsError(name: "PUSH_PREVIEW", reason: "must be full (sender and text) or none (\"New message\")")
            }
            policy.preview = value
        }
        policy.maxAttempts = try reader.int("PUSH_MAX_ATTEMPTS", in: 1...100) ?? policy.maxAttempts
        if let ms = try reader.int("PUSH_RETRY_BASE_MS", in: 1...3_600_000) { policy.retryBase = .milliseconds(ms) }
        if let ms = try reader.int("PUSH_POLL_MS", in: 10...60_000) { policy.pollInterval = .milliseconds(ms) }
        if let seconds = try reader.int("PUSH_RECEIPT_DELAY_SECONDS", in: 0...86400) { policy.receiptDelay = .seconds(seconds) }
        if let seconds = try reader.int("PUSH_IDLE_SECONDS", in: 0...86400) { policy.idleAfter = .seconds(seconds) }
        if let seconds = try reader.int("PUSH_LEASE_SECONDS", in: 1...3600) { policy.lease = .seconds(seconds) }

        let inline = reader.string("FCM_SERVICE_ACCOUNT_JSON")
        let file = reader.string("FCM_SERVICE_ACCOUNT_FILE")
        if inline != nil || file != nil {
            let name = inline != nil ? "FCM_SERVICE_ACCOUNT_JSON" : "FCM_SERVICE_ACCOUNT_FILE"
            guard let data = inline.map({ Data($0.utf8) }) ?? file.flatMap({ FileManager.default.contents(atPath: $0) }) else {
                throw SettingsError(name: name, reason: "file not readable")
            }
            do { fcmAccount = try FCMServiceAccount.parse(data) } catch {
                throw SettingsError(name: name, reason: "not a service-account key (project_id, client_email, private_key, token_uri)")
            }
        }
        fcmBaseURL = reader.string("FCM_BASE_URL") ?? fcmBaseURL
        fcmTokenURL = reader.string("FCM_TOKEN_URL")
        expoBaseURL = reader.string("EXPO_BASE_URL") ?? expoBaseURL
        expoAccessToken = reader.string("EXPO_ACCESS_TOKEN")
    }
}
