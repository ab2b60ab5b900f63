import GraphQL
import OrderedCollections

/// One execution: its variables, the errors met so far, and the selections already collected.
/// Used by one task only, from start to end.
final class DirectRun {
    private static let noArguments: Map = .dictionary([:])

    let schema: DirectSchema
    let info: GraphQLResolveInfo
    let context: any Sendable
    let variables: [String: Map]
    let fragments: [String: FragmentDefinition]
    private(set) var errors: [GraphQLError] = []
    var collected: [CollectKey: OrderedDictionary<String, [Field]>] = [:]
    /// Whether values of a type are optionals: the cast that tells is paid once per type. A few
    /// types per document, searched in order: hashing the type per value was 0.6% of a history
    /// page's samples.
    private var optionalTypes: [(type: ObjectIdentifier, isOptional: Bool)] = []
    /// Selection plans by the position of their selection set in the document (few per document).
    var selections: [(start: Int, plan: SelectionPlan)] = []

    init(schema: DirectSchema, info: GraphQLResolveInfo, context: any Sendable, variables: [String: Map],
         fragments: [String: FragmentDefinition]) {
        self.schema = schema
        self.info = info
        self.context = context
        self.variables = variables
        self.fragments = fragments
    }

    func executeFields(
        _ object: DirectSchema.ObjectPlan, _ source: any Sendable, _ fields: OrderedDictionary<String, [Field]>, path: ResponsePath?
    ) async throws(NullBubble) -> OrderedDictionary<String, Map> {
        try await execute(SelectionPlan(object, fields), source, path: path)
    }

    func execute(_ selection: SelectionPlan, _ source: any Sendable, path: ResponsePath?) async throws(NullBubble) -> OrderedDictionary<String, Map> {
        let object = selection.object
        let sourceType = ObjectIdentifier(type(of: source))
        var values: [Map] = []
        values.reserveCapacity(selection.entries.count)
        for entry in selection.entries {
            if entry.isTypename {
                values.append(.string(object.name))
                continue
            }
            guard let plan = entry.plan else {
                record(GraphQLError(message: "Cannot query field \"\(entry.nodes[0].name.value)\" on type \"\(object.name)\"."),
                       entry.nodes, ResponsePath(path, .key(entry.key)))
                throw NullBubble()
            }
            // Stored properties with scalar values, most fields of a page, are completed without
            // the asynchronous calls and the path every other field takes (each nonisolated async
            // call is a `swift_task_switch` check: 3.7% of a history page's samples in perf).
            if let read = plan.readers[sourceType],
               let completed = try completeLeaf(plan.type, read(source), entry.nodes, field: (object.name, plan.name), path: path, key: entry.key)
            {
                values.append(completed)
                continue
            }
            values.append(try await executeField(object, plan, source, entry.nodes, ResponsePath(path, .key(entry.key))))
        }
        return OrderedDictionary(uncheckedUniqueKeys: selection.keys, values: values)
    }

    private func executeField(
        _ object: DirectSchema.ObjectPlan, _ plan: DirectSchema.FieldPlan, _ source: any Sendable, _ nodes: [Field],
        _ path: ResponsePath
    ) async throws(NullBubble) -> Map {
        let value: (any Sendable)?
        let sourceType = ObjectIdentifier(type(of: source))
        if let read = plan.readers[sourceType] {
            return try await complete(plan.type, read(source), nodes, path, field: (object.name, plan.name))
        }
        do {
            if let resolve = plan.resolvers[sourceType] {
                value = try await resolve(source, context)
            } else {
                guard let resolve = plan.resolve else { throw GraphQLError(message: "Field \(object.name).\(plan.name) has no resolver.") }
                let arguments = plan.arguments.isEmpty ? Self.noArguments : try schema.arguments(plan, nodes[0], variables: variables)
                value = try await resolve(source, arguments, context, info)
            }
        } catch {
            record(error, nodes, path)
            if case .nonNull = plan.type { throw NullBubble() }
            return .null
        }
        return try await complete(plan.type, value, nodes, path, field: (object.name, plan.name))
    }

    /// A value in a position of `type`: a nullable position stops a bubbling null.
    private func complete(
        _ type: DirectSchema.Output, _ value: (any Sendable)?, _ nodes: [Field], _ path: ResponsePath,
        field: (parent: String, name: String)
    ) async throws(NullBubble) -> Map {
        if case .nonNull(let inner) = type {
            let completed = try await completeValue(inner, value, nodes, path, field: field)
            if completed == .null {
                record(GraphQLError(message: "Cannot return null for non-nullable field \(field.parent).\(field.name)."), nodes, path)
                throw NullBubble()
            }
            return completed
        }
        do {
            return try await completeValue(type, value, nodes, path, field: field)
        } catch {
            return .null
        }
    }

    private func completeValue(
        _ type: DirectSchema.Output, _ value: (any Sendable)?, _ nodes: [Field], _ path: ResponsePath,
        field: (parent: String, name: String)
    ) async throws(NullBubble) -> Map {
        guard let value = unwrap(value) else { return .null }
        switch type {
        case .leaf(let leaf):
            do {
                return try serialize(leaf, value)
            } catch {
                record(error, nodes, path)
                throw NullBubble()
            }
        case .list(let itemType):
            guard let items = (value as? any SendableItems)?.sendableItems else {
                record(GraphQLError(message: "Expected array, but did not find one for field \(field.parent).\(field.name)."), nodes, path)
                throw NullBubble()
            }
            var completed: [Map] = []
            completed.reserveCapacity(items.count)
            for (index, item) in items.enumerated() {
                completed.append(try await complete(itemType, item, nodes, ResponsePath(path, .index(index)), field: field))
            }
            return .array(completed)
        case .object(let name):
            guard let selection = selection(of: name, under: nodes) else {
                record(GraphQLError(message: "Unknown type \(name)."), nodes, path)
                throw NullBubble()
            }
            return .dictionary(try await execute(selection, value, path: path))
        case .nonNull, .unsupported:
            record(GraphQLError(message: "Cannot complete a value of field \(field.parent).\(field.name)."), nodes, path)
            throw NullBubble()
        }
    }

    /// A scalar or enum value, or its null, completed at once; nil for the types that need more
    /// (lists, objects), which `complete` handles. Errors are those `complete` would report.
    private func completeLeaf(
        _ type: DirectSchema.Output, _ value: (any Sendable)?, _ nodes: [Field],
        field: (parent: String, name: String), path: ResponsePath?, key: String
    ) throws(NullBubble) -> Map? {
        let nonNull: Bool
        let leaf: DirectSchema.Leaf
        switch type {
        case .leaf(let inner): (nonNull, leaf) = (false, inner)
        case .nonNull(.leaf(let inner)): (nonNull, leaf) = (true, inner)
        default: return nil
        }
        guard let value = unwrap(value) else {
            guard nonNull else { return .null }
            record(GraphQLError(message: "Cannot return null for non-nullable field \(field.parent).\(field.name)."), nodes,
                   ResponsePath(path, .key(key)))
            throw NullBubble()
        }
        do {
            let completed = try serialize(leaf, value)
            if nonNull, case .null = completed {
                record(GraphQLError(message: "Cannot return null for non-nullable field \(field.parent).\(field.name)."), nodes,
                       ResponsePath(path, .key(key)))
                throw NullBubble()
            }
            return completed
        } catch let bubble as NullBubble {
            throw bubble
        } catch {
            record(error, nodes, ResponsePath(path, .key(key)))
            if nonNull { throw NullBubble() }
            return .null
        }
    }

    /// A leaf's value as the response holds it: the common scalars without the type's serializer.
    private func serialize(_ leaf: DirectSchema.Leaf, _ value: any Sendable) throws -> Map {
        switch leaf.kind {
        case .string: if let string = value as? String { return .string(string) }
        case .int: if let int = value as? Int, Int(Int32.min)...Int(Int32.max) ~= int { return .int(int) }
        case .float: if let double = value as? Double, double.isFinite { return .double(double) }
        case .boolean: if let bool = value as? Bool { return .bool(bool) }
        case .enumeration(let names):
            if let raw = (value as? any RawRepresentable)?.rawValue as? String, let name = names[raw] { return .string(name) }
        case .custom: break
        }
        return try leaf.serialize(value)
    }

    /// Resolvers return optionals inside `Any`; GraphQLSwift finds them with a `Mirror` per value.
    func unwrap(_ value: (any Sendable)?) -> (any Sendable)? {
        guard let value else { return nil }
        let type = ObjectIdentifier(Swift.type(of: value))
        let isOptional: Bool
        if let known = optionalTypes.first(where: { $0.type == type }) {
            isOptional = known.isOptional
        } else {
            isOptional = value is any OptionalValue
            optionalTypes.append((type, isOptional))
        }
        if isOptional, let optional = value as? any OptionalValue { return unwrap(optional.wrappedSendable) }
        if type == ObjectIdentifier(Map.self), let map = value as? Map, map == .null || map == .undefined { return nil }
        return value
    }

    /// Errors as GraphQLSwift reports them, with the field's location and path added when the
    /// error did not carry a path of its own.
    private func record(_ error: any Error, _ nodes: [Field], _ path: ResponsePath) {
        if let error = error as? GraphQLError {
            guard error.path.elements.isEmpty else { return errors.append(error) }
            errors.append(GraphQLError(
                message: error.message, nodes: nodes, path: path.indexPath, originalError: error.originalError,
                extensions: error.extensions))
        } else {
            errors.append(GraphQLError(message: String(describing: error), nodes: nodes, path: path.indexPath, originalError: error))
        }
    }
}

/// Lists as resolvers return them, typed. Casting to `[(any Sendable)?]` went through the
/// runtime's conversion of arrays, element by element (perf: a tenth of a history page's time
/// in dynamic casts, most of it in lists and leaves).
protocol SendableItems {
    var sendableItems: [(any Sendable)?] { get }
}

extension Array: SendableItems {
    // Only values of resolvers typed `(any Sendable)?` reach here (a conformance conditional on
    // `Sendable`, a marker protocol, cannot be declared).
    var sendableItems: [(any Sendable)?] { map { ($0 as Any) as! (any Sendable) } }
}

protocol OptionalValue {
    var wrappedSendable: (any Sendable)? { get }
}

extension Optional: OptionalValue {
    var wrappedSendable: (any Sendable)? {
        switch self {
        // Values that reach here came out of resolvers typed `(any Sendable)?`.
        case .some(let wrapped): (wrapped as Any) as! (any Sendable)
        case .none: nil
        }
    }
}
