import Foundation
import Logging
import PostgresNIO
import Resolvers
import XCTest

@testable import Gateway

/// 0008 turns receipt rows written at send time into receipts written when reported: rows
/// nobody reported go, and each member's read position becomes what they had actually read.
final class ReceiptMigrationTests: XCTestCase {
    let logger: Logger = {
        var logger = Logger(label: "messagerie.tests.migrations")
        logger.logLevel = .critical
        return logger
    }()

    func testUnreportedRowsGoAndReadPositionsFollowTheReads() async throws {
        let all = GatewayHarness.packageRoot + "/migrations"
        let before = FileManager.default.temporaryDirectory.appendingPathComponent("messagerie-0007-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: before, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: before) }
        for name in try FileManager.default.contentsOfDirectory(atPath: all) where name.hasSuffix(".sql") && name < "0008" {
            try FileManager.default.copyItem(atPath: all + "/" + name, toPath: before + "/" + name)
        }
        let endpoint = try await TestDatabase.shared.freshDatabase()
        let logger = self.logger
        try await withDatabasePool(endpoint, logger: logger) { db in
            _ = try await Migrator(directory: before).apply(db, logger: logger)
            // As the old send wrote them: Ada sent three, Bola got a row for each; Bola reported
            // delivery of two and read the first; Ada's read position moved with her own sends.
            let (ada, bola, group) = (UUID(), UUID(), UUID())
            let ids = [UUID(), UUID(), UUID()]
            try await db.query("INSERT INTO users (id, phone, display_name) VALUES (\(ada), '+2348100000001', 'Ada'), (\(bola), '+2348100000002', 'Bola')", logger: logger)
            try await db.query("INSERT INTO conversations (id, kind, title, created_by, last_seq) VALUES (\(group), 'GROUP', 'g', \(ada), 3)", logger: logger)
            try await db.query("""
                INSERT INTO conversation_members (conversation_id, user_id, role, joined_seq, last_read_seq)
                VALUES (\(group), \(ada), 'OWNER', 0, 3), (\(group), \(bola), 'MEMBER', 0, 0)
                """, logger: logger)
            for (index, id) in ids.enumerated() {
                let seq = Int64(index + 1)
                try await db.query("INSERT INTO messages (id, conversation_id, seq, sender_id, kind) VALUES (\(id), \(group), \(seq), \(ada), 'USER')", logger: logger)
                try await db.query("INSERT INTO message_receipts (message_id, user_id, conversation_id, seq) VALUES (\(id), \(bola), \(group), \(seq))", logger: logger)
            }
            try await db.query("UPDATE message_receipts SET delivered_at = now() WHERE seq <= 2", logger: logger)
            try await db.query("UPDATE message_receipts SET read_at = now() WHERE seq = 1", logger: logger)

            let applied = try await Migrator(directory: all).apply(db, logger: logger)
            XCTAssertEqual(applied.map(\.version).first, 8)

            var kept: [Int64] = []
            for try await seq in try await db.query("SELECT seq FROM message_receipts ORDER BY seq", logger: logger).decode(Int64.self) {
                kept.append(seq)
            }
            XCTAssertEqual(kept, [1, 2], "the never-reported row is gone, the reported ones stay")
            var positions: [UUID: Int64] = [:]
            for try await (user, seq) in try await db.query("SELECT user_id, last_read_seq FROM conversation_members", logger: logger)
                .decode((UUID, Int64).self)
            {
                positions[user] = seq
            }
            XCTAssertEqual(positions[bola], 1, "Bola read the first message only")
            XCTAssertEqual(positions[ada], 0, "Ada read nothing of the others'")
            do {
                try await db.query("INSERT INTO message_receipts (message_id, user_id, conversation_id, seq) VALUES (\(ids[2]), \(bola), \(group), 3)", logger: logger)
                XCTFail("a receipt without a delivery time was accepted")
            } catch is PSQLError {}
        }
    }
}
