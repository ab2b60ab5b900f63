import AsyncHTTPClient
import Foundation
import NIOCore

/// A bounded JSON (or form) POST: push services answer in a few kilobytes, and a cap keeps a
/// misbehaving upstream from filling memory.
struct JSONExchange: Sendable {
    let client: HTTPClient
    let timeout: Duration
    static let maxResponseBytes = 1 << 20

    struct Answer {
        let status: Int
        let body: Data
        func json() -> [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
    }

    func post(_ url: String, body: Data, contentType: String = "application/json", headers: [(String, String)] = []) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        request.headers.add(name: "Accept", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(data: body))
        let response = try await client.execute(request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
        let bytes = try await response.body.collect(upTo: Self.maxResponseBytes)
        return Answer(status: Int(response.status.code), body: Data(buffer: bytes))
    }
}
