import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import Resolvers
import XCTest

@testable import Gateway

/// One session check for all the connections of a process: the ended sessions' connections are
/// told once, the others keep going.
final class SessionWatchTests: XCTestCase {
    func testOnlyEndedSessionsAreToldAndOnlyOnce() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(3)
            var found: [Viewer] = []
            for user in users {
                let sessions = try await gw.harness.column("SELECT id::text FROM sessions WHERE user_id = '\(user.userId)'")
                let session = try XCTUnwrap(sessions.first ?? nil)
                found.append(Viewer(userId: UUID(uuidString: user.userId)!, sessionId: UUID(uuidString: session)!, isOperator: false))
            }
            let viewers = found
            let logger = Logger(label: "messagerie.tests.sessions")
            try await withDatabasePool(gw.harness.endpoint, logger: logger) { db in
                let watch = SessionWatch(db: db, interval: .seconds(3600), logger: logger)
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
    }
}
