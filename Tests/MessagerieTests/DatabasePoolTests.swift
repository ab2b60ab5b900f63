import Logging
import NIOCore
import PostgresNIO
import Resolvers
import XCTest

@testable import Gateway

/// The pool's use as `/metrics` reports it: leases and operations queued for a connection, on a
/// real PostgreSQL with a pool of one connection so that a second operation must wait.
final class DatabasePoolTests: XCTestCase {
    let logger = Logger(label: "messagerie.tests.pool")

    private func withPoolOfOne(_ body: @Sendable (DatabasePool) async throws -> Void) async throws {
        let endpoint = try await TestDatabase.shared.freshDatabase()
        let pool = DatabasePool(client: PostgresClient(configuration: .init(endpoint, poolSize: 1), backgroundLogger: logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await pool.run() }
            defer { group.cancelAll() }
            try await body(pool)
        }
    }

    func testLeasesAndWaitingOperationsAreCountedAndReturnToZero() async throws {
        let logger = self.logger
        try await withPoolOfOne { pool in
            XCTAssertEqual(pool.usage, .init(waiting: 0, inUse: 0))
            let (release, releaseNow) = AsyncStream<Void>.makeStream()
            let holder = Task {
                try await pool.withConnection { _ in
                    for await _ in release { break }
                }
            }
            try await eventually("the holder has the only connection") { pool.usage == .init(waiting: 0, inUse: 1) }
            let queued = Task { try await pool.query("SELECT 41 + 1", logger: logger).decode(Int.self).first { _ in true } }
            try await eventually("the query waits for it") { pool.usage == .init(waiting: 1, inUse: 1) }

            releaseNow.yield()
            try await holder.value
            let answer = try await queued.value
            XCTAssertEqual(answer, 42)
            XCTAssertEqual(pool.usage, .init(waiting: 0, inUse: 0))
        }
    }

    func testAFailedOrCancelledOperationLeavesNothingCounted() async throws {
        let logger = self.logger
        try await withPoolOfOne { pool in
            do {
                try await pool.transaction(logger: logger) { connection in
                    try await connection.query("SELECT 1", logger: logger)
                    throw DomainError.notFound("conversation")
                }
                XCTFail("the transaction's error was swallowed")
            } catch let error as DomainError {
                XCTAssertEqual(error, .notFound("conversation"), "the domain error comes out as itself")
            }
            do {
                try await pool.query("SELECT * FROM no_such_table", logger: logger)
                XCTFail("a bad statement succeeded")
            } catch is PSQLError {}
            XCTAssertEqual(pool.usage, .init(waiting: 0, inUse: 0))

            let (release, releaseNow) = AsyncStream<Void>.makeStream()
            let holder = Task { try await pool.withConnection { _ in for await _ in release { break } } }
            try await eventually("the holder has the only connection") { pool.usage.inUse == 1 }
            let abandoned = Task { try await pool.query("SELECT 1", logger: logger) }
            try await eventually("the second query waits") { pool.usage.waiting == 1 }
            abandoned.cancel()
            _ = await abandoned.result
            XCTAssertEqual(pool.usage, .init(waiting: 0, inUse: 1), "a cancelled wait is no longer counted")
            releaseNow.yield()
            try await holder.value
            XCTAssertEqual(pool.usage, .init(waiting: 0, inUse: 0))
        }
    }
}

/// A statement of fixed text reading one table, as the domain's statements do.
private struct ProbeRow: FixedQuery {
    static let sql = text(of: ProbeRow(n: 0))
    let n: Int

    var query: PostgresQuery { "SELECT n FROM pool_probe WHERE n = \(n)" }
}

extension DatabasePoolTests {
    /// A statement whose preparation failed (its table renamed for a moment, as a migration may
    /// do) works again once the table is back: the connection it failed on is replaced, since
    /// postgres-nio would keep answering with the first failure. An error only a run can raise
    /// (a duplicate key) keeps the connection.
    func testAStatementThatFailedToPrepareWorksOnceItsTableIsBack() async throws {
        let logger = self.logger
        try await withPoolOfOne { pool in
            let backend: @Sendable () async throws -> Int32? = {
                try await pool.query("SELECT pg_backend_pid()", logger: logger).decode(Int32.self).first { _ in true }
            }
            try await pool.query("CREATE TABLE pool_probe (n int PRIMARY KEY)", logger: logger)
            try await pool.query("INSERT INTO pool_probe VALUES (7)", logger: logger)
            let first = try await backend()

            do {
                try await pool.query("INSERT INTO pool_probe VALUES (7)", logger: logger)
                XCTFail("a duplicate key was accepted")
            } catch let error as PSQLError {
                XCTAssertEqual(error.serverInfo?[.sqlState], "23505")
            }
            let afterDuplicate = try await backend()
            XCTAssertEqual(afterDuplicate, first, "an error of the run keeps the connection")

            try await pool.query("ALTER TABLE pool_probe RENAME TO pool_probe_away", logger: logger)
            do {
                _ = try await pool.execute(ProbeRow(n: 7), logger: logger)
                XCTFail("a statement on a missing table ran")
            } catch let error as PSQLError {
                XCTAssertEqual(error.serverInfo?[.sqlState], "42P01")
            }
            try await pool.query("ALTER TABLE pool_probe_away RENAME TO pool_probe", logger: logger)

            let found = try await pool.execute(ProbeRow(n: 7), logger: logger).decode(Int.self).first { _ in true }
            XCTAssertEqual(found, 7)
            let afterPrepare = try await backend()
            XCTAssertNotEqual(afterPrepare, first, "the connection the preparation failed on was replaced")
            XCTAssertEqual(pool.usage, .init(waiting: 0, inUse: 0))
        }
    }
}

extension DatabasePoolTests {
    /// Connections that may close and keep-alive pings each cost timers at every lease.
    func testAServersPoolKeepsAllItsConnectionsOpenWithoutKeepAlivePings() async throws {
        var configuration = PostgresClient.Configuration(try await TestDatabase.shared.freshDatabase(), poolSize: 3)
        XCTAssertEqual(configuration.options.minimumConnections, 3)
        XCTAssertEqual(configuration.options.maximumConnections, 3)
        XCTAssertNil(configuration.options.keepAliveBehavior)
        // Short, so that a connection the pool were allowed to close would be gone within the
        // wait below (the library's default is a minute).
        configuration.options.connectionIdleTimeout = .milliseconds(100)

        let pool = DatabasePool(client: PostgresClient(configuration: configuration, backgroundLogger: logger))
        let logger = self.logger
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await pool.run() }
            defer { group.cancelAll() }
            let open: @Sendable () async throws -> Int = {
                let rows = try await pool.query(
                    "SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'",
                    logger: logger)
                return try await rows.decode(Int.self).first { _ in true } ?? 0
            }
            try await eventually("all three connections are open before any demand") { try await open() == 3 }

            // Three operations at once use every connection; once they are done and the
            // connections idle past the idle timeout, all three are still open.
            try await withThrowingTaskGroup(of: Void.self) { busy in
                for _ in 0..<3 { busy.addTask { try await pool.query("SELECT pg_sleep(0.2)", logger: logger) } }
                try await busy.waitForAll()
            }
            try await Task.sleep(for: .milliseconds(400))
            let stillOpen = try await open()
            XCTAssertEqual(stillOpen, 3, "idle connections stay open")
        }
    }

    func testEventLoopsSetting() throws {
        XCTAssertEqual(try Settings(values: [:]).eventLoops, max(1, System.coreCount / 2))
        XCTAssertEqual(try Settings(values: ["EVENT_LOOPS": "3"]).eventLoops, 3)
        XCTAssertThrowsError(try Settings(values: ["EVENT_LOOPS": "0"])) { error in
            XCTAssertEqual((error as? SettingsError)?.name, "EVENT_LOOPS")
        }
    }

    func testPoolSizeSetting() throws {
        XCTAssertEqual(try Settings(values: [:]).databasePoolSize, 20)
        XCTAssertEqual(try Settings(values: ["DATABASE_POOL_SIZE": "5"]).databasePoolSize, 5)
        XCTAssertThrowsError(try Settings(values: ["DATABASE_POOL_SIZE": "0"])) { error in
            XCTAssertEqual((error as? SettingsError)?.name, "DATABASE_POOL_SIZE")
        }
        let configuration = PostgresClient.Configuration(
            DatabaseEndpoint(host: "127.0.0.1", port: 5432, username: "u", password: nil, database: "d"), poolSize: 5)
        XCTAssertEqual(configuration.options.maximumConnections, 5)
    }
}
