import GraphQL
import NIOConcurrencyHelpers
import OrderedCollections

/// Executes operations on the schema's own resolvers, one field after the other in the calling
/// task. GraphQLSwift 4 starts a child task per field and per list item, checks optionals by
/// reflection and boxes every value; a page of 50 messages with their receipts spent over 60 ms
/// of CPU there. Resolvers here batch through loaders that work the same serially, so nothing is
/// lost by not running fields concurrently (the specification allows either for queries and
/// requires serial order for mutations).
///
/// What it runs is decided before execution (`DirectSchema.supports`); the rest, and variables it
/// does not coerce, go to GraphQLSwift.
final class DirectExecutor: Sendable {
    let schema: DirectSchema
    private let probe = NIOLockedValueBox<GraphQLResolveInfo?>(nil)

    init(schema: GraphQLSchema) throws {
        self.schema = try DirectSchema(schema)
    }

    /// Runs `operation`, or answers nil (nothing ran) when its variables need GraphQLSwift's errors.
    func execute(
        _ operation: OperationDefinition, fragments: [String: FragmentDefinition], variables: [String: Map],
        rootValue: any Sendable, context: any Sendable
    ) async -> GraphQLResult? {
        guard let root = schema.rootType(of: operation).flatMap({ schema.objects[$0] }),
              let variables = try? schema.coerceVariables(operation.variableDefinitions, variables),
              let info = await resolveInfo() else { return nil }
        let run = DirectRun(schema: schema, info: info, context: context, variables: variables, fragments: fragments)
        let fields = run.collect(root.name, [operation.selectionSet])
        let data: Map?
        do {
            data = .dictionary(try await run.executeFields(root, rootValue, fields, path: nil))
        } catch {
            data = nil
        }
        return GraphQLResult(data: data, errors: run.errors)
    }

    /// Field resolvers take a `GraphQLResolveInfo`, which GraphQLSwift can build and nobody else
    /// can (no public initializer). Graphiti's resolvers (all of this schema's) ignore it, so one
    /// real value, taken once from a probe field, is what they are given.
    private func resolveInfo() async -> GraphQLResolveInfo? {
        if let info = probe.withLockedValue({ $0 }) { return info }
        let probe = self.probe
        guard let field = try? GraphQLObjectType(name: "Probe", fields: [
            "probe": GraphQLField(type: GraphQLString, resolve: { _, _, _, info in
                probe.withLockedValue { $0 = info }
                return "probe"
            }),
        ]), let schema = try? GraphQLSchema(query: field) else { return nil }
        _ = try? await graphql(schema: schema, request: "{ probe }")
        return probe.withLockedValue { $0 }
    }
}

/// Where a value sits in the response; built into an `IndexPath` only for an error.
final class ResponsePath: Sendable {
    let parent: ResponsePath?
    let element: IndexPathValue

    init(_ parent: ResponsePath?, _ element: IndexPathValue) {
        self.parent = parent
        self.element = element
    }

    var indexPath: IndexPath {
        var elements: [IndexPathElement] = []
        var node: ResponsePath? = self
        while let current = node {
            elements.append(current.element)
            node = current.parent
        }
        return IndexPath(elements.reversed())
    }
}

/// A null that must travel up to the nearest nullable position; its error is already recorded.
struct NullBubble: Error {}
