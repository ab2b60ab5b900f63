import GraphQL

/// Checks on a parsed document that run before execution: the specification rules the GraphQL
/// library does not implement, and the depth and cost limits that keep one request from
/// occupying the server. Pure functions over the AST.
enum DocumentRules {
    static func fragments(of document: Document) -> [String: FragmentDefinition] {
        var result: [String: FragmentDefinition] = [:]
        for case let fragment as FragmentDefinition in document.definitions { result[fragment.name.value] = fragment }
        return result
    }

    static func operations(of document: Document) -> [OperationDefinition] {
        document.definitions.compactMap { $0 as? OperationDefinition }
    }

    /// Fields of a selection set with fragments spread in place, each once per response key path.
    static func fields(
        _ set: SelectionSet, fragments: [String: FragmentDefinition], visited: Set<String> = []
    ) -> [GraphQL.Field] {
        var result: [GraphQL.Field] = []
        for selection in set.selections {
            switch selection {
            case let field as GraphQL.Field:
                result.append(field)
            case let inline as InlineFragment:
                result += fields(inline.selectionSet, fragments: fragments, visited: visited)
            case let spread as FragmentSpread:
                let name = spread.name.value
                guard !visited.contains(name), let fragment = fragments[name] else { continue }
                result += fields(fragment.selectionSet, fragments: fragments, visited: visited.union([name]))
            default:
                continue
            }
        }
        return result
    }

    // MARK: Specification rules missing from the library

    /// "Single root field": a subscription selects exactly one root field (introspection aside).
    static func singleRootFieldSubscriptions(_ document: Document) -> [GraphQLError] {
        let fragments = fragments(of: document)
        return operations(of: document).filter { $0.operation == .subscription }.compactMap { operation in
            let roots = fields(operation.selectionSet, fragments: fragments)
            let keys = Set(roots.map { $0.alias?.value ?? $0.name.value })
            let label = operation.name.map { "Subscription \"\($0.value)\"" } ?? "Anonymous Subscription"
            if keys.count != 1 {
                return GraphQLError(message: "\(label) must select only one top level field.", nodes: [operation])
            }
            if let root = roots.first, root.name.value.hasPrefix("__") {
                return GraphQLError(message: "\(label) must not select an introspection top level field.", nodes: [root])
            }
            return nil
        }
    }

    /// "Field selection merging": two fields answering under one response key must be the same
    /// field with the same arguments, and their sub-selections must merge too.
    static func overlappingFields(_ document: Document) -> [GraphQLError] {
        let fragments = fragments(of: document)
        var errors: [GraphQLError] = []
        for operation in operations(of: document) {
            checkMerge(fields(operation.selectionSet, fragments: fragments), fragments: fragments, errors: &errors)
        }
        for fragment in fragments.values {
            checkMerge(fields(fragment.selectionSet, fragments: fragments), fragments: fragments, errors: &errors)
        }
        return errors
    }

    private static func checkMerge(_ list: [GraphQL.Field], fragments: [String: FragmentDefinition], errors: inout [GraphQLError]) {
        var byKey: [String: [GraphQL.Field]] = [:]
        var order: [String] = []
        for field in list {
            let key = field.alias?.value ?? field.name.value
            if byKey[key] == nil { order.append(key) }
            byKey[key, default: []].append(field)
        }
        for key in order {
            guard let group = byKey[key], let first = group.first else { continue }
            for other in group.dropFirst() {
                if other.name.value != first.name.value {
                    errors.append(GraphQLError(
                        message: "Fields \"\(key)\" conflict because \"\(first.name.value)\" and \"\(other.name.value)\" are different fields. Use different aliases on the fields to fetch both if this was intentional.",
                        nodes: [first, other]))
                } else if argumentsText(first) != argumentsText(other) {
                    errors.append(GraphQLError(
                        message: "Fields \"\(key)\" conflict because they have differing arguments. Use different aliases on the fields to fetch both if this was intentional.",
                        nodes: [first, other]))
                }
            }
            let children = group.compactMap(\.selectionSet).flatMap { fields($0, fragments: fragments) }
            if group.count > 1 || !children.isEmpty {
                checkMerge(children, fragments: fragments, errors: &errors)
            }
        }
    }

    private static func argumentsText(_ field: GraphQL.Field) -> [String] {
        field.arguments.map { "\($0.name.value):\(print(ast: $0.value))" }.sorted()
    }

    // MARK: Limits

    /// Nesting depth of the operation; introspection fields are not counted so that tools keep
    /// working under a tight limit (introspection can be switched off on its own).
    static func depth(of operation: OperationDefinition, fragments: [String: FragmentDefinition]) -> Int {
        func depth(_ set: SelectionSet?) -> Int {
            guard let set else { return 0 }
            return fields(set, fragments: fragments)
                .filter { !$0.name.value.hasPrefix("__") }
                .map { 1 + depth($0.selectionSet) }
                .max() ?? 0
        }
        return depth(operation.selectionSet)
    }

    /// Every field costs 1; a field with a page size (`first`, `last`, `limit`) multiplies the
    /// cost of what it selects by that size, as it may return that many objects.
    static func cost(of operation: OperationDefinition, fragments: [String: FragmentDefinition], variables: [String: Map]) -> Int {
        func pageSize(_ field: GraphQL.Field) -> Int {
            for argument in field.arguments where ["first", "last", "limit"].contains(argument.name.value) {
                if let int = argument.value as? IntValue, let n = Int(int.value) { return max(n, 1) }
                if let variable = argument.value as? Variable, case .number(let n)? = variables[variable.name.value] {
                    return max(n.intValue, 1)
                }
            }
            return 1
        }
        func cost(_ set: SelectionSet?) -> Int {
            guard let set else { return 0 }
            var total = 0
            for field in fields(set, fragments: fragments) where !field.name.value.hasPrefix("__") {
                let (product, overflow) = pageSize(field).multipliedReportingOverflow(by: cost(field.selectionSet))
                total = total &+ 1 &+ (overflow ? Int.max / 4 : min(product, Int.max / 4))
                if total > Int.max / 2 { return Int.max / 2 }
            }
            return total
        }
        return cost(operation.selectionSet)
    }
}
