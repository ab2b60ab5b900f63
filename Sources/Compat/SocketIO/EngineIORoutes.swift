import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// Engine.IO on Hummingbird: long-polling on the HTTP router, the WebSocket transport on the
/// upgrade router. Generic over the gateway's contexts, which Compat does not know.
extension EngineIOServer {
    public func addPollingRoutes<Context: RequestContext>(to router: Router<Context>, path: String) {
        let routePath = RouterPath(stringLiteral: path)
        for method in [HTTPTypes.HTTPRequest.Method.get, .post, .put, .delete, .patch] {
            router.on(routePath, method: method) { request, context in
                await self.respond(to: request, remoteAddress: nil)
            }
        }
        router.on(routePath, method: .options) { request, _ in
            var headers = self.corsHeaders(request)
            headers[.accessControlAllowMethods] = "GET, POST, OPTIONS"
            if let asked = request.headers[.accessControlRequestHeaders] { headers[.accessControlAllowHeaders] = asked }
            return Response(status: .noContent, headers: headers)
        }
    }

    public func addWebSocketRoute<Context: WebSocketRequestContext & RequestContext>(to router: Router<Context>, path: String) {
        let maxPayload = configuration.maxPayload
        router.ws(RouterPath(stringLiteral: path)) { request, _ in
            if let error = self.verify(Self.describe(request, isUpgrade: true)) {
                throw HTTPError(.badRequest, headers: [.contentType: "application/json"], message: error.json)
            }
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            let write: EngineIOWebSocketLink.Write = { frame in
                switch frame {
                case .text(let text): try await outbound.write(.text(text))
                case .binary(let bytes): try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
                case .close: try await outbound.close(.normalClosure, reason: nil)
                }
            }
            guard let (session, link) = await self.webSocket(Self.describe(context.request, isUpgrade: true), write: write) else {
                try await outbound.close(.policyViolation, reason: "Bad request")
                return
            }
            // One detached task reads; this one waits for the link. Children of a task group
            // would each copy the upgrade task's task-local values into a stack of their own,
            // about a kilobyte per task for as long as the socket lives (heaptrack).
            let reader = Task.detached {
                do {
                    for try await message in inbound.messages(maxSize: maxPayload) {
                        switch message {
                        case .text(let text): await session.received(.text(text), on: link)
                        case .binary(let buffer): await session.received(.binary(Array(buffer.readableBytesView)), on: link)
                        }
                    }
                } catch {}
                link.inboundEnded()
            }
            await link.untilDone()
            reader.cancel()
            await reader.value
            await session.closed(link)
        }
    }

    private func respond(to request: Request, remoteAddress: String?) async -> Response {
        var request = request
        let described = Self.describe(request, isUpgrade: false)
        let maxPayload = configuration.maxPayload
        let answer = await polling(described) {
            guard let buffer = try? await request.collectBody(upTo: maxPayload) else { return nil }
            return String(buffer: buffer)
        }
        var headers = corsHeaders(request)
        headers[.contentType] = answer.contentType
        if answer.status == 200, described.query["sid"] == nil, described.method == "GET" {
            headers[.cacheControl] = "no-store"
        }
        return Response(
            status: .init(code: answer.status), headers: headers,
            body: .init(byteBuffer: ByteBuffer(string: answer.body)))
    }

    func corsHeaders(_ request: Request) -> HTTPFields {
        var headers: HTTPFields = [:]
        guard let allowed = configuration.allowedOrigins else { return headers }
        if let origin = request.headers[.origin] {
            guard allowed.contains("*") || allowed.contains(origin) else { return headers }
            headers[.accessControlAllowOrigin] = origin
            headers[.accessControlAllowCredentials] = "true"
            headers[.vary] = "Origin"
        } else if allowed.contains("*") {
            headers[.accessControlAllowOrigin] = "*"
        }
        return headers
    }

    static func describe(_ request: Request, isUpgrade: Bool) -> EngineIOServer.Incoming {
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        return .init(method: request.method.rawValue, query: query, headers: headers, remoteAddress: nil, isUpgrade: isUpgrade)
    }
}
