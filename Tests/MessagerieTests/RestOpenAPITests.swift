import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Resolvers
import XCTest

@testable import Gateway

/// `/openapi.json` is a valid OpenAPI 3.1 document and lists exactly the routes the router
/// serves; and a real Python client (`requests`) uses the REST API end to end.
final class RestOpenAPITests: XCTestCase {
    private static func summary(_ result: (status: Int32, stdout: String, stderr: String), file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        XCTAssertEqual(result.status, 0, "python failed:\n--- stdout\n\(result.stdout)\n--- stderr\n\(result.stderr)", file: file, line: line)
        let last = try XCTUnwrap(result.stdout.split(separator: "\n").last, "no output; stderr:\n\(result.stderr)", file: file, line: line)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any], "not JSON: \(last)", file: file, line: line)
    }

    /// The REST routes as the gateway registers them, read from a router built the same way.
    private static func servedRoutes(_ harness: GatewayHarness) async throws -> Set<String> {
        let db = DatabasePool(client: PostgresClient(configuration: .init(harness.endpoint), backgroundLogger: harness.logger))
        let domain = try await Assembly.domain(settings: harness.settings, db: db, endpoint: harness.endpoint, logger: harness.logger)
        let router = Router(context: AppRequestContext.self)
        RestWiring.addRoutes(to: router, services: domain.services, tokens: domain.tokens, settings: harness.settings)
        // OPTIONS exists on every path only to answer CORS preflights.
        return Set(router.routes.filter { $0.method != .options }.map { "\($0.method.rawValue) \($0.path)" })
    }

    func testDocumentIsValidAndMatchesTheRouterBothWays() async throws {
        let harness = try await GatewayHarness.make()
        let served = try await Self.servedRoutes(harness)
        await harness.stop()
        XCTAssertTrue(served.contains("GET /api/messages/conversation/{userId1}/{userId2}"), "\(served.sorted())")
        XCTAssertGreaterThanOrEqual(served.count, 17)

        try await withGateway(setup: .live) { gw in
            let port = try XCTUnwrap(gw.port)
            let result = try Self.summary(try await runPython(
                script: "Tests/interop/rest_client.py", args: ["openapi", "http://127.0.0.1:\(port)"], timeout: .seconds(60)))
            XCTAssertEqual(result["openapi"] as? String, "3.1.0")
            let documented = Set(result["routes"] as? [String] ?? [])
            XCTAssertEqual(documented.subtracting(served).sorted(), [], "documented but not served")
            XCTAssertEqual(served.subtracting(documented).sorted(), [], "served but not documented")
        }
    }

    func testEveryDocumentedRouteAnswersInTheEnvelope() async throws {
        try await withGateway { gw in
            for (method, path) in [(HTTPRequest.Method.get, "/api/nothing/here"), (.put, "/api/messages/send"), (.get, "/api/messages/send")] {
                let unknown = try await gw.rest(method, path)
                XCTAssertEqual(unknown.status, .notFound, "\(method) \(path)")
                XCTAssertEqual(unknown.errorCode, "NOT_FOUND", unknown.text)
            }
            let health = try await gw.rest(.get, "/healthz")
            XCTAssertEqual(health.status, .ok, "other routes are left alone")
            let document = try await gw.rest(.get, "/openapi.json")
            XCTAssertEqual(document.status, .ok)
            let paths = try XCTUnwrap(document.json["paths"] as? [String: [String: Any]])
            for (path, item) in paths where path.hasPrefix("/api/") {
                let concrete = path.replacingOccurrences(of: #"\{[^}]+\}"#, with: UUID().uuidString.lowercased(), options: .regularExpression)
                for method in item.keys {
                    let reply = try await gw.rest(HTTPRequest.Method(rawValue: method.uppercased())!, concrete)
                    let publicRoute = path.hasPrefix("/api/auth/") && path != "/api/auth/logout"
                    // Without a token, protected routes refuse with 401; public ones refuse the empty body with 400.
                    XCTAssertEqual(reply.status, publicRoute ? .badRequest : .unauthorized, "\(method) \(path): \(reply.text)")
                    XCTAssertNotNil(reply.errorCode, "\(method) \(path): \(reply.text)")
                }
            }
        }
    }

    func testPythonRequestsClientRegistersChatsUploadsAndReads() async throws {
        let directory = temporaryUploadsDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withGateway(["UPLOADS_DIR": directory], setup: .live) { gw in
            let base = "http://127.0.0.1:\(try XCTUnwrap(gw.port))"
            var sessions: [(token: String, id: String)] = []
            for (phone, name) in [("+2348012348001", "Ada Py"), ("+2348012348002", "Bo Py")] {
                let requested = try Self.summary(try await runPython(
                    script: "Tests/interop/rest_client.py", args: ["request", base, phone, name], timeout: .seconds(60)))
                XCTAssertEqual(requested["phone"] as? String, phone)
                let code = try await gw.harness.latestCode(to: phone)
                let registered = try Self.summary(try await runPython(
                    script: "Tests/interop/rest_client.py", args: ["register", base, phone, name, code], timeout: .seconds(60)))
                XCTAssertEqual(registered["name"] as? String, name)
                sessions.append((try XCTUnwrap(registered["token"] as? String), try XCTUnwrap(registered["userId"] as? String)))
            }
            let chat = try Self.summary(try await runPython(
                script: "Tests/interop/rest_client.py",
                args: ["chat", base, sessions[0].token, sessions[0].id, sessions[1].token, sessions[1].id], timeout: .seconds(60)))
            XCTAssertEqual(chat["contents"] as? [String], ["bonjour depuis Python", "une photo"])
            XCTAssertEqual(chat["receiverId"] as? String, sessions[1].id)
            XCTAssertEqual(chat["read"] as? Int, 2)
            XCTAssertEqual(chat["conversations"] as? Int, 1)

            // GraphQL reads what the Python client sent, attachment included.
            let read = try await gw.graphQL(
                "query($c: ID!) { messages(conversationId: $c) { edges { node { id text attachments { id mimeType } } } } }",
                variables: ["c": try XCTUnwrap(chat["conversationId"] as? String)], token: sessions[1].token)
            let nodes = (read.value("messages.edges") as? [[String: Any]] ?? []).compactMap { $0["node"] as? [String: Any] }
            XCTAssertEqual(nodes.map { $0["text"] as? String }, ["bonjour depuis Python", "une photo"], read.text)
            XCTAssertEqual((nodes.last?["attachments"] as? [[String: Any]])?.first?["id"] as? String, chat["attachmentId"] as? String)
            XCTAssertEqual(nodes.last?["id"] as? String, chat["lastMessage"] as? String)
        }
    }
}
