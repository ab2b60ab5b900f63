import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

public struct PresencePolicy: Sendable {
    /// Idle this long with connections open: AWAY.
    public var awayAfter: Duration = .seconds(300)
    /// A last connection that closes is given this long to come back before OFFLINE is announced,
    /// so a quick reconnect does not flap; kept well under the 5 seconds the contract allows.
    public var offlineGrace: Duration = .seconds(2)
    public var heartbeat: Duration = .seconds(2)
    /// A gateway silent this long is dead; its connections no longer count.
    public var gatewayTimeout: Duration = .seconds(10)
    public init() {}
}

public struct PresenceInfo: Sendable, Equatable {
    public let userId: UUID
    public let status: PresenceStatus
    public let lastSeenAt: Date?
}

/// Presence across gateway processes. Each process counts its own connections per user and keeps
/// one row per (user, gateway) in PostgreSQL; transitions are announced as events.
public actor PresenceService: Service {
    struct Local {
        var connections = 0
        var lastActivity = ContinuousClock.now
        var away = false
        /// Set while the last connection's grace period runs: OFFLINE is announced at this instant.
        var offlineAt: ContinuousClock.Instant?
    }

    let db: DatabasePool
    let logger: Logger
    let events: EventPublisher
    public let policy: PresencePolicy
    public nonisolated let gatewayId = UUID()
    private var local: [UUID: Local] = [:]
    private var registered = false
    /// One task announces everyone whose grace period ended, in one statement per batch: when
    /// 15,000 sockets drop at once (a network blip, a load balancer restart), 15,000 separate
    /// deletes would queue for the database pool ahead of everyone's messages.
    private var offlineSweep: Task<Void, Never>?
    /// Last connections closed, in the order their grace periods end (the grace is the same for
    /// all), so the sweep reads only what is due instead of every connected person.
    private var offlineQueue: [(userId: UUID, at: ContinuousClock.Instant)] = []

    public init(db: DatabasePool, logger: Logger, events: EventPublisher, policy: PresencePolicy = .init()) {
        self.db = db
        self.logger = logger
        self.events = events
        self.policy = policy
    }

    // MARK: Connections

    public func connected(_ userId: UUID) async {
        var state = local[userId] ?? Local()
        state.connections += 1
        state.lastActivity = .now
        let resumed = state.offlineAt != nil
        state.offlineAt = nil
        let first = state.connections == 1 && !resumed
        let wasAway = state.away
        state.away = false
        local[userId] = state
        do {
            try await ensureRegistered()
            if first {
                if try await arrive(userId) { events.publish(.presence(userId: userId, status: .online, lastSeenAt: nil)) }
            } else {
                try await db.query("""
                    UPDATE presence SET connections = \(state.connections), last_activity_at = now()
                    WHERE user_id = \(userId) AND gateway_id = \(gatewayId)
                    """, logger: logger)
                if wasAway { events.publish(.presence(userId: userId, status: .online, lastSeenAt: nil)) }
            }
        } catch {
            logger.error("presence update failed", metadata: ["error": "\(error)"])
        }
    }

    public func disconnected(_ userId: UUID) async {
        guard var state = local[userId], state.connections > 0 else { return }
        state.connections -= 1
        if state.connections > 0 {
            local[userId] = state
            _ = try? await db.query("""
                UPDATE presence SET connections = \(state.connections) WHERE user_id = \(userId) AND gateway_id = \(gatewayId)
                """, logger: logger)
            return
        }
        let at = ContinuousClock.now + policy.offlineGrace
        state.offlineAt = at
        local[userId] = state
        offlineQueue.append((userId, at))
        if offlineSweep == nil {
            offlineSweep = Task { [weak self] in await self?.sweepOffline() }
        }
    }

    /// Any sign of life from the person: a request, a frame, a typing event.
    public func touched(_ userId: UUID) async {
        guard var state = local[userId], state.connections > 0 else { return }
        let wasAway = state.away
        state.lastActivity = .now
        state.away = false
        local[userId] = state
        if wasAway {
            _ = try? await db.query(
                "UPDATE presence SET last_activity_at = now() WHERE user_id = \(userId) AND gateway_id = \(gatewayId)", logger: logger)
            events.publish(.presence(userId: userId, status: .online, lastSeenAt: nil))
        }
    }

    /// Announces, batch by batch, the people whose last connection closed and stayed closed for
    /// the grace period; ends when nobody is waiting.
    private func sweepOffline() async {
        while let next = offlineQueue.first?.at {
            if next > .now { try? await Task.sleep(until: next, clock: .continuous) }
            let now = ContinuousClock.now
            let due = offlineQueue.prefix { $0.at <= now }.count
            // An entry counts only if it is still that person's pending deadline: someone who came
            // back cleared it, someone who left again has a later entry of their own.
            let gone = offlineQueue.prefix(due).compactMap { entry -> UUID? in
                guard let state = local[entry.userId], state.connections == 0, state.offlineAt == entry.at else { return nil }
                return entry.userId
            }
            offlineQueue.removeFirst(due)
            for id in gone { local[id] = nil }
            guard !gone.isEmpty else { continue }
            do {
                try await leaveAndAnnounceOffline(gone)
            } catch {
                logger.error("presence update failed; trying again", metadata: ["error": "\(error)", "users": "\(gone.count)"])
                sweepAgain(gone)
                continue
            }
            do {
                // The actor let others in while the statement ran: whoever came back meanwhile
                // found their row still there, and it has just been removed.
                try await restore(gone)
            } catch {
                logger.error("presence update failed", metadata: ["error": "\(error)", "users": "\(gone.count)"])
            }
        }
        offlineSweep = nil
    }

    /// Those of `users` still gone are swept again one grace period later: their rows are still
    /// there (the sweep's transaction failed), and they would read as online until this gateway
    /// stops. Entries keep the queue's order, since every one is due a grace period after it is
    /// added.
    private func sweepAgain(_ users: [UUID]) {
        let at = ContinuousClock.now + policy.offlineGrace
        for id in users where local[id] == nil {
            var state = Local()
            state.offlineAt = at
            local[id] = state
            offlineQueue.append((id, at))
        }
    }

    // A person's first connection on a gateway and a gateway's last one ending may happen at once
    // on two gateways. Each decides under a lock on the person's `users` row, taken by a statement
    // of its own so that what follows reads what the other committed: otherwise a sweep whose
    // statement began before another gateway's connection committed announced that person OFFLINE
    // while the other gateway, having read the sweep's row still there, announced nothing.
    // OFFLINE is notified inside the sweep's transaction: a later ONLINE, decided only once that
    // transaction committed, is notified after it, and PostgreSQL delivers notifications in
    // commit order.

    /// Records this gateway's first connection of `userId`; true if no other gateway had one.
    private func arrive(_ userId: UUID) async throws -> Bool {
        let timeout = Self.seconds(policy.gatewayTimeout)
        return try await db.transaction(logger: logger) { connection in
            try await connection.query("SELECT 1 FROM users WHERE id = \(userId) FOR NO KEY UPDATE", logger: logger)
            let rows = try await connection.query("""
                WITH here AS (
                    INSERT INTO presence (user_id, gateway_id, connections) VALUES (\(userId), \(gatewayId), 1)
                    ON CONFLICT (user_id, gateway_id) DO UPDATE SET connections = presence.connections + 1, last_activity_at = now())
                SELECT count(*) FROM presence p JOIN gateways g ON g.id = p.gateway_id
                WHERE p.user_id = \(userId) AND p.gateway_id <> \(gatewayId) AND g.heartbeat_at > now() - make_interval(secs => \(timeout))
                """, logger: logger)
            var others = 0
            for try await count in rows.decode(Int.self) { others = count }
            return others == 0
        }
    }

    /// This gateway's rows of `users` are removed in the same statement that stamps the
    /// `last_seen_at` of those left with no connection anywhere: done in two, a reader between
    /// them saw someone OFFLINE who had never been given a last-seen time.
    private func leaveAndAnnounceOffline(_ users: [UUID]) async throws {
        guard !users.isEmpty else { return }
        let timeout = Self.seconds(policy.gatewayTimeout)
        try await db.transaction(logger: logger) { connection in
            // In the order of ids, as every sweep takes them: two sweeps cannot wait for each other.
            try await connection.query(
                "SELECT 1 FROM users WHERE id = ANY(\(users)) ORDER BY id FOR NO KEY UPDATE", logger: logger)
            let rows = try await connection.query("""
                WITH left_here AS (DELETE FROM presence WHERE user_id = ANY(\(users)) AND gateway_id = \(gatewayId))
                UPDATE users SET last_seen_at = now() WHERE id = ANY(\(users)) AND NOT EXISTS (
                    SELECT 1 FROM presence p JOIN gateways g ON g.id = p.gateway_id
                    WHERE p.user_id = users.id AND p.gateway_id <> \(gatewayId)
                      AND g.heartbeat_at > now() - make_interval(secs => \(timeout)))
                RETURNING id, last_seen_at
                """, logger: logger)
            var offline: [DomainEvent] = []
            for try await (id, seen) in rows.decode((UUID, Date).self) {
                offline.append(.presence(userId: id, status: .offline, lastSeenAt: seen))
            }
            for payload in EventCodec.payloads(offline) {
                try await connection.query("SELECT pg_notify(\(EventPublisher.channel), \(payload))", logger: logger)
            }
        }
    }

    /// Puts back this gateway's rows of those of `users` connected here now, and announces them
    /// again as they are.
    private func restore(_ users: [UUID]) async throws {
        let here = users.compactMap { id in local[id].flatMap { $0.connections > 0 ? (id, $0) : nil } }
        guard !here.isEmpty else { return }
        try await db.query("""
            INSERT INTO presence (user_id, gateway_id, connections, last_activity_at)
            SELECT u, \(gatewayId), n, CASE WHEN a THEN now() - make_interval(secs => \(Self.seconds(policy.awayAfter))) ELSE now() END
            FROM unnest(\(here.map(\.0))::uuid[], \(here.map(\.1.connections))::int[], \(here.map(\.1.away))::bool[]) AS t(u, n, a)
            ON CONFLICT (user_id, gateway_id) DO UPDATE SET connections = EXCLUDED.connections
            """, logger: logger)
        events.publish(here.map { .presence(userId: $0.0, status: $0.1.away ? .away : .online, lastSeenAt: nil) })
    }

    private func ensureRegistered() async throws {
        guard !registered else { return }
        try await db.query("""
            INSERT INTO gateways (id) VALUES (\(gatewayId)) ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()
            """, logger: logger)
        registered = true
    }

    // MARK: Reading

    public func presence(of userIds: [UUID]) async throws -> [PresenceInfo] {
        guard !userIds.isEmpty else { return [] }
        var result: [UUID: PresenceInfo] = [:]
        let timeout = Self.seconds(policy.gatewayTimeout)
        let away = Self.seconds(policy.awayAfter)
        // Someone whose only gateway stopped beating is offline before any sweep says so, last
        // seen when that gateway last beat (what the sweep will stamp).
        for try await (id, seen, online, idle) in try await db.query("""
            SELECT u.id, CASE WHEN p.online THEN u.last_seen_at ELSE GREATEST(u.last_seen_at, p.lost) END,
                   COALESCE(p.online, false), COALESCE(p.latest < now() - make_interval(secs => \(away)), false)
            FROM users u LEFT JOIN LATERAL (
                SELECT bool_or(g.heartbeat_at > now() - make_interval(secs => \(timeout))) AS online,
                       max(p.last_activity_at) FILTER (WHERE g.heartbeat_at > now() - make_interval(secs => \(timeout))) AS latest,
                       max(g.heartbeat_at) FILTER (WHERE g.heartbeat_at <= now() - make_interval(secs => \(timeout))) AS lost
                FROM presence p JOIN gateways g ON g.id = p.gateway_id WHERE p.user_id = u.id
            ) p ON true
            WHERE u.id = ANY(\(userIds))
            """, logger: logger).decode((UUID, Date?, Bool, Bool).self)
        {
            let localAway = local[id]?.away ?? false
            let status: PresenceStatus = !online ? .offline : (idle || localAway) ? .away : .online
            result[id] = PresenceInfo(userId: id, status: status, lastSeenAt: seen)
        }
        return userIds.compactMap { result[$0] }
    }

    // MARK: Service

    public func run() async throws {
        try? await ensureRegistered()
        await withGracefulShutdownHandler {
            while !Task.isCancelled, !Task.isShuttingDownGracefully {
                do {
                    try await beat()
                } catch {
                    logger.warning("presence heartbeat failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: policy.heartbeat)
            }
        } onGracefulShutdown: {}
        // Leaving: our connections stop counting at once rather than after the timeout.
        let users = Array(local.keys)
        local.removeAll()
        try? await leaveAndAnnounceOffline(users)
        _ = try? await db.query("DELETE FROM gateways WHERE id = \(gatewayId)", logger: logger)
    }

    private func beat() async throws {
        // A gateway that could not beat for longer than the timeout (a stall, the database out
        // of reach) was removed by another one, its rows with it: it registers again and puts
        // back the rows of everyone still connected here, who were announced OFFLINE.
        let wasRegistered = registered
        var registeredAgain = false
        for try await inserted in try await db.query("""
            INSERT INTO gateways (id) VALUES (\(gatewayId)) ON CONFLICT (id) DO UPDATE SET heartbeat_at = now() RETURNING xmax = 0
            """, logger: logger).decode(Bool.self)
        {
            registeredAgain = inserted
        }
        registered = true
        if registeredAgain {
            // Not the first registration, which `ensureRegistered` could not make at start.
            if wasRegistered { logger.warning("this gateway had been taken for dead; its connections are counted again") }
            try await restore(Array(local.keys))
        }
        // Idle people become AWAY.
        let now = ContinuousClock.now
        for (userId, state) in local where state.connections > 0 && !state.away && now - state.lastActivity >= policy.awayAfter {
            local[userId]?.away = true
            try await db.query(
                "UPDATE presence SET last_activity_at = now() - make_interval(secs => \(Self.seconds(policy.awayAfter))) WHERE user_id = \(userId) AND gateway_id = \(gatewayId)",
                logger: logger)
            events.publish(.presence(userId: userId, status: .away, lastSeenAt: nil))
        }
        try await announceOrphanedOffline()
    }

    /// Gateways that stopped beating are removed, and their people with no connection left
    /// anywhere are stamped last seen when their gateway last beat, in one statement: the same
    /// time `presence(of:)` reports for them from the moment the gateway is late.
    private func announceOrphanedOffline() async throws {
        let timeout = Self.seconds(policy.gatewayTimeout)
        let rows = try await db.query("""
            WITH dead AS (DELETE FROM gateways WHERE heartbeat_at < now() - make_interval(secs => \(timeout)) RETURNING id, heartbeat_at),
            orphaned AS (SELECT p.user_id, max(d.heartbeat_at) AS seen FROM presence p JOIN dead d ON d.id = p.gateway_id GROUP BY p.user_id)
            UPDATE users SET last_seen_at = GREATEST(users.last_seen_at, orphaned.seen) FROM orphaned
            WHERE users.id = orphaned.user_id AND NOT EXISTS (
                SELECT 1 FROM presence p JOIN gateways g ON g.id = p.gateway_id
                WHERE p.user_id = users.id AND g.heartbeat_at > now() - make_interval(secs => \(timeout)))
            RETURNING users.id, users.last_seen_at
            """, logger: logger)
        for try await (id, seen) in rows.decode((UUID, Date).self) {
            events.publish(.presence(userId: id, status: .offline, lastSeenAt: seen))
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
