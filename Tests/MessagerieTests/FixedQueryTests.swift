import Foundation
import Logging
import PostgresNIO
import Resolvers
import XCTest

@testable import Gateway

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

    func testTheTextIsTheSameWhateverTheValues() throws {
        let withValues = try Probe(id: UUID(), label: "x").query
        let withNils = try Probe(id: nil, label: nil).query
        XCTAssertEqual(withValues.sql, withNils.sql)
        XCTAssertEqual(Probe.sql, withValues.sql)
        XCTAssertTrue(Probe.sql.contains("$1") && Probe.sql.contains("$2"), Probe.sql)
    }

    func testOneConnectionTakesNilFirstThenValuesThenNilAgain() async throws {
        let endpoint = try await TestDatabase.shared.freshDatabase()
        let pool = DatabasePool(client: PostgresClient(configuration: .init(endpoint, poolSize: 1), backgroundLogger: logger))
        let logger = self.logger
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await pool.run() }
            defer { group.cancelAll() }
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
}
