import GraphQL
import Schema

/// The schema's types as the direct executor reads them: type references resolved once, and each
/// field's resolver taken out of GraphQLSwift's definitions at start-up instead of per value.
final class DirectSchema: Sendable {
    indirect enum Output: Sendable {
        case nonNull(Output)
        case list(Output)
        case leaf(Leaf)
        case object(String)
        /// Interfaces and unions: documents that reach one run on GraphQLSwift.
        case unsupported
    }

    indirect enum Input: Sendable {
        case nonNull(Input)
        case list(Input)
        case leaf(any GraphQLLeafType)
        case object(String)
        case unsupported
    }

    /// A leaf type as values are written: GraphQLSwift reads a scalar's `serialize` under a
    /// dispatch queue's lock at every call, and its built-in scalars try a cast to `Map` and
    /// others before the one that matches (a seventh of a history page's server time in a perf
    /// profile), so the closure is read once and the usual Swift type of each kind is tried first.
    final class Leaf: Sendable {
        enum Kind: Sendable {
            case string, int, float, boolean
            /// Value names by the raw value of the Swift case they stand for.
            case enumeration([String: String])
            case custom
        }

        let type: any GraphQLLeafType
        let kind: Kind
        let serialize: @Sendable (Any) throws -> Map

        init(_ type: any GraphQLLeafType) {
            self.type = type
            if let enumeration = type as? GraphQLEnumType {
                var names: [String: String] = [:]
                for value in enumeration.values {
                    if case .string(let raw) = value.value { names[raw] = value.name }
                }
                kind = .enumeration(names)
                serialize = { try enumeration.serialize(value: $0) }
            } else if let scalar = type as? GraphQLScalarType {
                kind = switch scalar.name {
                case GraphQLString.name: .string
                case GraphQLInt.name: .int
                case GraphQLFloat.name: .float
                case GraphQLBoolean.name: .boolean
                default: .custom
                }
                serialize = scalar.serialize
            } else {
                kind = .custom
                serialize = { try type.serialize(value: $0) }
            }
        }
    }

    struct Argument: Sendable {
        let name: String
        let type: Input
        let defaultValue: Map?
    }

    /// A class: the executor passes a field's plan along for every value it resolves, and a
    /// struct of six references was retained six times per copy.
    final class FieldPlan: Sendable {
        let name: String
        let type: Output
        let arguments: [Argument]
        let resolve: GraphQLFieldResolve?
        /// For a stored property, its reader by the Swift type of the value (`PropertyFields`):
        /// read directly, without Graphiti's resolver wrapper.
        let readers: [ObjectIdentifier: PropertyFields.Reader]
        /// For a method taking only the context, the method by the Swift type of the value
        /// (`ResolverFields`): called directly, without Graphiti's resolver wrapper.
        let resolvers: [ObjectIdentifier: ResolverFields.Resolver]

        init(name: String, type: Output, arguments: [Argument], resolve: GraphQLFieldResolve?,
             readers: [ObjectIdentifier: PropertyFields.Reader], resolvers: [ObjectIdentifier: ResolverFields.Resolver]) {
            self.name = name
            self.type = type
            self.arguments = arguments
            self.resolve = resolve
            self.readers = readers
            self.resolvers = resolvers
        }
    }

    struct ObjectPlan: Sendable {
        let name: String
        let fields: [String: FieldPlan]
    }

    struct InputObjectPlan: Sendable {
        let fields: [Argument]
        let isOneOf: Bool
    }

    let objects: [String: ObjectPlan]
    let inputObjects: [String: InputObjectPlan]
    let queryType: String?
    let mutationType: String?
    let subscriptionType: String?
    private let schema: GraphQLSchema

    init(_ schema: GraphQLSchema) throws {
        self.schema = schema
        var objects: [String: ObjectPlan] = [:]
        var inputObjects: [String: InputObjectPlan] = [:]
        for (name, type) in schema.typeMap where !name.hasPrefix("__") {
            if let object = type as? GraphQLObjectType {
                var fields: [String: FieldPlan] = [:]
                for (fieldName, field) in try object.fields() {
                    fields[fieldName] = FieldPlan(
                        name: fieldName, type: Self.output(field.type, schema),
                        arguments: field.args.map { Argument(name: $0.key, type: Self.input($0.value.type, schema), defaultValue: $0.value.defaultValue) },
                        resolve: field.resolve,
                        readers: field.args.isEmpty ? PropertyFields.readers(named: fieldName) : [:],
                        resolvers: field.args.isEmpty ? ResolverFields.resolvers(named: fieldName) : [:])
                }
                objects[name] = ObjectPlan(name: name, fields: fields)
            } else if let input = type as? GraphQLInputObjectType {
                inputObjects[name] = InputObjectPlan(
                    fields: try input.fields().map { Argument(name: $0.key, type: Self.input($0.value.type, schema), defaultValue: $0.value.defaultValue) },
                    isOneOf: input.isOneOf)
            }
        }
        self.objects = objects
        self.inputObjects = inputObjects
        queryType = schema.queryType?.name
        mutationType = schema.mutationType?.name
        subscriptionType = schema.subscriptionType?.name
    }

    private static func named(_ type: GraphQLType, _ schema: GraphQLSchema) -> GraphQLNamedType? {
        return (type as? GraphQLNamedType).flatMap { schema.getType(name: $0.name) }
    }

    private static func output(_ type: GraphQLType, _ schema: GraphQLSchema) -> Output {
        if let nonNull = type as? GraphQLNonNull { return .nonNull(output(nonNull.ofType, schema)) }
        if let list = type as? GraphQLList { return .list(output(list.ofType, schema)) }
        switch named(type, schema) {
        case let leaf as any GraphQLLeafType: return .leaf(Leaf(leaf))
        case let object as GraphQLObjectType: return .object(object.name)
        default: return .unsupported
        }
    }

    private static func input(_ type: GraphQLType, _ schema: GraphQLSchema) -> Input {
        if let nonNull = type as? GraphQLNonNull { return .nonNull(input(nonNull.ofType, schema)) }
        if let list = type as? GraphQLList { return .list(input(list.ofType, schema)) }
        switch named(type, schema) {
        case let leaf as any GraphQLLeafType: return .leaf(leaf)
        case let object as GraphQLInputObjectType: return .object(object.name)
        default: return .unsupported
        }
    }

    /// The input type a variable definition names, as written in the document.
    func input(_ annotation: any GraphQL.`Type`) -> Input {
        switch annotation {
        case let nonNull as NonNullType: return .nonNull(input(nonNull.type))
        case let list as ListType: return .list(input(list.type))
        case let named as NamedType:
            switch schema.getType(name: named.name.value) {
            case let leaf as any GraphQLLeafType: return .leaf(leaf)
            case let object as GraphQLInputObjectType: return .object(object.name)
            default: return .unsupported
            }
        default: return .unsupported
        }
    }

    func rootType(of operation: OperationDefinition) -> String? {
        switch operation.operation {
        case .query: queryType
        case .mutation: mutationType
        case .subscription: subscriptionType
        }
    }
}
