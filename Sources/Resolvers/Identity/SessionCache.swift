import Foundation
import Metrics
import NIOConcurrencyHelpers

/// Sessions found valid recently, so that an authenticated request need not ask PostgreSQL
/// again: the check was one statement of every request (one of five of a history page), with its
/// round trip on both sides.
///
/// An entry is trusted only while the gateway's LISTEN is in place: whatever ends a session or
/// changes its operator right is announced on `SessionNotices.channel` by a trigger when it commits (any
/// gateway, or SQL by hand), and the entry goes. This process's own sign-outs forget at once;
/// another gateway's take effect here when their notice arrives. Losing LISTEN forgets
/// everything and stops caching until it is back, since notices may have passed unheard then.
/// An entry also lives no longer than `lifetime`, nor past its session's expiry.
public final class SessionCache: SessionNoticeHearer {
    private struct Entry {
        let userId: UUID
        let isOperator: Bool
        let until: ContinuousClock.Instant
    }

    private struct State {
        var listening = false
        /// Moves whenever something is forgotten: a check whose query started before that
        /// may have read what was just revoked, so its answer is not kept.
        var epoch: UInt64 = 0
        var entries: [UUID: Entry] = [:]
    }

    /// A check of the database in flight: the cache's epoch when it started.
    public struct Ticket: Sendable {
        let epoch: UInt64
    }

    public enum Lookup: Sendable {
        case valid(Viewer)
        /// Ask the database, then `remember` with this ticket.
        case check(Ticket)
        /// Not caching now (no LISTEN in place, or turned off).
        case off
    }

    let lifetime: Duration
    let capacity: Int
    private let state = NIOLockedValueBox(State())
    private let hits: Counter
    private let misses: Counter

    public init(lifetime: Duration, capacity: Int = 100_000, factory: any MetricsFactory = NOOPMetricsHandler.instance) {
        self.lifetime = lifetime
        self.capacity = capacity
        hits = Counter(label: "messagerie_session_checks_total", dimensions: [("source", "cache")], factory: factory)
        misses = Counter(label: "messagerie_session_checks_total", dimensions: [("source", "database")], factory: factory)
    }

    /// The viewer of a session still known valid, or else a ticket for the database's answer.
    public func lookup(sessionId: UUID, userId: UUID) -> Lookup {
        let now = ContinuousClock.now
        let found: Lookup = state.withLockedValue { state in
            guard state.listening, lifetime > .zero else { return .off }
            if let entry = state.entries[sessionId] {
                if entry.until > now, entry.userId == userId {
                    return .valid(Viewer(userId: userId, sessionId: sessionId, isOperator: entry.isOperator))
                }
                state.entries.removeValue(forKey: sessionId)
            }
            return .check(Ticket(epoch: state.epoch))
        }
        if case .valid = found { hits.increment() } else { misses.increment() }
        return found
    }

    /// Keeps the database's answer, unless something was forgotten since `ticket` was taken.
    public func remember(_ viewer: Viewer, expiresAt: Date, ticket: Ticket) {
        let remaining = expiresAt.timeIntervalSinceNow
        guard remaining > 0 else { return }
        let until = ContinuousClock.now + min(lifetime, .milliseconds(Int64(remaining * 1000)))
        state.withLockedValue { state in
            guard state.listening, state.epoch == ticket.epoch else { return }
            if state.entries.count >= capacity {
                let now = ContinuousClock.now
                state.entries = state.entries.filter { $0.value.until > now }
                guard state.entries.count < capacity else { return }
            }
            state.entries[viewer.sessionId] = Entry(userId: viewer.userId, isOperator: viewer.isOperator, until: until)
        }
    }

    public func forget(session: UUID) {
        state.withLockedValue { state in
            state.epoch &+= 1
            state.entries.removeValue(forKey: session)
        }
    }

    public func forget(user: UUID) {
        state.withLockedValue { state in
            state.epoch &+= 1
            state.entries = state.entries.filter { $0.value.userId != user }
        }
    }

    /// One notice that cannot be read forgets everything.
    public func heard(_ notice: SessionNotice) {
        switch notice {
        case .session(let id): forget(session: id)
        case .user(let id): forget(user: id)
        case .unreadable: forgetAll()
        }
    }

    /// Told by the gateway's LISTEN connection when it is in place and when it is lost.
    public func listeningChanged(_ on: Bool) {
        state.withLockedValue { state in
            state.listening = on
            state.epoch &+= 1
            state.entries.removeAll()
        }
    }

    public var count: Int { state.withLockedValue { $0.entries.count } }

    private func forgetAll() {
        state.withLockedValue { state in
            state.epoch &+= 1
            state.entries.removeAll()
        }
    }
}
