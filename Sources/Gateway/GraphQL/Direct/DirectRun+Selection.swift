import GraphQL
import OrderedCollections

/// The fields to execute on values of one object type at one place of the document, with each
/// field's plan found once. A page's 600 objects (messages, senders, reactions, receipts and
/// their users) each collected their selection again and looked every field up by name, which
/// hashed strings per field and per value (perf: hashing was 5.6% of a history page's samples).
final class SelectionPlan {
    struct Entry {
        let key: String
        let nodes: [Field]
        /// Nil for `__typename`, and for a field the type does not have (an error at execution).
        let plan: DirectSchema.FieldPlan?
        let isTypename: Bool
    }

    let object: DirectSchema.ObjectPlan
    let keys: [String]
    let entries: [Entry]

    init(_ object: DirectSchema.ObjectPlan, _ fields: OrderedDictionary<String, [Field]>) {
        self.object = object
        keys = Array(fields.keys)
        entries = fields.map { key, nodes in
            let name = nodes[0].name.value
            return Entry(key: key, nodes: nodes, plan: object.fields[name], isTypename: name == "__typename")
        }
    }
}

extension DirectRun {
    /// The plan for values of type `name` under `nodes`, from the run's cache when the nodes are
    /// one field of the document (almost always): found by the position of its selection set.
    func selection(of name: String, under nodes: [Field]) -> SelectionPlan? {
        if nodes.count == 1, let start = nodes[0].selectionSet?.loc?.start {
            for cached in selections where cached.start == start && cached.plan.object.name == name { return cached.plan }
            guard let object = schema.objects[name] else { return nil }
            let plan = SelectionPlan(object, collect(name, nodes.compactMap { $0.selectionSet }))
            selections.append((start, plan))
            return plan
        }
        guard let object = schema.objects[name] else { return nil }
        return SelectionPlan(object, collect(name, nodes.compactMap { $0.selectionSet }))
    }
}
