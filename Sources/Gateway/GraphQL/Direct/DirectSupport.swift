import GraphQL

extension DirectSchema {
    /// Whether the direct executor can run `operation` exactly as the specification says. It runs
    /// what this schema's clients send: object types, fragments on them, `@skip` and `@include`.
    /// Introspection (`__schema`, `__type`), other directives and abstract types are left to
    /// GraphQLSwift, which is decided here, before anything runs.
    func supports(_ operation: OperationDefinition, fragments: [String: FragmentDefinition]) -> Bool {
        guard let root = rootType(of: operation) else { return false }
        for definition in operation.variableDefinitions where !supported(input(definition.type)) { return false }
        var visiting: Set<String> = []
        return supports(operation.selectionSet, on: root, fragments: fragments, visiting: &visiting)
    }

    private func supports(
        _ selectionSet: SelectionSet, on typeName: String, fragments: [String: FragmentDefinition], visiting: inout Set<String>
    ) -> Bool {
        guard let object = objects[typeName] else { return false }
        for selection in selectionSet.selections {
            switch selection {
            case let field as Field:
                guard Self.supports(field.directives) else { return false }
                let name = field.name.value
                if name == "__typename" { continue }
                guard let plan = object.fields[name], plan.resolve != nil,
                      plan.arguments.allSatisfy({ supported($0.type) }) else { return false }
                switch Self.namedOutput(plan.type) {
                case .leaf:
                    continue
                case .object(let child):
                    guard let subselection = field.selectionSet,
                          supports(subselection, on: child, fragments: fragments, visiting: &visiting) else { return false }
                default:
                    return false
                }
            case let inline as InlineFragment:
                guard Self.supports(inline.directives), inline.typeCondition.map({ $0.name.value == typeName }) ?? true,
                      supports(inline.selectionSet, on: typeName, fragments: fragments, visiting: &visiting) else { return false }
            case let spread as FragmentSpread:
                let name = spread.name.value
                guard Self.supports(spread.directives), let fragment = fragments[name],
                      fragment.typeCondition.name.value == typeName, !visiting.contains(name) else { return false }
                visiting.insert(name)
                defer { visiting.remove(name) }
                guard supports(fragment.selectionSet, on: typeName, fragments: fragments, visiting: &visiting) else { return false }
            default:
                return false
            }
        }
        return true
    }

    private static func supports(_ directives: [Directive]) -> Bool {
        directives.allSatisfy { $0.name.value == "skip" || $0.name.value == "include" }
    }

    static func namedOutput(_ type: Output) -> Output {
        switch type {
        case .nonNull(let inner), .list(let inner): namedOutput(inner)
        default: type
        }
    }

    private func supported(_ type: Input) -> Bool {
        switch type {
        case .nonNull(let inner), .list(let inner): supported(inner)
        case .leaf: true
        case .object(let name): inputObjects[name] != nil
        case .unsupported: false
        }
    }
}
