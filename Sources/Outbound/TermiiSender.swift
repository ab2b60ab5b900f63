import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Resolvers

/// Sends our own OTP text through Termii's plain SMS endpoint.
///
/// We do not use Termii's token API: the code, its hash, expiry, lockout and rate limit stay ours,
/// so switching provider (or falling back to another) changes nothing about how sign-in behaves.
/// Every failure becomes `DomainError.upstream` with a short reason that is safe to show; details
/// go to the log, and the API key never goes to either.
public struct TermiiSender: OTPSender {
    private let httpClient: HTTPClient
    private let endpoint: String
    private let apiKey: String
    private let senderID: String
    private let channel: String
    private let timeout: Duration
    private let logger: Logger

    /// The answer is a few hundred bytes; a cap keeps a misbehaving upstream from filling memory.
    private static let maxResponseBytes = 64 * 1024

    /// - Parameters:
    ///   - baseURL: e.g. `https://api.ng.termii.com` (Termii gives each account a regional host).
    ///   - channel: Termii's route: `generic`, or `dnd` to reach numbers on Nigeria's Do-Not-Disturb list.
    ///   - timeout: bounds the whole exchange, body included, so a stalled provider cannot hold a
    ///     sign-in request open.
    public init(
        httpClient: HTTPClient,
        baseURL: String,
        apiKey: String,
        senderID: String,
        channel: String = "generic",
        timeout: Duration = .seconds(10),
        logger: Logger
    ) {
        self.httpClient = httpClient
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.endpoint = base + "/api/sms/send"
        self.apiKey = apiKey
        self.senderID = senderID
        self.channel = channel
        self.timeout = timeout
        self.logger = logger
    }

    /// Termii's field names; `api_key` travels in the body because that is where Termii reads it.
    private struct SendRequest: Encodable {
        let to: String
        let from: String
        let sms: String
        let type: String
        let channel: String
        let api_key: String
    }

    public func send(code: String, to phone: String, expiresInMinutes: Int) async throws {
        // Termii wants the international digits without "+"; re-parsing strips stray formatting and
        // refuses a number without a country code instead of letting the provider guess one.
        let number = try PhoneNumber(parsing: phone)
        let minutes = expiresInMinutes == 1 ? "1 minute" : "\(expiresInMinutes) minutes"
        let payload = SendRequest(
            to: String(number.e164.dropFirst()),
            from: senderID,
            sms: "Your Messagerie code is \(code). It expires in \(minutes).",
            type: "plain",
            channel: channel,
            api_key: apiKey
        )

        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        do {
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(payload)))
        } catch {
            throw fail("could not encode the request", logDetail: "\(error)")
        }

        let status: UInt
        let body: ByteBuffer
        do {
            (status, body) = try await exchange(request)
        } catch where Task.isCancelled {
            // The caller gave up (client went away); that is not the provider's failure.
            throw CancellationError()
        } catch is TimedOut {
            throw fail("timed out after \(timeout)", logDetail: "no complete answer within \(timeout)")
        } catch let error as HTTPClientError where Self.isTimeout(error) {
            throw fail("timed out after \(timeout)", logDetail: "\(error)")
        } catch {
            throw fail("could not reach the provider", logDetail: "\(error)")
        }

        let text = String(buffer: body)
        guard (200..<300).contains(status) else {
            throw fail("HTTP \(status)", logDetail: Self.excerpt(text))
        }
        guard let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw fail("unreadable answer", logDetail: Self.excerpt(text))
        }
        guard let messageID = Self.nonEmptyID(json["message_id"]) else {
            throw fail("no message_id in answer", logDetail: Self.excerpt(text))
        }
        logger.info("OTP SMS accepted by Termii", metadata: ["termii.message_id": "\(messageID)"])
    }

    private struct TimedOut: Error {}

    /// AsyncHTTPClient's deadline covers connecting and the response head but stops applying once
    /// the head arrives, so the body read is raced against the same instant: a provider that stalls
    /// mid-body still fails in time. Connection failures are left to AsyncHTTPClient, which retries
    /// until the deadline and then reports the real cause (e.g. connection refused) rather than a
    /// bare timeout.
    private func exchange(_ request: HTTPClientRequest) async throws -> (status: UInt, body: ByteBuffer) {
        let clock = ContinuousClock()
        let giveUpAt = clock.now + timeout
        let response = try await httpClient.execute(request, deadline: .now() + TimeAmount(timeout), logger: logger)
        let body = try await withThrowingTaskGroup(of: ByteBuffer.self) { group in
            group.addTask {
                try await response.body.collect(upTo: Self.maxResponseBytes)
            }
            group.addTask {
                try await Task.sleep(until: giveUpAt, clock: clock)
                throw TimedOut()
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw TimedOut() }
            return first
        }
        return (response.status.code, body)
    }

    private static func isTimeout(_ error: HTTPClientError) -> Bool {
        error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout
            || error == .writeTimeout
    }

    private static func nonEmptyID(_ value: Any?) -> String? {
        switch value {
        case let string as String where !string.isEmpty: string
        case let number as NSNumber: number.stringValue
        default: nil
        }
    }

    /// The provider's own words help whoever reads the log; they are kept short and, like every log
    /// detail, pass through `redacted` because an upstream could echo our request back.
    private static func excerpt(_ text: String) -> String {
        String(text.prefix(300))
    }

    private func redacted(_ text: String) -> String {
        guard !apiKey.isEmpty else { return text }
        return text.replacing(apiKey, with: "[redacted]")
    }

    private func fail(_ reason: String, logDetail: String) -> DomainError {
        logger.warning(
            "Termii SMS send failed: \(reason)",
            metadata: ["termii.detail": "\(redacted(logDetail))"]
        )
        return .upstream("SMS provider failed: \(reason)")
    }
}
