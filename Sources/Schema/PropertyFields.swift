import Graphiti
import NIOConcurrencyHelpers

/// Fields that read a stored property (declared with `Prop`). Besides the Graphiti field, each
/// keeps its property's reader here, so that the gateway's executor can read the value directly:
/// Graphiti's resolver wrapper decodes the field's (empty) arguments through `MapDecoder` for
/// every value, about a third of a history page's server time in a perf profile.
///
/// Readers are found by the Swift type of the value and the field's name. That is exact as long
/// as a Swift type backs one GraphQL object type; a type and name declared with two different
/// properties keep no reader at all.
public enum PropertyFields {
    public typealias Reader = @Sendable (Any) -> (any Sendable)?

    /// Key paths are immutable values; `AnyKeyPath` only lacks the declaration.
    private struct Entry: @unchecked Sendable {
        let keyPath: AnyKeyPath
        let reader: Reader
    }

    private struct Declaration: Hashable, Sendable {
        let name: String
        let type: ObjectIdentifier
    }

    private struct Table: Sendable {
        var entries: [String: [ObjectIdentifier: Entry]] = [:]
        var ambiguous: Set<Declaration> = []
    }

    private static let table = NIOLockedValueBox(Table())

    static func register<Object: Sendable, Value: Sendable>(_ name: String, _ keyPath: KeyPath<Object, Value>) {
        let type = ObjectIdentifier(Object.self)
        table.withLockedValue { table in
            let declaration = Declaration(name: name, type: type)
            guard !table.ambiguous.contains(declaration) else { return }
            if let existing = table.entries[name]?[type], existing.keyPath != keyPath {
                table.ambiguous.insert(declaration)
                table.entries[name]?[type] = nil
                return
            }
            // The same conversion of `Value` to an optional existential as Graphiti's own
            // key-path resolver makes, so both give the executor the same value.
            let reader: Reader = { source in (source as! Object)[keyPath: keyPath] }
            table.entries[name, default: [:]][type] = Entry(keyPath: keyPath, reader: reader)
        }
    }

    /// The readers of the fields named `name`, by the Swift type of the value they read.
    public static func readers(named name: String) -> [ObjectIdentifier: Reader] {
        table.withLockedValue { $0.entries[name]?.mapValues(\.reader) ?? [:] }
    }
}

/// A field that is a stored property of its type: Graphiti's `Field(_:at:)`, whose reader is also
/// kept in `PropertyFields`.
func Prop<Object: Sendable, Value: Sendable>(
    _ name: String, at keyPath: KeyPath<Object, Value>
) -> Field<Object, OperationContext, Value, NoArguments> {
    PropertyFields.register(name, keyPath)
    return Field(name, at: keyPath)
}
