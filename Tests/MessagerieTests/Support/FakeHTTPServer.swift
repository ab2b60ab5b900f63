import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// One request as the fake server received it, kept so a test can assert exactly what an outbound
/// integration put on the wire.
struct RecordedRequest: Sendable {
    let method: String
    let path: String
    let query: String?
    let headers: [(name: String, value: String)]
    let body: [UInt8]

    /// Case-insensitive, as HTTP header names are.
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object, or `nil` when it is not one.
    func jsonObject() -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
    }
}

/// What the fake server answers; plain values so callers need not know Hummingbird.
struct FakeResponse: Sendable {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]
    /// When set, the status line and headers go out at once and the body only after this delay,
    /// to imitate an upstream that stalls mid-answer.
    var bodyDelay: Duration?

    init(status: Int, headers: [String: String] = [:], body: [UInt8] = [], bodyDelay: Duration? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.bodyDelay = bodyDelay
    }

    static func json(_ status: Int, _ text: String) -> FakeResponse {
        FakeResponse(status: status, headers: ["Content-Type": "application/json"], body: Array(text.utf8))
    }

    static func text(_ status: Int, _ text: String) -> FakeResponse {
        FakeResponse(status: status, headers: ["Content-Type": "text/plain"], body: Array(text.utf8))
    }
}

/// A real HTTP server on loopback standing in for a third party (Termii, FCM, Expo…), so outbound
/// code is tested through its actual HTTP client, serialisation and error paths rather than a mock
/// of them. Every request, to any path and method, is recorded and then answered by `handler`.
final class FakeHTTPServer: Sendable {
    typealias Handler = @Sendable (RecordedRequest) async throws -> FakeResponse

    let port: Int
    /// `http://127.0.0.1:<port>`, no trailing slash.
    var baseURL: String { "http://127.0.0.1:\(port)" }

    private let recorder: Recorder
    private let serviceGroup: ServiceGroup
    private let task: Task<Void, any Error>

    private init(port: Int, recorder: Recorder, serviceGroup: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.recorder = recorder
        self.serviceGroup = serviceGroup
        self.task = task
    }

    /// Everything received so far, in arrival order.
    var requests: [RecordedRequest] {
        get async { await recorder.all }
    }

    /// Binds 127.0.0.1 on a port the OS picks (so parallel runs never collide) and returns once the
    /// server accepts connections.
    static func start(handler: @escaping Handler) async throws -> FakeHTTPServer {
        let recorder = Recorder()
        let router = Router()
        let respond: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            var request = request
            let received = try await request.collectBody(upTo: 16 * 1024 * 1024)
            let recorded = RecordedRequest(
                method: request.method.rawValue,
                path: request.uri.path,
                query: request.uri.query,
                headers: request.headers.map { (name: $0.name.canonicalName, value: $0.value) },
                body: Array(buffer: received)
            )
            await recorder.append(recorded)
            let answer = try await handler(recorded)
            var headers = HTTPFields()
            for (name, value) in answer.headers {
                if let field = HTTPField.Name(name) { headers[field] = value }
            }
            let bytes = ByteBuffer(bytes: answer.body)
            let body: ResponseBody
            if let delay = answer.bodyDelay {
                body = ResponseBody(contentLength: bytes.readableBytes) { writer in
                    try await Task.sleep(for: delay)
                    try await writer.write(bytes)
                    try await writer.finish(nil)
                }
            } else {
                body = ResponseBody(byteBuffer: bytes)
            }
            return Response(status: HTTPResponse.Status(code: answer.status), headers: headers, body: body)
        }
        // The router has no "any route" entry, so "/" and "**" (one or more components) together
        // cover every path, for each method an integration might use.
        let methods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete, .head, .options]
        for method in methods {
            router.on("/", method: method, use: respond)
            router.on("**", method: method, use: respond)
        }

        let logger = {
            var logger = Logger(label: "fake-http-server")
            logger.logLevel = .warning
            return logger
        }()
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? -1)
                portContinuation.finish()
            },
            logger: logger
        )
        let serviceGroup = ServiceGroup(
            configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger)
        )
        let task = Task {
            defer { portContinuation.finish() }
            try await serviceGroup.run()
        }
        var iterator = portStream.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            _ = await task.result
            throw FakeHTTPServerError.didNotStart
        }
        return FakeHTTPServer(port: port, recorder: recorder, serviceGroup: serviceGroup, task: task)
    }

    /// Stops listening; afterwards the port refuses connections. Shuts down gracefully, but a
    /// handler still busy (say, one imitating a slow upstream) is cancelled after a second rather
    /// than allowed to hold the test up.
    func stop() async {
        await serviceGroup.triggerGracefulShutdown()
        let task = self.task
        let watchdog = Task {
            try await Task.sleep(for: .seconds(1))
            task.cancel()
        }
        _ = await task.result
        watchdog.cancel()
    }

    private actor Recorder {
        private(set) var all: [RecordedRequest] = []
        func append(_ request: RecordedRequest) { all.append(request) }
    }
}

enum FakeHTTPServerError: Error {
    case didNotStart
}
