import Foundation
import Logging
import PostgresNIO

public struct ActivityEntry: Sendable, Equatable {
    public let id: Int64
    public let at: Date
    public let actorId: UUID?
    public let kind: String
    public let targetUserId: UUID?
    public let conversationId: UUID?
    /// JSON object; never message text.
    public let details: String
}

public struct ActivityFilter: Sendable {
    public var actorId: UUID?
    /// Entries where this person is the actor or the target.
    public var userId: UUID?
    public var kind: String?
    public var since: Date?
    public var until: Date?

    public init(actorId: UUID? = nil, userId: UUID? = nil, kind: String? = nil, since: Date? = nil, until: Date? = nil) {
        self.actorId = actorId
        self.userId = userId
        self.kind = kind
        self.since = since
        self.until = until
    }
}

/// Reads the activity log, newest first.
public struct ActivityReader: Sendable {
    let db: DatabasePool
    let logger: Logger

    public init(db: DatabasePool, logger: Logger) {
        self.db = db
        self.logger = logger
    }

    public func mine(viewer: Viewer, first: Int?, after: String?) async throws -> Page<ActivityEntry> {
        try await entries(ActivityFilter(actorId: viewer.userId), first: first, after: after)
    }

    /// The whole log, for operators only.
    public func operatorView(viewer: Viewer, filter: ActivityFilter, first: Int?, after: String?) async throws -> Page<ActivityEntry> {
        guard viewer.isOperator else { throw DomainError.forbidden("The activity log is for operators") }
        if let kind = filter.kind, ActivityKind(rawValue: kind) == nil {
            throw DomainError.badUserInput(
                "Unknown kind; one of \(ActivityKind.allCases.map(\.rawValue).joined(separator: ", "))", field: "kind")
        }
        return try await entries(filter, first: first, after: after)
    }

    public func entries(_ filter: ActivityFilter, first: Int?, after: String?) async throws -> Page<ActivityEntry> {
        let size = try PageRequest(first: first).size()
        let afterId: Int64? = try after.map { cursor throws(DomainError) in
            let parts = try Cursor.decode(cursor, parts: 2, field: "after")
            guard parts[0] == "a", let id = Int64(parts[1]) else { throw .badUserInput("Malformed cursor", field: "after") }
            return id
        }
        var binds = PostgresBindings()
        var sql = "SELECT id, at, actor_id, kind, target_user_id, conversation_id, details::text FROM activity_log WHERE true"
        if let actor = filter.actorId { binds.append(actor); sql += " AND actor_id = $\(binds.count)" }
        if let user = filter.userId {
            binds.append(user)
            sql += " AND (actor_id = $\(binds.count) OR target_user_id = $\(binds.count))"
        }
        if let kind = filter.kind { binds.append(kind); sql += " AND kind = $\(binds.count)" }
        if let until = filter.until { binds.append(until); sql += " AND at < $\(binds.count)" }
        if let since = filter.since { binds.append(since); sql += " AND at >= $\(binds.count)" }
        if let afterId { binds.append(afterId); sql += " AND id < $\(binds.count)" }
        sql += " ORDER BY id DESC LIMIT \(size + 1)"
        var items: [ActivityEntry] = []
        for try await (id, at, actor, kind, target, conversation, details) in try await db.query(
            PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger
        ).decode((Int64, Date, UUID?, String, UUID?, UUID?, String).self) {
            items.append(ActivityEntry(id: id, at: at, actorId: actor, kind: kind, targetUserId: target, conversationId: conversation, details: details))
        }
        let more = items.count > size
        items = Array(items.prefix(size))
        return Page(items: items.map { (Cursor.encode("a", String($0.id)), $0) }, hasNextPage: more, hasPreviousPage: afterId != nil)
    }
}
