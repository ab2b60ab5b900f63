import Crypto
import Foundation
import NIOConcurrencyHelpers
import XCTest
import _CryptoExtras

/// Loopback stand-ins for Google's OAuth token endpoint, FCM HTTP v1 and Expo's push service.
/// They check what real ones check (the RS256 assertion, the bearer token) and record every call.
struct FakePushServices: Sendable {
    static let accessToken = "ya29.fake-access-token"
    static let projectId = "messagerie-test"
    static let clientEmail = "push@messagerie-test.iam.gserviceaccount.com"

    let oauth: FakeHTTPServer
    let fcm: FakeHTTPServer
    let expo: FakeHTTPServer
    let serviceAccountJSON: String
    /// Expo answers 503 this many times before accepting (retry tests).
    let expoFailures: NIOLockedValueBox<Int>

    static func start(expoFailuresFirst: Int = 0) async throws -> FakePushServices {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let publicKey = key.publicKey
        let oauth = try await FakeHTTPServer.start { request in
            guard request.path == "/token" else { return .json(404, "{}") }
            let form = Dictionary(uniqueKeysWithValues: request.bodyText.split(separator: "&").map { pair in
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
                return (parts[0], parts.count > 1 ? parts[1] : "")
            })
            guard form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer", let assertion = form["assertion"],
                  Self.verify(assertion, with: publicKey)
            else { return .json(400, #"{"error":"invalid_grant"}"#) }
            return .json(200, #"{"access_token":"\#(accessToken)","expires_in":3599,"token_type":"Bearer"}"#)
        }
        let fcm = try await FakeHTTPServer.start { request in
            guard request.header("Authorization") == "Bearer \(accessToken)" else { return .json(401, #"{"error":{"code":401,"status":"UNAUTHENTICATED"}}"#) }
            let token = ((request.jsonObject()?["message"] as? [String: Any])?["token"] as? String) ?? ""
            if token.hasPrefix("fcm-gone") {
                return .json(404, #"{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}"#)
            }
            return .json(200, #"{"name":"projects/\#(projectId)/messages/0:\#(UUID().uuidString)"}"#)
        }
        let failures = NIOLockedValueBox(expoFailuresFirst)
        let expo = try await FakeHTTPServer.start { request in
            switch request.path {
            case "/--/api/v2/push/send":
                let remaining = failures.withLockedValue { count in
                    defer { count = max(0, count - 1) }
                    return count
                }
                if remaining > 0 { return .json(503, #"{"errors":[{"code":"INTERNAL","message":"try later"}]}"#) }
                let messages = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [[String: Any]] ?? []
                let tickets: [String] = messages.map { message in
                    let to = message["to"] as? String ?? ""
                    if to == "ExponentPushToken[gone]" {
                        return #"{"status":"error","message":"not a registered push notification recipient","details":{"error":"DeviceNotRegistered"}}"#
                    }
                    return #"{"status":"ok","id":"ticket-\#(to)"}"#
                }
                return .json(200, #"{"data":[\#(tickets.joined(separator: ","))]}"#)
            case "/--/api/v2/push/getReceipts":
                let ids = request.jsonObject()?["ids"] as? [String] ?? []
                let receipts: [String] = ids.map { id in
                    id == "ticket-ExponentPushToken[later-gone]"
                        ? #""\#(id)":{"status":"error","message":"gone","details":{"error":"DeviceNotRegistered"}}"#
                        : #""\#(id)":{"status":"ok"}"#
                }
                return .json(200, #"{"data":{\#(receipts.joined(separator: ","))}}"#)
            default:
                return .json(404, "{}")
            }
        }
        let account: [String: Any] = [
            "type": "service_account", "project_id": projectId, "private_key_id": "k1",
            "private_key": key.pkcs8PEMRepresentation, "client_email": clientEmail,
            "token_uri": oauth.baseURL + "/token",
        ]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: account), as: UTF8.self)
        return FakePushServices(oauth: oauth, fcm: fcm, expo: expo, serviceAccountJSON: json, expoFailures: failures)
    }

    /// Gateway settings that send push to these fakes, polling fast.
    var settings: [String: String] {
        [
            "FCM_SERVICE_ACCOUNT_JSON": serviceAccountJSON,
            "FCM_BASE_URL": fcm.baseURL,
            "EXPO_BASE_URL": expo.baseURL,
            "PUSH_POLL_MS": "20",
            "PUSH_RECEIPT_DELAY_SECONDS": "0",
            "PUSH_RETRY_BASE_MS": "10",
        ]
    }

    func stop() async {
        await oauth.stop()
        await fcm.stop()
        await expo.stop()
    }

    /// An RS256 JWT signed by the service account's key, with Google's required claims.
    static func verify(_ jwt: String, with key: _RSA.Signing.PublicKey) -> Bool {
        let parts = jwt.split(separator: ".").map(String.init)
        guard parts.count == 3, let header = base64URLDecode(parts[0]), let payload = base64URLDecode(parts[1]),
              let signature = base64URLDecode(parts[2]),
              let headerJSON = (try? JSONSerialization.jsonObject(with: header)) as? [String: Any],
              let claims = (try? JSONSerialization.jsonObject(with: payload)) as? [String: Any],
              headerJSON["alg"] as? String == "RS256",
              claims["iss"] as? String == clientEmail,
              claims["scope"] as? String == "https://www.googleapis.com/auth/firebase.messaging",
              (claims["aud"] as? String)?.hasSuffix("/token") == true || (claims["aud"] as? [String])?.first?.hasSuffix("/token") == true,
              let exp = claims["exp"] as? Double, exp > Date().timeIntervalSince1970
        else { return false }
        return key.isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: signature), for: Data((parts[0] + "." + parts[1]).utf8),
            padding: .insecurePKCS1v1_5)
    }
}

/// Waits until `condition` holds, checking every 50 ms; fails the test after `seconds`.
func eventually(
    _ what: String, seconds: Double = 20, file: StaticString = #filePath, line: UInt = #line,
    _ condition: @Sendable () async throws -> Bool
) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    XCTFail("gave up waiting: \(what)", file: file, line: line)
}
