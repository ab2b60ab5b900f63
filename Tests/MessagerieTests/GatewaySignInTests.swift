import Foundation
import Hummingbird
import HummingbirdTesting
import XCTest

@testable import Gateway

/// Sign-in through GraphQL, end to end: real PostgreSQL, the real Termii client talking to a fake
/// Termii, codes read from the recorded SMS.
final class GatewaySignInTests: XCTestCase {
    // MARK: Happy path

    func testSignInCreatesUserThenSignsInAgainAndProfileWorks() async throws {
        try await withGateway { gw in
            let phone = "+2348012345601"
            let requested = try await gw.requestOtp("+234 801 234 5601")
            XCTAssertEqual(requested.status, .ok)
            XCTAssertNil(requested.firstError, requested.text)
            XCTAssertEqual(requested.string("requestOtp.phone"), phone, "the phone is normalised to E.164")
            XCTAssertNotNil(requested.string("requestOtp.expiresAt"))
            XCTAssertEqual(requested.value("requestOtp.retryAfterSeconds") as? Int, 0)

            // What went to Termii: the international digits, our sender id, a 6-digit code, the key.
            let sent = await gw.harness.termii.requests
            XCTAssertEqual(sent.count, 1)
            let body = try XCTUnwrap(sent.first?.jsonObject())
            XCTAssertEqual(sent.first?.path, "/api/sms/send")
            XCTAssertEqual(body["to"] as? String, "2348012345601")
            XCTAssertEqual(body["api_key"] as? String, "k")
            // The code is stored only as a hash.
            let code = try await gw.harness.latestCode(to: phone)
            let stored = try await gw.harness.column("SELECT encode(code_hash, 'hex') FROM otp_challenges")
            XCTAssertEqual(stored.count, 1)
            XCTAssertFalse(stored.contains { $0?.contains(code) == true || $0 == code })

            let verified = try await gw.verifyOtp(phone, code: code, displayName: "Ada")
            XCTAssertNil(verified.firstError, verified.text)
            XCTAssertEqual(verified.value("verifyOtp.isNewUser") as? Bool, true)
            XCTAssertEqual(verified.string("verifyOtp.user.displayName"), "Ada")
            let userId = try XCTUnwrap(verified.string("verifyOtp.user.id"))
            let access = try XCTUnwrap(verified.string("verifyOtp.accessToken"))
            let refresh = try XCTUnwrap(verified.string("verifyOtp.refreshToken"))
            XCTAssertNotEqual(access, refresh)
            XCTAssertEqual(jwtClaims(access)["sub"] as? String, userId)
            let expiresAt = try XCTUnwrap(verified.string("verifyOtp.accessTokenExpiresAt"))
            let expiry = try XCTUnwrap(parseRFC3339(expiresAt), "accessTokenExpiresAt is RFC 3339: \(expiresAt)")
            XCTAssertTrue(expiresAt.hasSuffix("Z"), "DateTime is UTC: \(expiresAt)")
            XCTAssertGreaterThan(expiry.timeIntervalSinceNow, 60)
            XCTAssertLessThan(expiry.timeIntervalSinceNow, 901)
            // Only a hash of the refresh token is kept.
            let refreshHashes = try await gw.harness.column("SELECT encode(token_hash, 'escape') FROM refresh_tokens")
            XCTAssertEqual(refreshHashes.count, 1)
            XCTAssertNotEqual(refreshHashes.first ?? nil, refresh)

            let me = try await gw.me(access)
            XCTAssertNil(me.firstError, me.text)
            XCTAssertEqual(me.string("me.id"), userId)
            XCTAssertEqual(me.string("me.phone"), phone)
            XCTAssertEqual(me.string("me.displayName"), "Ada")

            let updated = try await gw.graphQL(
                #"mutation { updateProfile(displayName: "  Ada L.  ") { id displayName } }"#, token: access)
            XCTAssertNil(updated.firstError, updated.text)
            XCTAssertEqual(updated.string("updateProfile.displayName"), "Ada L.", "the name is trimmed")
            let badName = try await gw.graphQL(#"mutation { updateProfile(displayName: "   ") { id } }"#, token: access)
            XCTAssertEqual(badName.errorCode, "BAD_USER_INPUT", badName.text)
            let value1 = try await gw.me(access).string("me.displayName")
            XCTAssertEqual(value1, "Ada L.")

            // Second sign-in: same user, not new, and a second session.
            let again = try await gw.signIn("(+234) 801-234-5601")
            XCTAssertFalse(again.isNewUser)
            XCTAssertEqual(again.userId, userId)
            let value2 = try await gw.harness.column("SELECT count(*)::text FROM users")
            XCTAssertEqual(value2, ["1"])
            let value3 = try await gw.harness.column("SELECT count(*)::text FROM sessions")
            XCTAssertEqual(value3, ["2"])
        }
    }

    func testPhoneIsVisibleToItsOwnerOnly() async throws {
        try await withGateway { gw in
            let alice = try await gw.signIn("+2348012345611", displayName: "Alice")
            let bob = try await gw.signIn("+2348012345612", displayName: "Bob")
            let query = "query($id: ID!) { user(id: $id) { id phone displayName } }"

            let other = try await gw.graphQL(query, variables: ["id": bob.userId], token: alice.accessToken)
            XCTAssertNil(other.firstError, other.text)
            XCTAssertEqual(other.string("user.id"), bob.userId)
            XCTAssertEqual(other.string("user.displayName"), "Bob")
            let otherUser = try XCTUnwrap(other.value("user") as? [String: Any])
            XCTAssertTrue(otherUser["phone"] is NSNull, "someone else's phone must be null: \(other.text)")
            XCTAssertFalse(other.text.contains(bob.phone))

            let own = try await gw.graphQL(query, variables: ["id": alice.userId], token: alice.accessToken)
            XCTAssertEqual(own.string("user.phone"), alice.phone)

            let missing = try await gw.graphQL(query, variables: ["id": UUID().uuidString], token: alice.accessToken)
            XCTAssertNil(missing.firstError, missing.text)
            XCTAssertTrue(missing.value("user") is NSNull)

            let anonymous = try await gw.graphQL(query, variables: ["id": bob.userId])
            XCTAssertEqual(anonymous.errorCode, "UNAUTHENTICATED", anonymous.text)
        }
    }

    /// Whoever just verified the code owns the phone: the `user` of `AuthPayload` is the caller
    /// and shows its phone, like `me` does (the request itself carries no token yet).
    func testAuthPayloadShowsTheCallersOwnPhone() async throws {
        try await withGateway { gw in
            let phone = "+2348012345602"
            _ = try await gw.requestOtp(phone)
            let code = try await gw.harness.latestCode(to: phone)
            let verified = try await gw.verifyOtp(phone, code: code)
            XCTAssertNil(verified.firstError, verified.text)
            XCTAssertEqual(verified.string("verifyOtp.user.phone"), phone, "verifyOtp.user.phone: \(verified.text)")

            let refreshToken = try XCTUnwrap(verified.string("verifyOtp.refreshToken"))
            let rotated = try await gw.graphQL(
                "mutation($t: String!) { refreshSession(refreshToken: $t) { user { id phone } } }", variables: ["t": refreshToken])
            XCTAssertNil(rotated.firstError, rotated.text)
            XCTAssertEqual(rotated.string("refreshSession.user.phone"), phone, "refreshSession.user.phone: \(rotated.text)")
        }
    }

    // MARK: Sessions

    func testRefreshRotatesAndReuseRevokesTheWholeSession() async throws {
        try await withGateway { gw in
            let first = try await gw.signIn("+2348012345621")

            let rotated = try await gw.refresh(first.refreshToken)
            XCTAssertNil(rotated.firstError, rotated.text)
            let access2 = try XCTUnwrap(rotated.string("refreshSession.accessToken"))
            let refresh2 = try XCTUnwrap(rotated.string("refreshSession.refreshToken"))
            XCTAssertNotEqual(access2, first.accessToken)
            XCTAssertNotEqual(refresh2, first.refreshToken)
            XCTAssertEqual(rotated.value("refreshSession.isNewUser") as? Bool, false)
            XCTAssertEqual(rotated.string("refreshSession.user.id"), first.userId)
            XCTAssertEqual(jwtClaims(access2)["sid"] as? String, jwtClaims(first.accessToken)["sid"] as? String,
                           "rotation stays in the same session")
            let value4 = try await gw.me(access2).string("me.id")
            XCTAssertEqual(value4, first.userId)

            // The spent token comes back: someone copied it. Refused, and the session is revoked.
            let reused = try await gw.refresh(first.refreshToken)
            XCTAssertEqual(reused.errorCode, "UNAUTHENTICATED", reused.text)
            XCTAssertNil(reused.value("refreshSession"))

            let newest = try await gw.refresh(refresh2)
            XCTAssertEqual(newest.errorCode, "UNAUTHENTICATED", "the newest refresh token dies with its session: \(newest.text)")
            let me = try await gw.me(access2)
            XCTAssertEqual(me.errorCode, "UNAUTHENTICATED", "the access token dies with its session: \(me.text)")
            let value5 = try await gw.me(first.accessToken).errorCode
            XCTAssertEqual(value5, "UNAUTHENTICATED")
            let reasons = try await gw.harness.column("SELECT revoked_reason FROM sessions")
            XCTAssertEqual(reasons, ["refresh_token_reuse"])

            // Another device's session is untouched.
            let other = try await gw.signIn("+2348012345621")
            let value6 = try await gw.me(other.accessToken).string("me.id")
            XCTAssertEqual(value6, first.userId)

            let garbage = try await gw.refresh("not-a-refresh-token")
            XCTAssertEqual(garbage.errorCode, "UNAUTHENTICATED", garbage.text)
        }
    }

    func testLogoutEndsTheAccessTokenAtOnce() async throws {
        try await withGateway { gw in
            let session = try await gw.signIn("+2348012345631")
            let value7 = try await gw.me(session.accessToken).string("me.id")
            XCTAssertEqual(value7, session.userId)

            let logout = try await gw.graphQL("mutation { logout }", token: session.accessToken)
            XCTAssertNil(logout.firstError, logout.text)
            XCTAssertEqual(logout.value("logout") as? Bool, true)

            let me = try await gw.me(session.accessToken)
            XCTAssertEqual(me.errorCode, "UNAUTHENTICATED", me.text)
            let refreshed = try await gw.refresh(session.refreshToken)
            XCTAssertEqual(refreshed.errorCode, "UNAUTHENTICATED", refreshed.text)
            let value8 = try await gw.harness.column("SELECT revoked_reason FROM sessions")
            XCTAssertEqual(value8, ["logout"])

            let anonymousLogout = try await gw.graphQL("mutation { logout }")
            XCTAssertEqual(anonymousLogout.errorCode, "UNAUTHENTICATED", anonymousLogout.text)
        }
    }

    // MARK: Refusals

    func testBadPhoneIsRefusedWithBadUserInput() async throws {
        try await withGateway { gw in
            for bad in ["not a phone", "12345", "+0123456789", "08012345678", "+234 801 234 5678 9999 999"] {
                let reply = try await gw.requestOtp(bad)
                XCTAssertEqual(reply.status, .ok, bad)
                XCTAssertEqual(reply.errorCode, "BAD_USER_INPUT", "\(bad): \(reply.text)")
                XCTAssertEqual(reply.errorExtensions["field"] as? String, "phone", reply.text)
                XCTAssertFalse((reply.errorMessage ?? "").isEmpty)
            }
            let sent = await gw.harness.termii.requests
            XCTAssertTrue(sent.isEmpty, "no SMS for a refused number")
            let verify = try await gw.verifyOtp("phone?", code: "123456")
            XCTAssertEqual(verify.errorCode, "BAD_USER_INPUT", verify.text)
        }
    }

    func testWrongCodeIsCountedAndFiveWrongTriesLockTheCode() async throws {
        try await withGateway { gw in
            let phone = "+2348012345641"
            let value9 = try await gw.requestOtp(phone).firstError
            XCTAssertNil(value9)
            let code = try await gw.harness.latestCode(to: phone)
            let wrong = String(format: "%06d", (Int(code)! + 1) % 1_000_000)

            let malformed = try await gw.verifyOtp(phone, code: "12ab56")
            XCTAssertEqual(malformed.errorCode, "BAD_USER_INPUT", malformed.text)

            for attempt in 1...4 {
                let reply = try await gw.verifyOtp(phone, code: wrong)
                XCTAssertEqual(reply.errorCode, "BAD_USER_INPUT", "attempt \(attempt): \(reply.text)")
                XCTAssertEqual(reply.errorExtensions["field"] as? String, "code")
                XCTAssertTrue(reply.errorMessage?.contains("\(5 - attempt)") == true, "tries left in: \(reply.errorMessage ?? "")")
                let value10 = try await gw.harness.column("SELECT attempts::text FROM otp_challenges")
                XCTAssertEqual(value10, ["\(attempt)"])
            }
            let fifth = try await gw.verifyOtp(phone, code: wrong)
            XCTAssertEqual(fifth.errorCode, "RATE_LIMITED", fifth.text)
            XCTAssertNotNil(fifth.errorExtensions["retryAfterSeconds"] as? Int, fifth.text)

            let right = try await gw.verifyOtp(phone, code: code)
            XCTAssertEqual(right.errorCode, "RATE_LIMITED", "a locked code stays locked, even the right one: \(right.text)")
            XCTAssertNil(right.value("verifyOtp"))
            let value11 = try await gw.harness.column("SELECT count(*)::text FROM users")
            XCTAssertEqual(value11, ["0"])
            let value12 = try await gw.harness.column("SELECT count(*)::text FROM sessions")
            XCTAssertEqual(value12, ["0"])

            // A new code works again.
            let signedIn = try await gw.signIn(phone)
            XCTAssertTrue(signedIn.isNewUser)
        }
    }

    func testExpiredCodeIsRefused() async throws {
        try await withGateway(["OTP_TTL_SECONDS": "30"]) { gw in
            let phone = "+2348012345651"
            let requested = try await gw.requestOtp(phone)
            XCTAssertNil(requested.firstError, requested.text)
            let code = try await gw.harness.latestCode(to: phone)
            let sms = await gw.harness.smsTexts(to: phone).last ?? ""
            XCTAssertTrue(sms.contains("1 minute"), "a 30 s code is announced as 1 minute: \(sms)")
            let lifetime = try await gw.harness.column(
                "SELECT round(EXTRACT(EPOCH FROM expires_at - created_at))::text FROM otp_challenges")
            XCTAssertEqual(lifetime, ["30"])

            try await gw.harness.execute(
                "UPDATE otp_challenges SET created_at = now() - interval '10 minutes', expires_at = now() - interval '9 minutes'")
            let reply = try await gw.verifyOtp(phone, code: code)
            XCTAssertEqual(reply.errorCode, "BAD_USER_INPUT", reply.text)
            XCTAssertTrue(reply.errorMessage?.lowercased().contains("expired") == true, reply.text)
            let value13 = try await gw.harness.column("SELECT count(*)::text FROM users")
            XCTAssertEqual(value13, ["0"])
        }
    }

    func testConsumedCodeCannotBeReused() async throws {
        try await withGateway { gw in
            let phone = "+2348012345661"
            _ = try await gw.requestOtp(phone)
            let code = try await gw.harness.latestCode(to: phone)
            let value14 = try await gw.verifyOtp(phone, code: code).firstError
            XCTAssertNil(value14)
            let again = try await gw.verifyOtp(phone, code: code)
            XCTAssertEqual(again.errorCode, "BAD_USER_INPUT", again.text)
            XCTAssertNil(again.value("verifyOtp"))
            let value15 = try await gw.harness.column("SELECT count(*)::text FROM sessions")
            XCTAssertEqual(value15, ["1"])
        }
    }

    func testNewCodeSupersedesTheEarlierOne() async throws {
        try await withGateway { gw in
            let phone = "+2348012345662"
            _ = try await gw.requestOtp(phone)
            let first = try await gw.harness.latestCode(to: phone)
            _ = try await gw.requestOtp(phone)
            let second = try await gw.harness.latestCode(to: phone)
            try XCTSkipIf(first == second, "the two random codes happen to be equal")
            let old = try await gw.verifyOtp(phone, code: first)
            XCTAssertEqual(old.errorCode, "BAD_USER_INPUT", old.text)
            let value16 = try await gw.verifyOtp(phone, code: second).firstError
            XCTAssertNil(value16)
        }
    }

    func testResendCooldown() async throws {
        try await withGateway(["OTP_RESEND_COOLDOWN_SECONDS": "60"]) { gw in
            let phone = "+2348012345671"
            let first = try await gw.requestOtp(phone)
            XCTAssertNil(first.firstError, first.text)
            XCTAssertEqual(first.value("requestOtp.retryAfterSeconds") as? Int, 60)

            let second = try await gw.requestOtp(phone)
            XCTAssertEqual(second.errorCode, "RATE_LIMITED", second.text)
            let retry = try XCTUnwrap(second.errorExtensions["retryAfterSeconds"] as? Int, second.text)
            XCTAssertGreaterThan(retry, 0)
            XCTAssertLessThanOrEqual(retry, 60)
            let sent = await gw.harness.smsTexts(to: phone)
            XCTAssertEqual(sent.count, 1, "no SMS while cooling down")

            // Another phone is not affected.
            let value17 = try await gw.requestOtp("+2348012345672").firstError
            XCTAssertNil(value17)
        }
    }

    func testHourlyLimitPerPhone() async throws {
        try await withGateway(["OTP_MAX_PER_PHONE_PER_HOUR": "2"]) { gw in
            let phone = "+2348012345681"
            let value18 = try await gw.requestOtp(phone).firstError
            XCTAssertNil(value18)
            let value19 = try await gw.requestOtp(phone).firstError
            XCTAssertNil(value19)
            let third = try await gw.requestOtp(phone)
            XCTAssertEqual(third.errorCode, "RATE_LIMITED", third.text)
            let retry = try XCTUnwrap(third.errorExtensions["retryAfterSeconds"] as? Int, third.text)
            XCTAssertGreaterThan(retry, 3000, "the hour window started moments ago")
            XCTAssertLessThanOrEqual(retry, 3600)
            let value20 = await gw.harness.smsTexts(to: phone).count
            XCTAssertEqual(value20, 2)
        }
    }

    /// Per-address limits need a real peer address, hence a live server.
    func testHourlyLimitPerIPAddress() async throws {
        try await withGateway(["OTP_MAX_PER_IP_PER_HOUR": "2"], setup: .live) { gw in
            let value21 = try await gw.requestOtp("+2348012345691").firstError
            XCTAssertNil(value21)
            let value22 = try await gw.requestOtp("+2348012345692").firstError
            XCTAssertNil(value22)
            let third = try await gw.requestOtp("+2348012345693")
            XCTAssertEqual(third.errorCode, "RATE_LIMITED", third.text)
            XCTAssertGreaterThan(third.errorExtensions["retryAfterSeconds"] as? Int ?? 0, 0, third.text)
            let value23 = try await gw.harness.column("SELECT count(*)::text FROM otp_challenges")
            XCTAssertEqual(value23, ["2"])
            let ips = try await gw.harness.column("SELECT DISTINCT requested_ip FROM otp_challenges")
            XCTAssertEqual(ips.count, 1)
            XCTAssertNotNil(ips.first ?? nil, "the peer address is recorded")
        }
    }

    func testTermiiFailureIsAClearInternalErrorAndConsumesNothing() async throws {
        try await withGateway(["OTP_RESEND_COOLDOWN_SECONDS": "60", "OTP_MAX_PER_PHONE_PER_HOUR": "1"]) { gw in
            let phone = "+2348012345699"
            gw.harness.termiiMode.failureStatus = 500
            let failed = try await gw.requestOtp(phone)
            XCTAssertEqual(failed.status, .ok)
            XCTAssertEqual(failed.errorCode, "INTERNAL", failed.text)
            let message = try XCTUnwrap(failed.errorMessage)
            XCTAssertTrue(message.contains("SMS provider"), "a clear message: \(message)")
            XCTAssertFalse(failed.text.contains("upstream exploded"), "the provider's words stay in the log")
            XCTAssertFalse(failed.text.contains("E_FAKE"))
            XCTAssertNil(failed.value("requestOtp"))
            let value24 = try await gw.harness.column("SELECT count(*)::text FROM otp_challenges")
            XCTAssertEqual(value24, ["0"],
                           "the undelivered challenge is deleted")

            // Neither the cooldown nor the hourly allowance (1) was spent.
            gw.harness.termiiMode.failureStatus = nil
            let signedIn = try await gw.signIn(phone)
            XCTAssertTrue(signedIn.isNewUser)
            let value25 = await gw.harness.termii.requests.count
            XCTAssertEqual(value25, 2)
        }
    }

    /// A new code that could not be sent leaves the earlier one usable, and a new code that was
    /// sent replaces it.
    func testAnUndeliveredCodeLeavesTheEarlierOneUsable() async throws {
        try await withGateway(["OTP_RESEND_COOLDOWN_SECONDS": "0"]) { gw in
            let phone = "+2348012345698"
            let first = try await gw.requestOtp(phone)
            XCTAssertNil(first.firstError, first.text)
            let earlier = try await gw.harness.latestCode(to: phone)
            gw.harness.termiiMode.failureStatus = 500
            let failed = try await gw.requestOtp(phone)
            XCTAssertEqual(failed.errorCode, "INTERNAL", failed.text)
            gw.harness.termiiMode.failureStatus = nil
            let verified = try await gw.verifyOtp(phone, code: earlier, displayName: "Still Here")
            XCTAssertNil(verified.firstError, verified.text)

            let again = try await gw.requestOtp(phone)
            XCTAssertNil(again.firstError, again.text)
            let newer = try await gw.harness.latestCode(to: phone)
            let third = try await gw.requestOtp(phone)
            XCTAssertNil(third.firstError, third.text)
            let latest = try await gw.harness.latestCode(to: phone)
            if newer != latest {
                let stale = try await gw.verifyOtp(phone, code: newer)
                XCTAssertEqual(stale.errorCode, "BAD_USER_INPUT", "a replaced code no longer signs in: \(stale.text)")
            }
            let unconsumed = try await gw.harness.column(
                "SELECT count(*)::text FROM otp_challenges WHERE phone = '\(phone)' AND consumed_at IS NULL")
            XCTAssertEqual(unconsumed, ["1"], "only the latest code is still open")
            let signedIn = try await gw.verifyOtp(phone, code: latest)
            XCTAssertNil(signedIn.firstError, signedIn.text)
        }
    }

    // MARK: Tokens

    func testAnonymousRequests() async throws {
        try await withGateway { gw in
            let me = try await gw.me(nil)
            XCTAssertEqual(me.status, .ok)
            XCTAssertEqual(me.errorCode, "UNAUTHENTICATED", me.text)

            let typename = try await gw.graphQL("{ __typename }")
            XCTAssertEqual(typename.status, .ok)
            XCTAssertNil(typename.firstError, typename.text)
            XCTAssertEqual(typename.string("__typename"), "Query")

            let introspection = try await gw.graphQL("""
                { __schema { queryType { name } mutationType { name } types { name } } }
                """)
            XCTAssertNil(introspection.firstError, introspection.text)
            XCTAssertEqual(introspection.string("__schema.queryType.name"), "Query")
            XCTAssertEqual(introspection.string("__schema.mutationType.name"), "Mutation")
            let names = (introspection.value("__schema.types") as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            for expected in ["User", "AuthPayload", "OtpChallenge", "DateTime"] {
                XCTAssertTrue(names.contains(expected), "\(expected) in \(names)")
            }
        }
    }

    func testDefectiveAccessTokensAreRefused() async throws {
        try await withGateway { gw in
            let session = try await gw.signIn("+2348012345701")
            let claims = jwtClaims(session.accessToken)
            let sub = try XCTUnwrap(claims["sub"] as? String)
            let sid = try XCTUnwrap(claims["sid"] as? String)
            XCTAssertNotNil(claims["exp"])
            XCTAssertNotNil(claims["iat"])
            XCTAssertNotNil(claims["jti"])

            // Control: a token we sign ourselves with the server's secret is accepted, so each
            // refusal below is due to its one defect.
            let valid = try await TestTokens.sign(secret: GatewayHarness.jwtSecret, sub: sub, sid: sid, expiresIn: 600)
            let value26 = try await gw.me(valid).string("me.id")
            XCTAssertEqual(value26, session.userId)

            var cases: [(String, String)] = []
            cases.append(("tampered signature", TestTokens.tamperSignature(session.accessToken)))
            cases.append(("tampered payload", TestTokens.tamperPayload(session.accessToken, sub: UUID().uuidString.lowercased())))
            cases.append(("expired", try await TestTokens.sign(secret: GatewayHarness.jwtSecret, sub: sub, sid: sid, expiresIn: -60)))
            cases.append(("alg none", TestTokens.unsigned(sub: sub, sid: sid)))
            cases.append(("wrong key", try await TestTokens.sign(
                secret: "another-secret-of-more-than-32-characters!!", sub: sub, sid: sid, expiresIn: 600)))
            cases.append(("unknown session", try await TestTokens.sign(
                secret: GatewayHarness.jwtSecret, sub: sub, sid: UUID().uuidString.lowercased(), expiresIn: 600)))
            cases.append(("not a JWT", "abc.def"))

            for (label, token) in cases {
                let reply = try await gw.me(token)
                XCTAssertEqual(reply.status, .ok, label)
                XCTAssertEqual(reply.errorCode, "UNAUTHENTICATED", "\(label): \(reply.text)")
                XCTAssertNil(reply.value("me"), label)
            }
            let expired = try await gw.me(cases[2].1)
            XCTAssertTrue(expired.errorMessage?.lowercased().contains("expired") == true, expired.text)

            // Not a Bearer header.
            let basic = try await gw.graphQL("{ me { id } }", headers: [.authorization: "Basic dXNlcjpwYXNz"])
            XCTAssertEqual(basic.errorCode, "UNAUTHENTICATED", basic.text)

            // A bad token on an operation that needs none does not get in the way.
            let typename = try await gw.graphQL("{ __typename }", token: cases[0].1)
            XCTAssertEqual(typename.string("__typename"), "Query", typename.text)
        }
    }

    /// An unexpected failure (here the sessions table is gone) answers INTERNAL with a generic text.
    func testInternalErrorsDoNotLeakInternals() async throws {
        try await withGateway { gw in
            let session = try await gw.signIn("+2348012345711")
            try await gw.harness.execute("ALTER TABLE sessions RENAME TO sessions_moved_away")
            let reply = try await gw.me(session.accessToken)
            XCTAssertEqual(reply.errorCode, "INTERNAL", reply.text)
            XCTAssertEqual(reply.errorMessage, "Internal server error")
            for leak in ["sessions", "relation", "PSQL", "postgres", "SELECT"] {
                XCTAssertFalse(reply.text.contains(leak), "\(leak) leaked: \(reply.text)")
            }
        }
    }
}
