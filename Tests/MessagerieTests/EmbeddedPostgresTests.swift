import Foundation
import Logging
import PostgresNIO
import Resolvers
import ServiceLifecycle
import XCTest

#if canImport(Glibc)
import Glibc
#endif

@testable import Gateway

/// Real clusters in throwaway folders: these tests are about the process management around
/// PostgreSQL, which only a real `initdb`/`pg_ctl`/`postgres` can exercise.
final class EmbeddedPostgresTests: XCTestCase {
    private let logger = Logger(label: "messagerie.tests.embedded-postgres")

    func testStartsFromAnEmptyFolderAndAnswersOverTCPWithThePassword() async throws {
        let folder = TestRun.scratchPath("empty")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try await withCleanup(folder) {
            let postgres = EmbeddedPostgres(dataDirectory: folder, logger: logger, durable: false)
            let startup = try await postgres.startIfNeeded()
            XCTAssertTrue(startup.startedByThisProcess)
            XCTAssertTrue(postgres.startedByThisProcess)
            let endpoint = startup.endpoint
            XCTAssertEqual(endpoint.host, "127.0.0.1")
            XCTAssertEqual(endpoint.username, "messagerie")
            XCTAssertEqual(endpoint.database, "messagerie")

            let password = try String(contentsOfFile: folder + "/password", encoding: .utf8)
            XCTAssertEqual(endpoint.password, password)
            XCTAssertGreaterThanOrEqual(password.count, 32)
            let mode = try FileManager.default.attributesOfItem(atPath: folder + "/password")[.posixPermissions] as? Int
            XCTAssertEqual(mode, 0o600)
            if geteuid() == 0 {
                XCTAssertEqual(EmbeddedPostgres.SystemUser.owner(of: folder), try EmbeddedPostgres.SystemUser.postgres().uid)
            }

            let logger = self.logger
            let facts = try await withDatabasePool(endpoint) { client in
                [
                    try await Self.scalar(client, "SELECT 1", as: Int.self, logger: logger).map(String.init),
                    try await Self.scalar(client, "SELECT current_database()", as: String.self, logger: logger),
                    try await Self.scalar(client, "SHOW listen_addresses", as: String.self, logger: logger),
                    try await Self.scalar(client, "SHOW server_encoding", as: String.self, logger: logger),
                    try await Self.scalar(client, "SHOW max_connections", as: String.self, logger: logger),
                ]
            }
            XCTAssertEqual(facts, ["1", "messagerie", "127.0.0.1", "UTF8", "200"])

            var wrong = endpoint
            wrong.password = "not-the-password"
            await XCTAssertThrowsErrorAsync(try await Self.connectAndSelect(wrong, logger: logger), "scram-sha-256 must refuse a wrong password")
        }
    }

    func testStopThenStartKeepsTheClusterThePortAndTheData() async throws {
        let folder = TestRun.scratchPath("restart")
        try await withCleanup(folder) {
            let postgres = EmbeddedPostgres(dataDirectory: folder, logger: logger, durable: false)
            let first = try await postgres.start()
            let logger = self.logger
            try await withDatabasePool(first) { client in
                try await client.query("CREATE TABLE notes (body text NOT NULL)", logger: logger)
                try await client.query("INSERT INTO notes VALUES ('kept across restarts')", logger: logger)
            }

            try await postgres.stop()
            let isRunning = try await postgres.isRunning()
            XCTAssertFalse(isRunning)
            XCTAssertFalse(postgres.startedByThisProcess)
            await XCTAssertThrowsErrorAsync(try await Self.connectAndSelect(first, logger: logger), "the server should be down")

            let second = try await postgres.startIfNeeded()
            XCTAssertTrue(second.startedByThisProcess, "a stopped cluster must be started again")
            XCTAssertEqual(second.endpoint, first, "same port, same password, same database")
            let body = try await withDatabasePool(second.endpoint) { client in
                try await Self.scalar(client, "SELECT body FROM notes", as: String.self, logger: logger)
            }
            XCTAssertEqual(body, "kept across restarts")
        }
    }

    func testStartWhileRunningReusesTheServerAndOnlyTheStarterStopsIt() async throws {
        let folder = TestRun.scratchPath("reuse")
        try await withCleanup(folder) {
            let starter = EmbeddedPostgres(dataDirectory: folder, logger: logger, durable: false)
            let first = try await starter.startIfNeeded()
            let pid = try Self.postmasterPID(folder)

            let latecomer = EmbeddedPostgres(dataDirectory: folder, logger: logger, durable: false)
            let second = try await latecomer.startIfNeeded()
            XCTAssertFalse(second.startedByThisProcess)
            XCTAssertEqual(second.endpoint, first.endpoint)
            XCTAssertEqual(try Self.postmasterPID(folder), pid, "the running server must not be restarted")
            try await Self.connectAndSelect(second.endpoint, logger: logger)

            // The latecomer's service leaves the server alone on shutdown ...
            try await Self.runUntilGracefulShutdown(EmbeddedPostgresService(postgres: latecomer, logger: logger), logger: logger)
            let stillRunning = try await starter.isRunning()
            XCTAssertTrue(stillRunning)
            try await Self.connectAndSelect(first.endpoint, logger: logger)

            // ... and the starter's stops it.
            try await Self.runUntilGracefulShutdown(EmbeddedPostgresService(postgres: starter, logger: logger), logger: logger)
            let runningAfter = try await starter.isRunning()
            XCTAssertFalse(runningAfter)
        }
    }

    func testATakenPortIsReplacedAndTheDataKept() async throws {
        let folder = TestRun.scratchPath("port-taken")
        try await withCleanup(folder) {
            let postgres = EmbeddedPostgres(dataDirectory: folder, logger: logger, durable: false)
            let first = try await postgres.start()
            let logger = self.logger
            try await withDatabasePool(first) { client in
                try await client.query("CREATE TABLE notes (body text NOT NULL)", logger: logger)
                try await client.query("INSERT INTO notes VALUES ('still here')", logger: logger)
            }
            try await postgres.stop()

            let squatter = try Self.listen(on: first.port)
            defer { close(squatter) }
            let second = try await postgres.start()
            XCTAssertNotEqual(second.port, first.port)
            let body = try await withDatabasePool(second) { client in
                try await Self.scalar(client, "SELECT body FROM notes", as: String.self, logger: logger)
            }
            XCTAssertEqual(body, "still here")
        }
    }

    func testAFolderThePostgresUserCannotReachIsExplained() async throws {
        try XCTSkipUnless(geteuid() == 0, "only a root process hands the cluster to the postgres user")
        let hidden = TestRun.scratchPath("hidden")
        try FileManager.default.createDirectory(atPath: hidden, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: hidden) }

        let postgres = EmbeddedPostgres(dataDirectory: hidden + "/data", logger: logger, durable: false)
        do {
            _ = try await postgres.start()
            XCTFail("a folder inside a 0700 root folder is out of the postgres user's reach")
        } catch {
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("the postgres system user cannot reach \(hidden)/data"), message)
            XCTAssertTrue(message.contains("chmod o+x"), message)
            XCTAssertFalse(message.contains("\n"), message)
        }
    }

    func testMissingBinariesGiveOneLineSayingWhatToInstall() async throws {
        let empty = TestRun.scratchPath("no-binaries")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        // initdb alone is not enough: pg_ctl and postgres must sit next to it.
        let partial = TestRun.scratchPath("only-initdb")
        try FileManager.default.createDirectory(atPath: partial, withIntermediateDirectories: true)
        let realInitdb = try EmbeddedPostgres(dataDirectory: empty, logger: logger).locateBinaries().initdb
        try FileManager.default.createSymbolicLink(atPath: partial + "/initdb", withDestinationPath: realInitdb)
        defer {
            try? FileManager.default.removeItem(atPath: empty)
            try? FileManager.default.removeItem(atPath: partial)
        }

        let data = TestRun.scratchPath("never-created")
        let postgres = EmbeddedPostgres(dataDirectory: data, logger: logger, searchDirectories: [empty, partial])
        do {
            _ = try await postgres.start()
            XCTFail("start() must fail without the server binaries")
        } catch {
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix("PostgreSQL server binaries not found (initdb, pg_ctl, postgres)"), message)
            XCTAssertTrue(message.contains("apt-get install postgresql"), message)
            XCTAssertTrue(message.contains("DATABASE_URL"), message)
            XCTAssertFalse(message.contains("\n"), "one line: \(message)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: data), "nothing is written before the binaries are found")
    }

    func testHarnessFreshDatabasesAreDistinctEmptyAndIsolated() async throws {
        let a = try await TestDatabase.shared.freshDatabase()
        let b = try await TestDatabase.shared.freshDatabase()
        XCTAssertNotEqual(a.database, b.database)
        XCTAssertEqual(a.with(database: b.database), b, "same server and credentials")

        let logger = self.logger
        try await withDatabasePool(a) { client in
            let tables = try await Self.scalar(
                client, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", as: Int.self, logger: logger)
            XCTAssertEqual(tables, 0, "a fresh database is empty")
            try await client.query("CREATE TABLE only_in_a (x int)", logger: logger)
            try await client.query("INSERT INTO only_in_a VALUES (42)", logger: logger)
        }
        let (name, visible) = try await withDatabasePool(b) { client in
            (
                try await Self.scalar(client, "SELECT current_database()", as: String.self, logger: logger),
                try await Self.scalar(client, "SELECT to_regclass('only_in_a') IS NOT NULL", as: Bool.self, logger: logger)
            )
        }
        XCTAssertEqual(name, b.database)
        XCTAssertEqual(visible, false, "a table of one fresh database must not show in another")
    }

    // MARK: - Helpers

    /// Stops and deletes the cluster even when the test fails half-way.
    private func withCleanup(_ folder: String, _ body: () async throws -> Void) async throws {
        let result: Result<Void, any Error>
        do { try await body(); result = .success(()) } catch { result = .failure(error) }
        try? await EmbeddedPostgres(dataDirectory: folder, logger: logger).stop()
        try? FileManager.default.removeItem(atPath: folder)
        try result.get()
    }

    private static func scalar<T: PostgresDecodable & Sendable>(
        _ client: DatabasePool, _ query: PostgresQuery, as: T.Type, logger: Logger
    ) async throws -> T? {
        for try await value in try await client.query(query, logger: logger).decode(T.self) {
            return value
        }
        return nil
    }

    private static func connectAndSelect(_ endpoint: DatabaseEndpoint, logger: Logger) async throws {
        try await TestDatabase.withConnection(endpoint, logger: logger) { connection, logger in
            try await connection.query("SELECT 1", logger: logger)
        }
    }

    private static func postmasterPID(_ folder: String) throws -> Int {
        let text = try String(contentsOfFile: folder + "/pgdata/postmaster.pid", encoding: .utf8)
        return try XCTUnwrap(text.split(separator: "\n").first.flatMap { Int($0) })
    }

    /// Holds a port the way another program would; close the returned descriptor to free it.
    private static func listen(on port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, bound == 0, Glibc.listen(fd, 1) == 0 else {
            close(fd)
            throw TestDatabaseError("could not listen on 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
        return fd
    }

    private static func runUntilGracefulShutdown(_ service: EmbeddedPostgresService, logger: Logger) async throws {
        let group = ServiceGroup(services: [service], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}

/// `XCTAssertThrowsError` takes no async expression.
private func XCTAssertThrowsErrorAsync<T>(
    _ expression: @autoclosure () async throws -> T, _ message: String = "",
    file: StaticString = #filePath, line: UInt = #line
) async {
    do {
        _ = try await expression()
        XCTFail("expected an error. \(message)", file: file, line: line)
    } catch {}
}
