import AsyncHTTPClient
import Foundation
import Logging
import XCTest
@testable import Outbound
@testable import Resolvers

final class TermiiSenderTests: XCTestCase {
    private let apiKey = "TLtestKEY-9f8e7d6c5b4a"
    private var httpClient: HTTPClient!
    private var servers: [FakeHTTPServer] = []
    private var logs: CapturedLogs!

    override func setUp() async throws {
        httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
        logs = CapturedLogs()
    }

    override func tearDown() async throws {
        for server in servers { await server.stop() }
        servers = []
        try await httpClient.shutdown()
        httpClient = nil
    }

    // MARK: what goes on the wire

    func testPostsPlainSMSWithOurCodeToTermii() async throws {
        let server = try await startServer { _ in
            .json(200, #"{"message_id":"9122821270554876574","message":"Successfully Sent","balance":9,"user":"Peter Mcleish"}"#)
        }
        let sender = makeSender(baseURL: server.baseURL, channel: "dnd")

        try await sender.send(code: "123456", to: "+2348012345678", expiresInMinutes: 5)

        let requests = await server.requests
        XCTAssertEqual(requests.count, 1)
        let request = try XCTUnwrap(requests.first)
        XCTAssertEqual(request.method, "POST")
        XCTAssertEqual(request.path, "/api/sms/send")
        XCTAssertNil(request.query)
        XCTAssertEqual(request.header("Content-Type"), "application/json")
        let json = try XCTUnwrap(request.jsonObject(), "body is not a JSON object: \(request.bodyText)")
        XCTAssertEqual(json["to"] as? String, "2348012345678")
        XCTAssertEqual(json["from"] as? String, "Messagerie")
        XCTAssertEqual(json["sms"] as? String, "Your Messagerie code is 123456. It expires in 5 minutes.")
        XCTAssertEqual(json["type"] as? String, "plain")
        XCTAssertEqual(json["channel"] as? String, "dnd")
        XCTAssertEqual(json["api_key"] as? String, apiKey)
        XCTAssertEqual(Set(json.keys), ["to", "from", "sms", "type", "channel", "api_key"])
        XCTAssertFalse(logs.text.contains(apiKey), "the API key reached the log")
    }

    func testDefaultChannelIsGenericAndTrailingSlashInBaseURLIsHarmless() async throws {
        let server = try await startServer { _ in .json(200, #"{"message_id":"1"}"#) }
        let sender = TermiiSender(
            httpClient: httpClient, baseURL: server.baseURL + "/", apiKey: apiKey, senderID: "Messagerie",
            logger: logs.logger
        )

        try await sender.send(code: "000111", to: "+447946095812", expiresInMinutes: 1)

        let first = await server.requests.first
        let request = try XCTUnwrap(first)
        XCTAssertEqual(request.path, "/api/sms/send")
        let json = try XCTUnwrap(request.jsonObject())
        XCTAssertEqual(json["channel"] as? String, "generic")
        XCTAssertEqual(json["to"] as? String, "447946095812")
        XCTAssertEqual(json["sms"] as? String, "Your Messagerie code is 000111. It expires in 1 minute.")
    }

    func testAcceptsNumericMessageID() async throws {
        let server = try await startServer { _ in .json(200, #"{"message_id":3017544054459873819,"message":"Successfully Sent"}"#) }
        try await makeSender(baseURL: server.baseURL).send(code: "123456", to: "+2348012345678", expiresInMinutes: 5)
        let count = await server.requests.count
        XCTAssertEqual(count, 1)
    }

    func testRefusesNonE164PhoneWithoutCallingProvider() async throws {
        let server = try await startServer { _ in .json(200, #"{"message_id":"1"}"#) }
        do {
            try await makeSender(baseURL: server.baseURL).send(code: "123456", to: "08012345678", expiresInMinutes: 5)
            XCTFail("a national number was sent to the provider")
        } catch let error as DomainError {
            guard case .badUserInput(_, let field) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(field, "phone")
        }
        let count = await server.requests.count
        XCTAssertEqual(count, 0)
    }

    // MARK: failures become DomainError.upstream

    func testHTTP400IsUpstreamError() async throws {
        // A provider that echoes our key back must not get it into our error or log.
        let server = try await startServer { [apiKey] _ in
            .json(400, #"{"message":"ApplicationSenderId not found for api_key \#(apiKey)"}"#)
        }
        let message = try await expectUpstream(makeSender(baseURL: server.baseURL))
        XCTAssertTrue(message.contains("HTTP 400"), message)
        XCTAssertTrue(logs.text.contains("ApplicationSenderId not found"), "provider detail should be logged: \(logs.text)")
        XCTAssertTrue(logs.text.contains("[redacted]"), logs.text)
    }

    func testServerErrorEvenWithMessageIDIsUpstreamError() async throws {
        let server = try await startServer { _ in .json(503, #"{"message_id":"42"}"#) }
        let message = try await expectUpstream(makeSender(baseURL: server.baseURL))
        XCTAssertTrue(message.contains("HTTP 503"), message)
    }

    func testSuccessWithoutMessageIDIsUpstreamError() async throws {
        let server = try await startServer { _ in .json(200, #"{"message":"Insufficient balance","balance":0}"#) }
        let message = try await expectUpstream(makeSender(baseURL: server.baseURL))
        XCTAssertTrue(message.contains("message_id"), message)
    }

    func testEmptyMessageIDIsUpstreamError() async throws {
        let server = try await startServer { _ in .json(200, #"{"message_id":""}"#) }
        let message = try await expectUpstream(makeSender(baseURL: server.baseURL))
        XCTAssertTrue(message.contains("message_id"), message)
    }

    func testInvalidJSONIsUpstreamError() async throws {
        let server = try await startServer { _ in .text(200, "<html>Bad Gateway</html>") }
        let message = try await expectUpstream(makeSender(baseURL: server.baseURL))
        XCTAssertTrue(message.contains("unreadable"), message)
    }

    func testJSONThatIsNotAnObjectIsUpstreamError() async throws {
        let server = try await startServer { _ in .json(200, #"["message_id"]"#) }
        let message = try await expectUpstream(makeSender(baseURL: server.baseURL))
        XCTAssertTrue(message.contains("unreadable"), message)
    }

    func testRefusedConnectionIsUpstreamError() async throws {
        let server = try await FakeHTTPServer.start { _ in .json(200, #"{"message_id":"1"}"#) }
        let closedURL = server.baseURL
        await server.stop()

        let started = ContinuousClock.now
        let message = try await expectUpstream(makeSender(baseURL: closedURL, timeout: .seconds(1)))
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(4), "gave up far later than the timeout")
        // AsyncHTTPClient retries a refused connect until the deadline, then reports the refusal
        // itself, which is what an operator needs to see rather than a bare timeout.
        XCTAssertTrue(message.contains("could not reach the provider"), message)
        XCTAssertTrue(logs.text.lowercased().contains("refused"), logs.text)
    }

    func testSlowProviderTimesOut() async throws {
        let server = try await startServer { _ in
            try? await Task.sleep(for: .seconds(5))
            return .json(200, #"{"message_id":"too-late"}"#)
        }
        let started = ContinuousClock.now
        let message = try await expectUpstream(makeSender(baseURL: server.baseURL, timeout: .milliseconds(300)))
        let elapsed = ContinuousClock.now - started
        XCTAssertTrue(message.contains("timed out"), message)
        XCTAssertLessThan(elapsed, .seconds(3), "the timeout was not honoured")
        let count = await server.requests.count
        XCTAssertEqual(count, 1, "the request should have reached the provider before timing out")
    }

    func testProviderStallingMidBodyTimesOut() async throws {
        let server = try await startServer { _ in
            FakeResponse(
                status: 200, headers: ["Content-Type": "application/json"],
                body: Array(#"{"message_id":"too-late"}"#.utf8), bodyDelay: .seconds(5)
            )
        }
        let started = ContinuousClock.now
        let message = try await expectUpstream(makeSender(baseURL: server.baseURL, timeout: .milliseconds(300)))
        XCTAssertTrue(message.contains("timed out"), message)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(3), "a stalled body was waited for")
        // The head did arrive, so it is our own body deadline, not AsyncHTTPClient's, that fired.
        XCTAssertTrue(logs.text.contains("no complete answer"), logs.text)
    }

    // MARK: helpers

    private func startServer(_ handler: @escaping FakeHTTPServer.Handler) async throws -> FakeHTTPServer {
        let server = try await FakeHTTPServer.start(handler: handler)
        servers.append(server)
        return server
    }

    private func makeSender(baseURL: String, channel: String = "dnd", timeout: Duration = .seconds(5)) -> TermiiSender {
        TermiiSender(
            httpClient: httpClient, baseURL: baseURL, apiKey: apiKey, senderID: "Messagerie",
            channel: channel, timeout: timeout, logger: logs.logger
        )
    }

    /// Sends once, requires `DomainError.upstream`, checks the key leaked nowhere, returns the message.
    private func expectUpstream(
        _ sender: TermiiSender, file: StaticString = #filePath, line: UInt = #line
    ) async throws -> String {
        do {
            try await sender.send(code: "123456", to: "+2348012345678", expiresInMinutes: 5)
        } catch let error as DomainError {
            guard case .upstream(let message) = error else {
                XCTFail("expected DomainError.upstream, got \(error)", file: file, line: line)
                return ""
            }
            XCTAssertTrue(message.hasPrefix("SMS provider failed: "), message, file: file, line: line)
            XCTAssertFalse(message.contains(apiKey), "the API key leaked into the error", file: file, line: line)
            XCTAssertFalse(String(describing: error).contains(apiKey), file: file, line: line)
            XCTAssertFalse(error.publicMessage.contains(apiKey), file: file, line: line)
            XCTAssertFalse(logs.text.contains(apiKey), "the API key leaked into the log: \(logs.text)", file: file, line: line)
            return message
        } catch {
            XCTFail("expected DomainError.upstream, got \(type(of: error)): \(error)", file: file, line: line)
            return ""
        }
        XCTFail("the send succeeded", file: file, line: line)
        return ""
    }
}

/// Collects every log line (message and metadata) so tests can prove what was and was not logged.
private final class CapturedLogs: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    var text: String { lock.withLock { lines.joined(separator: "\n") } }

    var logger: Logger {
        Logger(label: "test.termii") { _ in Handler(sink: self) }
    }

    fileprivate func append(_ line: String) { lock.withLock { lines.append(line) } }

    private struct Handler: LogHandler {
        let sink: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            sink.append("\(event.level) \(event.message) \(all) \(event.error.map { "\($0)" } ?? "")")
        }
    }
}
