import Foundation
import Logging
import PostgresNIO

public struct User: Sendable, Equatable {
    public let id: UUID
    public let phone: String
    public let displayName: String?
    public let avatarAttachmentId: UUID?
    public let isOperator: Bool
    public let lastSeenAt: Date?
    public let createdAt: Date

    static let columns = "id, phone, display_name, avatar_attachment_id, is_operator, last_seen_at, created_at"

    init(row: PostgresRow) throws {
        var columns = ColumnReader(row)
        (id, phone, displayName, avatarAttachmentId) = (try columns.next(), try columns.next(), try columns.next(), try columns.next())
        (isOperator, lastSeenAt, createdAt) = (try columns.next(), try columns.next(), try columns.next())
    }
}

/// Profiles: reading people and changing one's own.
public struct UserService: Sendable {
    let db: DatabasePool
    let logger: Logger

    public init(db: DatabasePool, logger: Logger) {
        self.db = db
        self.logger = logger
    }

    public func user(id: UUID) async throws -> User? {
        try await users(ids: [id]).first
    }

    /// One query for many ids: what the per-request loader batches into.
    public func users(ids: [UUID]) async throws -> [User] {
        guard !ids.isEmpty else { return [] }
        let rows = try await db.execute(UsersById(ids: ids), logger: logger)
        return try rows.map(User.init(row:))
    }

    public func user(phone: PhoneNumber) async throws -> User? {
        let rows = try await db.query(
            "SELECT \(unescaped: User.columns) FROM users WHERE phone = \(phone.e164)", logger: logger)
        for try await row in rows { return try User(row: row) }
        return nil
    }

    public func requireUser(id: UUID) async throws -> User {
        guard let user = try await user(id: id) else { throw DomainError.notFound("User not found") }
        return user
    }

    public func updateProfile(viewer: Viewer, displayName: String?) async throws -> User {
        var name = displayName
        if let given = displayName {
            name = try Self.validDisplayName(given)
        }
        let rows = try await db.query("""
            UPDATE users SET display_name = COALESCE(\(name), display_name), updated_at = now()
            WHERE id = \(viewer.userId) RETURNING \(unescaped: User.columns)
            """, logger: logger)
        for try await row in rows { return try User(row: row) }
        throw DomainError.notFound("User not found")
    }

    /// Names are shown to other people: trimmed, 1–64 characters, no control characters.
    public static func validDisplayName(_ raw: String) throws(DomainError) -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        // Counted in code points too, as the column's check does: a letter with combining marks
        // is one character but several code points.
        guard !name.isEmpty, name.count <= 64, name.unicodeScalars.count <= 64 else {
            throw .badUserInput("displayName must be 1 to 64 characters", field: "displayName")
        }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .badUserInput("displayName must not contain control characters", field: "displayName")
        }
        return name
    }
}

/// The users a request's loader batches, prepared once per connection (senders and receipt
/// authors of every page).
struct UsersById: FixedQuery {
    static let sql = text(of: UsersById(ids: []))
    let ids: [UUID]

    var query: PostgresQuery { "SELECT \(unescaped: User.columns) FROM users WHERE id = ANY(\(ids))" }
}
