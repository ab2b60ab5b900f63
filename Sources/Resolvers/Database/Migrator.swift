import Crypto
import Foundation
import Logging
import PostgresNIO

/// One numbered SQL file of `migrations/`.
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String

    /// SHA-256 of the file, recorded when applied so that a later edit is caught instead of
    /// silently diverging from databases that ran the old text.
    public var checksum: String {
        SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

public enum MigrationError: Error, CustomStringConvertible, Equatable {
    case unreadableDirectory(String)
    case badFileName(String)
    case duplicateVersion(Int)
    case edited(version: Int, name: String)
    case unknownApplied(version: Int, name: String)
    case failed(name: String, statement: Int, reason: String)

    public var description: String {
        switch self {
        case .unreadableDirectory(let path):
            "migrations folder not found or unreadable: \(path)"
        case .badFileName(let name):
            "migration file \(name) must be named NNNN_description.sql"
        case .duplicateVersion(let version):
            "two migration files share the number \(version)"
        case .edited(let version, let name):
            "migration \(String(format: "%04d", version))_\(name).sql was edited after it was applied (checksum differs): restore the applied text and put the change in a new migration"
        case .unknownApplied(let version, let name):
            "the database has migration \(String(format: "%04d", version))_\(name) applied, but no such file exists here: this build is older than the database"
        case .failed(let name, let statement, let reason):
            "migration \(name) failed at statement \(statement): \(reason)"
        }
    }
}

public struct MigrationStatus: Sendable {
    public var applied: [Migration]
    public var pending: [Migration]
}

/// Applies `migrations/` in order, each file in its own transaction, under an advisory lock so
/// that several gateways starting together migrate once.
public struct Migrator: Sendable {
    public let migrations: [Migration]
    private static let lockKey: Int64 = 0x6D65_7373_6167  // "messag"

    public init(migrations: [Migration]) {
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    public init(directory: String) throws {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory) else {
            throw MigrationError.unreadableDirectory(directory)
        }
        var found: [Migration] = []
        for file in names.sorted() where file.hasSuffix(".sql") {
            let stem = file.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"),
                  let version = Int(stem[..<underscore]), version > 0
            else { throw MigrationError.badFileName(file) }
            guard let sql = fm.contents(atPath: directory + "/" + file).flatMap({ String(data: $0, encoding: .utf8) })
            else { throw MigrationError.unreadableDirectory(directory + "/" + file) }
            if found.contains(where: { $0.version == version }) { throw MigrationError.duplicateVersion(version) }
            found.append(Migration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql))
        }
        self.init(migrations: found)
    }

    public func status(_ client: DatabasePool, logger: Logger) async throws -> MigrationStatus {
        try await client.withConnection { connection in
            try await ensureTable(connection, logger: logger)
            return try await status(connection, logger: logger)
        }
    }

    /// Applies what is pending and returns it.
    @discardableResult
    public func apply(_ client: DatabasePool, logger: Logger) async throws -> [Migration] {
        try await client.withConnection { connection in
            try await ensureTable(connection, logger: logger)
            try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))", logger: logger)
            do {
                let pending = try await status(connection, logger: logger).pending
                for migration in pending {
                    try await run(migration, on: connection, logger: logger)
                    logger.info("applied migration", metadata: ["migration": "\(migration.version)_\(migration.name)"])
                }
                try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                return pending
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                throw error
            }
        }
    }

    private func ensureTable(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, logger: logger)
    }

    private func status(_ connection: PostgresConnection, logger: Logger) async throws -> MigrationStatus {
        let rows = try await connection.query(
            "SELECT version, name, checksum FROM schema_migrations ORDER BY version", logger: logger)
        var applied: [Migration] = []
        var appliedVersions = Set<Int>()
        for try await (version, name, checksum) in rows.decode((Int, String, String).self) {
            guard let migration = migrations.first(where: { $0.version == version }) else {
                throw MigrationError.unknownApplied(version: version, name: name)
            }
            guard migration.checksum == checksum else {
                throw MigrationError.edited(version: version, name: migration.name)
            }
            applied.append(migration)
            appliedVersions.insert(version)
        }
        return MigrationStatus(applied: applied, pending: migrations.filter { !appliedVersions.contains($0.version) })
    }

    private func run(_ migration: Migration, on connection: PostgresConnection, logger: Logger) async throws {
        let label = "\(String(format: "%04d", migration.version))_\(migration.name).sql"
        try await connection.query("BEGIN", logger: logger)
        do {
            for (index, statement) in SQLScript.statements(in: migration.sql).enumerated() {
                do {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                } catch let error as PSQLError {
                    throw MigrationError.failed(
                        name: label, statement: index + 1,
                        reason: error.serverInfo?[.message] ?? String(reflecting: error))
                }
            }
            try await connection.query(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (\(migration.version), \(migration.name), \(migration.checksum))",
                logger: logger)
            try await connection.query("COMMIT", logger: logger)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }
}
