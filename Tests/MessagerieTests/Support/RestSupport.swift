import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import XCTest

@testable import Gateway

/// One answer of a REST route, decoded.
struct RestReply: @unchecked Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: ByteBuffer
    let json: [String: Any]

    init(_ response: TestResponse) {
        status = response.status
        headers = response.headers
        body = response.body
        json = ((try? JSONSerialization.jsonObject(with: Data(buffer: response.body))) as? [String: Any]) ?? [:]
    }

    var text: String { String(buffer: body) }
    var bytes: [UInt8] { Array(buffer: body) }
    var error: [String: Any]? { json["error"] as? [String: Any] }
    var errorCode: String? { error?["code"] as? String }
    var errorField: String? { error?["field"] as? String }
    var message: [String: Any]? { json["message"] as? [String: Any] }
    var messages: [[String: Any]] { json["messages"] as? [[String: Any]] ?? [] }
}

struct RestUserSession: Sendable {
    let userId: String
    let phone: String
    let token: String
    let refreshToken: String
}

/// Temporary uploads folder of one test, removed by the caller.
func temporaryUploadsDirectory() -> String {
    NSTemporaryDirectory() + "messagerie-uploads-" + UUID().uuidString.lowercased()
}

extension GatewayClient {
    func rest(
        _ method: HTTPRequest.Method, _ uri: String, json: [String: Any]? = nil, token: String? = nil,
        headers extra: HTTPFields = [:], body: ByteBuffer? = nil
    ) async throws -> RestReply {
        var headers: HTTPFields = [:]
        var payload = body
        if let json {
            headers[.contentType] = "application/json"
            payload = ByteBuffer(data: try JSONSerialization.data(withJSONObject: json))
        }
        if let token { headers[.authorization] = "Bearer \(token)" }
        headers.append(contentsOf: extra)
        return RestReply(try await client.executeRequest(uri: uri, method: method, headers: headers, body: payload))
    }

    /// Registers through the two REST steps, reading the code from the fake Termii.
    func restRegister(
        _ phone: String, name: String = "Someone", file: StaticString = #filePath, line: UInt = #line
    ) async throws -> RestUserSession {
        let first = try await rest(.post, "/api/auth/register", json: ["phone": phone, "name": name])
        XCTAssertEqual(first.status, .accepted, first.text, file: file, line: line)
        let e164 = try XCTUnwrap(first.json["phone"] as? String, first.text, file: file, line: line)
        let code = try await harness.latestCode(to: e164, file: file, line: line)
        let second = try await rest(.post, "/api/auth/register", json: ["phone": phone, "name": name, "otp": code])
        XCTAssertEqual(second.status, .created, second.text, file: file, line: line)
        let user = try XCTUnwrap(second.json["user"] as? [String: Any], second.text, file: file, line: line)
        return RestUserSession(
            userId: try XCTUnwrap(user["id"] as? String, file: file, line: line), phone: e164,
            token: try XCTUnwrap(second.json["token"] as? String, file: file, line: line),
            refreshToken: try XCTUnwrap(second.json["refreshToken"] as? String, file: file, line: line))
    }

    func restSend(_ json: [String: Any], token: String, file: StaticString = #filePath, line: UInt = #line) async throws -> [String: Any] {
        let reply = try await rest(.post, "/api/messages/send", json: json, token: token)
        XCTAssertEqual(reply.status, .created, reply.text, file: file, line: line)
        return try XCTUnwrap(reply.message, reply.text, file: file, line: line)
    }

    func upload(
        _ data: [UInt8], fileName: String = "f.bin", claimedType: String = "application/octet-stream", field: String = "file",
        token: String
    ) async throws -> RestReply {
        let boundary = "----messagerie-test-\(UUID().uuidString)"
        let body = Multipart.body(boundary: boundary, parts: [
            .init(name: "caption", fileName: nil, contentType: nil, data: Array("hello".utf8)),
            .init(name: field, fileName: fileName, contentType: claimedType, data: data),
        ])
        return try await rest(
            .post, "/api/messages/upload", token: token,
            headers: [.contentType: "multipart/form-data; boundary=\(boundary)"], body: ByteBuffer(bytes: body))
    }
}

enum Multipart {
    struct Part {
        let name: String
        let fileName: String?
        let contentType: String?
        let data: [UInt8]
    }

    static func body(boundary: String, parts: [Part]) -> [UInt8] {
        var out: [UInt8] = []
        for part in parts {
            var head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(part.name)\""
            if let fileName = part.fileName { head += "; filename=\"\(fileName)\"" }
            head += "\r\n"
            if let type = part.contentType { head += "Content-Type: \(type)\r\n" }
            head += "\r\n"
            out += Array(head.utf8) + part.data + Array("\r\n".utf8)
        }
        out += Array("--\(boundary)--\r\n".utf8)
        return out
    }
}
