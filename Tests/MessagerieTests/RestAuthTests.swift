import Foundation
import Hummingbird
import XCTest

@testable import Gateway

/// `/api/auth/*` through the real gateway: two-step register and login, refresh, logout, and
/// the refusals of each.
final class RestAuthTests: XCTestCase {
    func testRegisterThenLoginThenRefreshThenLogout() async throws {
        try await withGateway { gw in
            let first = try await gw.rest(.post, "/api/auth/register", json: ["phone": "+234 801 234 5001", "name": "Ada", "extra": 1])
            XCTAssertEqual(first.status, .accepted, first.text)
            XCTAssertEqual(first.json["status"] as? String, "otp_sent")
            XCTAssertEqual(first.json["phone"] as? String, "+2348012345001")
            let expiresIn = try XCTUnwrap(first.json["expiresIn"] as? Int)
            XCTAssertTrue((250...300).contains(expiresIn), "\(expiresIn)")

            let code = try await gw.harness.latestCode(to: "+2348012345001")
            let wrong = try await gw.rest(.post, "/api/auth/register", json: ["phone": "+2348012345001", "name": "Ada",
                                                                             "otp": code == "000000" ? "111111" : "000000"])
            XCTAssertEqual(wrong.status, .unprocessableContent, wrong.text)
            XCTAssertEqual(wrong.errorCode, "BAD_USER_INPUT")
            XCTAssertEqual(wrong.errorField, "otp")

            let created = try await gw.rest(.post, "/api/auth/register", json: ["phone": "+2348012345001", "name": "Ada", "otp": code])
            XCTAssertEqual(created.status, .created, created.text)
            let user = try XCTUnwrap(created.json["user"] as? [String: Any])
            XCTAssertEqual(user["name"] as? String, "Ada")
            XCTAssertEqual(user["phone"] as? String, "+2348012345001")
            XCTAssertNotNil(created.json["refreshToken"] as? String)
            let token = try XCTUnwrap(created.json["token"] as? String)
            // The REST token works on GraphQL: one identity behind both doors.
            let me = try await gw.me(token)
            XCTAssertEqual(me.string("me.id"), user["id"] as? String)
            XCTAssertEqual(me.string("me.displayName"), "Ada")

            let again = try await gw.rest(.post, "/api/auth/register", json: ["phone": "+2348012345001", "name": "Ada"])
            XCTAssertEqual(again.status, .conflict, again.text)
            XCTAssertEqual(again.errorCode, "CONFLICT")

            let login = try await gw.rest(.post, "/api/auth/login", json: ["phone": "+2348012345001"])
            XCTAssertEqual(login.status, .accepted, login.text)
            let loginCode = try await gw.harness.latestCode(to: "+2348012345001")
            let loggedIn = try await gw.rest(.post, "/api/auth/login", json: ["phone": "+2348012345001", "otp": loginCode])
            XCTAssertEqual(loggedIn.status, .ok, loggedIn.text)
            XCTAssertEqual((loggedIn.json["user"] as? [String: Any])?["id"] as? String, user["id"] as? String)
            XCTAssertEqual(loggedIn.json["isNewUser"] as? Bool, false)

            let refresh = try XCTUnwrap(loggedIn.json["refreshToken"] as? String)
            let refreshed = try await gw.rest(.post, "/api/auth/refresh", json: ["refreshToken": refresh])
            XCTAssertEqual(refreshed.status, .ok, refreshed.text)
            XCTAssertNotEqual(refreshed.json["refreshToken"] as? String, refresh)
            let reused = try await gw.rest(.post, "/api/auth/refresh", json: ["refreshToken": refresh])
            XCTAssertEqual(reused.status, .unauthorized, reused.text)
            XCTAssertEqual(reused.errorCode, "UNAUTHENTICATED")

            let logout = try await gw.rest(.post, "/api/auth/logout", token: token)
            XCTAssertEqual(logout.status, .ok, logout.text)
            let afterLogout = try await gw.rest(.get, "/api/conversations", token: token)
            XCTAssertEqual(afterLogout.status, .unauthorized, afterLogout.text)
            let reasons = try await gw.harness.column("SELECT revoked_reason FROM sessions WHERE revoked_reason = 'logout'")
            XCTAssertEqual(reasons, ["logout"])
        }
    }

    func testLoginOfUnknownPhoneIsNotFoundAndSendsNothing() async throws {
        try await withGateway { gw in
            let reply = try await gw.rest(.post, "/api/auth/login", json: ["phone": "+2348012345002"])
            XCTAssertEqual(reply.status, .notFound, reply.text)
            XCTAssertEqual(reply.errorCode, "NOT_FOUND")
            let sent = await gw.harness.smsTexts(to: "+2348012345002")
            XCTAssertEqual(sent, [])
            let withCode = try await gw.rest(.post, "/api/auth/login", json: ["phone": "+2348012345002", "otp": "123456"])
            XCTAssertEqual(withCode.status, .notFound, withCode.text)
            let users = try await gw.harness.column("SELECT id::text FROM users")
            XCTAssertEqual(users, [])
        }
    }

    func testMalformedBodiesNameTheField() async throws {
        try await withGateway { gw in
            let wrongType = try await gw.rest(.post, "/api/auth/login", json: ["phone": 2348012345003])
            XCTAssertEqual(wrongType.status, .badRequest, wrongType.text)
            XCTAssertEqual(wrongType.errorCode, "BAD_REQUEST")
            XCTAssertEqual(wrongType.errorField, "phone")
            XCTAssertTrue(wrongType.error?["message"] as? String == "phone must be a string", wrongType.text)

            let badName = try await gw.rest(.post, "/api/auth/register", json: ["phone": "+2348012345003", "name": "   "])
            XCTAssertEqual(badName.status, .unprocessableContent, badName.text)
            XCTAssertEqual(badName.errorField, "name")
            let missing = try await gw.rest(.post, "/api/auth/register", json: ["phone": "+2348012345003"])
            XCTAssertEqual(missing.status, .badRequest, missing.text)
            XCTAssertEqual(missing.errorField, "name")

            let notJSON = try await gw.rest(
                .post, "/api/auth/login", headers: [.contentType: "application/json"], body: ByteBuffer(string: "{\"phone\": "))
            XCTAssertEqual(notJSON.status, .badRequest, notJSON.text)
            XCTAssertEqual(notJSON.errorCode, "BAD_REQUEST")

            let form = try await gw.rest(
                .post, "/api/auth/login", headers: [.contentType: "text/plain"], body: ByteBuffer(string: "phone=1"))
            XCTAssertEqual(form.status, .unsupportedMediaType, form.text)

            let badPhone = try await gw.rest(.post, "/api/auth/login", json: ["phone": "not a phone"])
            XCTAssertEqual(badPhone.status, .unprocessableContent, badPhone.text)
            XCTAssertEqual(badPhone.errorCode, "BAD_USER_INPUT")
            let sent = await gw.harness.termii.requests
            XCTAssertEqual(sent.count, 0)
        }
    }

    func testBodyLimitAndRateLimit() async throws {
        try await withGateway(["MAX_REQUEST_BYTES": "2048", "OTP_MAX_PER_PHONE_PER_HOUR": "1"]) { gw in
            let big = try await gw.rest(.post, "/api/auth/register", json: ["phone": "+2348012345004", "name": String(repeating: "a", count: 4000)])
            XCTAssertEqual(big.status, .contentTooLarge, big.text)
            XCTAssertEqual(big.errorCode, "PAYLOAD_TOO_LARGE")

            let first = try await gw.rest(.post, "/api/auth/register", json: ["phone": "+2348012345004", "name": "Bo"])
            XCTAssertEqual(first.status, .accepted, first.text)
            let second = try await gw.rest(.post, "/api/auth/register", json: ["phone": "+2348012345004", "name": "Bo"])
            XCTAssertEqual(second.status, .tooManyRequests, second.text)
            XCTAssertEqual(second.errorCode, "RATE_LIMITED")
            XCTAssertNotNil(second.headers[.retryAfter])
        }
    }

    func testMissingOrBadTokenIs401() async throws {
        try await withGateway { gw in
            for headers: HTTPFields in [[:], [.authorization: "Bearer nope"], [.authorization: "Basic abc"]] {
                let reply = try await gw.rest(.get, "/api/conversations", headers: headers)
                XCTAssertEqual(reply.status, .unauthorized, reply.text)
                XCTAssertEqual(reply.errorCode, "UNAUTHENTICATED")
            }
        }
    }
}
