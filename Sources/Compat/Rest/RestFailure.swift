import Foundation
import Hummingbird
import Resolvers

/// A refusal in the REST envelope `{ "error": { "code", "message" } }`.
public struct RestFailure: Error, HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    public var field: String?
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    static func badRequest(_ message: String, field: String? = nil) -> RestFailure {
        RestFailure(.badRequest, "BAD_REQUEST", message, field: field)
    }

    static let unauthenticated = RestFailure(.unauthorized, "UNAUTHENTICATED", "Send Authorization: Bearer <accessToken>")

    /// Domain errors keep their meaning: input the domain refuses (a wrong code, a text too long)
    /// is 422, while a request that is not even well-formed stays 400.
    public init(_ error: DomainError) {
        switch error {
        case .unauthenticated(let m): self.init(.unauthorized, error.code, m)
        case .forbidden(let m): self.init(.forbidden, error.code, m)
        case .notFound(let m): self.init(.notFound, error.code, m)
        case .badUserInput(let m, let field): self.init(.unprocessableContent, error.code, m, field: field)
        case .rateLimited(let m, let seconds):
            self.init(.tooManyRequests, error.code, m)
            headers[.retryAfter] = String(seconds)
        case .conflict(let m): self.init(.conflict, error.code, m)
        case .upstream(let m): self.init(.badGateway, "UPSTREAM", m)
        case .internal: self.init(.internalServerError, error.code, error.publicMessage)
        }
    }

    public init(_ refusal: UploadRefusal) {
        switch refusal {
        case .tooLarge: self.init(.contentTooLarge, "PAYLOAD_TOO_LARGE", refusal.message, field: "file")
        case .unsupportedType: self.init(.unsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", refusal.message, field: "file")
        case .empty: self.init(.badRequest, "BAD_REQUEST", refusal.message, field: "file")
        }
    }

    private struct Envelope: Encodable {
        struct Body: Encodable {
            let code: String
            let message: String
            let field: String?
        }
        let error: Body
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = RestJSON.response(Envelope(error: .init(code: code, message: message, field: field)), status: status)
        response.headers.append(contentsOf: headers)
        return response
    }

    /// Any error thrown by a route, in the envelope; internals are logged, never shown.
    static func from(_ error: Error, logger: Logger) -> RestFailure {
        switch error {
        case let failure as RestFailure: return failure
        case let domain as DomainError:
            if case .internal(let detail) = domain { logger.error("internal error", metadata: ["detail": "\(detail)"]) }
            return RestFailure(domain)
        case let refusal as UploadRefusal: return RestFailure(refusal)
        case let http as HTTPError:
            let code = switch http.status {
            case .notFound: "NOT_FOUND"
            case .methodNotAllowed: "METHOD_NOT_ALLOWED"
            case .contentTooLarge: "PAYLOAD_TOO_LARGE"
            case .unauthorized: "UNAUTHENTICATED"
            default: http.status.code < 500 ? "BAD_REQUEST" : "INTERNAL"
            }
            return RestFailure(http.status, code, http.body ?? http.status.reasonPhrase)
        default:
            logger.error("unexpected error in REST route", metadata: ["error": "\(error)"])
            return RestFailure(.internalServerError, "INTERNAL", "Internal server error")
        }
    }
}

import Logging

/// Turns every error of the REST routes into the envelope.
struct RestErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return try RestFailure.from(error, logger: context.logger).response(from: request, context: context)
        }
    }
}

/// CORS for browser apps: only the configured origins (or `*`) are echoed back; preflights are
/// answered here without reaching a route.
struct RestCORSMiddleware<Context: RequestContext>: RouterMiddleware {
    let allowedOrigins: [String]
    static var allowedHeaders: String { "Authorization, Content-Type, Accept, Range, If-None-Match" }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], let allowed = allowedOrigin(origin) else {
            return try await next(request, context)
        }
        var response: Response
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            response = Response(status: .noContent)
            response.headers[.accessControlAllowMethods] = "GET, POST, DELETE, OPTIONS"
            response.headers[.accessControlAllowHeaders] = Self.allowedHeaders
            response.headers[.accessControlMaxAge] = "600"
        } else {
            response = try await next(request, context)
            response.headers[.accessControlExposeHeaders] = "ETag, Content-Range, Accept-Ranges, Content-Length, Retry-After"
        }
        response.headers[.accessControlAllowOrigin] = allowed
        if allowed != "*" { response.headers[.vary] = "Origin" }
        return response
    }

    private func allowedOrigin(_ origin: String) -> String? {
        if allowedOrigins.contains("*") { return "*" }
        return allowedOrigins.contains(where: { $0.caseInsensitiveCompare(origin) == .orderedSame }) ? origin : nil
    }
}

/// Requests under `/api` that match no route (or not with this method) answer in the envelope.
struct RestNotFoundMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && request.uri.path.hasPrefix("/api/") {
            return try RestFailure(.notFound, "NOT_FOUND", "No route \(request.method) \(request.uri.path); see /openapi.json")
                .response(from: request, context: context)
        }
    }
}
