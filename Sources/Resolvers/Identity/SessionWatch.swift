import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import ServiceLifecycle

/// Tells long-lived connections that their session ended (signed out, revoked, expired): one
/// query per interval for every connection of the process, where each connection used to run its
/// own. With 15,000 idle sockets those queries were most of the server's CPU at rest.
public final class SessionWatch: Service, Sendable {
    public typealias Ended = @Sendable (DomainError) -> Void

    public struct Token: Hashable, Sendable {
        let id: UUID
    }

    private struct Entry {
        let viewer: Viewer
        let ended: Ended
    }

    let db: DatabasePool
    let interval: Duration
    let logger: Logger
    private let entries = NIOLockedValueBox<[Token: Entry]>([:])

    /// Sessions per query: the ids travel as one array parameter.
    static let chunk = 5000

    public init(db: DatabasePool, interval: Duration, logger: Logger) {
        self.db = db
        self.interval = interval
        self.logger = logger
    }

    /// `ended` is called once, from the watch's own task, when the viewer's session is over.
    public func watch(_ viewer: Viewer, ended: @escaping Ended) -> Token {
        let token = Token(id: UUID())
        entries.withLockedValue { $0[token] = Entry(viewer: viewer, ended: ended) }
        return token
    }

    public func unwatch(_ token: Token) {
        entries.withLockedValue { _ = $0.removeValue(forKey: token) }
    }

    public var watching: Int { entries.withLockedValue { $0.count } }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            } catch {
                return
            }
            await check()
        }
    }

    /// One pass: every watched session still valid stays; the others' connections are told.
    public func check() async {
        let snapshot = entries.withLockedValue { $0 }
        guard !snapshot.isEmpty else { return }
        let sessions = Array(Set(snapshot.values.map(\.viewer.sessionId)))
        var valid: [UUID: UUID] = [:]
        do {
            for start in stride(from: 0, to: sessions.count, by: Self.chunk) {
                let ids = Array(sessions[start..<min(start + Self.chunk, sessions.count)])
                for try await (sessionId, userId) in try await db.query("""
                    SELECT id, user_id FROM sessions WHERE id = ANY(\(ids)) AND revoked_at IS NULL AND expires_at > now()
                    """, logger: logger).decode((UUID, UUID).self)
                {
                    valid[sessionId] = userId
                }
            }
        } catch {
            // The database is unwell; that is not the clients' fault. Check again next time.
            logger.warning("session check failed", metadata: ["error": "\(String(reflecting: error))"])
            return
        }
        let ended = entries.withLockedValue { entries -> [Ended] in
            var ended: [Ended] = []
            for (token, entry) in snapshot where valid[entry.viewer.sessionId] != entry.viewer.userId {
                if entries.removeValue(forKey: token) != nil { ended.append(entry.ended) }
            }
            return ended
        }
        for call in ended { call(.unauthenticated("Session expired or signed out")) }
    }
}
