import Foundation
import GraphQL
import Hummingbird
import Logging
import Resolvers
import Schema

/// GraphQL over HTTP at `/graphql`, following the GraphQL-over-HTTP specification: POST with
/// JSON for everything, GET for queries only, media types negotiated through `Accept`.
struct GraphQLHTTPController: Sendable {
    let engine: GraphQLEngine
    let services: DomainServices
    let tokens: AccessTokens
    let maxBodyBytes: Int

    private struct Body: Decodable {
        let query: String?
        let operationName: String?
        let variables: Map?
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("/graphql") { request, context in try await self.get(request, context) }
        router.post("/graphql") { request, context in try await self.post(request, context) }
        for method in [HTTPRequest.Method.put, .delete, .patch] {
            router.on("/graphql", method: method) { _, _ in
                Self.failure(.methodNotAllowed, "Use GET for queries or POST", media: .json, allow: "GET, POST")
            }
        }
    }

    private func get(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let media = GraphQLMedia.negotiate(request.headers[.accept]) else { return Self.notAcceptable() }
        let params = request.uri.queryParameters
        guard let query = params.get("query"), !query.isEmpty else {
            return Self.failure(.badRequest, "The query parameter is required", media: media)
        }
        var variables: [String: Map] = [:]
        if let raw = params.get("variables"), !raw.isEmpty {
            guard let decoded = try? JSONDecoder().decode(Map.self, from: Data(raw.utf8)), let object = Self.object(decoded) else {
                return Self.failure(.badRequest, "variables must be a JSON object", media: media)
            }
            variables = object
        }
        return await run(query: query, operationName: params.get("operationName"), variables: variables,
                         isGet: true, media: media, request: request, context: context)
    }

    private func post(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let media = GraphQLMedia.negotiate(request.headers[.accept]) else { return Self.notAcceptable() }
        guard GraphQLMedia.isJSONContentType(request.headers[.contentType]) else {
            return Self.failure(.unsupportedMediaType, "Send the request as application/json", media: media)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maxBodyBytes)
        } catch {
            return Self.failure(.contentTooLarge, "Request body is larger than \(maxBodyBytes) bytes", media: media)
        }
        let body: Body
        do {
            body = try JSONDecoder().decode(Body.self, from: Data(buffer: buffer))
        } catch {
            return Self.failure(.badRequest, "The body is not a GraphQL request: \(GraphQLEngine.describeJSON(error))", media: media)
        }
        guard let query = body.query, !query.isEmpty else {
            return Self.failure(.badRequest, "query is required", media: media)
        }
        var variables: [String: Map] = [:]
        if let raw = body.variables, raw != .null {
            guard let object = Self.object(raw) else {
                return Self.failure(.badRequest, "variables must be a JSON object", media: media)
            }
            variables = object
        }
        return await run(query: query, operationName: body.operationName, variables: variables,
                         isGet: false, media: media, request: request, context: context)
    }

    private func run(
        query: String, operationName: String?, variables: [String: Map], isGet: Bool, media: GraphQLMedia,
        request: Request, context: AppRequestContext
    ) async -> Response {
        do throws(RequestFailure) {
            let prepared = try engine.prepare(query)
            guard let operation = prepared.operation(named: operationName) else {
                let text = operationName.map { "Unknown operation named \"\($0)\"" }
                    ?? "Must provide operation name if query contains multiple operations"
                return Self.failure(.badRequest, text, media: media)
            }
            if isGet, operation.operation != .query {
                return Self.failure(.methodNotAllowed, "Only queries may be sent with GET; use POST", media: media, allow: "POST")
            }
            if operation.operation == .subscription {
                return Self.failure(.badRequest, "Subscriptions are served over WebSocket", media: media)
            }
            let operationContext = await makeOperationContext(request, context)
            let result = try await engine.execute(prepared, operation: operation, variables: variables, context: operationContext)
            // With the new media type, a result that never reached execution (bad variables) is a request error.
            let reachedExecution = if case .some = result.data { true } else { false }
            let status: HTTPResponse.Status = media == .graphQLResponse && !reachedExecution ? .badRequest : .ok
            return Self.response(result, status: status, media: media)
        } catch {
            switch error {
            case .syntax(let errors), .invalid(let errors):
                return Self.response(GraphQLResult(errors: engine.requestErrors(errors)), status: .badRequest, media: media)
            }
        }
    }

    /// A missing token leaves the viewer empty; a bad one is remembered so that operations that
    /// need a viewer say why it was refused.
    private func makeOperationContext(_ request: Request, _ context: AppRequestContext) async -> OperationContext {
        var viewer: Viewer?
        var authError: DomainError?
        if let header = request.headers[.authorization] {
            do throws(DomainError) {
                guard header.lowercased().hasPrefix("bearer ") else { throw .unauthenticated("Use Authorization: Bearer <token>") }
                let (userId, sessionId) = try await tokens.verify(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))
                do {
                    viewer = try await services.auth.authenticate(userId: userId, sessionId: sessionId)
                } catch let error as DomainError {
                    throw error
                } catch {
                    context.logger.error("session check failed", metadata: ["error": "\(error)"])
                    throw .internal("session check failed")
                }
            } catch {
                authError = error
            }
        }
        return OperationContext(
            services: services, viewer: viewer, authError: authError, clientIP: context.remoteIP,
            userAgent: request.headers[.userAgent])
    }

    private static func object(_ map: Map) -> [String: Map]? {
        if case .dictionary(let values) = map { return Dictionary(uniqueKeysWithValues: values.map { ($0.key, $0.value) }) }
        return nil
    }

    static func response(_ result: GraphQLResult, status: HTTPResponse.Status, media: GraphQLMedia) -> Response {
        Response(
            status: status, headers: [.contentType: media.rawValue + "; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: ResultJSON.bytes(result))))
    }

    static func failure(
        _ status: HTTPResponse.Status, _ message: String, media: GraphQLMedia, allow: String? = nil
    ) -> Response {
        let code = status == .contentTooLarge ? "PAYLOAD_TOO_LARGE" : "BAD_REQUEST"
        var response = response(
            GraphQLResult(errors: [GraphQLError(message: message, locations: [], extensions: ["code": .string(code)])]),
            status: status, media: media)
        if let allow { response.headers[.allow] = allow }
        return response
    }

    static func notAcceptable() -> Response {
        failure(.notAcceptable, "Accept application/graphql-response+json or application/json", media: .json)
    }
}

extension GraphQLEngine {
    static func describeJSON(_ error: Error) -> String {
        if let decoding = error as? DecodingError { return describe(decoding) }
        return "malformed JSON"
    }
}
