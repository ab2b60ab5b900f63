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

/// Fields resolved by a method of their type that takes the context and no arguments (declared
/// with `Resolved`): the executor calls the method itself. Graphiti's wrapper decoded the empty
/// arguments through `MapDecoder` for every value, a twentieth of a history page's time (sender,
/// reactions, receipts and each receipt's user: 350 values per page).
///
/// Found as readers are (value type and field name); a type and name declared at two places of
/// the source keep no resolver, since two functions cannot be compared.
public enum ResolverFields {
    public typealias Resolver = @Sendable (_ source: Any, _ context: any Sendable) async throws -> (any Sendable)?

    private struct Entry: Sendable {
        let site: String
        let resolver: Resolver
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

    static func register<Object: Sendable, Value: Sendable>(
        _ name: String, site: String, _ function: @escaping AsyncResolve<Object, OperationContext, NoArguments, Value>
    ) {
        let type = ObjectIdentifier(Object.self)
        table.withLockedValue { table in
            let declaration = Declaration(name: name, type: type)
            guard !table.ambiguous.contains(declaration) else { return }
            if let existing = table.entries[name]?[type], existing.site != site {
                table.ambiguous.insert(declaration)
                table.entries[name]?[type] = nil
                return
            }
            let resolver: Resolver = { source, context in
                try await function(source as! Object)(context as! OperationContext, NoArguments())
            }
            table.entries[name, default: [:]][type] = Entry(site: site, resolver: resolver)
        }
    }

    /// The resolvers of the fields named `name`, by the Swift type of the value they resolve on.
    public static func resolvers(named name: String) -> [ObjectIdentifier: Resolver] {
        table.withLockedValue { $0.entries[name]?.mapValues(\.resolver) ?? [:] }
    }
}

/// A field resolved by a method taking the context and no arguments: Graphiti's `Field(_:at:)`,
/// whose method is also kept in `ResolverFields`.
func Resolved<Object: Sendable, Value: Sendable>(
    _ name: String, at function: @escaping AsyncResolve<Object, OperationContext, NoArguments, Value>,
    fileID: String = #fileID, line: Int = #line
) -> Field<Object, OperationContext, Value, NoArguments> {
    ResolverFields.register(name, site: "\(fileID):\(line)", function)
    return Field(name, at: function)
}
