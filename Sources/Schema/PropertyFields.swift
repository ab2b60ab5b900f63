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

    private static let table = DeclaredFields<Reader>()

    static func register<Object: Sendable, Value: Sendable>(_ name: String, _ keyPath: KeyPath<Object, Value>) {
        // The same conversion of `Value` to an optional existential as Graphiti's own
        // key-path resolver makes, so both give the executor the same value.
        table.register(name, on: Object.self, declaredBy: keyPath) { source in (source as! Object)[keyPath: keyPath] }
    }

    /// The readers of the fields named `name`, by the Swift type of the value they read.
    public static func readers(named name: String) -> [ObjectIdentifier: Reader] {
        table.functions(named: name)
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

    private static let table = DeclaredFields<Resolver>()

    static func register<Object: Sendable, Value: Sendable>(
        _ name: String, site: String, _ function: @escaping AsyncResolve<Object, OperationContext, NoArguments, Value>
    ) {
        table.register(name, on: Object.self, declaredBy: site) { source, context in
            try await function(source as! Object)(context as! OperationContext, NoArguments())
        }
    }

    /// The resolvers of the fields named `name`, by the Swift type of the value they resolve on.
    public static func resolvers(named name: String) -> [ObjectIdentifier: Resolver] {
        table.functions(named: name)
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

/// Functions kept per field name and Swift type, for `PropertyFields` and `ResolverFields`. A
/// name and type declared twice by different declarations (key paths, source sites) keep none.
final class DeclaredFields<Function: Sendable>: Sendable {
    /// Declarations are key paths and source sites: immutable values.
    private struct Entry: @unchecked Sendable {
        let declaration: AnyHashable
        let function: Function
    }

    private struct Key: Hashable, Sendable {
        let name: String
        let type: ObjectIdentifier
    }

    private struct Table: Sendable {
        var entries: [String: [ObjectIdentifier: Entry]] = [:]
        var ambiguous: Set<Key> = []
    }

    private let table = NIOLockedValueBox(Table())

    func register(_ name: String, on type: Any.Type, declaredBy declaration: AnyHashable, _ function: Function) {
        let type = ObjectIdentifier(type)
        table.withLockedValue { table in
            let key = Key(name: name, type: type)
            guard !table.ambiguous.contains(key) else { return }
            if let existing = table.entries[name]?[type], existing.declaration != declaration {
                table.ambiguous.insert(key)
                table.entries[name]?[type] = nil
                return
            }
            table.entries[name, default: [:]][type] = Entry(declaration: declaration, function: function)
        }
    }

    func functions(named name: String) -> [ObjectIdentifier: Function] {
        table.withLockedValue { $0.entries[name]?.mapValues(\.function) ?? [:] }
    }
}
