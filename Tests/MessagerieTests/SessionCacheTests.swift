import Foundation
import XCTest

@testable import Gateway
@testable import Resolvers

/// Sessions found valid are trusted for a while without a query, and forgotten as soon as
/// whatever ended them is heard: a sign-out here at once, a revocation anywhere else through the
/// triggers' notices, everything when LISTEN was lost.
final class SessionCacheTests: XCTestCase {
    private let ada = Viewer(userId: UUID(), sessionId: UUID(), isOperator: false)
    private let later = Date().addingTimeInterval(3600)

    private func remembered(_ cache: SessionCache, _ viewer: Viewer) throws {
        guard case .check(let ticket) = cache.lookup(sessionId: viewer.sessionId, userId: viewer.userId) else {
            return XCTFail("expected a database check for an unknown session")
        }
        cache.remember(viewer, expiresAt: later, ticket: ticket)
    }

    private func isValid(_ cache: SessionCache, _ viewer: Viewer) -> Bool {
        if case .valid(let found) = cache.lookup(sessionId: viewer.sessionId, userId: viewer.userId) {
            XCTAssertEqual(found, viewer)
            return true
        }
        return false
    }

    func testNothingIsCachedWithoutListen() throws {
        let cache = SessionCache(lifetime: .seconds(60))
        guard case .off = cache.lookup(sessionId: ada.sessionId, userId: ada.userId) else { return XCTFail("cached before LISTEN") }
        cache.listeningChanged(true)
        try remembered(cache, ada)
        XCTAssertTrue(isValid(cache, ada))
        XCTAssertFalse(isValid(cache, Viewer(userId: UUID(), sessionId: ada.sessionId, isOperator: false)),
                       "a session presented with another person's id")

        cache.listeningChanged(false)
        XCTAssertEqual(cache.count, 0)
        guard case .off = cache.lookup(sessionId: ada.sessionId, userId: ada.userId) else { return XCTFail("cached without LISTEN") }
        cache.listeningChanged(true)
        XCTAssertFalse(isValid(cache, ada), "what was known before LISTEN was lost is forgotten")

        let off = SessionCache(lifetime: .zero)
        off.listeningChanged(true)
        guard case .off = off.lookup(sessionId: ada.sessionId, userId: ada.userId) else { return XCTFail("cached with a lifetime of 0") }
    }

    func testNoticesForgetSessionsAndPeople() throws {
        let cache = SessionCache(lifetime: .seconds(60))
        cache.listeningChanged(true)
        let adaOther = Viewer(userId: ada.userId, sessionId: UUID(), isOperator: false)
        let bola = Viewer(userId: UUID(), sessionId: UUID(), isOperator: true)
        for viewer in [ada, adaOther, bola] { try remembered(cache, viewer) }
        XCTAssertEqual(cache.count, 3)

        cache.heard(SessionNotice(payload: "s" + ada.sessionId.uuidString.lowercased()))
        XCTAssertFalse(isValid(cache, ada))
        XCTAssertTrue(isValid(cache, adaOther))
        XCTAssertTrue(isValid(cache, bola))

        try remembered(cache, ada)
        cache.heard(SessionNotice(payload: "u" + ada.userId.uuidString.lowercased()))
        XCTAssertFalse(isValid(cache, ada))
        XCTAssertFalse(isValid(cache, adaOther))
        XCTAssertTrue(isValid(cache, bola))

        cache.heard(SessionNotice(payload: "something else"))
        XCTAssertEqual(cache.count, 0, "a notice that cannot be read forgets everything")
    }

    /// A check whose query started before a revocation was heard may have read the row before the
    /// revocation: its answer is not kept.
    func testAnAnswerOlderThanAForgettingIsNotKept() throws {
        let cache = SessionCache(lifetime: .seconds(60))
        cache.listeningChanged(true)
        guard case .check(let ticket) = cache.lookup(sessionId: ada.sessionId, userId: ada.userId) else { return XCTFail() }
        cache.heard(SessionNotice(payload: "s" + ada.sessionId.uuidString))
        cache.remember(ada, expiresAt: later, ticket: ticket)
        XCTAssertFalse(isValid(cache, ada))

        guard case .check(let beforeLoss) = cache.lookup(sessionId: ada.sessionId, userId: ada.userId) else { return XCTFail() }
        cache.listeningChanged(false)
        cache.listeningChanged(true)
        cache.remember(ada, expiresAt: later, ticket: beforeLoss)
        XCTAssertFalse(isValid(cache, ada), "checked before LISTEN was lost")
    }

    func testEntriesEndWithTheirSessionAndTheirLifetime() async throws {
        let cache = SessionCache(lifetime: .milliseconds(200))
        cache.listeningChanged(true)
        guard case .check(let expired) = cache.lookup(sessionId: ada.sessionId, userId: ada.userId) else { return XCTFail() }
        cache.remember(ada, expiresAt: Date().addingTimeInterval(-1), ticket: expired)
        XCTAssertEqual(cache.count, 0, "an expired session is not kept")

        let soon = Viewer(userId: UUID(), sessionId: UUID(), isOperator: false)
        guard case .check(let ticket) = cache.lookup(sessionId: soon.sessionId, userId: soon.userId) else { return XCTFail() }
        cache.remember(soon, expiresAt: Date().addingTimeInterval(0.1), ticket: ticket)
        try remembered(cache, ada)
        XCTAssertTrue(isValid(cache, soon))
        XCTAssertTrue(isValid(cache, ada))
        try await Task.sleep(for: .milliseconds(120))
        XCTAssertFalse(isValid(cache, soon), "kept past its session's expiry")
        XCTAssertTrue(isValid(cache, ada))
        try await Task.sleep(for: .milliseconds(120))
        XCTAssertFalse(isValid(cache, ada), "kept past the cache's lifetime")
    }

    func testAFullCacheKeepsNoMore() throws {
        let cache = SessionCache(lifetime: .seconds(60), capacity: 2)
        cache.listeningChanged(true)
        let viewers = (0..<3).map { _ in Viewer(userId: UUID(), sessionId: UUID(), isOperator: false) }
        for viewer in viewers { try remembered(cache, viewer) }
        XCTAssertEqual(cache.count, 2)
        XCTAssertFalse(isValid(cache, viewers[2]))
    }

    // MARK: The gateway

    private static let me = "query { me { id } }"

    /// With a lifetime longer than the wait, only the trigger's notice can end the cached
    /// session in time: the revocation is made by SQL, as another gateway or an administrator would.
    func testARevocationElsewhereEndsACachedSession() async throws {
        try await withGateway(["SESSION_CACHE_SECONDS": "3600", "METRICS_TOKEN": MetricsTests.token]) { gw in
            let users = try await gw.signInUsers(2)
            let (ada, bola) = (users[0], users[1])
            try await eventually("the gateway listens") { try await gw.raw(method: .get, uri: "/readyz").status == .ok }
            for _ in 0..<3 {
                let reply = try await gw.call(ada, Self.me)
                XCTAssertEqual(reply.string("me.id"), ada.userId, reply.text)
            }
            let scrape = try await gw.raw(method: .get, uri: "/metrics", headers: [.authorization: "Bearer \(MetricsTests.token)"]).text
            XCTAssertEqual(MetricsTests.value(scrape, #"messagerie_session_checks_total{source="cache"}"#), 2, scrape)

            try await gw.harness.execute(
                "UPDATE sessions SET revoked_at = now(), revoked_reason = 'revoked' WHERE user_id = '\(ada.userId)'")
            try await eventually("the revocation reached the cache") {
                try await gw.call(ada, Self.me).errorCode == "UNAUTHENTICATED"
            }
            let still = try await gw.call(bola, Self.me)
            XCTAssertEqual(still.string("me.id"), bola.userId, still.text)

            // A session row deleted (a clean-up by hand) ends the session too.
            _ = try await gw.call(bola, Self.me)
            try await gw.harness.execute("DELETE FROM sessions WHERE user_id = '\(bola.userId)'")
            try await eventually("the deletion reached the cache") {
                try await gw.call(bola, Self.me).errorCode == "UNAUTHENTICATED"
            }
        }
    }

    /// While LISTEN is down, a revocation is heard by no one: the cache starts empty when it is back.
    func testLosingListenForgetsWhatWasCached() async throws {
        try await withGateway(["SESSION_CACHE_SECONDS": "3600"]) { gw in
            let ada = try await gw.signInUsers(1)[0]
            try await eventually("the gateway listens") { try await gw.raw(method: .get, uri: "/readyz").status == .ok }
            _ = try await gw.call(ada, Self.me)
            let cached = try await gw.call(ada, Self.me)
            XCTAssertEqual(cached.string("me.id"), ada.userId, cached.text)

            let listenBackend = "SELECT pid::text FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'"
            let lost = try await gw.harness.column(listenBackend)
            try await EventListenerTests.terminateListen(gw)
            try await gw.harness.execute(
                "UPDATE sessions SET revoked_at = now(), revoked_reason = 'revoked' WHERE user_id = '\(ada.userId)'")
            try await eventually("LISTEN is back on another connection") {
                let now = try await gw.harness.column(listenBackend)
                guard !now.isEmpty, now != lost else { return false }
                return try await gw.raw(method: .get, uri: "/readyz").status == .ok
            }
            let after = try await gw.call(ada, Self.me)
            XCTAssertEqual(after.errorCode, "UNAUTHENTICATED", after.text)
        }
    }
}
