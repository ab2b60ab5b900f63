import Foundation
import HummingbirdTesting
import XCTest

@testable import Gateway

/// A real third-party client (Python `gql` over `requests`) signs in against a live server.
final class PythonInteropTests: XCTestCase {
    private static func summary(_ result: (status: Int32, stdout: String, stderr: String), file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        XCTAssertEqual(result.status, 0, "python failed:\n--- stdout\n\(result.stdout)\n--- stderr\n\(result.stderr)", file: file, line: line)
        let last = try XCTUnwrap(result.stdout.split(separator: "\n").last, "no output; stderr:\n\(result.stderr)", file: file, line: line)
        return try XCTUnwrap(
            try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any], "not JSON: \(last)", file: file, line: line)
    }

    func testGqlClientSignsIn() async throws {
        try await withGateway(setup: .live) { gw in
            let port = try XCTUnwrap(gw.port)
            let url = "http://localhost:\(port)/graphql"
            let phone = "+2348012345801"

            let requested = try Self.summary(try await runPython(
                script: "Tests/interop/gql_signin.py", args: ["request", url, "+234 801 234 5801"], timeout: .seconds(60)))
            XCTAssertEqual(requested["step"] as? String, "request")
            XCTAssertEqual(requested["phone"] as? String, phone)
            XCTAssertEqual(requested["retryAfterSeconds"] as? Int, 0)

            let code = try await gw.harness.latestCode(to: phone)
            let verified = try Self.summary(try await runPython(
                script: "Tests/interop/gql_signin.py", args: ["verify", url, phone, code], timeout: .seconds(60)))
            XCTAssertEqual(verified["step"] as? String, "verify")
            XCTAssertEqual(verified["phone"] as? String, phone)
            XCTAssertEqual(verified["isNewUser"] as? Bool, true)
            XCTAssertEqual(verified["anonymousMe"] as? String, "UNAUTHENTICATED")
            XCTAssertEqual(verified["displayName"] as? String, "Py Client")
            let userId = try XCTUnwrap(verified["userId"] as? String)
            let value30 = try await gw.harness.column("SELECT id::text FROM users")
            XCTAssertEqual(value30, [userId])
            let value31 = try await gw.harness.column("SELECT display_name FROM users")
            XCTAssertEqual(value31, ["Renamed From Python"])
            let value32 = try await gw.harness.column("SELECT revoked_reason FROM sessions")
            XCTAssertEqual(value32, ["logout"])
        }
    }

    /// `gql` loads the schema by introspection with its default query, which asks for
    /// `args(includeDeprecated: true) { isDeprecated deprecationReason }` (as GraphiQL does too).
    func testGqlClientLoadsTheSchemaByIntrospection() async throws {
        try await withGateway(setup: .live) { gw in
            let port = try XCTUnwrap(gw.port)
            let loaded = try Self.summary(try await runPython(
                script: "Tests/interop/gql_signin.py", args: ["schema", "http://localhost:\(port)/graphql"], timeout: .seconds(60)))
            XCTAssertEqual(loaded["step"] as? String, "schema")
            XCTAssertEqual(loaded["sdlHasMe"] as? Bool, true)
            let types = loaded["schemaTypes"] as? [String] ?? []
            for expected in ["User", "AuthPayload", "OtpChallenge", "DateTime", "Query", "Mutation"] {
                XCTAssertTrue(types.contains(expected), "\(expected) in \(types)")
            }
        }
    }
}
