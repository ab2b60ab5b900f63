import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import Resolvers
import ServiceLifecycle
import XCTest

@testable import Gateway

/// People whose last connection closes are announced OFFLINE after the grace period, all those
/// due at once together; someone who comes back within the grace period is not.
final class PresenceSweepTests: XCTestCase {
    func testManyLeavingAtOnceGoOfflineTogetherAndAReturnStaysOnline() async throws {
        try await Self.withMigratedDatabase { db, logger, _ in
            let users = try await Self.insertUsers(300, db, logger)
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

    /// A gateway that stops beating takes its connections with it. Whoever was connected only
    /// there reads as OFFLINE at once, last seen when it last beat; a live gateway's beat then
    /// removes it, stamps that same time and announces them, once. Someone also connected to the
    /// live gateway stays ONLINE and is announced nothing.
    func testPeopleOfAGatewayThatStoppedBeatingGoOfflineLastSeenWhenItLastBeat() async throws {
        try await Self.withMigratedDatabase { db, logger, endpoint in
            let pair = try await Self.insertUsers(2, db, logger)
            let (only, also) = (pair[0], pair[1])
            var policy = PresencePolicy()
            policy.heartbeat = .milliseconds(100)
            policy.gatewayTimeout = .seconds(5)
            let publisher = EventPublisher(db: db, logger: logger)
            let dying = PresenceService(db: db, logger: logger, events: publisher, policy: policy)
            let live = PresenceService(db: db, logger: logger, events: publisher, policy: policy)
            await dying.connected(only)
            await dying.connected(also)
            await live.connected(also)
            var lastBeat = Date.distantPast
            for try await at in try await db.query(
                "UPDATE gateways SET heartbeat_at = now() - interval '1 minute' WHERE id = \(dying.gatewayId) RETURNING heartbeat_at",
                logger: logger
            ).decode(Date.self) {
                lastBeat = at
            }

            let before = try await live.presence(of: [only, also])
            XCTAssertEqual(before.map(\.status), [.offline, .online])
            XCTAssertEqual(before[0].lastSeenAt?.timeIntervalSince1970 ?? 0, lastBeat.timeIntervalSince1970, accuracy: 0.001)

            // The ONLINE events of the connections above may be heard too, whenever they go out.
            let announced = try await Heard.start(publisher, endpoint, logger) { event in
                if case .presence(_, .offline, _) = event { true } else { false }
            }
            let beating = Task { try await live.run() }
            try await eventually("the OFFLINE of the one connected only to the gateway that stopped") {
                !announced.events.isEmpty
            }
            // A few more beats: nobody else may be announced OFFLINE, nor this one again.
            try await Task.sleep(for: .milliseconds(500))
            let heard = announced.events
            // Stopped after the snapshot: a gateway that stops announces its own people offline.
            beating.cancel()
            await announced.stop()

            XCTAssertEqual(heard.count, 1, "\(heard)")
            guard case .presence(let userId, let status, let seen) = heard.first else { return XCTFail("\(heard)") }
            XCTAssertEqual(userId, only)
            XCTAssertEqual(status, .offline)
            XCTAssertEqual(seen?.timeIntervalSince1970 ?? 0, lastBeat.timeIntervalSince1970, accuracy: 0.001)
            var gateways = 0
            for try await count in try await db.query("SELECT count(*) FROM gateways WHERE id = \(dying.gatewayId)", logger: logger).decode(Int.self) {
                gateways = count
            }
            XCTAssertEqual(gateways, 0, "the gateway that stopped is removed")
            let after = try await live.presence(of: [only, also])
            XCTAssertEqual(after.map(\.status), [.offline, .online])
            XCTAssertEqual(after[0].lastSeenAt?.timeIntervalSince1970 ?? 0, lastBeat.timeIntervalSince1970, accuracy: 0.001, "the same time as before the sweep")
        }
    }

    /// Someone whose last connection on gateway A ends while they connect on gateway B ends
    /// ONLINE. The interleaving is forced: a row lock held by the test stops A's sweep inside its
    /// statement, after the moment that statement reads, while B connects. Before the sweep and
    /// B's first connection decided under a lock on the person, A announced OFFLINE (its
    /// statement read no row of B's) and B announced nothing (it had read A's row still there).
    func testASweepAndAConnectionOnAnotherGatewayEndOnline() async throws {
        try await Self.withMigratedDatabase { db, logger, endpoint in
            let user = try await Self.insertUsers(1, db, logger)[0]
            var policy = PresencePolicy()
            policy.offlineGrace = .milliseconds(100)
            let publisher = EventPublisher(db: db, logger: logger)
            let gatewayA = PresenceService(db: db, logger: logger, events: publisher, policy: policy)
            let gatewayB = PresenceService(db: db, logger: logger, events: publisher, policy: policy)
            let heard = try await Heard.start(publisher, endpoint, logger) { event in
                if case .presence(user, _, _) = event { true } else { false }
            }
            await gatewayA.connected(user)
            try await eventually("A's ONLINE") { heard.statuses == [.online] }

            let arriving = try await withDatabasePool(endpoint, logger: logger) { holder in
                try await holder.transaction(logger: logger) { connection in
                    try await connection.query(
                        "SELECT 1 FROM presence WHERE user_id = \(user) AND gateway_id = \(gatewayA.gatewayId) FOR UPDATE", logger: logger)
                    await gatewayA.disconnected(user)
                    try await eventually("A's sweep waiting inside its statement") {
                        try await Self.waiting(onThisConnection: true, connection) == 1
                    }
                    let arriving = Task { await gatewayB.connected(user) }
                    // B either waits for the person (with the lock) or has finished (without it).
                    try await eventually("B connected or waiting") {
                        let waits = try await Self.waiting(onThisConnection: false, connection)
                        let rows = try await Self.presenceRows(user, of: gatewayB, connection)
                        return waits == 1 || rows == 1
                    }
                    return arriving
                }
            }
            await arriving.value
            try await eventually("B's row") { try await Self.online(db, [user], logger) == 1 }
            try await eventually("the announcements settle") { heard.statuses.count >= 2 }
            try await Task.sleep(for: .milliseconds(300))
            let announced = heard.statuses
            await heard.stop()

            XCTAssertEqual(announced.last, .online, "connected on B, so ONLINE last: \(announced)")
            let status = try await gatewayB.presence(of: [user]).first?.status
            XCTAssertEqual(status, .online)
        }
    }

    /// A sweep whose transaction fails (here its table is renamed for a moment, as a migration
    /// might) is tried again: before, the person's row stayed and they read as online until the
    /// gateway stopped.
    func testASweepThatFailedIsTriedAgain() async throws {
        try await Self.withMigratedDatabase { db, logger, _ in
            let user = try await Self.insertUsers(1, db, logger)[0]
            var policy = PresencePolicy()
            policy.offlineGrace = .milliseconds(200)
            let presence = PresenceService(db: db, logger: logger, events: EventPublisher(db: db, logger: logger), policy: policy)
            await presence.connected(user)
            let connected = try await Self.online(db, [user], logger)
            XCTAssertEqual(connected, 1)
            try await db.query("ALTER TABLE presence RENAME TO presence_moved", logger: logger)
            await presence.disconnected(user)
            // Past the grace period several times over, so that the sweep has run and failed.
            try await Task.sleep(for: .seconds(1))
            try await db.query("ALTER TABLE presence_moved RENAME TO presence", logger: logger)
            try await eventually("the sweep tried again") { try await Self.online(db, [user], logger) == 0 }
            let status = try await presence.presence(of: [user]).first
            XCTAssertEqual(status?.status, .offline)
            XCTAssertNotNil(status?.lastSeenAt)
        }
    }

    /// Events heard the way every gateway hears them, through a LISTEN connection of their own;
    /// those `keep` accepts are kept, in order.
    final class Heard: Sendable {
        private let kept: NIOLockedValueBox<[DomainEvent]>
        private let group: ServiceGroup
        private let running: Task<Void, any Error>
        private let collecting: Task<Void, Never>

        var events: [DomainEvent] { kept.withLockedValue { $0 } }
        var statuses: [PresenceStatus] {
            events.compactMap { if case .presence(_, let status, _) = $0 { status } else { nil } }
        }

        private init(kept: NIOLockedValueBox<[DomainEvent]>, group: ServiceGroup, running: Task<Void, any Error>, collecting: Task<Void, Never>) {
            (self.kept, self.group, self.running, self.collecting) = (kept, group, running, collecting)
        }

        static func start(
            _ publisher: EventPublisher, _ endpoint: DatabaseEndpoint, _ logger: Logger,
            keep: @escaping @Sendable (DomainEvent) -> Bool
        ) async throws -> Heard {
            let hub = EventHub()
            let (_, events) = hub.subscribe()
            let kept = NIOLockedValueBox<[DomainEvent]>([])
            let group = ServiceGroup(
                services: [publisher, EventListener(endpoint: endpoint, hub: hub, logger: logger)], gracefulShutdownSignals: [], logger: logger)
            let running = Task { try await group.run() }
            let collecting = Task {
                for await event in events where keep(event) { kept.withLockedValue { $0.append(event) } }
            }
            try await hub.untilListening()
            return Heard(kept: kept, group: group, running: running, collecting: collecting)
        }

        func stop() async {
            await group.triggerGracefulShutdown()
            _ = try? await running.value
            collecting.cancel()
        }
    }

    /// Backends waiting for a lock: held by this connection's transaction, or by another one.
    static func waiting(onThisConnection: Bool, _ connection: PostgresConnection) async throws -> Int {
        // pg_stat_activity is read once per transaction unless its snapshot is cleared.
        try await connection.query("SELECT pg_stat_clear_snapshot()", logger: connection.logger)
        let rows = try await connection.query("""
            SELECT count(*) FROM pg_stat_activity
            WHERE cardinality(pg_blocking_pids(pid)) > 0 AND (pg_backend_pid() = ANY(pg_blocking_pids(pid))) = \(onThisConnection)
            """, logger: connection.logger)
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    static func presenceRows(_ user: UUID, of gateway: PresenceService, _ connection: PostgresConnection) async throws -> Int {
        let rows = try await connection.query(
            "SELECT count(*) FROM presence WHERE user_id = \(user) AND gateway_id = \(gateway.gatewayId)", logger: connection.logger)
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }

    /// A crowd that reconnects one by one across the end of the grace period ends ONLINE, with
    /// its rows: those back before the sweep are skipped by it, those back after it find no row,
    /// and those back while its statement runs (taken off its books already) get their row put
    /// back. That last window is a few milliseconds; this test does not reach it reliably (it
    /// passed against the code before `restore`), but fails when the sweep takes returning people.
    func testComingBackWhileTheSweepRunsStaysOnline() async throws {
        try await Self.withMigratedDatabase { db, logger, _ in
            let users = try await Self.insertUsers(400, db, logger)
            var policy = PresencePolicy()
            policy.offlineGrace = .milliseconds(200)
            let presence = PresenceService(db: db, logger: logger, events: EventPublisher(db: db, logger: logger), policy: policy)
            for id in users { await presence.connected(id) }
            for id in users { await presence.disconnected(id) }
            try await Task.sleep(for: .milliseconds(150))
            for id in users { await presence.connected(id) }
            try await Task.sleep(for: .milliseconds(500))
            let statuses = try await presence.presence(of: users)
            XCTAssertEqual(statuses.filter { $0.status != .online }.count, 0, "connected, yet not online")
            let rows = try await Self.online(db, users, logger)
            XCTAssertEqual(rows, users.count)
        }
    }

    /// A gateway that could not beat for a while was removed by another, its rows with it. When
    /// it beats again it registers again and its people count as connected again.
    func testAGatewayTakenForDeadCountsItsConnectionsAgain() async throws {
        try await Self.withMigratedDatabase { db, logger, _ in
            let users = try await Self.insertUsers(2, db, logger)
            var policy = PresencePolicy()
            policy.heartbeat = .milliseconds(100)
            let presence = PresenceService(db: db, logger: logger, events: EventPublisher(db: db, logger: logger), policy: policy)
            for id in users { await presence.connected(id) }
            try await db.query("DELETE FROM gateways WHERE id = \(presence.gatewayId)", logger: logger)
            let removed = try await presence.presence(of: users)
            XCTAssertEqual(removed.map(\.status), [.offline, .offline])

            let beating = Task { try await presence.run() }
            defer { beating.cancel() }
            try await eventually("the connections count again", seconds: 10) {
                try await presence.presence(of: users).allSatisfy { $0.status == .online }
            }
            let rows = try await Self.online(db, users, logger)
            XCTAssertEqual(rows, 2)
            // New connections are counted too (their rows need the gateway's).
            let another = try await Self.insertUsers(1, db, logger, from: 2)
            await presence.connected(another[0])
            let status = try await presence.presence(of: another).first?.status
            XCTAssertEqual(status, .online)
        }
    }

    /// A fresh, migrated database and a pool on it, with the services' logs kept quiet.
    static func withMigratedDatabase(_ body: @Sendable (DatabasePool, Logger, DatabaseEndpoint) async throws -> Void) async throws {
        var logger = Logger(label: "messagerie.tests.presence")
        logger.logLevel = .critical
        let endpoint = try await TestDatabase.shared.freshDatabase()
        try await withDatabasePool(endpoint, logger: logger) { [logger] db in
            _ = try await Migrator(directory: GatewayHarness.packageRoot + "/migrations").apply(db, logger: logger)
            try await body(db, logger, endpoint)
        }
    }

    static func insertUsers(_ count: Int, _ db: DatabasePool, _ logger: Logger, from start: Int = 0) async throws -> [UUID] {
        let users = (0..<count).map { _ in UUID() }
        for (index, id) in users.enumerated() {
            try await db.query(
                "INSERT INTO users (id, phone, display_name) VALUES (\(id), \(String(format: "+234832%07d", start + index)), 'P')", logger: logger)
        }
        return users
    }

    static func online(_ db: DatabasePool, _ users: [UUID], _ logger: Logger) async throws -> Int {
        for try await count in try await db.query("SELECT count(*) FROM presence WHERE user_id = ANY(\(users))", logger: logger).decode(Int.self) {
            return count
        }
        return 0
    }
}
