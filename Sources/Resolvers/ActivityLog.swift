import Foundation
import Logging
import PostgresNIO

/// Kinds of events kept in `activity_log`. Text of messages never goes there.
public enum ActivityKind: String, Sendable, CaseIterable {
    case signIn = "sign_in"
    case signUp = "sign_up"
    case signOut = "sign_out"
    case refreshReuse = "refresh_token_reuse"
    case profileUpdated = "profile_updated"
    case messageDeleted = "message_deleted"
    case groupCreated = "group_created"
    case groupUpdated = "group_updated"
    case membersAdded = "members_added"
    case memberRemoved = "member_removed"
    case memberLeft = "member_left"
    case roleChanged = "role_changed"
    case keyRotation = "key_rotation"
    case operatorGranted = "operator_granted"
    case operatorRevoked = "operator_revoked"
}

public struct ActivityLog: Sendable {
    let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    /// Written on the caller's connection so that the record commits or rolls back with the change.
    func append(
        _ kind: ActivityKind, actor: UUID?, target: UUID? = nil, conversation: UUID? = nil,
        details: [String: String] = [:], on connection: PostgresConnection
    ) async throws {
        let json = String(decoding: try JSONEncoder().encode(details), as: UTF8.self)
        try await connection.query("""
            INSERT INTO activity_log (actor_id, kind, target_user_id, conversation_id, details)
            VALUES (\(actor), \(kind.rawValue), \(target), \(conversation), \(json)::jsonb)
            """, logger: logger)
    }
}
