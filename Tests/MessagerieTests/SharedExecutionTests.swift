import Foundation
import GraphQL
import NIOConcurrencyHelpers
@testable import Schema
import XCTest

@testable import Gateway
@testable import Resolvers

/// Subscribers with the same viewer-independent document share one execution and one encoded
/// result per event; documents that read the viewer run per subscriber.
final class SharedExecutionTests: XCTestCase {
    static let metricsToken = "scrape-token-shared-0123456789"

    func testSubscribersOfOneDocumentShareEachEventsExecution() async throws {
        try await withGateway(["METRICS_TOKEN": Self.metricsToken], setup: .live) { gw in
            let port = try XCTUnwrap(gw.port)
            let users = try await gw.signInUsers(4)
            let sender = users[0]
            let receivers = Array(users[1...])
            let group = try await gw.createGroup(sender, title: "Shared", members: receivers)
            let count = 3
            let params: [String: Any] = [
                "ws": "ws://127.0.0.1:\(port)/graphql", "http": "http://127.0.0.1:\(port)/graphql",
                "metrics": "http://127.0.0.1:\(port)/metrics", "metricsToken": Self.metricsToken,
                "conversationId": group, "senderToken": sender.accessToken,
                "receiverTokens": receivers.map(\.accessToken), "count": count,
            ]
            let json = String(decoding: try JSONSerialization.data(withJSONObject: params), as: UTF8.self)
            let run = try await runPython(script: "Tests/interop/gql_shared.py", args: [json], timeout: .seconds(120))
            XCTAssertEqual(run.status, 0, "--- stdout\n\(run.stdout)\n--- stderr\n\(run.stderr)")
            let line = try XCTUnwrap(run.stdout.split(separator: "\n").last, run.stderr)
            let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let sent = try XCTUnwrap(report["sent"] as? [String])
            let received = try XCTUnwrap(report["received"] as? [[String: [[String: Any]]]])
            XCTAssertEqual(received.count, receivers.count)

            let first = try XCTUnwrap(received.first?["shared"])
            XCTAssertEqual(first.compactMap { $0["id"] as? String }, sent, "every message, in order")
            XCTAssertEqual(first.compactMap { $0["text"] as? String }, (0..<count).map { "shared \($0)" })
            XCTAssertEqual(first.compactMap { ($0["sender"] as? [String: Any])?["id"] as? String }, Array(repeating: sender.userId, count: count))
            for (index, other) in received.enumerated() {
                let shared = try XCTUnwrap(other["shared"])
                XCTAssertEqual(try Self.canonical(shared), try Self.canonical(first), "receiver \(index) got the same results")
                let perViewer = try XCTUnwrap(other["perViewer"])
                XCTAssertEqual(perViewer.compactMap { $0["id"] as? String }, sent, "receiver \(index), viewer-dependent document")
                XCTAssertEqual(perViewer.compactMap { $0["status"] as? String }.count, count)
            }

            let before = try XCTUnwrap(report["before"] as? [String: Double])
            let after = try XCTUnwrap(report["after"] as? [String: Double])
            func delta(_ key: String) -> Double { (after[key] ?? 0) - (before[key] ?? 0) }
            XCTAssertEqual(delta("shared"), Double(count), "one execution per message for all \(receivers.count) receivers: \(report)")
            XCTAssertEqual(delta("reused"), Double(count * (receivers.count - 1)), "the others reuse it: \(report)")
            XCTAssertEqual(delta("perViewer"), Double(count * receivers.count), "the viewer-dependent document runs per receiver: \(report)")
        }
    }

    // MARK: Which documents may share

    func testEveryFieldReachableFromASubscriptionIsClassified() throws {
        let schema = try MessagerieSchema.build().schema
        var pending: [GraphQLObjectType] = [try XCTUnwrap(schema.subscriptionType)]
        var seen: Set<String> = []
        var unclassified: [String] = []
        while let type = pending.popLast() {
            guard seen.insert(type.name).inserted else { continue }
            for (name, field) in try type.fields() {
                if ViewerIndependence.classification(of: "\(type.name).\(name)") == nil { unclassified.append("\(type.name).\(name)") }
                if let child = getNamedType(type: field.type) as? GraphQLObjectType { pending.append(child) }
            }
        }
        XCTAssertEqual(unclassified, [], "classify these in ViewerIndependence")
        XCTAssertTrue(seen.isSuperset(of: ["Message", "User", "Conversation", "ReactionSummary", "PresenceEvent"]), "\(seen)")
    }

    func testDocumentsThatReadTheViewerAreNotShared() throws {
        let schema = try MessagerieSchema.build().schema
        func holds(_ text: String) throws -> Bool {
            let document = try parse(source: Source(body: text))
            let operation = try XCTUnwrap(DocumentRules.operations(of: document).first)
            return ViewerIndependence.holds(for: operation, fragments: DocumentRules.fragments(of: document), schema: schema)
        }
        XCTAssertTrue(try holds("subscription { messageReceived { id text sender { displayName } __typename } }"))
        XCTAssertTrue(try holds("subscription { reactions { message { id reactions { emoji count } } user { id } emoji action } }"))
        XCTAssertTrue(try holds("subscription { typing { user { displayName } isTyping } }"))
        XCTAssertTrue(try holds("subscription { messageReceived { ...M } } fragment M on Message { id conversation { id title } }"))
        XCTAssertFalse(try holds("subscription { messageReceived { id status } }"), "the sender's aggregate status")
        XCTAssertFalse(try holds("subscription { messageReceived { reactions { reactedByMe } } }"))
        XCTAssertFalse(try holds("subscription { messageReceived { sender { phone } } }"), "a phone number is shown to its owner only")
        XCTAssertFalse(try holds("subscription { messageReceived { replyTo { id } } }"), "a reply's target depends on when I joined")
        XCTAssertFalse(try holds("subscription { messageReceived { ...M } } fragment M on Message { conversation { unreadCount } }"))
        XCTAssertFalse(try holds("subscription { messageReceived { ... on Message { conversation { lastMessage { id } } } } }"))
        XCTAssertFalse(try holds("query { me { id } }"), "only subscriptions share")
    }

    func testIdentityTellsEventsApart() {
        let message = Self.message(seq: 1)
        XCTAssertEqual(ViewerIndependence.identity(of: message), ViewerIndependence.identity(of: Self.message(seq: 1)))
        XCTAssertNotEqual(ViewerIndependence.identity(of: message), ViewerIndependence.identity(of: Self.message(seq: 2)))
        XCTAssertNotEqual(
            ViewerIndependence.identity(of: message),
            ViewerIndependence.identity(of: Self.message(seq: 1, editedAt: Date(timeIntervalSince1970: 5))), "an edit is another event")
        XCTAssertNil(ViewerIndependence.identity(of: "not an event"))
    }

    func testShareKeyIgnoresTheOrderOfVariables() {
        let one = GraphQLEngine.shareKey("s", operation: "S", variables: ["a": "1", "b": "2"])
        let two = GraphQLEngine.shareKey("s", operation: "S", variables: ["b": "2", "a": "1"])
        XCTAssertEqual(one, two)
        XCTAssertNotEqual(one, GraphQLEngine.shareKey("s", operation: "S", variables: ["a": "1", "b": "3"]))
        XCTAssertNotEqual(one, GraphQLEngine.shareKey("s", operation: "T", variables: ["a": "1", "b": "2"]))
    }

    // MARK: The cache of results

    func testConcurrentSubscribersOfOneEventExecuteItOnce() async {
        let cache = SharedExecutions<String>(capacity: 8)
        let runs = NIOLockedValueBox(0)
        let results = await withTaskGroup(of: (String, Bool).self) { group in
            for _ in 0..<20 {
                group.addTask {
                    await cache.payload(for: "doc|event") {
                        runs.withLockedValue { $0 += 1 }
                        try? await Task.sleep(for: .milliseconds(50))
                        return .init(payload: #"{"data":1}"#, failed: false)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(runs.withLockedValue { $0 }, 1)
        XCTAssertEqual(Set(results.map(\.0)), [#"{"data":1}"#])
        XCTAssertEqual(results.filter(\.1).count, 19, "all but the first reuse the result")
    }

    func testAFailedResultIsNotHandedToOthers() async {
        let cache = SharedExecutions<String>(capacity: 8)
        let runs = NIOLockedValueBox(0)
        let execute: @Sendable () async -> SharedOutcome = {
            let n = runs.withLockedValue { $0 += 1; return $0 }
            return .init(payload: "run \(n)", failed: true)
        }
        let first = await cache.payload(for: "k", execute: execute)
        let second = await cache.payload(for: "k", execute: execute)
        XCTAssertEqual(first.payload, "run 1")
        XCTAssertEqual(second.payload, "run 2", "executed again for the second subscriber")
        XCTAssertFalse(second.reused)
    }

    func testTheCacheKeepsOnlyItsCapacity() async {
        let cache = SharedExecutions<String>(capacity: 4)
        for n in 0..<10 {
            _ = await cache.payload(for: "k\(n)") { .init(payload: "\(n)", failed: false) }
        }
        XCTAssertEqual(cache.count, 4)
        let oldest = await cache.payload(for: "k0") { .init(payload: "again", failed: false) }
        XCTAssertEqual(oldest.payload, "again", "an evicted event executes again")
        let newest = await cache.payload(for: "k9") { .init(payload: "never", failed: false) }
        XCTAssertEqual(newest.payload, "9")
        XCTAssertTrue(newest.reused)
    }

    static func canonical(_ value: [[String: Any]]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: value, options: .sortedKeys), as: UTF8.self)
    }

    static func message(seq: Int64, editedAt: Date? = nil) -> Resolvers.Message {
        Resolvers.Message(
            id: UUID(uuidString: "00000000-0000-0000-0000-000000000001")!, conversationId: UUID(), seq: seq, senderId: nil,
            kind: .user, text: "hi", systemEvent: nil, replyToId: nil, clientMessageId: nil,
            createdAt: Date(timeIntervalSince1970: 1), editedAt: editedAt, deletedAt: nil)
    }
}
