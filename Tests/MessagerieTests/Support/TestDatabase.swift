import Foundation
import Logging
import PostgresNIO
import Resolvers
import XCTest

@testable import Gateway

/// The PostgreSQL server of this test process: the one of `TEST_DATABASE_URL` when set, else an
/// embedded cluster started on first use and stopped when the test bundle finishes. Each test
/// takes its own empty database from it, so tests never see each other's rows.
actor TestDatabase {
    static let shared = TestDatabase()

    private let logger = Logger(label: "messagerie.tests.database")
    /// A task rather than a value, so that tests asking at the same time share one startup, and a
    /// failed startup fails every later test at once instead of each waiting for its own timeout.
    private var startup: Task<DatabaseEndpoint, any Error>?
    private var embedded: EmbeddedPostgres?
    private var created: [String] = []

    /// A superuser endpoint on the server's administrative database.
    func adminEndpoint() async throws -> DatabaseEndpoint {
        if let startup { return try await startup.value }
        let task = Task { try await self.startServer() }
        startup = task
        return try await task.value
    }

    /// A new, empty database with a unique name, owned by the admin user.
    func freshDatabase() async throws -> DatabaseEndpoint {
        let admin = try await adminEndpoint()
        let name = "t_" + TestRun.randomToken()
        try await Self.withConnection(admin, logger: logger) { connection, logger in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        created.append(name)
        return admin.with(database: name)
    }

    private func startServer() async throws -> DatabaseEndpoint {
        TestBundleObserver.registerOnce()
        if let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"], !url.isEmpty {
            guard let endpoint = DatabaseURL.parse(url) else {
                throw TestDatabaseError("TEST_DATABASE_URL must look like postgres://user:password@host:port/database, got \(url)")
            }
            return endpoint
        }
        let postgres = EmbeddedPostgres(dataDirectory: TestRun.directory + "/shared", logger: logger, durable: false)
        embedded = postgres
        return try await postgres.start().with(database: "postgres")
    }

    /// On an external server the databases would pile up run after run; an embedded cluster
    /// goes away with its folder.
    func shutdown() async {
        guard let startup, let admin = try? await startup.value else {
            TestRun.cleanUp()
            return
        }
        if let embedded {
            do { try await embedded.stop() } catch { logger.error("could not stop the test cluster: \(error)") }
        } else if !created.isEmpty {
            let names = created
            try? await Self.withConnection(admin, logger: logger) { connection, logger in
                for name in names {
                    try await connection.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: logger)
                }
            }
        }
        TestRun.cleanUp()
    }

    @discardableResult
    static func withConnection<T: Sendable>(
        _ endpoint: DatabaseEndpoint, logger: Logger,
        _ body: (PostgresConnection, Logger) async throws -> T
    ) async throws -> T {
        let configuration = PostgresConnection.Configuration(
            host: endpoint.host, port: endpoint.port, username: endpoint.username,
            password: endpoint.password, database: endpoint.database, tls: .disable)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            let result = try await body(connection, logger)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }
}

/// Runs `body` with a connection pool on `endpoint`, the way the application talks to the database.
func withDatabasePool<T: Sendable>(
    _ endpoint: DatabaseEndpoint, logger: Logger = Logger(label: "messagerie.tests.client"),
    _ body: @Sendable (DatabasePool) async throws -> T
) async throws -> T {
    let client = DatabasePool(client: PostgresClient(configuration: .init(endpoint), backgroundLogger: logger))
    return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
        group.addTask { await client.run() }
        defer { group.cancelAll() }
        return try await body(client)
    }
}

struct TestDatabaseError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The scratch folder of this test process, holding every cluster it starts. It is named after
/// the process id so that `scripts/test.sh` can tell the leftovers of a crashed run (dead pid)
/// from the folder of a run still going; a watchdog also cleans up when the process dies
/// without reaching the end of the bundle.
enum TestRun {
    static let prefix = "messagerie-test-pg-"

    static let directory: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)\(getpid())").path
        // Only a dead process that had the same pid can have left this folder.
        if FileManager.default.fileExists(atPath: path) { cleanUp(path) }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            fatalError("cannot create the test scratch folder \(path): \(error)")
        }
        startWatchdog(path)
        TestBundleObserver.registerOnce()
        return path
    }()

    /// A path inside this run's folder, not created yet.
    static func scratchPath(_ label: String) -> String {
        directory + "/\(label)-\(randomToken())"
    }

    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<6).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// Fast-stops every cluster under the folder by signalling its postmaster, then deletes the
    /// folder. Signals rather than `pg_ctl`, so that it also works from the watchdog shell.
    static func cleanUp(_ path: String = directory) {
        do {
            let completion = try ChildProcess.runBlocking(["/bin/sh", "-c", stopScript, "sh", path], mergeOutput: true)
            if completion.status != 0 { throw TestDatabaseError(completion.output) }
        } catch {
            FileHandle.standardError.write(Data("could not clean up \(path): \(error)\n".utf8))
        }
    }

    private static let stopScript = """
        pids=""
        for pidfile in "$1"/*/pgdata/postmaster.pid; do
          pid=$(head -n 1 "$pidfile" 2>/dev/null) || continue
          if [ "$(cat /proc/$pid/comm 2>/dev/null)" = postgres ] && kill -INT "$pid" 2>/dev/null; then pids="$pids $pid"; fi
        done
        for _ in $(seq 300); do
          alive=""
          for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive="$alive $pid"; done
          [ -z "$alive" ] && break
          pids=$alive
          sleep 0.1
        done
        rm -rf "$1"
        """

    /// Keeps a reference: the watchdog outlives nothing of ours but the process itself.
    nonisolated(unsafe) private static var watchdog: Process?

    /// Survives a crash or a kill of the test process, which skips `testBundleDidFinish`; it
    /// ignores Ctrl-C so that it is still there to clean up after one.
    private static func startWatchdog(_ path: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [
            "-c", "trap '' INT HUP; while kill -0 \"$1\" 2>/dev/null; do sleep 1; done; set -- \"$2\"; \(stopScript)",
            "sh", "\(getpid())", path,
        ]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
        watchdog = process
    }
}

/// Stops the shared cluster and removes the scratch folder once every test has run.
final class TestBundleObserver: NSObject, XCTestObservation, @unchecked Sendable {
    private static let registration: Void = {
        XCTestObservationCenter.shared.addTestObserver(TestBundleObserver())
    }()

    static func registerOnce() {
        _ = registration
    }

    func testBundleDidFinish(_ testBundle: Bundle) {
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            await TestDatabase.shared.shutdown()
            done.signal()
        }
        done.wait()
    }
}
