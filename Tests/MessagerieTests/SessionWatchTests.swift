import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
@testable import Resolvers
import XCTest

@testable import Gateway

/// One session check for all the connections of a process: the ended sessions' connections are
/// told once, the others keep going.
final class SessionWatchTests: XCTestCase {
    func testOnlyEndedSessionsAreToldAndOnlyOnce() async throws {
        try await withWatch(viewers: 3) { gw, viewers, watch in
            let told = NIOLockedValueBox<[UUID]>([])
            for viewer in viewers + [viewers[1]] {
                _ = watch.watch(viewer) { error in
                    XCTAssertEqual(error, .unauthenticated("Session expired or signed out"))
                    told.withLockedValue { $0.append(viewer.userId) }
                }
            }
            // A session presented with another person's id is no session of theirs.
            let forged = Viewer(userId: viewers[2].userId, sessionId: viewers[0].sessionId, isOperator: false)
            let forgedToken = watch.watch(forged) { _ in told.withLockedValue { $0.append(UUID()) } }
            watch.unwatch(forgedToken)
            XCTAssertEqual(watch.watching, 4)

            await watch.check()
            XCTAssertEqual(told.withLockedValue { $0 }, [], "every session is valid")

            try await gw.harness.execute(
                "UPDATE sessions SET revoked_at = now(), revoked_reason = 'signed out' WHERE id = '\(viewers[1].sessionId)'",
                "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE id = '\(viewers[2].sessionId)'")
            await watch.check()
            XCTAssertEqual(Set(told.withLockedValue { $0 }), [viewers[1].userId, viewers[2].userId])
            XCTAssertEqual(told.withLockedValue { $0 }.count, 3, "both connections of the revoked session, the expired one")
            XCTAssertEqual(watch.watching, 1)

            await watch.check()
            XCTAssertEqual(told.withLockedValue { $0 }.count, 3, "an ended connection is told once")
        }
    }

    /// A notice has the sessions it names checked at once, and only those; an unreadable one, or
    /// LISTEN back after a loss, has every session checked.
    func testNoticesCheckTheSessionsTheyName() async throws {
        try await withWatch(viewers: 3) { gw, viewers, watch in
            let told = NIOLockedValueBox<[UUID]>([])
            for viewer in viewers {
                _ = watch.watch(viewer) { _ in told.withLockedValue { $0.append(viewer.userId) } }
            }
            try await gw.harness.execute(
                "UPDATE sessions SET revoked_at = now(), revoked_reason = 'revoked' WHERE id IN ('\(viewers[0].sessionId)', '\(viewers[1].sessionId)')")
            watch.heard(.session(viewers[0].sessionId))
            await watch.checkHeard()
            XCTAssertEqual(told.withLockedValue { $0 }, [viewers[0].userId], "only the session named was checked")

            watch.heard(.user(viewers[2].userId))
            await watch.checkHeard()
            XCTAssertEqual(told.withLockedValue { $0 }, [viewers[0].userId], "a valid session stays")

            watch.listeningChanged(true)
            await watch.checkHeard()
            XCTAssertEqual(told.withLockedValue { $0 }, [viewers[0].userId, viewers[1].userId], "LISTEN back: every session checked")
            XCTAssertEqual(watch.watching, 1)
        }
    }

    /// A connection opened with the operator right ends when the right is withdrawn: it would
    /// otherwise keep reading the activity log for as long as it stays open.
    func testAWithdrawnOperatorRightEndsTheConnection() async throws {
        try await withWatch(viewers: 2) { gw, found, watch in
            let chief = Viewer(userId: found[0].userId, sessionId: found[0].sessionId, isOperator: true)
            let member = found[1]
            try await gw.harness.execute("UPDATE users SET is_operator = true WHERE id = '\(chief.userId)'")
            let told = NIOLockedValueBox<[DomainError]>([])
            for viewer in [chief, member] {
                _ = watch.watch(viewer) { error in told.withLockedValue { $0.append(error) } }
            }
            await watch.check()
            XCTAssertEqual(told.withLockedValue { $0 }, [])

            try await gw.harness.execute("UPDATE users SET is_operator = false WHERE id = '\(chief.userId)'")
            watch.heard(.user(chief.userId))
            await watch.checkHeard()
            XCTAssertEqual(told.withLockedValue { $0 }, [.unauthenticated("The operator right was withdrawn; sign in again")])
            XCTAssertEqual(watch.watching, 1, "the member's connection, opened without the right, stays")
        }
    }

    /// A notice whose check fails (the database cannot answer) is checked again soon, not only at
    /// the next pass, which here is an hour away.
    func testAFailedCheckOfANoticeIsTriedAgain() async throws {
        try await withWatch(viewers: 1) { gw, viewers, watch in
            let told = NIOLockedValueBox<[UUID]>([])
            _ = watch.watch(viewers[0]) { _ in told.withLockedValue { $0.append(viewers[0].userId) } }
            let running = Task { try await watch.run() }
            defer { running.cancel() }
            try await gw.harness.execute(
                "UPDATE sessions SET revoked_at = now(), revoked_reason = 'signed out' WHERE id = '\(viewers[0].sessionId)'",
                "ALTER TABLE sessions RENAME TO sessions_away")
            watch.heard(.session(viewers[0].sessionId))
            try await Task.sleep(for: .milliseconds(300))
            XCTAssertEqual(told.withLockedValue { $0 }, [], "the check cannot have succeeded without the table")
            try await gw.harness.execute("ALTER TABLE sessions_away RENAME TO sessions")
            try await eventually("the revoked session is told within the retries", seconds: 10) {
                told.withLockedValue { $0 } == [viewers[0].userId]
            }
            XCTAssertEqual(watch.watching, 0)
        }
    }

    /// A gateway with `viewers` people signed in, and a watch of its sessions whose own pass never
    /// comes during a test: the tests run the passes.
    private func withWatch(
        viewers count: Int, _ body: @Sendable (GatewayClient, [Viewer], SessionWatch) async throws -> Void
    ) async throws {
        try await withGateway { gw in
            let viewers = try await Self.viewers(gw, count: count)
            let logger = Logger(label: "messagerie.tests.sessions")
            try await withDatabasePool(gw.harness.endpoint, logger: logger) { db in
                try await body(gw, viewers, SessionWatch(db: db, interval: .seconds(3600), logger: logger))
            }
        }
    }

    private static func viewers(_ gw: GatewayClient, count: Int) async throws -> [Viewer] {
        var found: [Viewer] = []
        for user in try await gw.signInUsers(count) {
            let sessions = try await gw.harness.column("SELECT id::text FROM sessions WHERE user_id = '\(user.userId)'")
            let session = try XCTUnwrap(sessions.first ?? nil)
            found.append(Viewer(userId: UUID(uuidString: user.userId)!, sessionId: UUID(uuidString: session)!, isOperator: false))
        }
        return found
    }
}
