import Crypto
import Foundation
import Logging
import PostgresNIO
import Resolvers
import XCTest

@testable import Gateway

/// The migration runner against a real PostgreSQL: the project's own files, and files written
/// by the test into a scratch folder.
final class MigratorTests: XCTestCase {
    let logger: Logger = {
        var logger = Logger(label: "messagerie.tests.migrator")
        logger.logLevel = .critical
        return logger
    }()

    private func scratchFolder(_ files: [String: String]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("messagerie-migrations-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for (name, text) in files {
            try text.write(toFile: path + "/" + name, atomically: true, encoding: .utf8)
        }
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testProjectMigrationsApplyOnceOnAFreshDatabase() async throws {
        let folder = GatewayHarness.packageRoot + "/migrations"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".sql") }.sorted()
        XCTAssertFalse(files.isEmpty)
        let migrator = try Migrator(directory: folder)
        XCTAssertEqual(migrator.migrations.count, files.count)
        XCTAssertEqual(migrator.migrations.map(\.version), migrator.migrations.map(\.version).sorted())

        let endpoint = try await TestDatabase.shared.freshDatabase()
        let logger = self.logger
        try await withDatabasePool(endpoint, logger: logger) { db in
            let before = try await migrator.status(db, logger: logger)
            XCTAssertEqual(before.pending.count, files.count)
            XCTAssertTrue(before.applied.isEmpty)

            let applied = try await migrator.apply(db, logger: logger)
            XCTAssertEqual(applied.map(\.version), migrator.migrations.map(\.version), "a fresh database gets every file")
            let again = try await migrator.apply(db, logger: logger)
            XCTAssertTrue(again.isEmpty, "a second run applies nothing")
            let after = try await migrator.status(db, logger: logger)
            XCTAssertTrue(after.pending.isEmpty)
            XCTAssertEqual(after.applied.count, files.count)

            // The identity tables exist.
            var tables: [String] = []
            for try await name in try await db.query(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename", logger: logger
            ).decode(String.self) { tables.append(name) }
            for expected in ["users", "sessions", "refresh_tokens", "otp_challenges", "activity_log", "schema_migrations"] {
                XCTAssertTrue(tables.contains(expected), "\(expected) in \(tables)")
            }
        }
    }

    func testAppliedChecksumsAreRecordedAndAnEditedFileIsCaught() async throws {
        let first = "CREATE TABLE alpha (id integer PRIMARY KEY);\n"
        let second = """
            -- a comment; with a semicolon
            CREATE TABLE beta (id integer PRIMARY KEY, note text DEFAULT 'a;b');
            INSERT INTO beta (id) VALUES (1);
            """
        let folder = try scratchFolder(["0001_alpha.sql": first, "0002_beta.sql": second, "README.md": "not a migration"])
        let endpoint = try await TestDatabase.shared.freshDatabase()
        let logger = self.logger

        try await withDatabasePool(endpoint, logger: logger) { db in
            let migrator = try Migrator(directory: folder)
            XCTAssertEqual(migrator.migrations.map(\.name), ["alpha", "beta"])
            let applied = try await migrator.apply(db, logger: logger)
            XCTAssertEqual(applied.map(\.version), [1, 2])
            let value29 = try await migrator.apply(db, logger: logger).isEmpty
            XCTAssertTrue(value29)

            var recorded: [(Int, String, String)] = []
            for try await row in try await db.query(
                "SELECT version, name, checksum FROM schema_migrations ORDER BY version", logger: logger
            ).decode((Int, String, String).self) { recorded.append(row) }
            XCTAssertEqual(recorded.map(\.0), [1, 2])
            XCTAssertEqual(recorded.map(\.1), ["alpha", "beta"])
            let expected = [first, second].map { SHA256.hash(data: Data($0.utf8)).map { String(format: "%02x", $0) }.joined() }
            XCTAssertEqual(recorded.map(\.2), expected, "the checksum is the SHA-256 of the file")

            var note: String?
            for try await value in try await db.query("SELECT note FROM beta WHERE id = 1", logger: logger).decode(String.self) {
                note = value
            }
            XCTAssertEqual(note, "a;b", "a semicolon inside a string literal does not split the statement")

            // Someone edits an applied file.
            try (first + "-- tweaked\n").write(toFile: folder + "/0001_alpha.sql", atomically: true, encoding: .utf8)
            let edited = try Migrator(directory: folder)
            do {
                try await edited.apply(db, logger: logger)
                XCTFail("an edited applied migration must stop the run")
            } catch let error as MigrationError {
                XCTAssertEqual(error, .edited(version: 1, name: "alpha"))
                XCTAssertTrue(error.description.contains("0001_alpha.sql"), error.description)
                XCTAssertTrue(error.description.contains("edited"), error.description)
                XCTAssertTrue(error.description.contains("new migration"), "says what to do: \(error.description)")
            }
            do {
                _ = try await edited.status(db, logger: logger)
                XCTFail("status must report the edit too")
            } catch let error as MigrationError {
                XCTAssertEqual(error, .edited(version: 1, name: "alpha"))
            }
        }
    }

    func testFailingMigrationRollsBackAndNamesTheStatement() async throws {
        let folder = try scratchFolder([
            "0001_ok.sql": "CREATE TABLE ok (id integer);",
            "0002_broken.sql": "CREATE TABLE half (id integer);\nSELECT * FROM no_such_table;",
        ])
        let endpoint = try await TestDatabase.shared.freshDatabase()
        let logger = self.logger
        try await withDatabasePool(endpoint, logger: logger) { db in
            let migrator = try Migrator(directory: folder)
            do {
                try await migrator.apply(db, logger: logger)
                XCTFail("the broken migration must fail")
            } catch let error as MigrationError {
                guard case .failed(let name, let statement, let reason) = error else {
                    return XCTFail("unexpected \(error)")
                }
                XCTAssertEqual(name, "0002_broken.sql")
                XCTAssertEqual(statement, 2)
                XCTAssertTrue(reason.contains("no_such_table"), reason)
            }
            let status = try await migrator.status(db, logger: logger)
            XCTAssertEqual(status.applied.map(\.version), [1], "the first file stays applied")
            XCTAssertEqual(status.pending.map(\.version), [2])
            var halfExists = true
            for try await exists in try await db.query("SELECT to_regclass('half') IS NOT NULL", logger: logger).decode(Bool.self) {
                halfExists = exists
            }
            XCTAssertFalse(halfExists, "the failed file is rolled back as a whole")
        }
    }

    func testBadFolderContents() throws {
        XCTAssertThrowsError(try Migrator(directory: "/nonexistent/migrations")) { error in
            XCTAssertEqual(error as? MigrationError, .unreadableDirectory("/nonexistent/migrations"))
        }
        let badName = try scratchFolder(["first.sql": "SELECT 1;"])
        XCTAssertThrowsError(try Migrator(directory: badName)) { error in
            XCTAssertEqual(error as? MigrationError, .badFileName("first.sql"))
        }
        let duplicate = try scratchFolder(["0001_a.sql": "SELECT 1;", "001_b.sql": "SELECT 2;"])
        XCTAssertThrowsError(try Migrator(directory: duplicate)) { error in
            XCTAssertEqual(error as? MigrationError, .duplicateVersion(1))
        }
    }

    func testDatabaseAheadOfTheFilesIsReported() async throws {
        let folder = try scratchFolder(["0001_a.sql": "CREATE TABLE a (id integer);", "0002_b.sql": "CREATE TABLE b (id integer);"])
        let endpoint = try await TestDatabase.shared.freshDatabase()
        let logger = self.logger
        try await withDatabasePool(endpoint, logger: logger) { db in
            try await Migrator(directory: folder).apply(db, logger: logger)
            try FileManager.default.removeItem(atPath: folder + "/0002_b.sql")
            do {
                _ = try await Migrator(directory: folder).status(db, logger: logger)
                XCTFail("an applied migration without its file must be reported")
            } catch let error as MigrationError {
                XCTAssertEqual(error, .unknownApplied(version: 2, name: "b"))
                XCTAssertTrue(error.description.contains("older than the database"), error.description)
            }
        }
    }
}
