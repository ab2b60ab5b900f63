import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import ServiceLifecycle

/// The application's only way to its pooled PostgreSQL connections. Every lease passes through
/// here so that the pool's use can be reported: postgres-nio 1.33 keeps its own pool statistics
/// (requests queued for a connection, connections leased) private.
public final class DatabasePool: Service, Sendable {
    public struct Usage: Sendable, Equatable {
        /// Operations queued for a connection, none being free.
        public var waiting = 0
        /// Connections leased to an operation.
        public var inUse = 0

        public init(waiting: Int = 0, inUse: Int = 0) {
            self.waiting = waiting
            self.inUse = inUse
        }
    }

    public let client: PostgresClient
    private let counts = NIOLockedValueBox(Usage())

    public init(client: PostgresClient) {
        self.client = client
    }

    public func run() async {
        await client.run()
    }

    public var usage: Usage { counts.withLockedValue { $0 } }

    public func withConnection<Result>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        counts.withLockedValue { $0.waiting += 1 }
        var leased = false
        defer {
            counts.withLockedValue { if leased { $0.inUse -= 1 } else { $0.waiting -= 1 } }
        }
        return try await client.withConnection(isolation: isolation) { connection in
            counts.withLockedValue {
                $0.waiting -= 1
                $0.inUse += 1
            }
            leased = true
            do {
                return try await body(connection)
            } catch let error as PSQLError where Self.mayHaveFailedPreparing(error) {
                // postgres-nio keeps a named statement whose preparation failed as failed for the
                // connection's life, without asking the server again: a table renamed or locked
                // for a moment by a migration would fail that statement on this connection until
                // a restart. A connection closed here is replaced by the pool.
                connection.logger.warning("database connection replaced after an error its statement may have kept", metadata: [
                    "sqlstate": "\(error.serverInfo?[.sqlState] ?? "")", "error": "\(error.serverInfo?[.message] ?? "")",
                ])
                try? await connection.close()
                throw error
            }
        }
    }

    /// Errors the server may have raised while preparing a statement rather than running it:
    /// the text names something missing or mistyped (class 42), or the server could not take
    /// the statement then (a lock, a cancellation, resources; classes 0A, 53, 55, 57, 58, XX).
    /// Errors only a run can raise (constraints, data, serialization) leave the connection alone.
    static func mayHaveFailedPreparing(_ error: PSQLError) -> Bool {
        guard error.code == .server, let state = error.serverInfo?[.sqlState] else { return false }
        return ["42", "0A", "53", "55", "57", "58", "XX"].contains(String(state.prefix(2)))
    }

    /// Runs one statement and reads all its rows before the connection goes back to the pool.
    /// Every query here reads a bounded page; bulk work goes through `withConnection`.
    @discardableResult
    public func query(_ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line) async throws -> Rows {
        try await withConnection { connection in
            Rows(rows: try await connection.query(query, logger: logger, file: file, line: line).collect())
        }
    }

    /// Runs a statement of fixed text (`FixedQuery`) as a named prepared statement and reads all
    /// its rows before the connection goes back to the pool.
    public func execute<Statement: FixedQuery>(_ statement: Statement, logger: Logger) async throws -> Rows {
        try await withConnection { connection in
            var rows: [PostgresRow] = []
            for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
            return Rows(rows: rows)
        }
    }

    /// A transaction on one pooled connection; a domain error thrown inside comes out as itself
    /// (PostgresNIO wraps whatever the closure throws, and the doors must still see `DomainError`).
    public func transaction<Result>(
        logger: Logger, isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        try await withConnection(isolation: isolation) { connection in
            do {
                return try await connection.withTransaction(logger: logger, isolation: isolation, body)
            } catch let error as PostgresTransactionError {
                if let inner = error.closureError { throw inner }
                throw error
            }
        }
    }

    /// The rows of one finished query, read with PostgresNIO's `decode` like a live row stream.
    public struct Rows: AsyncSequence, Sendable {
        public typealias Element = PostgresRow
        let rows: [PostgresRow]

        public struct AsyncIterator: AsyncIteratorProtocol {
            var base: IndexingIterator<[PostgresRow]>
            public mutating func next() async -> PostgresRow? { base.next() }
        }

        public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: rows.makeIterator()) }
    }
}
