import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// JSON over HTTP with AsyncHTTPClient: GraphQL operations, and the peers' set-up routes.
struct HTTPJSON: Sendable {
    let client: HTTPClient
    let baseURL: String

    struct Failed: Error, CustomStringConvertible { let description: String }

    static func makeClient(connections: Int) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(60))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Raw POST; returns status and body bytes (the history scenario does not decode answers).
    func post(path: String, body: Data, token: String?) async throws -> (UInt, ByteBuffer) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        if let token { request.headers.add(name: "authorization", value: "Bearer \(token)") }
        request.body = .bytes(ByteBuffer(data: body))
        let response = try await client.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return (response.status.code, bytes)
    }

    func postJSON(path: String, object: Any, token: String? = nil) async throws -> Any {
        let body = try JSONSerialization.data(withJSONObject: object)
        let (status, bytes) = try await post(path: path, body: body, token: token)
        let text = String(buffer: bytes)
        guard (200..<300).contains(status) else { throw Failed(description: "POST \(path) answered \(status): \(text.prefix(300))") }
        return try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    /// A GraphQL operation; throws on transport errors and on any `errors` in the answer.
    func graphQL(_ query: String, variables: [String: Any] = [:], token: String?) async throws -> [String: Any] {
        let answer = try await postJSON(path: "/graphql", object: ["query": query, "variables": variables], token: token)
        guard let object = answer as? [String: Any] else { throw Failed(description: "GraphQL answer is not an object") }
        if let errors = object["errors"] as? [[String: Any]], !errors.isEmpty {
            throw Failed(description: "GraphQL errors: \(errors.map { $0["message"] ?? "?" })")
        }
        guard let data = object["data"] as? [String: Any] else { throw Failed(description: "GraphQL answer without data") }
        return data
    }
}
