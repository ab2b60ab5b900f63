import Foundation
import Logging
import PostgresNIO
import Resolvers
import XCTest

@testable import Gateway

/// People whose last connection closes are announced OFFLINE after the grace period, all those
/// due at once together; someone who comes back within the grace period is not.
final class PresenceSweepTests: XCTestCase {
    func testManyLeavingAtOnceGoOfflineTogetherAndAReturnStaysOnline() async throws {
        let logger: Logger = {
            var logger = Logger(label: "messagerie.tests.presence")
            logger.logLevel = .critical
            return logger
        }()
        let endpoint = try await TestDatabase.shared.freshDatabase()
        let migrations = GatewayHarness.packageRoot + "/migrations"
        try await withDatabasePool(endpoint, logger: logger) { db in
            _ = try await Migrator(directory: migrations).apply(db, logger: logger)
            let users = (0..<300).map { _ in UUID() }
            for (index, id) in users.enumerated() {
                try await db.query(
                    "INSERT INTO users (id, phone, display_name) VALUES (\(id), \(String(format: "+234830%07d", index)), 'P')", logger: logger)
            }
            var policy = PresencePolicy()
            policy.offlineGrace = .milliseconds(300)
            let presence = PresenceService(db: db, logger: logger, events: EventPublisher(db: db, logger: logger), policy: policy)
            for id in users { await presence.connected(id) }
            let stays = users[0], leaves = Array(users[1...])
            let connected = try await Self.online(db, users, logger)
            XCTAssertEqual(connected, 300)

            for id in users { await presence.disconnected(id) }
            await presence.connected(stays)
            // Wait past the grace period for the sweep (polling: no timing is asserted). Whenever
            // someone reads as OFFLINE, their last-seen time must already be there.
            var online = -1
            var offlineWithoutLastSeen = 0
            for _ in 0..<400 {
                let read = try await presence.presence(of: leaves)
                offlineWithoutLastSeen += read.filter { $0.status == .offline && $0.lastSeenAt == nil }.count
                online = try await Self.online(db, users, logger)
                if online == 1 { break }
                try await Task.sleep(for: .milliseconds(5))
            }
            XCTAssertEqual(online, 1, "everyone who left is offline")
            XCTAssertEqual(offlineWithoutLastSeen, 0, "nobody reads as OFFLINE before their last-seen time is written")
            let statuses = try await presence.presence(of: [stays] + leaves)
            XCTAssertEqual(statuses.first?.status, .online, "came back within the grace period")
            XCTAssertEqual(Set(statuses.dropFirst().map(\.status)), [.offline])
            XCTAssertTrue(statuses.dropFirst().allSatisfy { $0.lastSeenAt != nil }, "OFFLINE carries lastSeenAt")
        }
    }

    static func online(_ db: DatabasePool, _ users: [UUID], _ logger: Logger) async throws -> Int {
        for try await count in try await db.query("SELECT count(*) FROM presence WHERE user_id = ANY(\(users))", logger: logger).decode(Int.self) {
            return count
        }
        return 0
    }
}
