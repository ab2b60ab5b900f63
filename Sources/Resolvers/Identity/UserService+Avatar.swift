import Foundation
import PostgresNIO

extension UserService {
    /// A profile change that may also set the picture: one of the viewer's own uploaded images.
    /// Once it is someone's avatar, any signed-in person may download it.
    public func updateProfile(viewer: Viewer, displayName: String?, avatarAttachmentId: UUID?) async throws -> User {
        guard let avatarAttachmentId else { return try await updateProfile(viewer: viewer, displayName: displayName) }
        let name = try displayName.map { raw throws(DomainError) in try Self.validDisplayName(raw) }
        let rows = try await db.query("""
            UPDATE users SET display_name = COALESCE(\(name), display_name), avatar_attachment_id = a.id, updated_at = now()
            FROM attachments a
            WHERE users.id = \(viewer.userId) AND a.id = \(avatarAttachmentId) AND a.owner_id = \(viewer.userId) AND a.kind = 'IMAGE'
            RETURNING \(unescaped: User.columns.split(separator: ",").map { "users." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", "))
            """, logger: logger)
        for try await row in rows { return try User(row: row) }
        throw DomainError.badUserInput("avatarAttachmentId must be an image you uploaded", field: "avatarAttachmentId")
    }
}
