import Foundation
import Logging
import PostgresNIO
import XCTest

@testable import Gateway
@testable import Resolvers

/// Statements run as named prepared statements: the text must not depend on the values, and the
/// parameter types fixed by a connection's first call (a nil among them) must still take values.
final class FixedQueryTests: XCTestCase {
    let logger = Logger(label: "messagerie.tests.fixed-query")

    /// An optional uuid and an optional text: whether each is null, and each as text.
    struct Probe: FixedQuery {
        static let sql = text(of: Probe(id: nil, label: nil))
        let id: UUID?
        let label: String?

        var query: PostgresQuery {
            "SELECT \(id)::uuid IS NULL, \(id)::uuid::text, \(label)::text IS NULL, \(label)::text"
        }
    }

    /// A fresh database behind a pool of one connection: every statement goes to the same one.
    func withPoolOfOne(_ body: @Sendable (DatabasePool, Logger) async throws -> Void) async throws {
        let endpoint = try await TestDatabase.shared.freshDatabase()
        let pool = DatabasePool(client: PostgresClient(configuration: .init(endpoint, poolSize: 1), backgroundLogger: logger))
        let logger = self.logger
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await pool.run() }
            defer { group.cancelAll() }
            try await body(pool, logger)
        }
    }

    func testTheTextIsTheSameWhateverTheValues() throws {
        let withValues = try Probe(id: UUID(), label: "x").query
        let withNils = try Probe(id: nil, label: nil).query
        XCTAssertEqual(withValues.sql, withNils.sql)
        XCTAssertEqual(Probe.sql, withValues.sql)
        XCTAssertTrue(Probe.sql.contains("$1") && Probe.sql.contains("$2"), Probe.sql)
    }

    func testOneConnectionTakesNilFirstThenValuesThenNilAgain() async throws {
        try await withPoolOfOne { pool, logger in
            let id = UUID()
            for (probe, expected) in [
                (Probe(id: nil, label: nil), (true, String?.none, true, String?.none)),
                (Probe(id: id, label: "héllo"), (false, id.uuidString.lowercased(), false, "héllo")),
                (Probe(id: nil, label: "only text"), (true, nil, false, "only text")),
            ] {
                var answers: [(Bool, String?, Bool, String?)] = []
                for try await row in try await pool.execute(probe, logger: logger).decode((Bool, String?, Bool, String?).self) {
                    answers.append(row)
                }
                XCTAssertEqual(answers.count, 1)
                XCTAssertEqual(answers.first?.0, expected.0)
                XCTAssertEqual(answers.first?.1, expected.1)
                XCTAssertEqual(answers.first?.2, expected.2)
                XCTAssertEqual(answers.first?.3, expected.3)
            }
        }
    }

    /// The column-by-column reader of the hot rows: each column in order, with its own type, and an
    /// error (not a crash or a default) for a column the row does not have or a type it is not.
    func testColumnReaderReadsInOrderAndReportsMissingOrMistypedColumns() async throws {
        try await withPoolOfOne { pool, logger in
            let id = UUID()
            let rows = try await pool.execute(Probe(id: id, label: "ünïcode"), logger: logger)
            let read = try rows.map { row -> (Bool, String?, Bool, String?) in
                var columns = ColumnReader(row)
                let answer = (try columns.next(Bool.self), try columns.next(String?.self), try columns.next(Bool.self),
                              try columns.next(String?.self))
                XCTAssertThrowsError(try columns.next(Bool.self)) { error in
                    XCTAssertEqual((error as? ColumnReader.MissingColumn)?.index, 4)
                }
                return answer
            }
            XCTAssertEqual(read.count, 1)
            XCTAssertEqual(read.first?.0, false)
            XCTAssertEqual(read.first?.1, id.uuidString.lowercased())
            XCTAssertEqual(read.first?.2, false)
            XCTAssertEqual(read.first?.3, "ünïcode")

            let nulls = try await pool.execute(Probe(id: nil, label: nil), logger: logger)
            _ = try nulls.map { row in
                var columns = ColumnReader(row)
                XCTAssertEqual(try columns.next(Bool.self), true)
                XCTAssertNil(try columns.next(String?.self))
                XCTAssertThrowsError(try columns.next(Int.self), "a boolean column read as an integer") { error in
                    XCTAssertTrue(error is PostgresDecodingError, "\(error)")
                }
            }
        }
    }
}
