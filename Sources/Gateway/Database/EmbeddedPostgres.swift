import Foundation
import Logging
import PostgresNIO
import Resolvers

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A private PostgreSQL cluster in a folder of its own, so that the server runs with no database
/// set up beforehand and the tests get a real server without any external service.
///
/// Layout of `dataDirectory`:
/// - `password`: the superuser's password (mode 0600), generated on first run;
/// - `pgdata/`: the cluster itself (`initdb` refuses a non-empty folder, hence the subfolder);
/// - `pgdata/messagerie.conf`: our settings, rewritten before each start and included last by
///   `postgresql.conf`, so it wins over edits made there;
/// - `server.log`: the server's output.
///
/// The server listens on 127.0.0.1 only, on a port chosen at the first start and kept afterwards.
struct EmbeddedPostgres: Sendable {
    static let superuser = "messagerie"
    static let databaseName = "messagerie"

    /// What `startIfNeeded` found, so that whoever did not start the server does not stop it.
    struct Startup: Sendable, Equatable {
        var endpoint: DatabaseEndpoint
        var startedByThisProcess: Bool
    }

    let dataDirectory: String
    let logger: Logger
    /// Off only for throwaway clusters (tests), where losing data on a crash costs nothing and
    /// `fsync` costs seconds per test run.
    let durable: Bool
    /// Folders tried in order for `initdb`, `pg_ctl` and `postgres`; injectable so a test can
    /// check what happens when they are missing.
    let searchDirectories: [String]
    let readinessTimeout: Duration
    /// Shared by copies, so that whoever holds one can tell whether this process owns the server.
    private let ownership = Ownership()

    init(
        dataDirectory: String,
        logger: Logger,
        durable: Bool = true,
        searchDirectories: [String] = EmbeddedPostgres.defaultSearchDirectories(),
        readinessTimeout: Duration = .seconds(30)
    ) {
        // Absolute, because the tools run with the data folder as their working directory.
        self.dataDirectory = URL(fileURLWithPath: dataDirectory).standardizedFileURL.path
        self.logger = logger
        self.durable = durable
        self.searchDirectories = searchDirectories
        self.readinessTimeout = readinessTimeout
    }

    var clusterDirectory: String { dataDirectory + "/pgdata" }
    var passwordFile: String { dataDirectory + "/password" }
    var logFile: String { dataDirectory + "/server.log" }
    private var settingsFile: String { clusterDirectory + "/messagerie.conf" }
    /// Whether this process started the server (and has not stopped it since), in which case
    /// it is also the one to stop it.
    var startedByThisProcess: Bool { ownership.started }
    private var isInitialized: Bool { FileManager.default.fileExists(atPath: clusterDirectory + "/PG_VERSION") }

    func start() async throws -> DatabaseEndpoint {
        try await startIfNeeded().endpoint
    }

    /// Creates the cluster on first use, starts it unless it already runs, and returns once it
    /// answers queries and the `messagerie` database exists.
    func startIfNeeded() async throws -> Startup {
        let tools = try locateBinaries()
        try prepareDataDirectory()
        if !isInitialized {
            try await initialize(tools)
        }
        let password = try readPassword()

        if try await isRunning(tools), let port = runningPort() {
            logger.info("Reusing the embedded PostgreSQL already running", metadata: ["port": "\(port)", "data": "\(dataDirectory)"])
            let endpoint = try await waitUntilReady(port: port, password: password)
            return Startup(endpoint: endpoint, startedByThisProcess: false)
        }

        let port = try choosePort()
        try writeSettings(port: port)
        logger.info("Starting the embedded PostgreSQL", metadata: ["port": "\(port)", "data": "\(dataDirectory)"])
        let result = try await runTool([tools.pgCtl, "start", "-w", "-t", "\(readinessTimeout.wholeSeconds)", "-D", clusterDirectory, "-l", logFile])
        guard result.status == 0 else {
            throw EmbeddedPostgresError("pg_ctl could not start PostgreSQL (exit \(result.status)): \(result.output)\nLast lines of \(logFile):\n\(logTail())")
        }
        ownership.started = true
        let endpoint = try await waitUntilReady(port: port, password: password)
        return Startup(endpoint: endpoint, startedByThisProcess: true)
    }

    /// A fast shutdown: open sessions are cut rather than waited for, as the process is leaving anyway.
    func stop() async throws {
        guard isInitialized else { return }
        let tools = try locateBinaries()
        guard try await isRunning(tools) else { return }
        logger.info("Stopping the embedded PostgreSQL", metadata: ["data": "\(dataDirectory)"])
        let result = try await runTool([tools.pgCtl, "stop", "-w", "-t", "60", "-m", "fast", "-D", clusterDirectory])
        guard result.status == 0 else {
            throw EmbeddedPostgresError("pg_ctl could not stop PostgreSQL (exit \(result.status)): \(result.output)")
        }
        ownership.started = false
    }

    func isRunning() async throws -> Bool {
        guard isInitialized else { return false }
        return try await isRunning(try locateBinaries())
    }

    // MARK: - Binaries

    struct Binaries: Sendable {
        var initdb: String
        var pgCtl: String
    }

    /// Debian installs the server outside PATH, one folder per major version; the newest wins.
    static func defaultSearchDirectories() -> [String] {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        let newestFirst = versions.sorted { a, b in
            let ka = a.split(separator: ".").map { Int($0) ?? 0 }
            let kb = b.split(separator: ".").map { Int($0) ?? 0 }
            return kb.lexicographicallyPrecedes(ka)
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return newestFirst.map { "\(root)/\($0)/bin" } + path.split(separator: ":").map(String.init)
    }

    /// All three must come from one folder: `pg_ctl` runs the `postgres` next to itself. An
    /// existing cluster can only run under its own major version, so a newer one installed
    /// since does not take over.
    func locateBinaries() throws -> Binaries {
        let files = FileManager.default
        var directories = searchDirectories
        if let major = try? String(contentsOfFile: clusterDirectory + "/PG_VERSION", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines), !major.isEmpty {
            let own = directories.filter { $0.hasSuffix("/\(major)/bin") }
            directories = own + directories.filter { !$0.hasSuffix("/\(major)/bin") }
        }
        for directory in directories where !directory.isEmpty {
            let all = ["initdb", "pg_ctl", "postgres"].map { "\(directory)/\($0)" }
            if all.allSatisfy({ files.isExecutableFile(atPath: $0) }) {
                return Binaries(initdb: all[0], pgCtl: all[1])
            }
        }
        throw EmbeddedPostgresError(
            "PostgreSQL server binaries not found (initdb, pg_ctl, postgres): install them with `apt-get install postgresql` or set DATABASE_URL"
        )
    }

    // MARK: - First run

    private func prepareDataDirectory() throws {
        let files = FileManager.default
        if !files.fileExists(atPath: dataDirectory) {
            // Parents get the default mode: the `postgres` user may have to traverse them.
            let parent = (dataDirectory as NSString).deletingLastPathComponent
            try files.createDirectory(atPath: parent, withIntermediateDirectories: true)
            try files.createDirectory(atPath: dataDirectory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        }
        if !isInitialized && !files.fileExists(atPath: passwordFile) {
            var generator = SystemRandomNumberGenerator()
            let password = (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
            guard files.createFile(atPath: passwordFile, contents: Data(password.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw EmbeddedPostgresError("could not write \(passwordFile)")
            }
        }
        if SystemUser.isRoot {
            try handOverToPostgresUser()
        }
    }

    /// PostgreSQL refuses to run as root, so as root everything belongs to and runs as the
    /// `postgres` system user, which then needs to reach the folder through its parents.
    private func handOverToPostgresUser() throws {
        let user = try SystemUser.postgres()
        if SystemUser.owner(of: dataDirectory) != user.uid || SystemUser.owner(of: passwordFile).map({ $0 != user.uid }) == true {
            let result = try ChildProcess.runBlocking(["chown", "-R", "\(user.uid):\(user.gid)", dataDirectory], mergeOutput: true)
            guard result.status == 0 else {
                throw EmbeddedPostgresError("could not give \(dataDirectory) to the postgres user: \(result.output)")
            }
        }
        let reach = try ChildProcess.runBlocking(SystemUser.asPostgres(["test", "-x", dataDirectory, "-a", "-w", dataDirectory]), mergeOutput: true)
        guard reach.status == 0 else {
            throw EmbeddedPostgresError(
                "the postgres system user cannot reach \(dataDirectory): a parent folder is not traversable by other users (e.g. /root is 0700); choose a data folder elsewhere or `chmod o+x` its parents"
            )
        }
    }

    private func initialize(_ tools: Binaries) async throws {
        if FileManager.default.fileExists(atPath: clusterDirectory) {
            // Left by an `initdb` that did not finish; it cannot hold data yet.
            logger.warning("Removing an incomplete PostgreSQL cluster", metadata: ["path": "\(clusterDirectory)"])
            try FileManager.default.removeItem(atPath: clusterDirectory)
        }
        guard FileManager.default.fileExists(atPath: passwordFile) else {
            throw EmbeddedPostgresError("\(passwordFile) is missing; delete \(dataDirectory) to start over with a new cluster")
        }
        logger.info("Creating the embedded PostgreSQL cluster", metadata: ["data": "\(clusterDirectory)"])
        #if os(Linux)
        let locale = "C.UTF-8"
        #else
        let locale = "en_US.UTF-8"
        #endif
        var arguments = [
            tools.initdb, "-D", clusterDirectory, "-U", Self.superuser, "--pwfile=\(passwordFile)",
            "--auth-host=scram-sha-256", "--auth-local=peer", "--encoding=UTF8", "--locale=\(locale)",
        ]
        if !durable { arguments.append("--no-sync") }
        let result = try await runTool(arguments)
        guard result.status == 0 else {
            throw EmbeddedPostgresError("initdb failed (exit \(result.status)): \(result.output)")
        }
        let mainConfig = clusterDirectory + "/postgresql.conf"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: mainConfig))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\n# Messagerie's settings, rewritten at each start.\ninclude_if_exists = 'messagerie.conf'\n".utf8))
    }

    // MARK: - Settings and port

    /// Keeps the port of earlier runs so that tools pointed at it keep working, unless something
    /// else took it meanwhile.
    private func choosePort() throws -> Int {
        if let text = try? String(contentsOfFile: settingsFile, encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("port = ") }),
           let saved = Int(line.dropFirst("port = ".count)) {
            if LoopbackPort.isFree(saved) { return saved }
            logger.warning("Port \(saved) of the embedded PostgreSQL is taken; choosing another")
        }
        return try LoopbackPort.free()
    }

    private func writeSettings(port: Int) throws {
        let flag = durable ? "on" : "off"
        let text = """
            # Written by Messagerie before each start of the embedded server; changes here are lost.
            listen_addresses = '127.0.0.1'
            port = \(port)
            unix_socket_directories = ''
            max_connections = 200
            shared_buffers = 64MB
            timezone = 'UTC'
            log_timezone = 'UTC'
            fsync = \(flag)
            synchronous_commit = \(flag)
            full_page_writes = \(flag)

            """
        try text.write(toFile: settingsFile, atomically: true, encoding: .utf8)
        if SystemUser.isRoot {
            let user = try SystemUser.postgres()
            _ = chown(settingsFile, user.uid, user.gid)
        }
    }

    private func readPassword() throws -> String {
        do {
            return try String(contentsOfFile: passwordFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw EmbeddedPostgresError("cannot read the embedded PostgreSQL password from \(passwordFile): \(error)")
        }
    }

    // MARK: - Running state

    private func isRunning(_ tools: Binaries) async throws -> Bool {
        // 0: running; 3: not running; 4: no data folder.
        try await runTool([tools.pgCtl, "status", "-D", clusterDirectory]).status == 0
    }

    /// The port a running server really listens on, which may predate the settings file.
    private func runningPort() -> Int? {
        guard let text = try? String(contentsOfFile: clusterDirectory + "/postmaster.pid", encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return lines.count > 3 ? Int(lines[3].trimmingCharacters(in: .whitespaces)) : nil
    }

    /// `pg_ctl -w` only watches the pid file, so this proves that a client really gets in over
    /// TCP with the password, and creates the application database on the way.
    private func waitUntilReady(port: Int, password: String) async throws -> DatabaseEndpoint {
        let endpoint = DatabaseEndpoint(host: "127.0.0.1", port: port, username: Self.superuser, password: password, database: Self.databaseName)
        let deadline = ContinuousClock.now + readinessTimeout
        var lastError: (any Error)?
        repeat {
            do {
                try await ensureDatabase(endpoint)
                return endpoint
            } catch {
                lastError = error
                try await Task.sleep(for: .milliseconds(200))
            }
        } while ContinuousClock.now < deadline
        throw EmbeddedPostgresError(
            "the embedded PostgreSQL on 127.0.0.1:\(port) did not answer within \(readinessTimeout) (last error: \(lastError.map { String(reflecting: $0) } ?? "none"))\nLast lines of \(logFile):\n\(logTail())"
        )
    }

    private func ensureDatabase(_ endpoint: DatabaseEndpoint) async throws {
        let configuration = PostgresConnection.Configuration(
            host: endpoint.host, port: endpoint.port, username: endpoint.username,
            password: endpoint.password, database: "postgres", tls: .disable
        )
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            try await connection.query("SELECT 1", logger: logger)
            let existing = try await connection.query("SELECT 1 FROM pg_database WHERE datname = \(Self.databaseName)", logger: logger).collect()
            if existing.isEmpty {
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(Self.databaseName)"), logger: logger)
            }
        } catch {
            try? await connection.close()
            throw error
        }
        try? await connection.close()
    }

    private func logTail(lines: Int = 20) -> String {
        guard let text = try? String(contentsOfFile: logFile, encoding: .utf8) else { return "(no log at \(logFile))" }
        return text.split(separator: "\n").suffix(lines).joined(separator: "\n")
    }

    /// Runs a PostgreSQL tool as the user that owns the cluster; its stdout and stderr are
    /// merged because the tools report problems on either.
    private func runTool(_ arguments: [String]) async throws -> ChildProcess.Completion {
        try await ChildProcess.run(SystemUser.isRoot ? SystemUser.asPostgres(arguments) : arguments, directory: dataDirectory, mergeOutput: true)
    }
}

private final class Ownership: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    var started: Bool {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}

struct EmbeddedPostgresError: Error, CustomStringConvertible, LocalizedError {
    let description: String
    init(_ description: String) { self.description = description }
    var errorDescription: String? { description }
}

extension Duration {
    fileprivate var wholeSeconds: Int64 { max(1, components.seconds) }
}
