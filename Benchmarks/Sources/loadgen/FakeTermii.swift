import Foundation
import Hummingbird
import NIOConcurrencyHelpers

/// Stands in for Termii's `POST /api/sms/send` on loopback, so that benchmark users sign in through
/// the real `requestOtp` / `verifyOtp` path (code hashing, rate limits, sessions) and the load
/// generator reads each code from the SMS text it would have sent.
final class FakeTermii: Sendable {
    private let codes = NIOLockedValueBox<[String: String]>([:])
    private let waiters = NIOLockedValueBox<[String: CheckedContinuation<String, Never>]>([:])

    struct SMS: Decodable { let to: String; let sms: String }

    func run(port: Int) async throws {
        let router = Router()
        router.post("/api/sms/send") { request, context -> Response in
            let sms = try await request.decode(as: SMS.self, context: context)
            guard let range = sms.sms.range(of: #"\d{4,8}"#, options: .regularExpression) else {
                return Response(status: .badRequest)
            }
            self.store(phone: "+" + sms.to, code: String(sms.sms[range]))
            let body = #"{"message_id":"bench","message":"Successfully Sent","balance":1,"user":"bench"}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await app.runService()
    }

    private func store(phone: String, code: String) {
        let waiter = waiters.withLockedValue { $0.removeValue(forKey: phone) }
        if let waiter { waiter.resume(returning: code) } else { codes.withLockedValue { $0[phone] = code } }
    }

    func code(for phone: String) async -> String {
        await withCheckedContinuation { continuation in
            let ready = codes.withLockedValue { $0.removeValue(forKey: phone) }
            if let ready { continuation.resume(returning: ready); return }
            // The SMS may arrive between the two looks: the second one, under the waiters' lock order, settles it.
            waiters.withLockedValue { $0[phone] = continuation }
            if let late = codes.withLockedValue({ $0.removeValue(forKey: phone) }),
               let waiter = waiters.withLockedValue({ $0.removeValue(forKey: phone) }) {
                waiter.resume(returning: late)
            }
        }
    }
}
