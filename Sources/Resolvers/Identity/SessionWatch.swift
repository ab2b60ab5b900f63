import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import ServiceLifecycle

/// Tells long-lived connections that their session ended (signed out, revoked, expired) or lost
/// the operator right it was opened with. A notice of the triggers of migration 0009 has the
/// sessions it names checked at once; a pass over every session each interval covers expiry
/// (which no trigger announces) and whatever passed while LISTEN was down. One query per pass for
/// every connection of the process: with 15,000 idle sockets, a query per connection was most of
/// the server's CPU at rest.
public final class SessionWatch: Service, SessionNoticeHearer {
    public typealias Ended = @Sendable (DomainError) -> Void

    public struct Token: Hashable, Sendable {
        let id: UUID
    }

    private struct Entry {
        let viewer: Viewer
        let ended: Ended
    }

    private struct State {
        var entries: [Token: Entry] = [:]
        /// Heard since the last pass over notices.
        var heard: Set<SessionNotice> = []
    }

    let db: DatabasePool
    let interval: Duration
    let logger: Logger
    private let state = NIOLockedValueBox(State())
    private let wakes: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    /// Sessions per query: the ids travel as one array parameter.
    static let chunk = 5000

    public init(db: DatabasePool, interval: Duration, logger: Logger) {
        self.db = db
        self.interval = interval
        self.logger = logger
        (wakes, wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// `ended` is called once, from the watch's own task, when the viewer's session is over.
    public func watch(_ viewer: Viewer, ended: @escaping Ended) -> Token {
        let token = Token(id: UUID())
        state.withLockedValue { $0.entries[token] = Entry(viewer: viewer, ended: ended) }
        return token
    }

    public func unwatch(_ token: Token) {
        state.withLockedValue { _ = $0.entries.removeValue(forKey: token) }
    }

    public var watching: Int { state.withLockedValue { $0.entries.count } }

    public func heard(_ notice: SessionNotice) {
        state.withLockedValue { _ = $0.heard.insert(notice) }
        wake.yield()
    }

    /// Back after a loss, every session is checked: revocations may have passed unheard.
    public func listeningChanged(_ on: Bool) {
        if on { heard(.unreadable) }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        do { try await Task.sleep(for: self.interval) } catch { return }
                        await self.check()
                    }
                }
                group.addTask {
                    var retry = Self.firstRetry
                    for await _ in self.wakes {
                        if await self.checkHeard() {
                            retry = Self.firstRetry
                            continue
                        }
                        // The database is unwell: what was heard is checked again soon, not only
                        // at the next pass, which may be minutes away for a signed-out session.
                        try? await Task.sleep(for: retry)
                        retry = min(retry * 2, self.interval)
                        self.wake.yield()
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
    }

    /// One pass over every session.
    public func check() async {
        await check(state.withLockedValue { $0.entries })
    }

    /// The wait before a failed check of notices is tried again; it doubles up to `interval`.
    static let firstRetry = Duration.milliseconds(500)

    /// The sessions named by the notices heard since the last such pass; false when the check
    /// failed, and those notices wait to be checked again.
    @discardableResult
    func checkHeard() async -> Bool {
        let (heard, entries) = state.withLockedValue { state -> (Set<SessionNotice>, [Token: Entry]) in
            let heard = state.heard
            state.heard.removeAll()
            if heard.contains(.unreadable) { return (heard, state.entries) }
            return (heard, state.entries.filter { heard.contains(.session($0.value.viewer.sessionId)) || heard.contains(.user($0.value.viewer.userId)) })
        }
        guard await check(entries) else {
            state.withLockedValue { $0.heard.formUnion(heard) }
            return false
        }
        return true
    }

    /// Every session still valid, with the operator right its connection was opened with, stays;
    /// the others' connections are told. False when the database could not answer.
    @discardableResult
    private func check(_ snapshot: [Token: Entry]) async -> Bool {
        guard !snapshot.isEmpty else { return true }
        let sessions = Array(Set(snapshot.values.map(\.viewer.sessionId)))
        var valid: [UUID: (userId: UUID, isOperator: Bool)] = [:]
        do {
            for start in stride(from: 0, to: sessions.count, by: Self.chunk) {
                let ids = Array(sessions[start..<min(start + Self.chunk, sessions.count)])
                for try await (sessionId, userId, isOperator) in try await db.query("""
                    SELECT s.id, s.user_id, u.is_operator FROM sessions s JOIN users u ON u.id = s.user_id
                    WHERE s.id = ANY(\(ids)) AND s.revoked_at IS NULL AND s.expires_at > now()
                    """, logger: logger).decode((UUID, UUID, Bool).self)
                {
                    valid[sessionId] = (userId, isOperator)
                }
            }
        } catch {
            // The database is unwell; that is not the clients' fault. Check again later.
            logger.warning("session check failed", metadata: ["error": "\(String(reflecting: error))"])
            return false
        }
        let ended = state.withLockedValue { state -> [(Ended, DomainError)] in
            var ended: [(Ended, DomainError)] = []
            for (token, entry) in snapshot {
                let found = valid[entry.viewer.sessionId]
                let reason: DomainError
                if found?.userId != entry.viewer.userId {
                    reason = .unauthenticated("Session expired or signed out")
                } else if entry.viewer.isOperator, found?.isOperator == false {
                    reason = .unauthenticated("The operator right was withdrawn; sign in again")
                } else {
                    continue
                }
                if state.entries.removeValue(forKey: token) != nil { ended.append((entry.ended, reason)) }
            }
            return ended
        }
        for (call, reason) in ended { call(reason) }
        return true
    }
}
