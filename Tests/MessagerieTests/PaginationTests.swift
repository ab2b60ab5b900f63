import Foundation
import XCTest

@testable import Gateway

/// `messages` as a Relay connection: forward and backward, no gaps, no repeats, stable under
/// new messages arriving while someone scrolls.
final class PaginationTests: XCTestCase {
    private struct Page {
        let ids: [String]
        let texts: [String]
        let hasNext: Bool
        let hasPrevious: Bool
        let start: String?
        let end: String?
    }

    private static func page(
        _ gw: GatewayClient, _ user: SignedIn, _ conversation: String, first: Int? = nil, after: String? = nil, last: Int? = nil,
        before: String? = nil, file: StaticString = #filePath, line: UInt = #line
    ) async throws -> Page {
        let reply = try await gw.messagesPage(user, conversation, first: first, after: after, last: last, before: before)
        XCTAssertNil(reply.firstError, reply.text, file: file, line: line)
        let edges = reply.value("messages.edges") as? [[String: Any]] ?? []
        let nodes = edges.compactMap { $0["node"] as? [String: Any] }
        // Each edge's cursor is its node's cursor.
        XCTAssertEqual(edges.map { $0["cursor"] as? String }, nodes.map { $0["cursor"] as? String }, file: file, line: line)
        return Page(
            ids: nodes.compactMap { $0["id"] as? String }, texts: nodes.compactMap { $0["text"] as? String },
            hasNext: reply.value("messages.pageInfo.hasNextPage") as? Bool ?? false,
            hasPrevious: reply.value("messages.pageInfo.hasPreviousPage") as? Bool ?? false,
            start: reply.string("messages.pageInfo.startCursor"), end: reply.string("messages.pageInfo.endCursor"))
    }

    /// A direct conversation with `count` messages "m1"… in order.
    private static func conversation(_ gw: GatewayClient, count: Int) async throws -> (SignedIn, SignedIn, String, [String]) {
        let users = try await gw.signInUsers(2)
        var conversation = ""
        var ids: [String] = []
        for index in 1...count {
            let sent = try await gw.send(users[index % 2], to: users[(index + 1) % 2], text: "m\(index)")
            conversation = try XCTUnwrap((sent["conversation"] as? [String: Any])?["id"] as? String)
            ids.append(try XCTUnwrap(sent["id"] as? String))
        }
        return (users[0], users[1], conversation, ids)
    }

    func testForwardWalkHasNoGapsOrRepeats() async throws {
        try await withGateway { gw in
            let (ada, _, conversation, ids) = try await Self.conversation(gw, count: 23)
            var seen: [String] = []
            var after: String?
            var pages = 0
            while true {
                let page = try await Self.page(gw, ada, conversation, first: 5, after: after)
                pages += 1
                seen += page.ids
                XCTAssertEqual(page.hasPrevious, after != nil, "page \(pages)")
                XCTAssertEqual(page.hasNext, seen.count < ids.count, "page \(pages)")
                guard page.hasNext else { break }
                after = page.end
            }
            XCTAssertEqual(pages, 5)
            XCTAssertEqual(seen, ids)
        }
    }

    func testBackwardWalkFromTheNewestHasNoGapsOrRepeats() async throws {
        try await withGateway { gw in
            let (ada, _, conversation, ids) = try await Self.conversation(gw, count: 23)
            var seen: [String] = []
            var before: String?
            var first = true
            while true {
                let page = try await Self.page(gw, ada, conversation, last: 5, before: before)
                XCTAssertEqual(page.ids, ids.filter(page.ids.contains), "each page is in ascending order")
                seen = page.ids + seen
                XCTAssertEqual(page.hasNext, !first, "only a page before the newest has something after it")
                XCTAssertEqual(page.hasPrevious, seen.count < ids.count)
                first = false
                guard page.hasPrevious else { break }
                before = page.start
            }
            XCTAssertEqual(seen, ids)

            let newest = try await Self.page(gw, ada, conversation, last: 3)
            XCTAssertEqual(newest.texts, ["m21", "m22", "m23"])
        }
    }

    func testBothDirectionsMeetAroundAMiddleCursor() async throws {
        try await withGateway { gw in
            let (ada, bola, conversation, ids) = try await Self.conversation(gw, count: 12)
            let head = try await Self.page(gw, ada, conversation, first: 6)
            let middle = try XCTUnwrap(head.end)
            let forward = try await Self.page(gw, bola, conversation, first: 4, after: middle)
            XCTAssertEqual(forward.ids, Array(ids[6..<10]))
            XCTAssertTrue(forward.hasNext)
            XCTAssertTrue(forward.hasPrevious)
            let back = try await Self.page(gw, bola, conversation, last: 4, before: forward.start)
            XCTAssertEqual(back.ids, Array(ids[2..<6]))
            XCTAssertTrue(back.hasNext)
            XCTAssertTrue(back.hasPrevious)
            // `after` and `before` together: the window between two cursors.
            let between = try await Self.page(gw, ada, conversation, first: 10, after: back.start, before: forward.end)
            XCTAssertEqual(between.ids, Array(ids[3..<9]))
            let empty = try await Self.page(gw, ada, conversation, first: 0)
            XCTAssertEqual(empty.ids, [])
            XCTAssertTrue(empty.hasNext)
        }
    }

    func testNewMessagesArrivingWhileScrollingBackDoNotShiftPages() async throws {
        try await withGateway { gw in
            let (ada, bola, conversation, ids) = try await Self.conversation(gw, count: 15)
            var seen: [String] = []
            var page = try await Self.page(gw, ada, conversation, last: 4)
            seen = page.ids
            var arrived: [String] = []
            while page.hasPrevious {
                // Someone keeps writing while Ada scrolls up.
                let sent = try await gw.send(bola, in: conversation, text: "live \(arrived.count)")
                arrived.append(try XCTUnwrap(sent["id"] as? String))
                page = try await Self.page(gw, ada, conversation, last: 4, before: page.start)
                seen = page.ids + seen
            }
            XCTAssertEqual(seen, ids, "exactly the messages that were there, once each")
            // Catching up forward from the newest one seen gives exactly what arrived meanwhile.
            let newestSeen = try await Self.cursor(gw, ada, conversation, of: try XCTUnwrap(ids.last))
            let catchUp = try await Self.page(gw, ada, conversation, first: 50, after: try XCTUnwrap(newestSeen))
            XCTAssertEqual(catchUp.ids, arrived)
        }
    }

    /// The cursor of a message, as its `cursor` field gives it.
    private static func cursor(_ gw: GatewayClient, _ user: SignedIn, _ conversation: String, of id: String) async throws -> String? {
        try await gw.allMessages(user, conversation).first { $0["id"] as? String == id }?["cursor"] as? String
    }

    func testRefusedPageRequests() async throws {
        try await withGateway { gw in
            let (ada, _, conversation, _) = try await Self.conversation(gw, count: 2)
            let minimal = "query($c: ID!, $f: Int, $l: Int, $a: String, $b: String) { messages(conversationId: $c, first: $f, last: $l, after: $a, before: $b) { edges { cursor } } }"
            assertCode(try await gw.call(ada, minimal, ["c": conversation, "f": 2, "l": 2]), "BAD_USER_INPUT", "first and last")
            assertCode(try await gw.call(ada, minimal, ["c": conversation, "f": -1]), "BAD_USER_INPUT", "negative first")
            assertCode(try await gw.call(ada, minimal, ["c": conversation, "l": 101]), "BAD_USER_INPUT", "last over 100")
            assertCode(try await gw.call(ada, minimal, ["c": conversation, "f": 2, "a": "not a cursor"]), "BAD_USER_INPUT", "garbage cursor")
            let conversationCursor = base64URLEncode(Data("c|\(UUID().uuidString)".utf8))
            assertCode(try await gw.call(ada, minimal, ["c": conversation, "f": 2, "a": conversationCursor]), "BAD_USER_INPUT",
                       "a cursor of another list")
        }
    }
}
