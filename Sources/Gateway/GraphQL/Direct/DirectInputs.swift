import GraphQL
import OrderedCollections

/// A variable or argument value the direct executor does not coerce itself. The operation then
/// runs on GraphQLSwift, whose error message the client gets; nothing has run yet at that point.
struct UncoercedInput: Error {}

/// Input coercion, as GraphQLSwift does it (same `Map` shapes: absent input fields are
/// `.undefined`, defaults filled in), so that Graphiti decodes arguments exactly as before.
extension DirectSchema {
    func coerceVariables(_ definitions: [VariableDefinition], _ inputs: [String: Map]) throws(UncoercedInput) -> [String: Map] {
        var values: [String: Map] = [:]
        for definition in definitions {
            let name = definition.variable.name.value
            let type = input(definition.type)
            var value = inputs[name] ?? .undefined
            if value == .undefined, let literal = definition.defaultValue {
                value = try literalValue(literal, type, variables: [:])
            }
            values[name] = try coerce(value, type)
        }
        return values
    }

    /// A runtime value (a variable) checked against its type and coerced.
    func coerce(_ value: Map, _ type: Input) throws(UncoercedInput) -> Map {
        if case .nonNull(let inner) = type {
            guard value != .undefined, value != .null else { throw UncoercedInput() }
            return try coerce(value, inner)
        }
        if value == .undefined || value == .null { return value }
        switch type {
        case .nonNull:
            throw UncoercedInput()
        case .list(let item):
            if case .array(let items) = value {
                var coerced: [Map] = []
                coerced.reserveCapacity(items.count)
                for element in items { coerced.append(try coerce(element, item)) }
                return .array(coerced)
            }
            return .array([try coerce(value, item)])
        case .object(let name):
            guard let plan = inputObjects[name], !plan.isOneOf, case .dictionary(let given) = value,
                  given.keys.allSatisfy({ key in plan.fields.contains { $0.name == key } }) else { throw UncoercedInput() }
            var object = OrderedDictionary<String, Map>()
            for field in plan.fields {
                if let fieldValue = given[field.name], fieldValue != .undefined {
                    object[field.name] = try coerce(fieldValue, field.type)
                } else if let defaultValue = field.defaultValue {
                    object[field.name] = defaultValue
                } else if case .nonNull = field.type {
                    throw UncoercedInput()
                } else {
                    object[field.name] = .undefined
                }
            }
            return .dictionary(object)
        case .leaf(let leaf):
            guard let parsed = try? leaf.parseValue(value: value), parsed != .null, parsed != .undefined else { throw UncoercedInput() }
            return parsed
        case .unsupported:
            throw UncoercedInput()
        }
    }

    /// A value written in the document (already validated against the schema).
    func literalValue(_ literal: any Value, _ type: Input, variables: [String: Map]) throws(UncoercedInput) -> Map {
        if case .nonNull(let inner) = type {
            guard !(literal is NullValue) else { throw UncoercedInput() }
            return try literalValue(literal, inner, variables: variables)
        }
        if literal is NullValue { return .null }
        if let variable = literal as? Variable { return variables[variable.name.value] ?? .undefined }
        switch type {
        case .nonNull, .unsupported:
            throw UncoercedInput()
        case .list(let item):
            if let list = literal as? ListValue {
                var values: [Map] = []
                for value in list.values { values.append(try literalValue(value, item, variables: variables)) }
                return .array(values)
            }
            return .array([try literalValue(literal, item, variables: variables)])
        case .object(let name):
            guard let plan = inputObjects[name], !plan.isOneOf, let object = literal as? ObjectValue else { throw UncoercedInput() }
            return try literalValues(plan.fields, variables: variables) { name in object.fields.first { $0.name.value == name }?.value }
        case .leaf(let leaf):
            return (try? leaf.parseLiteral(valueAST: literal)) ?? .null
        }
    }

    /// A field's arguments as GraphQLSwift hands them to resolvers.
    func arguments(_ plan: FieldPlan, _ field: Field, variables: [String: Map]) throws(UncoercedInput) -> Map {
        try literalValues(plan.arguments, variables: variables) { name in field.arguments.first { $0.name.value == name }?.value }
    }

    /// Every defined argument or input field: given, defaulted or `.undefined`.
    private func literalValues(
        _ definitions: [Argument], variables: [String: Map], given: (String) -> (any Value)?
    ) throws(UncoercedInput) -> Map {
        var values = OrderedDictionary<String, Map>()
        for definition in definitions {
            if let literal = given(definition.name) {
                values[definition.name] = try literalValue(literal, definition.type, variables: variables)
            } else {
                values[definition.name] = definition.defaultValue ?? .undefined
            }
        }
        return .dictionary(values)
    }
}
