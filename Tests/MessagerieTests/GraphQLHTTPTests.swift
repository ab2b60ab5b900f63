import Foundation
import GraphQL
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import XCTest

@testable import Gateway

/// GraphQL over HTTP: statuses and media types of the GraphQL-over-HTTP specification, limits,
/// and the validation rules the engine adds.
final class GraphQLHTTPTests: XCTestCase {
    static let graphQLResponse = "application/graphql-response+json"

    func testPostAndGetQueries() async throws {
        try await withGateway { gw in
            let post = try await gw.graphQL("{ __typename }")
            XCTAssertEqual(post.status, .ok)
            XCTAssertTrue(post.contentType?.hasPrefix("application/json") == true, post.contentType ?? "no content type")
            XCTAssertEqual(post.string("__typename"), "Query")
            XCTAssertFalse(post.json.keys.contains("errors"), post.text)
            XCTAssertNotNil(post.headers[HTTPField.Name("X-Request-Id")!], "every answer carries a request id")

            let get = try await gw.graphQLGet("{ __typename }")
            XCTAssertEqual(get.status, .ok)
            XCTAssertEqual(get.string("__typename"), "Query")

            let getWithVariables = try await gw.graphQLGet(
                "query($s: Boolean!) { __typename @skip(if: $s) }", variables: #"{"s":true}"#)
            XCTAssertEqual(getWithVariables.status, .ok, getWithVariables.text)
            XCTAssertNil(getWithVariables.value("__typename"), getWithVariables.text)

            let badVariables = try await gw.graphQLGet("{ __typename }", variables: "[1,2]")
            XCTAssertEqual(badVariables.status, .badRequest, badVariables.text)

            let missing = try await gw.raw(method: .get, uri: "/graphql")
            XCTAssertEqual(missing.status, .badRequest, missing.text)
            XCTAssertFalse(missing.errors.isEmpty)
        }
    }

    func testMutationOverGetIsRefusedWith405() async throws {
        try await withGateway { gw in
            let reply = try await gw.graphQLGet(#"mutation { requestOtp(phone: "+2348012345678") { phone } }"#)
            XCTAssertEqual(reply.status, .methodNotAllowed, reply.text)
            XCTAssertEqual(reply.headers[.allow], "POST")
            XCTAssertFalse(reply.errors.isEmpty)
            let value27 = await gw.harness.termii.requests.isEmpty
            XCTAssertTrue(value27, "the mutation did not run")
            let value28 = try await gw.harness.column("SELECT count(*)::text FROM otp_challenges")
            XCTAssertEqual(value28, ["0"])

            // The operation, not the document, decides: a query chosen from a mixed document is fine.
            let mixed = try await gw.graphQLGet(
                #"query Q { __typename } mutation M { requestOtp(phone: "+2348012345678") { phone } }"#, operationName: "Q")
            XCTAssertEqual(mixed.status, .ok, mixed.text)
            XCTAssertEqual(mixed.string("__typename"), "Query")

            let put = try await gw.raw(method: .put, uri: "/graphql", headers: [.contentType: "application/json"],
                                       body: ByteBuffer(string: #"{"query":"{ __typename }"}"#))
            XCTAssertEqual(put.status, .methodNotAllowed)
            XCTAssertEqual(put.headers[.allow], "GET, POST")
        }
    }

    func testAcceptNegotiation() async throws {
        try await withGateway { gw in
            let modern = try await gw.graphQL("{ __typename }", accept: Self.graphQLResponse)
            XCTAssertEqual(modern.status, .ok)
            XCTAssertTrue(modern.contentType?.hasPrefix(Self.graphQLResponse) == true, modern.contentType ?? "none")

            let preferred = try await gw.graphQL(
                "{ __typename }", accept: "application/json;q=0.9, application/graphql-response+json")
            XCTAssertTrue(preferred.contentType?.hasPrefix(Self.graphQLResponse) == true, preferred.contentType ?? "none")
            let legacyPreferred = try await gw.graphQL(
                "{ __typename }", accept: "application/json, application/graphql-response+json;q=0.5")
            XCTAssertTrue(legacyPreferred.contentType?.hasPrefix("application/json") == true, legacyPreferred.contentType ?? "none")
            let wildcard = try await gw.graphQL("{ __typename }", accept: "*/*")
            XCTAssertEqual(wildcard.status, .ok)

            let invalid = try await gw.graphQL("{ noSuchField }", accept: Self.graphQLResponse)
            XCTAssertEqual(invalid.status, .badRequest, invalid.text)
            XCTAssertTrue(invalid.contentType?.hasPrefix(Self.graphQLResponse) == true)
            XCTAssertFalse(invalid.hasDataEntry, "a request error has no data entry: \(invalid.text)")
            XCTAssertTrue(invalid.errorMessage?.contains("noSuchField") == true, invalid.text)

            let html = try await gw.graphQL("{ __typename }", accept: "text/html")
            XCTAssertEqual(html.status, .notAcceptable, html.text)
            let htmlGet = try await gw.graphQLGet("{ __typename }", accept: "text/html")
            XCTAssertEqual(htmlGet.status, .notAcceptable, htmlGet.text)
        }
    }

    /// The specification: with `application/graphql-response+json`, a response that has a `data`
    /// entry (even `null`, after a field error on a non-null root) is not a request error, so 2xx.
    func testFieldErrorWithNullDataIsNotARequestError() async throws {
        try await withGateway { gw in
            let reply = try await gw.graphQL("{ me { id } }", accept: Self.graphQLResponse)
            XCTAssertEqual(reply.errorCode, "UNAUTHENTICATED", reply.text)
            XCTAssertTrue(reply.hasDataEntry, "execution happened, so data is present (null): \(reply.text)")
            XCTAssertEqual(reply.status, .ok, "data: null after a field error is a partial response, not a 4xx: \(reply.text)")
        }
    }

    func testBadRequestBodies() async throws {
        try await withGateway { gw in
            let plain = try await gw.raw(method: .post, uri: "/graphql", headers: [.contentType: "text/plain"],
                                         body: ByteBuffer(string: #"{"query":"{ __typename }"}"#))
            XCTAssertEqual(plain.status, .unsupportedMediaType, plain.text)

            let noType = try await gw.raw(method: .post, uri: "/graphql", body: ByteBuffer(string: #"{"query":"{ __typename }"}"#))
            XCTAssertEqual(noType.status, .unsupportedMediaType, noType.text)

            let charset = try await gw.raw(method: .post, uri: "/graphql", headers: [.contentType: "application/json; charset=utf-8"],
                                           body: ByteBuffer(string: #"{"query":"{ __typename }"}"#))
            XCTAssertEqual(charset.status, .ok, charset.text)

            let broken = try await gw.raw(method: .post, uri: "/graphql", headers: [.contentType: "application/json"],
                                          body: ByteBuffer(string: #"{"query": "{ __typename }""#))
            XCTAssertEqual(broken.status, .badRequest, broken.text)
            XCTAssertFalse(broken.errors.isEmpty, broken.text)

            let notObject = try await gw.raw(method: .post, uri: "/graphql", headers: [.contentType: "application/json"],
                                             body: ByteBuffer(string: "[1, 2, 3]"))
            XCTAssertEqual(notObject.status, .badRequest, notObject.text)

            let noQuery = try await gw.raw(method: .post, uri: "/graphql", headers: [.contentType: "application/json"],
                                           body: ByteBuffer(string: #"{"variables": {}}"#))
            XCTAssertEqual(noQuery.status, .badRequest, noQuery.text)
            XCTAssertTrue(noQuery.errorMessage?.contains("query") == true, noQuery.text)

            let queryNotString = try await gw.raw(method: .post, uri: "/graphql", headers: [.contentType: "application/json"],
                                                  body: ByteBuffer(string: #"{"query": 42}"#))
            XCTAssertEqual(queryNotString.status, .badRequest, queryNotString.text)

            let variablesNotObject = try await gw.raw(
                method: .post, uri: "/graphql", headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"query": "{ __typename }", "variables": [1]}"#))
            XCTAssertEqual(variablesNotObject.status, .badRequest, variablesNotObject.text)

            let syntax = try await gw.graphQL("{ me { id ", accept: Self.graphQLResponse)
            XCTAssertEqual(syntax.status, .badRequest, syntax.text)
            XCTAssertTrue(syntax.errorMessage?.contains("Syntax Error") == true, syntax.text)
            XCTAssertFalse(syntax.hasDataEntry)
        }
    }

    func testVariablesAndOperationName() async throws {
        try await withGateway { gw in
            let query = "query Skip($s: Boolean!) { __typename @skip(if: $s) }"
            let skipped = try await gw.graphQL(query, variables: ["s": true])
            XCTAssertEqual(skipped.status, .ok, skipped.text)
            XCTAssertNotNil(skipped.data, skipped.text)
            XCTAssertNil(skipped.value("__typename"), skipped.text)
            let kept = try await gw.graphQL(query, variables: ["s": false])
            XCTAssertEqual(kept.string("__typename"), "Query", kept.text)

            let otp = try await gw.graphQL(
                "mutation($p: String!) { requestOtp(phone: $p) { phone } }", variables: ["p": "+234 801 234 5999"])
            XCTAssertEqual(otp.string("requestOtp.phone"), "+2348012345999", otp.text)

            let missingVariable = try await gw.graphQL(query, accept: Self.graphQLResponse)
            XCTAssertEqual(missingVariable.status, .badRequest, missingVariable.text)
            XCTAssertFalse(missingVariable.errors.isEmpty)

            let wrongType = try await gw.graphQL(query, variables: ["s": "yes"], accept: Self.graphQLResponse)
            XCTAssertEqual(wrongType.status, .badRequest, wrongType.text)

            let two = "query A { a: __typename } query B { b: __typename }"
            let chooseB = try await gw.graphQL(two, operationName: "B")
            XCTAssertEqual(chooseB.status, .ok, chooseB.text)
            XCTAssertEqual(chooseB.string("b"), "Query")
            XCTAssertNil(chooseB.value("a"))
            let chooseA = try await gw.graphQL(two, operationName: "A")
            XCTAssertEqual(chooseA.string("a"), "Query")
            XCTAssertNil(chooseA.value("b"))

            let unnamed = try await gw.graphQL(two)
            XCTAssertEqual(unnamed.status, .badRequest, unnamed.text)
            let unknown = try await gw.graphQL(two, operationName: "C")
            XCTAssertEqual(unknown.status, .badRequest, unknown.text)
            XCTAssertTrue(unknown.errorMessage?.contains("C") == true, unknown.text)
        }
    }

    func testBodyOverTheLimitIs413() async throws {
        try await withGateway(["MAX_REQUEST_BYTES": "2048"]) { gw in
            let small = try await gw.graphQL("{ __typename }" + String(repeating: " ", count: 1500))
            XCTAssertEqual(small.status, .ok, small.text)

            let big = try await gw.graphQL("{ __typename }" + String(repeating: " ", count: 4096))
            XCTAssertEqual(big.status, .contentTooLarge, big.text)
            XCTAssertEqual(big.errorCode, "PAYLOAD_TOO_LARGE", big.text)
            XCTAssertTrue(big.errorMessage?.contains("2048") == true, big.text)
        }
    }

    func testDepthLimit() async throws {
        try await withGateway(["GRAPHQL_MAX_DEPTH": "2"]) { gw in
            let shallow = try await gw.graphQL("{ me { id } }")
            XCTAssertEqual(shallow.errorCode, "UNAUTHENTICATED", "depth 2 passes the limit: \(shallow.text)")

            let deep = try await gw.graphQL(
                #"mutation { verifyOtp(phone: "+2348012345678", code: "123456") { user { id } } }"#)
            XCTAssertEqual(deep.status, .badRequest, deep.text)
            XCTAssertEqual(deep.errorCode, "QUERY_TOO_DEEP", deep.text)
            XCTAssertTrue(deep.errorMessage?.contains("3") == true && deep.errorMessage?.contains("2") == true, deep.text)

            // The same depth through a fragment is counted too.
            let viaFragment = try await gw.graphQL("""
                mutation { verifyOtp(phone: "+2348012345678", code: "123456") { ...P } }
                fragment P on AuthPayload { user { id } }
                """)
            XCTAssertEqual(viaFragment.errorCode, "QUERY_TOO_DEEP", viaFragment.text)

            // Introspection is not counted, so tools keep working under a tight limit.
            let introspection = try await gw.graphQL("{ __schema { types { fields { type { name } } } } }")
            XCTAssertEqual(introspection.status, .ok, introspection.text)
            XCTAssertNil(introspection.firstError, introspection.text)
        }
    }

    func testCostLimit() async throws {
        try await withGateway(["GRAPHQL_MAX_COST": "10"]) { gw in
            let cheap = try await gw.graphQL("{ me { id displayName } }")
            XCTAssertEqual(cheap.errorCode, "UNAUTHENTICATED", "cost 3 passes: \(cheap.text)")

            let fields = "id phone displayName avatarUrl lastSeenAt createdAt"
            let costly = try await gw.graphQL("{ a: me { \(fields) } b: me { \(fields) } }")
            XCTAssertEqual(costly.status, .badRequest, costly.text)
            XCTAssertEqual(costly.errorCode, "QUERY_TOO_COSTLY", costly.text)
            XCTAssertTrue(costly.errorMessage?.contains("14") == true, "the cost is given: \(costly.text)")
            XCTAssertTrue(costly.errorMessage?.contains("10") == true, "the limit is given: \(costly.text)")
        }
    }

    func testOverlappingFieldsAreRefused() async throws {
        try await withGateway { gw in
            let conflict = try await gw.graphQL("{ me { id: displayName id } }")
            XCTAssertEqual(conflict.status, .badRequest, conflict.text)
            XCTAssertTrue(conflict.errorMessage?.contains("conflict") == true, conflict.text)
            XCTAssertEqual(conflict.errorCode, "BAD_USER_INPUT", conflict.text)

            let arguments = try await gw.graphQL("""
                query { user(id: "00000000-0000-0000-0000-000000000001") { id } user(id: "00000000-0000-0000-0000-000000000002") { id } }
                """)
            XCTAssertEqual(arguments.status, .badRequest, arguments.text)
            XCTAssertTrue(arguments.errorMessage?.contains("differing arguments") == true, arguments.text)

            // Identical fields merge: no conflict, the request executes (and needs a token).
            let same = try await gw.graphQL("{ me { id } me { id displayName } }")
            XCTAssertEqual(same.status, .ok, same.text)
            XCTAssertEqual(same.errorCode, "UNAUTHENTICATED", same.text)
        }
    }

    func testSingleRootFieldSubscriptionRule() throws {
        let two = DocumentRules.singleRootFieldSubscriptions(try parse(source: "subscription { a: me b: me }"))
        XCTAssertEqual(two.count, 1)
        XCTAssertTrue(two.first?.message.contains("must select only one top level field") == true, "\(two)")

        let named = DocumentRules.singleRootFieldSubscriptions(try parse(source: "subscription S { a: me ...F } fragment F on Subscription { b: me }"))
        XCTAssertEqual(named.count, 1)
        XCTAssertTrue(named.first?.message.contains("Subscription \"S\"") == true, "\(named)")

        let introspection = DocumentRules.singleRootFieldSubscriptions(try parse(source: "subscription { __typename }"))
        XCTAssertEqual(introspection.count, 1)
        XCTAssertTrue(introspection.first?.message.contains("introspection") == true, "\(introspection)")

        XCTAssertTrue(DocumentRules.singleRootFieldSubscriptions(try parse(source: "subscription { me }")).isEmpty)
        XCTAssertTrue(DocumentRules.singleRootFieldSubscriptions(try parse(source: "subscription { me me }")).isEmpty,
                      "one response key selected twice is still one root field")
        XCTAssertTrue(DocumentRules.singleRootFieldSubscriptions(try parse(source: "query { a: me b: me }")).isEmpty,
                      "queries may select many root fields")
    }

    func testIntrospectionCanBeSwitchedOff() async throws {
        try await withGateway(["GRAPHQL_INTROSPECTION": "false"]) { gw in
            let schema = try await gw.graphQL("{ __schema { queryType { name } } }")
            XCTAssertEqual(schema.status, .badRequest, schema.text)
            XCTAssertTrue(schema.errorMessage?.contains("__schema") == true, schema.text)
            XCTAssertNil(schema.data)

            let type = try await gw.graphQL(#"{ __type(name: "User") { name } }"#)
            XCTAssertEqual(type.status, .badRequest, type.text)

            let typename = try await gw.graphQL("{ __typename }")
            XCTAssertEqual(typename.string("__typename"), "Query", "__typename is not introspection of the schema")
        }
    }

    /// The introspection query of GraphiQL 2+ and of Python's `gql` asks arguments for their
    /// deprecation (`args(includeDeprecated: true) { isDeprecated deprecationReason }`).
    func testIntrospectionOfArgumentDeprecation() async throws {
        try await withGateway { gw in
            let reply = try await gw.graphQL("""
                { __type(name: "Mutation") { fields { name args(includeDeprecated: true) { name isDeprecated deprecationReason } } } }
                """)
            XCTAssertEqual(reply.status, .ok)
            XCTAssertNil(reply.firstError, reply.text)
            let fields = reply.value("__type.fields") as? [[String: Any]] ?? []
            let requestOtp = fields.first { $0["name"] as? String == "requestOtp" }
            let args = requestOtp?["args"] as? [[String: Any]] ?? []
            XCTAssertEqual(args.first?["name"] as? String, "phone", reply.text)
            XCTAssertEqual(args.first?["isDeprecated"] as? Bool, false, reply.text)

            // The same for input object fields and directive arguments.
            let everything = try await gw.graphQL("""
                { __schema {
                    types { name inputFields(includeDeprecated: true) { name isDeprecated deprecationReason } }
                    directives { name args(includeDeprecated: true) { name isDeprecated deprecationReason } } } }
                """)
            XCTAssertNil(everything.firstError, everything.text)
            let directives = everything.value("__schema.directives") as? [[String: Any]] ?? []
            let skip = directives.first { $0["name"] as? String == "skip" }
            XCTAssertEqual((skip?["args"] as? [[String: Any]])?.first?["isDeprecated"] as? Bool, false, everything.text)
        }
    }

    func testHealthAndReadiness() async throws {
        try await withGateway { gw in
            let health = try await gw.raw(method: .get, uri: "/healthz")
            XCTAssertEqual(health.status, .ok)
            XCTAssertEqual(health.json["status"] as? String, "ok")
            // Ready once the event listener's LISTEN is in place, a moment after the start.
            try await eventually("ready") { try await gw.raw(method: .get, uri: "/readyz").status == .ok }
            let ready = try await gw.raw(method: .get, uri: "/readyz")
            XCTAssertEqual(ready.status, .ok, ready.text)
            XCTAssertEqual(ready.json["status"] as? String, "ready")
        }
    }

    func testNotReadyWhileMigrationsArePending() async throws {
        try await withGateway(["MIGRATE_ON_START": "false"]) { gw in
            let health = try await gw.raw(method: .get, uri: "/healthz")
            XCTAssertEqual(health.status, .ok)
            let ready = try await gw.raw(method: .get, uri: "/readyz")
            XCTAssertEqual(ready.status, .serviceUnavailable, ready.text)
            XCTAssertEqual(ready.json["reason"] as? String, "migrations pending")
        }
    }
}
