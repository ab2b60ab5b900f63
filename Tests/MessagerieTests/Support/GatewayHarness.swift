import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import Resolvers
import XCTest

@testable import Gateway

/// The whole gateway as production assembles it (`buildApplication`), on an empty database of its
/// own, with Termii replaced by a loopback fake that records every SMS. Tests sign in the real way:
/// `requestOtp`, read the code from the recorded SMS, `verifyOtp`.
struct GatewayHarness: Sendable {
    static let jwtSecret = "test-jwt-secret-0123456789-abcdefghijklmnopqrstuvwxyz"

    let endpoint: DatabaseEndpoint
    let termii: FakeHTTPServer
    let termiiMode: TermiiMode
    var settings: Settings
    let logger: Logger

    /// The settings of every test, as an environment dictionary (parsed like production).
    static func environment(endpoint: DatabaseEndpoint, termiiURL: String) -> [String: String] {
        [
            "DATABASE_URL": databaseURL(endpoint),
            "JWT_SECRET": jwtSecret,
            "OTP_PROVIDER": "termii",
            "TERMII_API_KEY": "k",
            "TERMII_BASE_URL": termiiURL,
            "PORT": "0",
            "OTP_RESEND_COOLDOWN_SECONDS": "0",
            "MIGRATIONS_DIR": packageRoot + "/migrations",
            "MESSAGE_KEYS": messageKeys,
        ]
    }

    static let messageKeys = MessageKeyring.generateSetting()

    static func databaseURL(_ endpoint: DatabaseEndpoint) -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let user = endpoint.username.addingPercentEncoding(withAllowedCharacters: allowed) ?? endpoint.username
        let password = endpoint.password.map { ":" + ($0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0) } ?? ""
        return "postgres://\(user)\(password)@\(endpoint.host):\(endpoint.port)/\(endpoint.database)"
    }

    static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// A fresh database, a fake Termii, and settings from the base environment plus `overrides`.
    static func make(_ overrides: [String: String] = [:]) async throws -> GatewayHarness {
        let endpoint = try await TestDatabase.shared.freshDatabase()
        let mode = TermiiMode()
        let termii = try await FakeHTTPServer.start { _ in
            if let status = mode.failureStatus {
                return .json(status, #"{"message":"upstream exploded","code":"E_FAKE"}"#)
            }
            return .json(200, #"{"message_id":"3017544054459","message":"Successfully Sent","balance":9,"user":"Test"}"#)
        }
        let values = environment(endpoint: endpoint, termiiURL: termii.baseURL).merging(overrides) { _, new in new }
        let settings: Settings
        do {
            settings = try Settings(values: values)
        } catch {
            await termii.stop()
            throw error
        }
        var logger = Logger(label: "messagerie.tests.gateway")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return GatewayHarness(endpoint: endpoint, termii: termii, termiiMode: mode, settings: settings, logger: logger)
    }

    /// Builds the application with `buildApplication` and runs `body` against it.
    func withApp<T: Sendable>(
        _ setup: TestingSetup = .router, _ body: @Sendable (GatewayClient) async throws -> T
    ) async throws -> T {
        let app = try await buildApplication(settings: settings, logger: logger)
        let harness = self
        return try await app.test(setup) { client in
            try await body(GatewayClient(client: client, harness: harness))
        }
    }

    func stop() async {
        await termii.stop()
    }

    // MARK: Fake Termii

    /// The SMS bodies sent to `phone` (E.164), oldest first.
    func smsTexts(to phone: String) async -> [String] {
        let digits = phone.hasPrefix("+") ? String(phone.dropFirst()) : phone
        return await termii.requests.compactMap { request in
            guard let json = request.jsonObject(), json["to"] as? String == digits else { return nil }
            return json["sms"] as? String
        }
    }

    /// The 6-digit code of the latest SMS sent to `phone`.
    func latestCode(to phone: String, file: StaticString = #filePath, line: UInt = #line) async throws -> String {
        let texts = await smsTexts(to: phone)
        let text = try XCTUnwrap(texts.last, "no SMS was sent to \(phone)", file: file, line: line)
        let match = try XCTUnwrap(text.firstMatch(of: /\b(\d{6})\b/), "no 6-digit code in SMS \"\(text)\"", file: file, line: line)
        return String(match.1)
    }

    // MARK: Direct database access

    /// Runs statements on the test database directly, outside the application.
    func execute(_ statements: String...) async throws {
        try await TestDatabase.withConnection(endpoint, logger: logger) { connection, logger in
            for statement in statements {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
        }
    }

    /// First column of every row, as text.
    func column(_ sql: String) async throws -> [String?] {
        try await TestDatabase.withConnection(endpoint, logger: logger) { connection, logger in
            var values: [String?] = []
            for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(String?.self) {
                values.append(value)
            }
            return values
        }
    }

    /// Messages of `sender` written straight into the log as the next `count` of the
    /// conversation, announced to no one, as when their notifications are lost; deleted, so that
    /// they need no text. Their ids, oldest first.
    @discardableResult
    func writeUnannounced(_ count: Int = 1, in conversation: String, from sender: String) async throws -> [String] {
        try await column("""
            WITH c AS (UPDATE conversations SET last_seq = last_seq + \(count) WHERE id = '\(conversation)' RETURNING id, last_seq)
            INSERT INTO messages (id, conversation_id, seq, sender_id, kind, deleted_at)
            SELECT gen_random_uuid(), id, last_seq - n, '\(sender)', 'USER', now() FROM c, generate_series(\(count - 1), 0, -1) n
            RETURNING id::text
            """).compactMap { $0 }
    }
}

/// Whether the fake Termii fails, switched by a test at run time.
final class TermiiMode: @unchecked Sendable {
    private let lock = NSLock()
    private var status: Int?
    var failureStatus: Int? {
        get { lock.withLock { status } }
        set { lock.withLock { status = newValue } }
    }
}

/// Creates a harness, runs `body` with a running application, and always stops the fake server.
func withGateway<T: Sendable>(
    _ overrides: [String: String] = [:], setup: TestingSetup = .router,
    _ body: @Sendable (GatewayClient) async throws -> T
) async throws -> T {
    let harness = try await GatewayHarness.make(overrides)
    do {
        let value = try await harness.withApp(setup, body)
        await harness.stop()
        return value
    } catch {
        await harness.stop()
        throw error
    }
}

// MARK: Client

/// One answer of `/graphql`, decoded.
struct GraphQLReply: @unchecked Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let text: String
    let json: [String: Any]

    init(_ response: TestResponse) {
        status = response.status
        headers = response.headers
        text = String(buffer: response.body)
        json = ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]) ?? [:]
    }

    var contentType: String? { headers[.contentType] }
    var data: [String: Any]? { json["data"] as? [String: Any] }
    var hasDataEntry: Bool { json.keys.contains("data") }
    var errors: [[String: Any]] { json["errors"] as? [[String: Any]] ?? [] }
    var firstError: [String: Any]? { errors.first }
    var errorCode: String? { (firstError?["extensions"] as? [String: Any])?["code"] as? String }
    var errorMessage: String? { firstError?["message"] as? String }
    var errorExtensions: [String: Any] { firstError?["extensions"] as? [String: Any] ?? [:] }

    /// `data.<path>` with dots, e.g. `requestOtp.phone`.
    func value(_ path: String) -> Any? {
        var current: Any? = data
        for key in path.split(separator: ".") {
            current = (current as? [String: Any])?[String(key)]
        }
        return current
    }

    func string(_ path: String) -> String? { value(path) as? String }
}

struct SignedIn: Sendable {
    let userId: String
    let phone: String
    let accessToken: String
    let refreshToken: String
    let isNewUser: Bool
}

struct GatewayClient: Sendable {
    let client: any TestClientProtocol
    let harness: GatewayHarness

    var port: Int? { client.port }

    /// POST /graphql with a JSON body.
    func graphQL(
        _ query: String, variables: [String: Any]? = nil, operationName: String? = nil, token: String? = nil,
        accept: String? = nil, headers extra: HTTPFields = [:]
    ) async throws -> GraphQLReply {
        var body: [String: Any] = ["query": query]
        if let variables { body["variables"] = variables }
        if let operationName { body["operationName"] = operationName }
        let data = try JSONSerialization.data(withJSONObject: body)
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let accept { headers[.accept] = accept }
        headers.append(contentsOf: extra)
        return try await raw(method: .post, uri: "/graphql", headers: headers, body: ByteBuffer(data: data))
    }

    /// GET /graphql?query=…
    func graphQLGet(
        _ query: String, variables: String? = nil, operationName: String? = nil, token: String? = nil, accept: String? = nil
    ) async throws -> GraphQLReply {
        var items = [("query", query)]
        if let variables { items.append(("variables", variables)) }
        if let operationName { items.append(("operationName", operationName)) }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let queryString = items.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&")
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if let accept { headers[.accept] = accept }
        return try await raw(method: .get, uri: "/graphql?" + queryString, headers: headers, body: nil)
    }

    func raw(method: HTTPRequest.Method, uri: String, headers: HTTPFields = [:], body: ByteBuffer? = nil) async throws -> GraphQLReply {
        let response = try await client.executeRequest(uri: uri, method: method, headers: headers, body: body)
        return GraphQLReply(response)
    }

    // MARK: Sign-in

    func requestOtp(_ phone: String) async throws -> GraphQLReply {
        try await graphQL(
            "mutation($phone: String!) { requestOtp(phone: $phone) { phone expiresAt retryAfterSeconds } }",
            variables: ["phone": phone])
    }

    func verifyOtp(_ phone: String, code: String, displayName: String? = nil) async throws -> GraphQLReply {
        var variables: [String: Any] = ["phone": phone, "code": code]
        if let displayName { variables["displayName"] = displayName }
        return try await graphQL("""
            mutation($phone: String!, $code: String!, $displayName: String) {
              verifyOtp(phone: $phone, code: $code, displayName: $displayName) {
                accessToken refreshToken accessTokenExpiresAt isNewUser user { id phone displayName }
              }
            }
            """, variables: variables)
    }

    func refresh(_ refreshToken: String) async throws -> GraphQLReply {
        try await graphQL(
            "mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken refreshToken isNewUser user { id } } }",
            variables: ["t": refreshToken])
    }

    func me(_ token: String?) async throws -> GraphQLReply {
        try await graphQL("{ me { id phone displayName } }", token: token)
    }

    /// The full sign-in: a code by SMS (the fake Termii), then its verification.
    func signIn(
        _ phone: String, displayName: String? = nil, file: StaticString = #filePath, line: UInt = #line
    ) async throws -> SignedIn {
        let requested = try await requestOtp(phone)
        XCTAssertEqual(requested.status, .ok, file: file, line: line)
        XCTAssertNil(requested.firstError, "requestOtp failed: \(requested.text)", file: file, line: line)
        let e164 = try XCTUnwrap(requested.string("requestOtp.phone"), requested.text, file: file, line: line)
        let code = try await harness.latestCode(to: e164, file: file, line: line)
        let verified = try await verifyOtp(phone, code: code, displayName: displayName)
        XCTAssertNil(verified.firstError, "verifyOtp failed: \(verified.text)", file: file, line: line)
        return SignedIn(
            userId: try XCTUnwrap(verified.string("verifyOtp.user.id"), verified.text, file: file, line: line),
            phone: e164,
            accessToken: try XCTUnwrap(verified.string("verifyOtp.accessToken"), file: file, line: line),
            refreshToken: try XCTUnwrap(verified.string("verifyOtp.refreshToken"), file: file, line: line),
            isNewUser: try XCTUnwrap(verified.value("verifyOtp.isNewUser") as? Bool, file: file, line: line))
    }
}

/// Claims of a JWT without checking it: base64url JSON of the middle part.
func jwtClaims(_ token: String) -> [String: Any] {
    let parts = token.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 3, let data = base64URLDecode(String(parts[1])) else { return [:] }
    return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
}

func base64URLDecode(_ text: String) -> Data? {
    var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while base64.count % 4 != 0 { base64 += "=" }
    return Data(base64Encoded: base64)
}

func base64URLEncode(_ data: Data) -> String {
    data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

/// RFC 3339 with or without fractional seconds.
func parseRFC3339(_ text: String) -> Date? {
    let fractional = ISO8601DateFormatter()
    fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if let date = fractional.date(from: text) { return date }
    return ISO8601DateFormatter().date(from: text)
}
