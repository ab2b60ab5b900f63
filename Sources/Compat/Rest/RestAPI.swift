import Foundation
import Hummingbird
import Resolvers

/// Checks a bearer access token and returns who it belongs to. The gateway owns token keys; the
/// REST door only asks.
public typealias BearerAuthenticator = @Sendable (_ token: String) async throws -> Viewer

/// What the REST door needs from the gateway's request context.
public protocol CompatRequestContext: RequestContext {
    var remoteIP: String? { get }
}

public struct RestSettings: Sendable {
    /// The most a JSON body may weigh; uploads have their own per-kind limits.
    public var maxBodyBytes: Int
    /// Browser origins allowed by CORS; `*` allows any.
    public var allowedOrigins: [String]

    public init(maxBodyBytes: Int = 1 << 20, allowedOrigins: [String] = []) {
        self.maxBodyBytes = maxBodyBytes
        self.allowedOrigins = allowedOrigins
    }
}

/// The original API's routes under `/api`, plus `/openapi.json`, each a thin adapter over the
/// same domain services GraphQL uses.
public struct RestAPI<Context: CompatRequestContext>: Sendable {
    let services: DomainServices
    let authenticate: BearerAuthenticator
    let settings: RestSettings
    var presenter: RestPresenter { RestPresenter(services: services) }

    public init(services: DomainServices, settings: RestSettings, authenticate: @escaping BearerAuthenticator) {
        self.services = services
        self.settings = settings
        self.authenticate = authenticate
    }

    struct Route: Sendable {
        let method: HTTPRequest.Method
        let path: String
        let handler: @Sendable (Request, Context) async throws -> Response
    }

    var routes: [Route] {
        authRoutes + messageRoutes + conversationRoutes + deviceRoutes + mediaRoutes + [
            Route(method: .get, path: "/openapi.json") { _, _ in
                Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-cache"],
                         body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
            },
        ]
    }

    public func addRoutes(to router: Router<Context>) {
        let group = router.group()
            .add(middleware: RestCORSMiddleware<Context>(allowedOrigins: settings.allowedOrigins))
            .add(middleware: RestErrorMiddleware<Context>())
        let routes = self.routes
        for route in routes {
            group.on(RouterPath(route.path), method: route.method, use: route.handler)
        }
        // Preflights reach the CORS middleware through these; without an allowed origin they say nothing.
        for path in Set(routes.map(\.path)) {
            group.on(RouterPath(path), method: .options) { _, _ in Response(status: .noContent) }
        }
        // Unknown paths and methods under /api get the envelope too. The router runs its own
        // middleware on requests no route matched, so this sees them without claiming any path.
        router.add(middleware: RestNotFoundMiddleware<Context>())
    }

    // MARK: Shared by the routes

    func viewer(_ request: Request) async throws -> Viewer {
        guard let header = request.headers[.authorization] else { throw RestFailure.unauthenticated }
        guard header.lowercased().hasPrefix("bearer ") else {
            throw RestFailure(.unauthorized, "UNAUTHENTICATED", "Use Authorization: Bearer <accessToken>")
        }
        return try await authenticate(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))
    }

    func body<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        try await RestJSON.decode(type, from: request, limit: settings.maxBodyBytes)
    }

    /// Domain errors name GraphQL's inputs; REST clients sent the original API's names.
    func renamingFields<T>(_ names: [String: String], _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as DomainError {
            throw PayloadNames.renaming(error, names)
        }
    }

    /// Query routes take no body; one sent anyway is bounded too.
    func noBody(_ request: Request) async throws {
        do {
            _ = try await request.body.collect(upTo: settings.maxBodyBytes)
        } catch {
            throw RestFailure(.contentTooLarge, "PAYLOAD_TOO_LARGE", "The body may be at most \(settings.maxBodyBytes) bytes")
        }
    }
}
