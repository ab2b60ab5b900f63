import Foundation
import HummingbirdTesting
import Metrics
import XCTest

@testable import Gateway

/// `/metrics`: who may read it, and that the figures move with the traffic they describe.
final class MetricsTests: XCTestCase {
    static let token = "scrape-token-0123456789"

    func testTokenIsRequiredWhenConfigured() async throws {
        try await withGateway(["METRICS_TOKEN": Self.token]) { gw in
            let anonymous = try await gw.raw(method: .get, uri: "/metrics")
            XCTAssertEqual(anonymous.status, .unauthorized, anonymous.text)
            let wrong = try await gw.raw(method: .get, uri: "/metrics", headers: [.authorization: "Bearer nope"])
            XCTAssertEqual(wrong.status, .unauthorized, wrong.text)
            let right = try await gw.raw(method: .get, uri: "/metrics", headers: [.authorization: "Bearer \(Self.token)"])
            XCTAssertEqual(right.status, .ok, right.text)
            XCTAssertEqual(right.contentType, "text/plain; version=0.0.4; charset=utf-8")
        }
    }

    func testWithoutATokenOnlyLoopbackCallersAreAnswered() async throws {
        try await withGateway { gw in
            // The in-process router has no peer address: it is not loopback.
            let unknownPeer = try await gw.raw(method: .get, uri: "/metrics")
            XCTAssertEqual(unknownPeer.status, .forbidden, unknownPeer.text)
        }
        try await withGateway(setup: .live) { gw in
            let local = try await gw.raw(method: .get, uri: "/metrics")
            XCTAssertEqual(local.status, .ok, local.text)
            XCTAssertTrue(local.text.contains("process_resident_memory_bytes"), local.text)
        }
        XCTAssertTrue(MetricsController.isLoopback("127.0.0.1"))
        XCTAssertTrue(MetricsController.isLoopback("::1"))
        XCTAssertFalse(MetricsController.isLoopback("10.0.0.7"))
        XCTAssertFalse(MetricsController.isLoopback(nil))
    }

    func testRequestsOperationsAndMessagesAreCounted() async throws {
        try await withGateway(["METRICS_TOKEN": Self.token]) { gw in
            let ada = try await gw.signIn("+2348012340001", displayName: "Ada")
            let bola = try await gw.signIn("+2348012340002", displayName: "Bola")
            for text in ["one", "two", "three"] {
                let sent = try await gw.graphQL(
                    "mutation Send($input: SendMessageInput!) { sendMessage(input: $input) { id } }",
                    variables: ["input": ["recipientId": bola.userId, "text": text]], token: ada.accessToken)
                XCTAssertNil(sent.firstError, sent.text)
            }
            let failing = try await gw.graphQL(
                "mutation Broken { editMessage(id: \"\(UUID())\", text: \"x\") { id } }", token: ada.accessToken)
            XCTAssertEqual(failing.errorCode, "NOT_FOUND", failing.text)
            let refused = try await gw.graphQL("query Refused { conversation(id: \"not-a-uuid\") { id } }", token: ada.accessToken)
            XCTAssertNotNil(refused.firstError, refused.text)

            let scrape = try await gw.raw(method: .get, uri: "/metrics", headers: [.authorization: "Bearer \(Self.token)"]).text
            XCTAssertEqual(Self.value(scrape, "messagerie_messages_stored_total"), 3, scrape)
            XCTAssertEqual(Self.value(scrape, #"messagerie_graphql_operations_total{operation="Send",type="mutation",outcome="ok"}"#), 3, scrape)
            XCTAssertEqual(Self.value(scrape, #"messagerie_graphql_operations_total{operation="Broken",type="mutation",outcome="error"}"#), 1, scrape)
            // Sign-ins (2 × requestOtp + verifyOtp), 3 sends, 1 failing mutation: 8 answered 200; the
            // malformed id never reaches execution, so it is a 400 and no operation is counted.
            XCTAssertEqual(Self.value(scrape, #"messagerie_http_requests_total{route="/graphql",method="POST",status="200"}"#), 8, scrape)
            XCTAssertEqual(Self.value(scrape, #"messagerie_http_requests_total{route="/graphql",method="POST",status="400"}"#), 1, scrape)
            XCTAssertFalse(scrape.contains(#"operation="Refused""#), scrape)
            XCTAssertNotNil(Self.value(scrape, #"messagerie_http_request_duration_seconds_count{route="/graphql",method="POST"}"#), scrape)
            // The scrape's own query is running while PostgreSQL counts.
            XCTAssertGreaterThanOrEqual(Self.value(scrape, #"messagerie_db_connections{state="active"}"#) ?? 0, 1, scrape)
            // The scrape reads the pool on a connection it leased (background workers may hold more).
            XCTAssertGreaterThanOrEqual(Self.value(scrape, "messagerie_db_pool_connections_in_use") ?? 0, 1, scrape)
            XCTAssertEqual(Self.value(scrape, "messagerie_db_pool_requests_waiting"), 0, scrape)
            XCTAssertGreaterThan(Self.value(scrape, "process_resident_memory_bytes") ?? 0, 1_000_000, scrape)
        }
    }

    /// Socket gauges while a real client holds a connection with a live subscription, and the
    /// fan-out delay once a message reached a subscriber.
    func testSocketsSubscriptionsAndFanOutAreMeasured() async throws {
        try await withGateway(["METRICS_TOKEN": Self.token], setup: .live) { gw in
            let port = try XCTUnwrap(gw.port)
            let users = try await gw.signInUsers(2)
            let held = try await runPython(
                script: "Tests/interop/ws_metrics.py", args: ["http://127.0.0.1:\(port)", users[0].accessToken, Self.token, users[1].accessToken, users[0].userId])
            XCTAssertEqual(held.status, 0, held.stderr)
            let line = try XCTUnwrap(held.stdout.split(separator: "\n").last, held.stderr)
            let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertEqual(report["connections"] as? Double, 1, "\(report)")
            XCTAssertEqual(report["subscriptions"] as? Double, 1, "\(report)")
            XCTAssertEqual(report["receivedId"] as? String, report["sentId"] as? String, "\(report)")
            XCTAssertEqual(report["fanOutCount"] as? Double, 1, "\(report)")

            try await eventually("the closed socket is no longer counted") {
                let scrape = try await gw.raw(method: .get, uri: "/metrics", headers: [.authorization: "Bearer \(Self.token)"]).text
                return Self.value(scrape, #"messagerie_open_connections{transport="graphql-ws"}"#) == 0
                    && Self.value(scrape, #"messagerie_active_subscriptions{transport="graphql-ws"}"#) == 0
            }
        }
    }

    func testOperationNamesBeyondTheCapShareOneSeries() {
        let metrics = OperationMetrics(factory: NOOPMetricsHandler.instance)
        for index in 0..<OperationMetrics.maxNames { XCTAssertEqual(metrics.label(for: "Op\(index)"), "Op\(index)") }
        XCTAssertEqual(metrics.label(for: "OneTooMany"), "other")
        XCTAssertEqual(metrics.label(for: "Op0"), "Op0")
        XCTAssertEqual(metrics.label(for: nil), "anonymous")
        XCTAssertEqual(metrics.label(for: String(repeating: "x", count: 65)), "other")
    }

    /// The value of the series whose name and labels are exactly `series`.
    static func value(_ scrape: String, _ series: String) -> Double? {
        for line in scrape.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }
}
