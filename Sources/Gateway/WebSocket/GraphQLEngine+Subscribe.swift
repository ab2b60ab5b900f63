import Crypto
import Foundation
import GraphQL
import Schema

/// The encoded results (`{"data":…}`) of one subscription, one per source event, executed as
/// the socket pulls them: nothing is computed ahead of a slow reader.
struct SubscriptionPayloads: AsyncSequence, Sendable {
    let source: any SubscriptionEvents
    let render: @Sendable (any Sendable) async -> String

    struct AsyncIterator: AsyncIteratorProtocol {
        let source: any SubscriptionEvents
        let render: @Sendable (any Sendable) async -> String

        mutating func next() async throws -> String? {
            guard let event = try await source.next() else { return nil }
            return await render(event)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(source: source, render: render) }
}

extension GraphQLEngine {
    /// Runs a subscription operation: the same cost limit as `execute`, then the subscribe
    /// resolver (authorization, arguments), then a sequence with one encoded result per event.
    /// `query` is the text `prepared` came from (already parsed and validated).
    ///
    /// Subscribers with the same document and variables whose selection does not depend on the
    /// viewer share one execution and one encoding per event; the others execute per viewer.
    func subscribe(
        _ query: String, prepared: PreparedDocument, operation: OperationDefinition, variables: [String: Map],
        context: OperationContext
    ) async throws(RequestFailure) -> SubscriptionPayloads {
        try checkCost(prepared, operation: operation, variables: variables)
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
        if case .failure(let errors) = outcome {
            // Refusals of the subscribe resolver (no viewer, unknown conversation) are field
            // errors of the domain; keep their codes.
            throw .invalid(errors.errors.map(shape))
        }
        guard let source = context.takeSubscriptionSource() else {
            throw .invalid([shape(GraphQLError(message: "Subscription gave no event source", extensions: ["code": "INTERNAL"]))])
        }
        let shareKey = ViewerIndependence.holds(for: operation, fragments: prepared.fragments, schema: schema.schema)
            ? Self.shareKey(query, operation: operation.name?.value, variables: variables) : nil
        let render: @Sendable (any Sendable) async -> String = { [self] event in
            guard let shareKey, let identity = ViewerIndependence.identity(of: event) else {
                metrics.viewerExecutions.increment()
                return await self.present(event, prepared, operation, variables, context).payload
            }
            let (payload, reused) = await shared.payload(for: SharedEventKey(document: shareKey, event: identity)) {
                self.metrics.sharedExecutions.increment()
                // A context of its own: fresh loaders, nothing left over from one subscriber.
                let own = OperationContext(services: context.services, viewer: context.viewer, clientIP: nil, userAgent: nil)
                return await self.present(event, prepared, operation, variables, own)
            }
            if reused { self.metrics.reusedResults.increment() }
            return payload
        }
        return SubscriptionPayloads(source: source, render: render)
    }

    /// One event through the selection, shaped and encoded.
    private func present(
        _ event: any Sendable, _ prepared: PreparedDocument, _ operation: OperationDefinition, _ variables: [String: Map],
        _ context: OperationContext
    ) async -> SharedOutcome {
        let result = await run(prepared, operation: operation, variables: variables, rootValue: event, context: context)
        return SharedOutcome(payload: WSJSON.encode(shapeEvent(result)), failed: !result.errors.isEmpty)
    }

    /// A digest of document, operation and variables (variables with sorted keys, so that equal
    /// values give equal keys). Every delivery builds its cache key from it: a digest keeps that
    /// key short whatever the length of the document.
    static func shareKey(_ query: String, operation: String?, variables: [String: Map]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let encoded = (try? encoder.encode(variables)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
        let digest = SHA256.hash(data: Data((query + "\u{0}" + (operation ?? "") + "\u{0}" + encoded).utf8))
        return digest.map { String(format: "%02x", $0) }.joined()
    }

    /// Public form of one subscription event, as `execute` gives for queries.
    func shapeEvent(_ result: GraphQLResult) -> GraphQLResult {
        GraphQLResult(data: result.data, errors: result.errors.map(shape))
    }
}

/// One event under one subscription document: the key of a shared execution.
struct SharedEventKey: Hashable, Sendable {
    /// `GraphQLEngine.shareKey` of the document, operation and variables.
    let document: String
    let event: EventIdentity
}
