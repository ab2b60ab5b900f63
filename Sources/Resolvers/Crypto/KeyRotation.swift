import Foundation
import Logging
import PostgresNIO

/// Re-seals message text still under an older key with the active one. Each batch is its own
/// transaction and the work left is simply the rows not yet on the active key, so an interrupted
/// run resumes where it stopped, and the server keeps serving meanwhile.
public struct KeyRotation: Sendable {
    let core: MessagingCore

    public init(core: MessagingCore) { self.core = core }

    public func remaining() async throws -> Int {
        for try await count in try await core.db.query(
            "SELECT count(*) FROM messages WHERE body_key_id IS NOT NULL AND body_key_id <> \(core.keyring.activeKeyId)",
            logger: core.logger
        ).decode(Int.self) {
            return count
        }
        return 0
    }

    @discardableResult
    public func run(batchSize: Int = 500, actor: UUID? = nil, progress: @Sendable (Int) -> Void = { _ in }) async throws -> Int {
        let core = self.core
        let active = core.keyring.activeKeyId
        var total = 0
        while true {
            let done: Int = try await core.db.transaction(logger: core.logger) { connection in
                let rows = try await connection.query("""
                    SELECT id, body_key_id, body FROM messages
                    WHERE body_key_id IS NOT NULL AND body_key_id <> \(active)
                    ORDER BY id LIMIT \(batchSize) FOR UPDATE SKIP LOCKED
                    """, logger: core.logger)
                var batch: [(UUID, SealedText)] = []
                for try await (id, keyId, body) in rows.decode((UUID, String, Data).self) {
                    batch.append((id, SealedText(keyId: keyId, bytes: Array(body))))
                }
                for (id, sealed) in batch {
                    let context = MessagingCore.sealContext(id)
                    let text: String = try core.keyring.open(sealed, context: context)
                    let resealed = try core.keyring.seal(text, context: context) as SealedText
                    try await connection.query(
                        "UPDATE messages SET body_key_id = \(resealed.keyId), body = \(Data(resealed.bytes)) WHERE id = \(id)",
                        logger: core.logger)
                }
                return batch.count
            }
            guard done > 0 else { break }
            total += done
            progress(total)
        }
        try await core.db.transaction(logger: core.logger) { connection in
            try await core.activity.append(.keyRotation, actor: actor, details: ["activeKey": active, "resealed": String(total)], on: connection)
        }
        return total
    }
}
