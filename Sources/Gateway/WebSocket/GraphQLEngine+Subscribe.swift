import Foundation
import GraphQL
import Schema

extension GraphQLEngine {
    /// Runs a subscription operation: the same cost limit as `execute`, then a stream with one
    /// result per event (pass each through `shapeEvent`). `query` is the text `prepared` came from (already parsed and
    /// validated, so validation is not repeated).
    func subscribe(
        _ query: String, prepared: PreparedDocument, operation: OperationDefinition, variables: [String: Map],
        context: OperationContext
    ) async throws(RequestFailure) -> AsyncThrowingStream<GraphQLResult, Error> {
        let cost = DocumentRules.cost(of: operation, fragments: prepared.fragments, variables: variables)
        if cost > limits.maxCost {
            throw .invalid([GraphQLError(
                message: "Query cost \(cost) exceeds the limit of \(limits.maxCost); ask for smaller pages or fewer fields",
                nodes: [operation], extensions: ["code": "QUERY_TOO_COSTLY"])])
        }
        let outcome: Result<AsyncThrowingStream<GraphQLResult, Error>, GraphQLErrors>
        do {
            outcome = try await graphqlSubscribe(
                schema: schema.schema, request: query, rootValue: resolver, context: context, variableValues: variables,
                operationName: operation.name?.value, validationRules: [])
        } catch let error as GraphQLError {
            throw .invalid([shape(error)])
        } catch {
            throw .invalid([shape(GraphQLError(error))])
        }
        switch outcome {
        case .failure(let errors):
            // Refusals of the subscribe resolver (no viewer, unknown conversation) are field
            // errors of the domain; keep their codes.
            throw .invalid(errors.errors.map(shape))
        case .success(let stream):
            return stream
        }
    }

    /// Public form of one subscription event, as `execute` gives for queries.
    func shapeEvent(_ result: GraphQLResult) -> GraphQLResult {
        GraphQLResult(data: result.data, errors: result.errors.map(shape))
    }
}
