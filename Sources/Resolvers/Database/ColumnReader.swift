import PostgresNIO

/// A row's columns decoded one after the other, each by code specialized for its own type.
/// PostgresNIO's `row.decode((A, B, …).self)` takes a parameter pack, which the compiler does not
/// specialize: every column went through generic code that looks its type's metadata up at run
/// time (perf, history benchmark: about a twentieth of the server's time for the 350 rows of a
/// page of 50 messages). Used for the rows read with every page and every live message.
struct ColumnReader {
    struct MissingColumn: Error, CustomStringConvertible {
        let index: Int
        var description: String { "the row has no column \(index)" }
    }

    private var cells: PostgresRow.Iterator
    private var index = 0

    init(_ row: PostgresRow) { cells = row.makeIterator() }

    mutating func next<Value: PostgresDecodable>(_: Value.Type = Value.self) throws -> Value {
        guard let cell = cells.next() else { throw MissingColumn(index: index) }
        index += 1
        return try cell.decode(Value.self)
    }
}

extension DatabasePool.Rows {
    /// Each row of a finished query, transformed without an asynchronous step per row.
    func map<Value>(_ transform: (PostgresRow) throws -> Value) rethrows -> [Value] {
        try rows.map(transform)
    }
}
