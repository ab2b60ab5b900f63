import GraphQL
import OrderedCollections

/// Which selection sets were merged for which type: a list of 50 messages collects its fields once.
struct CollectKey: Hashable {
    let type: String
    let starts: [Int]
}

extension DirectRun {
    /// The specification's CollectFields over the selection sets of one response key (fields with
    /// the same key merge), in document order, with `@skip`/`@include` applied.
    func collect(_ type: String, _ selectionSets: [SelectionSet]) -> OrderedDictionary<String, [Field]> {
        let starts = selectionSets.compactMap { $0.loc?.start }
        let key = starts.count == selectionSets.count ? CollectKey(type: type, starts: starts) : nil
        if let key, let known = collected[key] { return known }
        var fields = OrderedDictionary<String, [Field]>()
        var visited: Set<String> = []
        for selectionSet in selectionSets { collect(type, selectionSet, into: &fields, visited: &visited) }
        if let key { collected[key] = fields }
        return fields
    }

    private func collect(
        _ type: String, _ selectionSet: SelectionSet, into fields: inout OrderedDictionary<String, [Field]>, visited: inout Set<String>
    ) {
        for selection in selectionSet.selections {
            switch selection {
            case let field as Field:
                guard included(field.directives) else { continue }
                fields[field.alias?.value ?? field.name.value, default: []].append(field)
            case let inline as InlineFragment:
                guard included(inline.directives), inline.typeCondition.map({ $0.name.value == type }) ?? true else { continue }
                collect(type, inline.selectionSet, into: &fields, visited: &visited)
            case let spread as FragmentSpread:
                let name = spread.name.value
                guard !visited.contains(name), included(spread.directives) else { continue }
                visited.insert(name)
                guard let fragment = fragments[name], fragment.typeCondition.name.value == type else { continue }
                collect(type, fragment.selectionSet, into: &fields, visited: &visited)
            default:
                continue
            }
        }
    }

    /// `@skip(if:)` wins over `@include(if:)`; their argument is a Boolean literal or variable.
    private func included(_ directives: [Directive]) -> Bool {
        for directive in directives {
            let name = directive.name.value
            guard name == "skip" || name == "include", let argument = directive.arguments.first(where: { $0.name.value == "if" }) else { continue }
            let value: Map = if let variable = argument.value as? Variable { variables[variable.name.value] ?? .undefined }
                else if let literal = argument.value as? BooleanValue { .bool(literal.value) } else { .undefined }
            if name == "skip", value == .bool(true) { return false }
            if name == "include", value == .bool(false) { return false }
        }
        return true
    }
}
