import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle

/// Sends the outbox. Each gateway runs one; they share the work through `FOR UPDATE SKIP LOCKED`
/// and a lease, so a job is claimed by one worker at a time and a crashed worker's jobs return.
public final class PushWorker: Service, Sendable {
    let core: MessagingCore
    let devices: DeviceService
    let transports: [PushPlatform: any PushTransport]
    let policy: PushPolicy

    public init(core: MessagingCore, devices: DeviceService, transports: [PushPlatform: any PushTransport], policy: PushPolicy) {
        self.core = core
        self.devices = devices
        self.transports = transports
        self.policy = policy
    }

    struct Job: Sendable {
        let id: Int64
        let userId: UUID
        let messageId: UUID
        let conversationId: UUID
        let attempts: Int
    }

    enum Outcome: String { case sent = "SENT", failed = "FAILED", dropped = "DROPPED", retry = "PENDING" }

    public func run() async throws {
        await withGracefulShutdownHandler {
            while !Task.isCancelled, !Task.isShuttingDownGracefully {
                var busy = false
                do {
                    busy = try await runOnce() > 0
                    try await checkReceipts()
                } catch {
                    core.logger.warning("push worker pass failed", metadata: ["error": "\(error)"])
                }
                if !busy { try? await Task.sleep(for: policy.pollInterval) }
            }
        } onGracefulShutdown: {}
    }

    /// Claims and sends one batch; returns how many jobs it handled.
    @discardableResult
    func runOnce() async throws -> Int {
        let jobs = try await claim()
        guard !jobs.isEmpty else {
            try await recordQueueDepth()
            return 0
        }
        let messages = try await core.messages(
            "SELECT \(unescaped: MessagingCore.messageColumns) FROM messages m WHERE m.id = ANY(\(jobs.map(\.messageId)))")
        let byId = Dictionary(uniqueKeysWithValues: messages.map { ($0.id, $0) })
        let names = try await senderNames(Set(messages.compactMap(\.senderId)))
        let owned = Dictionary(grouping: try await devices.devices(of: Array(Set(jobs.map(\.userId)))), by: \.userId)

        // Every notification of the batch, per platform, so that Expo gets them in chunks.
        var outgoing: [PushPlatform: [(job: Int64, notification: PushNotification)]] = [:]
        var outcomes: [Int64: Outcome] = [:]
        for job in jobs {
            guard let message = byId[job.messageId], message.deletedAt == nil, let targets = owned[job.userId], !targets.isEmpty else {
                outcomes[job.id] = .dropped
                continue
            }
            let (title, body) = wording(message, sender: message.senderId.flatMap { names[$0] })
            for device in targets where transports[device.platform] != nil {
                outgoing[device.platform, default: []].append((job.id, PushNotification(
                    token: device.token, title: title, body: body, conversationId: job.conversationId, messageId: job.messageId)))
            }
            if !targets.contains(where: { transports[$0.platform] != nil }) { outcomes[job.id] = .dropped }
        }

        var accepted = Set<Int64>(), retryable = Set<Int64>(), errors: [Int64: String] = [:]
        for (platform, items) in outgoing {
            guard let transport = transports[platform] else { continue }
            let answers = await transport.send(items.map(\.notification))
            for (item, answer) in zip(items, answers) {
                switch answer {
                case .accepted(let ticket):
                    accepted.insert(item.job)
                    if let ticket { try await remember(ticket: ticket, token: item.notification.token) }
                case .invalidToken:
                    try await forget(token: item.notification.token)
                case .failed(let reason, let canRetry):
                    errors[item.job] = reason
                    if canRetry { retryable.insert(item.job) }
                }
            }
        }
        for job in jobs where outcomes[job.id] == nil {
            if accepted.contains(job.id) {
                outcomes[job.id] = .sent
            } else if retryable.contains(job.id) {
                outcomes[job.id] = job.attempts >= policy.maxAttempts ? .failed : .retry
            } else {
                outcomes[job.id] = errors[job.id] == nil ? .dropped : .failed
            }
        }
        for job in jobs {
            try await finish(job, outcomes[job.id] ?? .dropped, error: errors[job.id])
        }
        try await recordQueueDepth()
        return jobs.count
    }

    // MARK: Wording

    func wording(_ message: Message, sender: String?) -> (title: String, body: String) {
        switch policy.preview {
        case .none:
            return ("Messagerie", "New message")
        case .full:
            let text = message.text.map { $0.count > 140 ? String($0.prefix(139)) + "…" : $0 } ?? "Sent an attachment"
            return (sender ?? "New message", text)
        }
    }

    private func senderNames(_ ids: Set<UUID>) async throws -> [UUID: String] {
        guard !ids.isEmpty else { return [:] }
        var names: [UUID: String] = [:]
        // Someone without a display name is not named: their phone number is theirs alone, and
        // the notification's title falls back to the neutral one.
        for try await (id, name) in try await core.db.query(
            "SELECT id, display_name FROM users WHERE id = ANY(\(Array(ids))) AND display_name IS NOT NULL", logger: core.logger
        ).decode((UUID, String).self) {
            names[id] = name
        }
        return names
    }

    // MARK: Storage

    private func claim() async throws -> [Job] {
        let lease = PresenceService.seconds(policy.lease)
        var jobs: [Job] = []
        for try await (id, userId, messageId, conversationId, attempts) in try await core.db.query("""
            WITH due AS (
                SELECT id FROM push_jobs WHERE state = 'PENDING' AND run_at <= now()
                ORDER BY run_at, id LIMIT \(policy.batchSize) FOR UPDATE SKIP LOCKED)
            UPDATE push_jobs j SET attempts = j.attempts + 1, run_at = now() + make_interval(secs => \(lease))
            FROM due WHERE j.id = due.id
            RETURNING j.id, j.user_id, j.message_id, j.conversation_id, j.attempts
            """, logger: core.logger).decode((Int64, UUID, UUID, UUID, Int).self)
        {
            jobs.append(Job(id: id, userId: userId, messageId: messageId, conversationId: conversationId, attempts: attempts))
        }
        return jobs
    }

    private func finish(_ job: Job, _ outcome: Outcome, error: String?) async throws {
        Counter(label: "messagerie_push_jobs_total", dimensions: [("outcome", outcome == .retry ? "retry" : outcome.rawValue.lowercased())],
                factory: core.telemetry.factory).increment()
        if outcome == .retry {
            let delay = PresenceService.seconds(policy.retryDelay(afterAttempt: job.attempts))
            try await core.db.query("""
                UPDATE push_jobs SET run_at = now() + make_interval(secs => \(delay)), last_error = \(error) WHERE id = \(job.id)
                """, logger: core.logger)
        } else {
            try await core.db.query("""
                UPDATE push_jobs SET state = \(outcome.rawValue), last_error = \(error), finished_at = now() WHERE id = \(job.id)
                """, logger: core.logger)
        }
    }

    private func recordQueueDepth() async throws {
        for try await depth in try await core.db.query(
            "SELECT count(*) FROM push_jobs WHERE state = 'PENDING'", logger: core.logger
        ).decode(Int.self) {
            Gauge(label: "messagerie_push_queue_depth", factory: core.telemetry.factory).record(depth)
        }
    }

    private func remember(ticket: String, token: String) async throws {
        let delay = PresenceService.seconds(policy.receiptDelay)
        try await core.db.query("""
            INSERT INTO push_receipts (ticket_id, token, check_after) VALUES (\(ticket), \(token), now() + make_interval(secs => \(delay)))
            ON CONFLICT (ticket_id) DO NOTHING
            """, logger: core.logger)
    }

    private func forget(token: String) async throws {
        try await core.db.query("DELETE FROM push_devices WHERE token = \(token)", logger: core.logger)
        core.logger.info("push token no longer valid; device removed")
    }

    /// Expo receipts that are due: a device that is gone is removed; a receipt not ready yet is
    /// asked for again later.
    func checkReceipts() async throws {
        guard let transport = transports[.expo] else { return }
        var due: [(ticket: String, token: String)] = []
        for try await (ticket, token) in try await core.db.query("""
            DELETE FROM push_receipts WHERE ticket_id IN (
                SELECT ticket_id FROM push_receipts WHERE check_after <= now() ORDER BY check_after LIMIT 300 FOR UPDATE SKIP LOCKED)
            RETURNING ticket_id, token
            """, logger: core.logger).decode((String, String).self)
        {
            due.append((ticket, token))
        }
        guard !due.isEmpty else { return }
        let receipts = await transport.receipts(for: due.map(\.ticket))
        for item in due {
            switch receipts[item.ticket] {
            case .deviceNotRegistered:
                try await forget(token: item.token)
            case nil:
                try await remember(ticket: item.ticket, token: item.token)
            case .ok, .error:
                break
            }
        }
    }
}
