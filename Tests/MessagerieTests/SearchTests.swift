import Foundation
import XCTest

@testable import Gateway

/// `searchMessages`: words through the blind index (case and accents folded, a phrase needs all
/// its words), sender, recipient, conversation and dates in any combination, newest first, only
/// over what the viewer may read.
final class SearchTests: XCTestCase {
    static let query = """
        query($f: MessageSearchInput!, $n: Int, $a: String) {
          searchMessages(filter: $f, first: $n, after: $a) {
            edges { cursor node { id text createdAt sender { id } conversation { id } } }
            pageInfo { hasNextPage hasPreviousPage endCursor }
          }
        }
        """

    /// Texts found by `viewer` with `filter`, newest first (one page of up to 100).
    private static func found(
        _ gw: GatewayClient, _ viewer: SignedIn, _ filter: [String: Any], file: StaticString = #filePath, line: UInt = #line
    ) async throws -> [String] {
        let reply = try await gw.call(viewer, query, ["f": filter, "n": 100])
        XCTAssertNil(reply.firstError, "\(filter): \(reply.text)", file: file, line: line)
        return (reply.value("searchMessages.edges") as? [[String: Any]] ?? []).compactMap { ($0["node"] as? [String: Any])?["text"] as? String }
    }

    /// A cursor is looked up among the messages the viewer may read: one taken from a message of
    /// someone else's conversation gives an empty page, as an unknown one does, instead of the
    /// viewer's own messages older than it (which would tell when it was sent).
    func testACursorOfAnUnreadableMessageGivesNothing() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(4)
            let (ada, bola, chidi, dayo) = (users[0], users[1], users[2], users[3])
            try await gw.send(chidi, to: dayo, text: "chidi's own, older")
            let foreign = try await gw.send(ada, to: bola, text: "private")
            let foreignId = try XCTUnwrap(foreign["id"] as? String)
            try await gw.send(chidi, to: dayo, text: "chidi's own, newer")
            func page(_ cursorId: String) async throws -> [Any]? {
                let cursor = Data("m|\(cursorId)".utf8).base64EncodedString()
                    .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
                let reply = try await gw.call(chidi, Self.query, ["f": [String: Any](), "n": 10, "a": cursor])
                XCTAssertNil(reply.firstError, reply.text)
                return reply.value("searchMessages.edges") as? [Any]
            }
            let viaForeign = try await page(foreignId)
            XCTAssertEqual(viaForeign?.count, 0, "\(viaForeign ?? [])")
            let viaUnknown = try await page(UUID().uuidString)
            XCTAssertEqual(viaUnknown?.count, 0)
            // The same cursor works for those who may read the message.
            let own = try await Self.cursor(of: foreignId, gw, bola)
            let reply = try await gw.call(bola, Self.query, ["f": [String: Any](), "n": 10, "a": try XCTUnwrap(own)])
            XCTAssertNil(reply.firstError, reply.text)
        }
    }

    private static func cursor(of id: String, _ gw: GatewayClient, _ viewer: SignedIn) async throws -> String? {
        let reply = try await gw.call(viewer, query, ["f": [String: Any](), "n": 100])
        let edges = reply.value("searchMessages.edges") as? [[String: Any]] ?? []
        return edges.first { ($0["node"] as? [String: Any])?["id"] as? String == id }?["cursor"] as? String
    }

    private struct World {
        let ada: SignedIn, bola: SignedIn, chidi: SignedIn, dayo: SignedIn
        let adaBola: String, adaChidi: String, group: String
        /// createdAt of each message by text.
        let times: [String: String]
    }

    /// Ada, Bola and Chidi talk (two direct conversations and a group); Dayo talks to Bola alone.
    private static func world(_ gw: GatewayClient) async throws -> World {
        let users = try await gw.signInUsers(4)
        let (ada, bola, chidi, dayo) = (users[0], users[1], users[2], users[3])
        var times: [String: String] = [:]
        func send(_ from: SignedIn, to: SignedIn? = nil, in conversation: String? = nil, _ text: String) async throws -> String {
            let sent = try await gw.send(from, to: to, in: conversation, text: text)
            times[text] = sent["createdAt"] as? String
            return try XCTUnwrap((sent["conversation"] as? [String: Any])?["id"] as? String)
        }
        let adaBola = try await send(ada, to: bola, "Le café est très bon")
        _ = try await send(bola, to: ada, "CAFE au lait, s'il te plaît")
        _ = try await send(ada, to: bola, "Du thé vert plutôt")
        let adaChidi = try await send(chidi, to: ada, "Un café noir, bon et fort")
        let group = try await gw.createGroup(ada, title: "Réunion", members: [bola, chidi])
        _ = try await send(bola, in: group, "Réunion demain: apportez le Café")
        _ = try await send(chidi, in: group, "Œuvre complète, naïve façade")
        _ = try await send(dayo, to: bola, "café secret entre nous")
        return World(ada: ada, bola: bola, chidi: chidi, dayo: dayo, adaBola: adaBola, adaChidi: adaChidi, group: group, times: times)
    }

    func testWordsMatchWhateverTheCaseAndAccentsNewestFirst() async throws {
        try await withGateway { gw in
            let w = try await Self.world(gw)
            let cafe = ["Réunion demain: apportez le Café", "Un café noir, bon et fort", "CAFE au lait, s'il te plaît", "Le café est très bon"]
            for spelling in ["cafe", "CAFÉ", "Café", "  café!  "] {
                let got = try await Self.found(gw, w.ada, ["text": spelling])
                XCTAssertEqual(got, cafe, spelling)
            }
            var got = try await Self.found(gw, w.ada, ["text": "tres"])
            XCTAssertEqual(got, ["Le café est très bon"])
            got = try await Self.found(gw, w.chidi, ["text": "oeuvre NAIVE facade"])
            XCTAssertEqual(got, ["Œuvre complète, naïve façade"], "ligatures and cedillas fold too")
            got = try await Self.found(gw, w.ada, ["text": "caf"])
            XCTAssertEqual(got, [], "whole words only")
        }
    }

    func testAPhraseMatchesMessagesWithAllItsWordsInAnyOrder() async throws {
        try await withGateway { gw in
            let w = try await Self.world(gw)
            var got = try await Self.found(gw, w.ada, ["text": "café bon"])
            XCTAssertEqual(got, ["Un café noir, bon et fort", "Le café est très bon"])
            got = try await Self.found(gw, w.ada, ["text": "BON, café."])
            XCTAssertEqual(got, ["Un café noir, bon et fort", "Le café est très bon"], "order and punctuation do not matter")
            got = try await Self.found(gw, w.ada, ["text": "café bon noir"])
            XCTAssertEqual(got, ["Un café noir, bon et fort"])
            got = try await Self.found(gw, w.ada, ["text": "café licorne"])
            XCTAssertEqual(got, [], "every word must be there")
        }
    }

    func testOnlyMessagesTheViewerMayReadAreFound() async throws {
        try await withGateway { gw in
            let w = try await Self.world(gw)
            var got = try await Self.found(gw, w.ada, ["text": "secret"])
            XCTAssertEqual(got, [], "Dayo and Bola's conversation is not Ada's")
            got = try await Self.found(gw, w.bola, ["text": "secret"])
            XCTAssertEqual(got, ["café secret entre nous"])
            got = try await Self.found(gw, w.dayo, ["text": "café"])
            XCTAssertEqual(got, ["café secret entre nous"])
            got = try await Self.found(gw, w.ada, ["conversationId": UUID().uuidString])
            XCTAssertEqual(got, [])
            // Naming someone else's conversation finds nothing rather than failing: no existence leak.
            let dayoConversation = try await gw.harness.column(
                "SELECT conversation_id::text FROM conversation_members WHERE user_id = '\(w.dayo.userId)'")
            got = try await Self.found(gw, w.ada, ["conversationId": try XCTUnwrap(dayoConversation.first ?? nil)])
            XCTAssertEqual(got, [])
            got = try await Self.found(gw, w.ada, ["senderId": w.dayo.userId])
            XCTAssertEqual(got, [])
        }
    }

    func testFiltersCombine() async throws {
        try await withGateway { gw in
            let w = try await Self.world(gw)
            var got = try await Self.found(gw, w.ada, ["senderId": w.bola.userId])
            XCTAssertEqual(got, ["Réunion demain: apportez le Café", "CAFE au lait, s'il te plaît"])
            got = try await Self.found(gw, w.ada, ["senderId": w.bola.userId, "text": "lait"])
            XCTAssertEqual(got, ["CAFE au lait, s'il te plaît"])
            got = try await Self.found(gw, w.ada, ["conversationId": w.group])
            XCTAssertEqual(got, ["Œuvre complète, naïve façade", "Réunion demain: apportez le Café"], "system messages are not search results")
            got = try await Self.found(gw, w.ada, ["conversationId": w.group, "text": "cafe"])
            XCTAssertEqual(got, ["Réunion demain: apportez le Café"])
            got = try await Self.found(gw, w.ada, ["conversationId": w.adaBola, "senderId": w.ada.userId])
            XCTAssertEqual(got, ["Du thé vert plutôt", "Le café est très bon"])
            // Recipient: messages Chidi received (sent by others where Chidi was a member).
            got = try await Self.found(gw, w.ada, ["recipientId": w.chidi.userId])
            XCTAssertEqual(got, ["Réunion demain: apportez le Café"])
            got = try await Self.found(gw, w.ada, ["recipientId": w.ada.userId, "text": "café"])
            XCTAssertEqual(got, ["Réunion demain: apportez le Café", "Un café noir, bon et fort", "CAFE au lait, s'il te plaît"])
            got = try await Self.found(gw, w.ada, ["recipientId": w.bola.userId, "senderId": w.ada.userId])
            XCTAssertEqual(got, ["Du thé vert plutôt", "Le café est très bon"])

            // Dates, inclusive at both ends.
            let from = try XCTUnwrap(w.times["Du thé vert plutôt"])
            let to = try XCTUnwrap(w.times["Réunion demain: apportez le Café"])
            got = try await Self.found(gw, w.ada, ["from": from, "to": to])
            XCTAssertEqual(got, ["Réunion demain: apportez le Café", "Un café noir, bon et fort", "Du thé vert plutôt"])
            got = try await Self.found(gw, w.ada, ["from": from, "to": to, "text": "café", "senderId": w.chidi.userId])
            XCTAssertEqual(got, ["Un café noir, bon et fort"])
            got = try await Self.found(gw, w.ada, ["from": from])
            XCTAssertEqual(got.count, 4)
            got = try await Self.found(gw, w.ada, ["to": from])
            XCTAssertEqual(got, ["Du thé vert plutôt", "CAFE au lait, s'il te plaît", "Le café est très bon"])
            got = try await Self.found(gw, w.ada, [:])
            XCTAssertEqual(got.count, 6, "no filter: everything Ada may read")
        }
    }

    /// A createdAt read from the API, given back as both bounds, finds its message: the
    /// milliseconds survive the round trip (half of them used to lose one) and `to` covers the
    /// microseconds the API does not show.
    func testEachMessageIsFoundWithItsOwnCreatedAtAsBothBounds() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(2)
            var sent: [(id: String, at: String)] = []
            for index in 1...20 {
                let message = try await gw.send(users[0], to: users[1], text: "tick \(index)")
                sent.append((try XCTUnwrap(message["id"] as? String), try XCTUnwrap(message["createdAt"] as? String)))
            }
            for message in sent {
                let reply = try await gw.call(users[1], Self.query, ["f": ["from": message.at, "to": message.at], "n": 10])
                XCTAssertNil(reply.firstError, reply.text)
                let ids = (reply.value("searchMessages.edges") as? [[String: Any]] ?? []).compactMap { ($0["node"] as? [String: Any])?["id"] as? String }
                XCTAssertTrue(ids.contains(message.id), "created at \(message.at): \(reply.text)")
            }
        }
    }

    func testPagesOfResultsHaveNoGapsOrRepeats() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(2)
            var sent: [String] = []
            for index in 1...11 {
                let message = try await gw.send(users[index % 2], to: users[(index + 1) % 2], text: "page word \(index)")
                sent.append(try XCTUnwrap(message["id"] as? String))
            }
            var seen: [String] = []
            var after: String?
            var pages = 0
            repeat {
                var variables: [String: Any] = ["f": ["text": "word page"], "n": 3]
                if let after { variables["a"] = after }
                let reply = try await gw.call(users[0], Self.query, variables)
                XCTAssertNil(reply.firstError, reply.text)
                pages += 1
                seen += (reply.value("searchMessages.edges") as? [[String: Any]] ?? []).compactMap { ($0["node"] as? [String: Any])?["id"] as? String }
                XCTAssertEqual(reply.value("searchMessages.pageInfo.hasPreviousPage") as? Bool, after != nil)
                after = reply.value("searchMessages.pageInfo.hasNextPage") as? Bool == true ? reply.string("searchMessages.pageInfo.endCursor") : nil
            } while after != nil
            XCTAssertEqual(pages, 4)
            XCTAssertEqual(seen, sent.reversed(), "newest first, each once")
        }
    }

    func testRefusedSearches() async throws {
        try await withGateway { gw in
            let w = try await Self.world(gw)
            assertCode(try await gw.call(w.ada, Self.query, ["f": ["text": "!!! ?"], "n": 5]), "BAD_USER_INPUT", "no words")
            let from = try XCTUnwrap(w.times["Du thé vert plutôt"])
            let to = try XCTUnwrap(w.times["Le café est très bon"])
            assertCode(try await gw.call(w.ada, Self.query, ["f": ["from": from, "to": to], "n": 5]), "BAD_USER_INPUT", "from after to")
            assertCode(try await gw.call(w.ada, Self.query, ["f": ["text": "café"], "n": 5, "a": "bogus"]), "BAD_USER_INPUT", "bad cursor")
            assertCode(try await gw.call(w.ada, "query($n: Int) { searchMessages(filter: { text: \"café\" }, first: $n) { edges { cursor } } }", ["n": 101]),
                       "BAD_USER_INPUT", "page too large")
            let wrongDate = try await gw.call(w.ada, Self.query, ["f": ["from": "yesterday"], "n": 5])
            XCTAssertNotNil(wrongDate.firstError, "a date that is not RFC 3339: \(wrongDate.text)")
            assertCode(try await gw.call(nil, Self.query, ["f": ["text": "café"], "n": 5]), "UNAUTHENTICATED")
        }
    }
}
