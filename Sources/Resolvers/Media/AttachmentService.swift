import Foundation
import Logging
import PostgresNIO

public struct Attachment: Sendable, Equatable {
    public let id: UUID
    public let ownerId: UUID
    public let kind: AttachmentKind
    public let mimeType: String
    public let byteSize: Int64
    public let sha256: String
    public let width: Int?
    public let height: Int?
    /// The name the client gave, opened; never used on disk.
    public let fileName: String?
    public let createdAt: Date

    /// Where every door points clients to download it.
    public var url: String { Self.url(id) }

    public static func url(_ id: UUID) -> String { "/api/files/\(id.uuidString.lowercased())" }
}

/// Uploaded files as records: who owns them, which messages carry them, and who may download them.
public struct AttachmentService: Sendable {
    let core: MessagingCore
    public let store: MediaStore

    public init(core: MessagingCore, store: MediaStore) {
        self.core = core
        self.store = store
    }

    static let columns = """
        a.id, a.owner_id, a.kind, a.mime_type, a.byte_size, a.sha256, a.width, a.height, a.name_key_id, a.name, a.created_at
        """

    func attachment(from row: PostgresRow) throws -> Attachment {
        try attachment(row.decode((UUID, UUID, String, String, Int64, String, Int?, Int?, String?, Data?, Date).self))
    }

    private func attachment(
        _ values: (UUID, UUID, String, String, Int64, String, Int?, Int?, String?, Data?, Date)
    ) throws -> Attachment {
        let (id, owner, kind, mime, size, sha, width, height, keyId, name, createdAt) = values
        var fileName: String?
        if let keyId, let name {
            fileName = try core.keyring.open(SealedText(keyId: keyId, bytes: Array(name)), context: Self.sealContext(id)) as String
        }
        return Attachment(
            id: id, ownerId: owner, kind: AttachmentKind(rawValue: kind) ?? .file, mimeType: mime, byteSize: size, sha256: sha,
            width: width, height: height, fileName: fileName, createdAt: createdAt)
    }

    static func sealContext(_ id: UUID) -> String { "attachment:\(id.uuidString.lowercased()):name" }

    /// Keeps the last path component of a client's file name, without control characters; nil
    /// when nothing usable is left.
    public static func cleanFileName(_ raw: String?) -> String? {
        guard let raw else { return nil }
        let last = raw.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let cleaned = String(String.UnicodeScalarView(last.unicodeScalars.filter {
            !CharacterSet.controlCharacters.contains($0) && $0 != "\""
        })).trimmingCharacters(in: .whitespaces)
        guard !cleaned.isEmpty, cleaned != ".", cleaned != ".." else { return nil }
        return String(cleaned.prefix(255))
    }

    /// Records a stored file as the viewer's attachment.
    public func create(from upload: StoredUpload, fileName raw: String?, viewer: Viewer) async throws -> Attachment {
        let id = UUID()
        let name = Self.cleanFileName(raw)
        let sealed = try name.map { try core.keyring.seal($0, context: Self.sealContext(id)) }
        let rows = try await core.db.query("""
            INSERT INTO attachments AS a (id, owner_id, kind, mime_type, byte_size, sha256, width, height, name_key_id, name)
            VALUES (\(id), \(viewer.userId), \(upload.media.kind.rawValue), \(upload.media.mimeType), \(upload.byteSize),
                    \(upload.sha256), \(upload.width), \(upload.height), \(sealed?.keyId), \(sealed.map { Data($0.bytes) }))
            RETURNING \(unescaped: Self.columns)
            """, logger: core.logger)
        for try await row in rows { return try attachment(from: row) }
        throw DomainError.internal("attachment insert returned nothing")
    }

    /// The attachments of each message, in the order they were sent; none for deleted messages.
    public func attachments(messageIds: [UUID]) async throws -> [UUID: [Attachment]] {
        guard !messageIds.isEmpty else { return [:] }
        var result: [UUID: [Attachment]] = [:]
        for try await row in try await core.db.query("""
            SELECT ma.message_id, \(unescaped: Self.columns) FROM message_attachments ma
            JOIN attachments a ON a.id = ma.attachment_id JOIN messages m ON m.id = ma.message_id
            WHERE ma.message_id = ANY(\(messageIds)) AND m.deleted_at IS NULL
            ORDER BY ma.message_id, ma.position
            """, logger: core.logger)
        {
            let (messageId, a, b, c, d, e, f, g, h, i, j, k) = try row.decode(
                (UUID, UUID, UUID, String, String, Int64, String, Int?, Int?, String?, Data?, Date).self)
            result[messageId, default: []].append(try attachment((a, b, c, d, e, f, g, h, i, j, k)))
        }
        return result
    }

    /// The uploader, whoever can see a (not deleted) message that carries it, and anyone signed in
    /// for a profile picture; everyone else gets NOT_FOUND, as if it did not exist.
    public func downloadable(id: UUID, viewer: Viewer) async throws -> Attachment {
        let rows = try await core.db.query("""
            SELECT \(unescaped: Self.columns) FROM attachments a
            WHERE a.id = \(id) AND (a.owner_id = \(viewer.userId)
                OR EXISTS (SELECT 1 FROM users u WHERE u.avatar_attachment_id = a.id)
                OR EXISTS (
                SELECT 1 FROM message_attachments ma JOIN messages m ON m.id = ma.message_id
                JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id = \(viewer.userId)
                WHERE ma.attachment_id = a.id AND m.deleted_at IS NULL
                  AND m.seq > cm.joined_seq AND m.seq <= COALESCE(cm.left_seq, 9223372036854775807)))
            """, logger: core.logger)
        for try await row in rows { return try attachment(from: row) }
        throw DomainError.notFound("File not found")
    }

    public func path(of attachment: Attachment) -> String { store.path(sha256: attachment.sha256) }

    /// Part of sending: only the sender's own attachments may ride on their message.
    static func link(
        _ ids: [UUID], to messageId: UUID, sender: UUID, core: MessagingCore, on connection: PostgresConnection
    ) async throws {
        guard !ids.isEmpty else { return }
        guard Set(ids).count == ids.count else {
            throw DomainError.badUserInput("attachmentIds has duplicates", field: "attachmentIds")
        }
        guard ids.count <= 10 else { throw DomainError.badUserInput("At most 10 attachments per message", field: "attachmentIds") }
        var owned = Set<UUID>()
        for try await id in try await connection.query(
            "SELECT id FROM attachments WHERE id = ANY(\(ids)) AND owner_id = \(sender)", logger: core.logger
        ).decode(UUID.self) {
            owned.insert(id)
        }
        guard owned.count == ids.count else {
            throw DomainError.badUserInput("Unknown attachment (only your own uploads can be sent)", field: "attachmentIds")
        }
        for (position, id) in ids.enumerated() {
            try await connection.query("""
                INSERT INTO message_attachments (message_id, attachment_id, position) VALUES (\(messageId), \(id), \(position))
                """, logger: core.logger)
        }
    }
}
