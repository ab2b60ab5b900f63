import Foundation
import Graphiti
import GraphQL
import Logging
import Metrics
import NIOConcurrencyHelpers
import Resolvers
import Schema

/// A parsed document that passed validation, kept so that a repeated request skips both steps.
struct PreparedDocument: Sendable {
    let document: Document
    let operations: [OperationDefinition]
    let fragments: [String: FragmentDefinition]
    /// Operations (by position) the direct executor runs; the others run on GraphQLSwift.
    var direct: Set<Int> = []

    func runsDirect(_ operation: OperationDefinition) -> Bool {
        guard let index = operations.firstIndex(where: { $0 === operation }) else { return false }
        return direct.contains(index)
    }

    func operation(named name: String?) -> OperationDefinition? {
        if let name { return operations.first { $0.name?.value == name } }
        return operations.count == 1 ? operations[0] : nil
    }
}

extension Document: @retroactive @unchecked Sendable {}
extension OperationDefinition: @retroactive @unchecked Sendable {}
extension FragmentDefinition: @retroactive @unchecked Sendable {}

/// Why a request never reached execution. Each is a "request error" of the GraphQL-over-HTTP
/// specification: the client must change the request.
enum RequestFailure: Error {
    case syntax([GraphQLError])
    case invalid([GraphQLError])
}

struct GraphQLLimits: Sendable {
    var maxDepth = 12
    var maxCost = 5000
    var introspection = true
    /// Off: every operation runs on GraphQLSwift's executor (slower; kept as a way back).
    var directExecution = true
    var cacheSize = 512
}

/// Parses, validates, limits and executes operations against the typed schema.
final class GraphQLEngine: Sendable {
    let schema: Graphiti.Schema<RootResolver, OperationContext>
    let resolver = RootResolver()
    let limits: GraphQLLimits
    let logger: Logger
    let metrics: OperationMetrics
    let shared = SharedExecutions<SharedEventKey>()
    let direct: DirectExecutor
    private let cache = NIOLockedValueBox([String: PreparedDocument]())
    private let rules: [@Sendable (ValidationContext) -> Visitor]

    init(limits: GraphQLLimits, logger: Logger, metrics: any MetricsFactory = NOOPMetricsHandler.instance) throws {
        schema = try MessagerieSchema.build()
        direct = try DirectExecutor(schema: schema.schema)
        self.metrics = OperationMetrics(factory: metrics)
        self.limits = limits
        self.logger = logger
        rules = GraphQL.specifiedRules + (limits.introspection ? [] : [NoSchemaIntrospectionCustomRule])
    }

    func prepare(_ query: String) throws(RequestFailure) -> PreparedDocument {
        if let cached = cache.withLockedValue({ $0[query] }) { return cached }
        let document: Document
        do {
            document = try parse(source: Source(body: query, name: "GraphQL request"))
        } catch let error as GraphQLError {
            throw .syntax([error])
        } catch {
            throw .syntax([GraphQLError(message: "Syntax Error: \(error)")])
        }
        var errors = validate(schema: schema.schema, ast: document, rules: rules)
        errors += DocumentRules.singleRootFieldSubscriptions(document)
        errors += DocumentRules.overlappingFields(document)
        var prepared = PreparedDocument(
            document: document, operations: DocumentRules.operations(of: document),
            fragments: DocumentRules.fragments(of: document))
        if limits.directExecution {
            prepared.direct = Set(prepared.operations.indices.filter {
                direct.schema.supports(prepared.operations[$0], fragments: prepared.fragments)
            })
        }
        for operation in prepared.operations {
            let depth = DocumentRules.depth(of: operation, fragments: prepared.fragments)
            if depth > limits.maxDepth {
                errors.append(GraphQLError(
                    message: "Query is nested \(depth) levels deep; the limit is \(limits.maxDepth)", nodes: [operation],
                    extensions: ["code": "QUERY_TOO_DEEP"]))
            }
        }
        guard errors.isEmpty else { throw .invalid(errors) }
        cache.withLockedValue { cache in
            if cache.count >= limits.cacheSize { cache.removeAll(keepingCapacity: true) }
            cache[query] = prepared
        }
        return prepared
    }

    /// Checks the cost (it depends on variables) then executes.
    func execute(
        _ prepared: PreparedDocument, operation: OperationDefinition, variables: [String: Map], context: OperationContext
    ) async throws(RequestFailure) -> GraphQLResult {
        try checkCost(prepared, operation: operation, variables: variables)
        let start = ContinuousClock.now
        let result = await run(prepared, operation: operation, variables: variables, rootValue: resolver, context: context)
        metrics.record(operation, errors: result.errors.count, since: start)
        // Errors at a path come from execution: the response then has `data`, null if the error
        // reached the root. Errors without a path (variables) mean execution never started.
        // (`Map` is nil-literal expressible, so compare the optional by pattern, not with `nil`.)
        let data: Map? = switch result.data {
        case .some(let data): data
        case .none: result.errors.contains { !$0.path.elements.isEmpty } ? Map.null : Optional<Map>.none
        }
        return GraphQLResult(data: data, errors: result.errors.map(shape))
    }

    /// The cost depends on variables, so it is checked per request, before execution.
    func checkCost(
        _ prepared: PreparedDocument, operation: OperationDefinition, variables: [String: Map]
    ) throws(RequestFailure) {
        let cost = DocumentRules.cost(of: operation, fragments: prepared.fragments, variables: variables)
        if cost > limits.maxCost {
            throw .invalid([GraphQLError(
                message: "Query cost \(cost) exceeds the limit of \(limits.maxCost); ask for smaller pages or fewer fields",
                nodes: [operation], extensions: ["code": "QUERY_TOO_COSTLY"])])
        }
    }

    /// Executes the operation from `rootValue`: the resolver for queries and mutations, one
    /// source event for a subscription.
    func run(
        _ prepared: PreparedDocument, operation: OperationDefinition, variables: [String: Map], rootValue: any Sendable,
        context: OperationContext
    ) async -> GraphQLResult {
        if prepared.runsDirect(operation), let result = await direct.execute(
            operation, fragments: prepared.fragments, variables: variables, rootValue: rootValue, context: context) {
            return result
        }
        do {
            return try await GraphQL.execute(
                schema: schema.schema, documentAST: prepared.document, rootValue: rootValue, context: context,
                variableValues: variables, operationName: operation.name?.value)
        } catch {
            return GraphQLResult(errors: [GraphQLError(error)])
        }
    }

    /// Public form of an error: domain errors keep their text and code; anything unexpected is
    /// logged and answered as `INTERNAL` without internals.
    func shape(_ error: GraphQLError) -> GraphQLError {
        var extensions = error.extensions
        let message: String
        switch error.originalError {
        case let domain as DomainError:
            message = domain.publicMessage
            extensions["code"] = .string(domain.code)
            if case .rateLimited(_, let seconds) = domain { extensions["retryAfterSeconds"] = .number(Number(seconds)) }
            if case .badUserInput(_, let field?) = domain { extensions["field"] = .string(field) }
            if case .internal(let detail) = domain { logger.error("internal error", metadata: ["detail": "\(detail)"]) }
        case let decoding as DecodingError:
            message = "Invalid argument: \(Self.describe(decoding))"
            extensions["code"] = "BAD_USER_INPUT"
        case .some(let other):
            logger.error("unexpected resolver error", metadata: ["error": "\(String(reflecting: other))"])
            message = "Internal server error"
            extensions["code"] = "INTERNAL"
        case nil:
            message = error.message
            if extensions["code"] == nil { extensions["code"] = "BAD_USER_INPUT" }
        }
        return GraphQLError(message: message, locations: error.locations, path: error.path, extensions: extensions)
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let context), .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context):
            let path = context.codingPath.map(\.stringValue).filter { !$0.isEmpty }.joined(separator: ".")
            return path.isEmpty ? "malformed value" : "\(path) is malformed"
        @unknown default:
            return "malformed value"
        }
    }

    func requestErrors(_ errors: [GraphQLError]) -> [GraphQLError] { errors.map(shape) }
}
