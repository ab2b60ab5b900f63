import Foundation
import XCTest

@testable import Gateway
import Resolvers

private let register = "mutation($t: String!, $p: PushPlatform!) { registerPushDevice(token: $t, platform: $p) { token platform } }"

/// Push through the outbox to fake FCM, OAuth and Expo servers on loopback.
final class PushTests: XCTestCase {

    private static func withPush<T: Sendable>(
        _ extra: [String: String] = [:], expoFailuresFirst: Int = 0,
        _ body: @Sendable (GatewayClient, FakePushServices) async throws -> T
    ) async throws -> T {
        let fakes = try await FakePushServices.start(expoFailuresFirst: expoFailuresFirst)
        do {
            let value = try await withGateway(fakes.settings.merging(extra) { _, new in new }) { gw in try await body(gw, fakes) }
            await fakes.stop()
            return value
        } catch {
            await fakes.stop()
            throw error
        }
    }

    func testFCMAndExpoReceiveTheExactRequestsAndGoneDevicesAreRemoved() async throws {
        try await Self.withPush { gw, fakes in
            let users = try await gw.signInUsers(2)
            let (ada, bola) = (users[0], users[1])
            try await gw.ok(ada, register, ["t": "fcm-ada", "p": "FCM"], at: "registerPushDevice")
            for (token, platform) in [("fcm-good", "FCM"), ("fcm-gone", "FCM"), ("ExponentPushToken[ok]", "EXPO"),
                                      ("ExponentPushToken[gone]", "EXPO"), ("ExponentPushToken[later-gone]", "EXPO")] {
                let device = try await gw.ok(bola, register, ["t": token, "p": platform], at: "registerPushDevice") as? [String: Any]
                XCTAssertEqual(device?["platform"] as? String, platform)
            }
            let message = try await gw.send(ada, to: bola, text: "Hello Bola, café at 5?")
            let messageId = try XCTUnwrap(message["id"] as? String)
            let conversationId = try XCTUnwrap((message["conversation"] as? [String: Any])?["id"] as? String)

            try await eventually("FCM and Expo were called and receipts checked") {
                let fcm = await fakes.fcm.requests.count
                let receipts = await fakes.expo.requests.filter { $0.path.hasSuffix("getReceipts") }.count
                return fcm == 2 && receipts >= 1
            }
            try await eventually("the job is finished") {
                try await gw.harness.column("SELECT state FROM push_jobs") == ["SENT"]
            }

            // One OAuth exchange serves both FCM sends (the token is cached).
            let oauthCalls = await fakes.oauth.requests.count
            XCTAssertEqual(oauthCalls, 1)
            let fcmRequests = await fakes.fcm.requests
            for request in fcmRequests {
                XCTAssertEqual(request.method, "POST")
                XCTAssertEqual(request.path, "/v1/projects/\(FakePushServices.projectId)/messages:send")
                XCTAssertEqual(request.header("Authorization"), "Bearer \(FakePushServices.accessToken)")
                let body = try XCTUnwrap(request.jsonObject()?["message"] as? [String: Any], request.bodyText)
                XCTAssertEqual((body["notification"] as? [String: Any])?["title"] as? String, "User 1")
                XCTAssertEqual((body["notification"] as? [String: Any])?["body"] as? String, "Hello Bola, café at 5?")
                XCTAssertEqual((body["android"] as? [String: Any])?["collapse_key"] as? String, "conversation-\(conversationId)")
                XCTAssertEqual(((body["apns"] as? [String: Any])?["headers"] as? [String: Any])?["apns-collapse-id"] as? String,
                               "conversation-\(conversationId)")
                XCTAssertEqual((body["data"] as? [String: Any])?["messageId"] as? String, messageId)
            }
            let fcmTokens = Set(fcmRequests.compactMap { ($0.jsonObject()?["message"] as? [String: Any])?["token"] as? String })
            XCTAssertEqual(fcmTokens, ["fcm-good", "fcm-gone"], "never the sender's device")

            let expoSends = await fakes.expo.requests.filter { $0.path == "/--/api/v2/push/send" }
            XCTAssertEqual(expoSends.count, 1, "one batch for the three Expo devices")
            let batch = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(expoSends[0].body))) as? [[String: Any]])
            XCTAssertEqual(Set(batch.compactMap { $0["to"] as? String }),
                           ["ExponentPushToken[ok]", "ExponentPushToken[gone]", "ExponentPushToken[later-gone]"])
            XCTAssertTrue(batch.allSatisfy { $0["title"] as? String == "User 1" && $0["body"] as? String == "Hello Bola, café at 5?" })

            try await eventually("gone devices are removed, after the receipts for Expo") {
                let left = try await gw.harness.column("SELECT token FROM push_devices WHERE user_id = '\(bola.userId)' ORDER BY token")
                return left == ["ExponentPushToken[ok]", "fcm-good"]
            }
            let adaDevices = try await gw.harness.column("SELECT token FROM push_devices WHERE user_id = '\(ada.userId)'")
            XCTAssertEqual(adaDevices, ["fcm-ada"])
        }
    }

    func testPrivacyPreviewSendsNoContent() async throws {
        try await Self.withPush(["PUSH_PREVIEW": "none"]) { gw, fakes in
            let users = try await gw.signInUsers(2)
            try await gw.ok(users[1], register, ["t": "ExponentPushToken[ok]", "p": "EXPO"], at: "registerPushDevice")
            try await gw.send(users[0], to: users[1], text: "the secret plan")
            try await eventually("Expo was called") { await !fakes.expo.requests.isEmpty }
            let body = await fakes.expo.requests[0].bodyText
            XCTAssertFalse(body.contains("secret"), body)
            XCTAssertFalse(body.contains("User 1"), body)
            XCTAssertTrue(body.contains("New message"), body)
        }
    }

    /// A phone number is its owner's alone: a sender who gave no display name is not named by it.
    func testASenderWithoutANameIsNotNamedByTheirPhone() async throws {
        try await Self.withPush { gw, fakes in
            let nameless = try await gw.signIn("+2348012345677")
            let reader = try await gw.signIn("+2348012345678", displayName: "Reader")
            try await gw.ok(reader, register, ["t": "ExponentPushToken[ok]", "p": "EXPO"], at: "registerPushDevice")
            try await gw.send(nameless, to: reader, text: "who am I?")
            try await eventually("Expo was called") { await !fakes.expo.requests.isEmpty }
            let body = await fakes.expo.requests[0].bodyText
            XCTAssertFalse(body.contains("8012345677"), body)
            let batch = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(body.utf8))) as? [[String: Any]])
            XCTAssertEqual(batch.first?["title"] as? String, "New message", body)
            XCTAssertEqual(batch.first?["body"] as? String, "who am I?", body)
        }
    }

    func testMutedConversationsAndActiveRecipientsGetNoJob() async throws {
        try await Self.withPush { gw, _ in
            let users = try await gw.signInUsers(2)
            let (ada, bola) = (users[0], users[1])
            try await gw.ok(bola, register, ["t": "ExponentPushToken[ok]", "p": "EXPO"], at: "registerPushDevice")
            let first = try await gw.send(ada, to: bola, text: "first")
            let conversationId = try XCTUnwrap((first["conversation"] as? [String: Any])?["id"] as? String)
            let jobs = { try await gw.harness.column("SELECT count(*)::text FROM push_jobs")[0] }
            let afterFirst = try await jobs()
            XCTAssertEqual(afterFirst, "1")

            let until = ISO8601DateFormatter().string(from: Date().addingTimeInterval(3600))
            let muted = try await gw.ok(
                bola, "mutation($c: ID!, $u: DateTime) { muteConversation(conversationId: $c, until: $u) }",
                ["c": conversationId, "u": until], at: "muteConversation") as? String
            XCTAssertNotNil(muted)
            try await gw.send(ada, in: conversationId, text: "while muted")
            let whileMuted = try await jobs()
            XCTAssertEqual(whileMuted, "1")
            let stranger = try await gw.signIn("+2348012349999")
            let refused = try await gw.call(
                stranger, "mutation($c: ID!) { muteConversation(conversationId: $c) }", ["c": conversationId])
            XCTAssertEqual(refused.errorCode, "NOT_FOUND", refused.text)

            let unmuted = try await gw.call(bola, "mutation($c: ID!) { muteConversation(conversationId: $c) }", ["c": conversationId])
            XCTAssertNil(unmuted.firstError, unmuted.text)
            XCTAssertTrue(unmuted.data?["muteConversation"] is NSNull, unmuted.text)

            // A connection that was active a moment ago on a live gateway: the app shows it, no push.
            try await gw.harness.execute(
                "INSERT INTO gateways (id) VALUES ('00000000-0000-0000-0000-0000000000aa')",
                "INSERT INTO presence (user_id, gateway_id, connections) VALUES ('\(bola.userId)', '00000000-0000-0000-0000-0000000000aa', 1)")
            try await gw.send(ada, in: conversationId, text: "seen live")
            let whileActive = try await jobs()
            XCTAssertEqual(whileActive, "1")
            // Every connection idle past the setting: told by push again.
            try await gw.harness.execute("UPDATE presence SET last_activity_at = now() - interval '1 hour'")
            try await gw.send(ada, in: conversationId, text: "idle now")
            let whileIdle = try await jobs()
            XCTAssertEqual(whileIdle, "2")
        }
    }

    func testFailuresAreRetriedWithBackoffThenGiveUp() async throws {
        try await Self.withPush(expoFailuresFirst: 2) { gw, fakes in
            let users = try await gw.signInUsers(2)
            try await gw.ok(users[1], register, ["t": "ExponentPushToken[ok]", "p": "EXPO"], at: "registerPushDevice")
            try await gw.send(users[0], to: users[1], text: "retry me")
            try await eventually("sent after two failures") {
                try await gw.harness.column("SELECT state || ':' || attempts FROM push_jobs") == ["SENT:3"]
            }
            let sends = await fakes.expo.requests.filter { $0.path == "/--/api/v2/push/send" }.count
            XCTAssertEqual(sends, 3)
        }
        try await Self.withPush(["PUSH_MAX_ATTEMPTS": "2"], expoFailuresFirst: 1000) { gw, fakes in
            let users = try await gw.signInUsers(2)
            try await gw.ok(users[1], register, ["t": "ExponentPushToken[ok]", "p": "EXPO"], at: "registerPushDevice")
            try await gw.send(users[0], to: users[1], text: "never arrives")
            try await eventually("given up after the attempt limit") {
                try await gw.harness.column("SELECT state || ':' || attempts FROM push_jobs") == ["FAILED:2"]
            }
            let error = try await gw.harness.column("SELECT last_error FROM push_jobs")
            XCTAssertEqual(error, ["Expo answered 503"])
            let sends = await fakes.expo.requests.filter { $0.path == "/--/api/v2/push/send" }.count
            XCTAssertEqual(sends, 2)
        }
    }

    /// Two gateways on one database share the outbox: every job is sent once.
    func testTwoWorkersNeverSendAJobTwice() async throws {
        let fakes = try await FakePushServices.start()
        let harness = try await GatewayHarness.make(fakes.settings)
        do {
            try await harness.withApp { first in
                try await harness.withApp { _ in
                    let users = try await first.signInUsers(2)
                    try await first.ok(users[1], register, ["t": "ExponentPushToken[ok]", "p": "EXPO"], at: "registerPushDevice")
                    for index in 0..<30 { try await first.send(users[0], to: users[1], text: "message \(index)") }
                    try await eventually("all sent") {
                        try await harness.column("SELECT count(*)::text FROM push_jobs WHERE state = 'SENT'") == ["30"]
                    }
                }
            }
            let sent = await fakes.expo.requests.filter { $0.path == "/--/api/v2/push/send" }
                .flatMap { request in ((try? JSONSerialization.jsonObject(with: Data(request.body))) as? [[String: Any]]) ?? [] }
                .compactMap { ($0["data"] as? [String: Any])?["messageId"] as? String }
            XCTAssertEqual(sent.count, 30)
            XCTAssertEqual(Set(sent).count, 30)
        } catch {
            await harness.stop()
            await fakes.stop()
            throw error
        }
        await harness.stop()
        await fakes.stop()
    }

    /// A worker that claimed jobs and died before finishing them: once its lease runs out another
    /// worker sends them, once each.
    func testJobsOfACrashedWorkerAreSentAfterTheLease() async throws {
        try await Self.withPush { gw, fakes in
            let users = try await gw.signInUsers(2)
            try await gw.ok(users[1], register, ["t": "ExponentPushToken[ok]", "p": "EXPO"], at: "registerPushDevice")
            // Jobs are written already claimed, exactly as the claim query leaves them (one attempt,
            // hidden for the lease), by a worker that then never comes back.
            try await gw.harness.execute(
                """
                CREATE FUNCTION crash_claim() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN NEW.attempts := 1; NEW.run_at := now() + interval '2 seconds'; RETURN NEW; END $$
                """,
                "CREATE TRIGGER crash_claim BEFORE INSERT ON push_jobs FOR EACH ROW EXECUTE FUNCTION crash_claim()")
            for index in 0..<3 { try await gw.send(users[0], to: users[1], text: "claimed then lost \(index)") }
            try await gw.harness.execute("DROP TRIGGER crash_claim ON push_jobs")

            try await eventually("the lease ran out and the jobs were sent") {
                try await gw.harness.column("SELECT count(*)::text FROM push_jobs WHERE state = 'SENT'") == ["3"]
            }
            let attempts = try await gw.harness.column("SELECT DISTINCT attempts::text FROM push_jobs")
            XCTAssertEqual(attempts, ["2"], "claimed by the lost worker, then once more by the live one")
            let delivered = await fakes.expo.requests.filter { $0.path == "/--/api/v2/push/send" }
                .flatMap { request in ((try? JSONSerialization.jsonObject(with: Data(request.body))) as? [[String: Any]]) ?? [] }
                .compactMap { ($0["body"] as? String) }
            XCTAssertEqual(delivered.sorted(), ["claimed then lost 0", "claimed then lost 1", "claimed then lost 2"])
        }
    }

    func testATokenMovesToTheAccountThatRegistersIt() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(2)
            try await gw.ok(users[0], register, ["t": "shared-phone", "p": "FCM"], at: "registerPushDevice")
            try await gw.ok(users[1], register, ["t": "shared-phone", "p": "FCM"], at: "registerPushDevice")
            let owners = try await gw.harness.column("SELECT user_id::text FROM push_devices")
            XCTAssertEqual(owners, [users[1].userId])
            let notMine = try await gw.ok(users[0], "mutation { unregisterPushDevice(token: \"shared-phone\") }", at: "unregisterPushDevice")
            XCTAssertEqual(notMine as? Bool, false)
            let mine = try await gw.ok(users[1], "mutation { unregisterPushDevice(token: \"shared-phone\") }", at: "unregisterPushDevice")
            XCTAssertEqual(mine as? Bool, true)
            let empty = try await gw.call(users[1], register, ["t": "  ", "p": "FCM"])
            XCTAssertEqual(empty.errorCode, "BAD_USER_INPUT", empty.text)
        }
    }

    func testRetryDelayGrowsIsCappedAndJittered() {
        var policy = PushPolicy()
        policy.retryBase = .seconds(2)
        policy.retryCap = .seconds(60)
        XCTAssertEqual(policy.retryDelay(afterAttempt: 1, jitter: 1), .seconds(2))
        XCTAssertEqual(policy.retryDelay(afterAttempt: 3, jitter: 1), .seconds(8))
        XCTAssertEqual(policy.retryDelay(afterAttempt: 30, jitter: 1), .seconds(60))
        XCTAssertEqual(policy.retryDelay(afterAttempt: 3, jitter: 0.5), .seconds(4))
        XCTAssertEqual(policy.retryDelay(afterAttempt: 3, jitter: 1.5), .seconds(12))
    }

    func testSettingsRefuseABrokenServiceAccount() {
        XCTAssertThrowsError(try Settings(values: ["FCM_SERVICE_ACCOUNT_JSON": "{\"project_id\": 1}"])) { error in
            XCTAssertEqual((error as? SettingsError)?.name, "FCM_SERVICE_ACCOUNT_JSON")
            XCTAssertFalse("\(error)".contains("project_id\": 1"))
        }
        XCTAssertThrowsError(try Settings(values: ["PUSH_PREVIEW": "some"])) { error in
            XCTAssertEqual((error as? SettingsError)?.name, "PUSH_PREVIEW")
        }
    }
}
