import GraphQL
import Schema

/// The schema's types as the direct executor reads them: type references resolved once, and each
/// field's resolver taken out of GraphQLSwift's definitions at start-up instead of per value.
final class DirectSchema: Sendable {
    indirect enum Output: Sendable {
        case nonNull(Output)
        case list(Output)
        case leaf(any GraphQLLeafType)
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

    struct Argument: Sendable {
        let name: String
        let type: Input
        let defaultValue: Map?
    }

    struct FieldPlan: Sendable {
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
    /// Per enum, its values' names by the raw value of the Swift case they stand for: the
    /// executor names a case without GraphQLSwift's `serialize`, which encodes the case through
    /// `MapEncoder` for every value.
    let enumNames: [String: [String: String]]
    let queryType: String?
    let mutationType: String?
    let subscriptionType: String?
    private let schema: GraphQLSchema

    init(_ schema: GraphQLSchema) throws {
        self.schema = schema
        var objects: [String: ObjectPlan] = [:]
        var inputObjects: [String: InputObjectPlan] = [:]
        var enumNames: [String: [String: String]] = [:]
        for (name, type) in schema.typeMap where !name.hasPrefix("__") {
            if let enumeration = type as? GraphQLEnumType {
                var names: [String: String] = [:]
                for value in enumeration.values {
                    if case .string(let raw) = value.value { names[raw] = value.name }
                }
                enumNames[name] = names
            }
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
        self.enumNames = enumNames
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
        case let leaf as any GraphQLLeafType: return .leaf(leaf)
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
