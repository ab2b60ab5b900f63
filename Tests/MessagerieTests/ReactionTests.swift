import Foundation
import XCTest

@testable import Gateway

/// Emoji reactions: validation, one of each emoji per person, summaries per viewer.
final class ReactionTests: XCTestCase {
    static let add = "mutation($m: ID!, $e: String!) { addReaction(messageId: $m, emoji: $e) { id reactions { emoji count reactedByMe } } }"
    static let remove = "mutation($m: ID!, $e: String!) { removeReaction(messageId: $m, emoji: $e) { id reactions { emoji count reactedByMe } } }"

    private static func summaries(_ value: Any?) -> [String] {
        (value as? [[String: Any]] ?? []).map { "\($0["emoji"] as? String ?? "?")x\($0["count"] as? Int ?? -1)\($0["reactedByMe"] as? Bool == true ? "*" : "")" }
    }

    func testSummariesCountEachPersonOncePerEmoji() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(3)
            let (ada, bola, chidi) = (users[0], users[1], users[2])
            let group = try await gw.createGroup(ada, title: "Reacts", members: [bola, chidi])
            let sent = try await gw.send(ada, in: group, text: "party?")
            let id = try XCTUnwrap(sent["id"] as? String)

            var reply = try await gw.ok(bola, Self.add, ["m": id, "e": "👍"], at: "addReaction.reactions")
            XCTAssertEqual(Self.summaries(reply), ["👍x1*"])
            reply = try await gw.ok(bola, Self.add, ["m": id, "e": "👍"], at: "addReaction.reactions")
            XCTAssertEqual(Self.summaries(reply), ["👍x1*"], "the same emoji twice counts once")
            reply = try await gw.ok(chidi, Self.add, ["m": id, "e": "👍"], at: "addReaction.reactions")
            XCTAssertEqual(Self.summaries(reply), ["👍x2*"])
            reply = try await gw.ok(chidi, Self.add, ["m": id, "e": "🎉"], at: "addReaction.reactions")
            XCTAssertEqual(Self.summaries(reply), ["👍x2*", "🎉x1*"], "in the order each emoji was first used")

            // Each viewer sees their own reactedByMe.
            let adaView = try await gw.allMessages(ada, group).last?["reactions"]
            XCTAssertEqual(Self.summaries(adaView), ["👍x2", "🎉x1"])
            let bolaView = try await gw.allMessages(bola, group).last?["reactions"]
            XCTAssertEqual(Self.summaries(bolaView), ["👍x2*", "🎉x1"])

            reply = try await gw.ok(bola, Self.remove, ["m": id, "e": "👍"], at: "removeReaction.reactions")
            XCTAssertEqual(Self.summaries(reply), ["👍x1", "🎉x1"])
            reply = try await gw.ok(bola, Self.remove, ["m": id, "e": "👍"], at: "removeReaction.reactions")
            XCTAssertEqual(Self.summaries(reply), ["👍x1", "🎉x1"], "removing what is not there changes nothing")
            reply = try await gw.ok(chidi, Self.remove, ["m": id, "e": "🎉"], at: "removeReaction.reactions")
            XCTAssertEqual(Self.summaries(reply), ["👍x1*"])
            let rows = try await gw.harness.column("SELECT emoji FROM message_reactions")
            XCTAssertEqual(rows, ["👍"])
        }
    }

    func testConcurrentIdenticalReactionsStoreOneRow() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(2)
            let sent = try await gw.send(users[0], to: users[1], text: "race")
            let id = try XCTUnwrap(sent["id"] as? String)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<6 { group.addTask { try await gw.ok(users[1], Self.add, ["m": id, "e": "❤️"], at: "addReaction") } }
                try await group.waitForAll()
            }
            let rows = try await gw.harness.column("SELECT count(*)::text FROM message_reactions")
            XCTAssertEqual(rows, ["1"])
        }
    }

    /// Reactions racing the message's deletion: whatever order they land in, the tombstone keeps
    /// none, and each reaction either went in before the deletion or was refused as too late.
    func testReactionsRacingADeletionLeaveNoneOnTheTombstone() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(5)
            let author = users[0], others = Array(users[1...])
            let group = try await gw.createGroup(author, title: "Race", members: others)
            for round in 0..<3 {
                let sent = try await gw.send(author, in: group, text: "soon gone \(round)")
                let id = try XCTUnwrap(sent["id"] as? String)
                let codes = try await withThrowingTaskGroup(of: String?.self) { race in
                    for user in others {
                        for emoji in ["👍", "🎉", "❤️", "😂", "🙏", "👀"] {
                            race.addTask { try await gw.call(user, Self.add, ["m": id, "e": emoji]).errorCode }
                        }
                    }
                    race.addTask {
                        try await gw.ok(author, "mutation($id: ID!) { deleteMessage(id: $id) { id } }", ["id": id], at: "deleteMessage")
                        return nil
                    }
                    return try await race.reduce(into: [String?]()) { $0.append($1) }
                }
                XCTAssertEqual(Set(codes.compactMap { $0 }).subtracting(["CONFLICT"]), [], "\(codes)")
                let left = try await gw.harness.column("SELECT count(*)::text FROM message_reactions WHERE message_id = '\(id)'")
                XCTAssertEqual(left, ["0"], "round \(round)")
            }
        }
    }

    func testOnlySingleEmojiAreAccepted() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(2)
            let sent = try await gw.send(users[0], to: users[1], text: "rate me")
            let id = try XCTUnwrap(sent["id"] as? String)
            for emoji in ["👍🏽", "🇳🇬", "👨‍👩‍👧‍👦", "1️⃣", "❤️", "🫠", "☕"] {
                let reply = try await gw.call(users[1], Self.add, ["m": id, "e": emoji])
                XCTAssertNil(reply.firstError, "\(emoji) is one emoji: \(reply.text)")
            }
            for text in ["", " ", "a", "ab", "1", "#", "©", "👍👍", "👍 ", "hello 👍", "<script>", String(repeating: "\u{301}", count: 40), "🇳"] {
                let reply = try await gw.call(users[1], Self.add, ["m": id, "e": text])
                if text == "👍 " {
                    // Surrounding spaces are trimmed: the same emoji as "👍".
                    XCTAssertNil(reply.firstError, reply.text)
                    continue
                }
                assertCode(reply, "BAD_USER_INPUT", "\(text.unicodeScalars.map { String($0.value, radix: 16) }) is not a single emoji")
            }
            let stored = try await gw.harness.column("SELECT count(*)::text FROM message_reactions")
            XCTAssertEqual(stored, ["8"], "seven valid emoji, plus the trimmed thumbs up")
        }
    }

    func testReactionRefusals() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(3)
            let (ada, bola, stranger) = (users[0], users[1], users[2])
            let group = try await gw.createGroup(ada, title: "R", members: [bola])
            let sent = try await gw.send(ada, in: group, text: "hi")
            let id = try XCTUnwrap(sent["id"] as? String)
            let all = try await gw.allMessages(ada, group)
            let system = try XCTUnwrap(all.first?["id"] as? String)

            assertCode(try await gw.call(stranger, Self.add, ["m": id, "e": "👍"]), "NOT_FOUND", "a stranger reacts")
            assertCode(try await gw.call(stranger, Self.remove, ["m": id, "e": "👍"]), "NOT_FOUND", "a stranger unreacts")
            assertCode(try await gw.call(bola, Self.add, ["m": UUID().uuidString, "e": "👍"]), "NOT_FOUND", "unknown message")
            assertCode(try await gw.call(bola, Self.add, ["m": system, "e": "👍"]), "BAD_USER_INPUT", "a system message")
            assertCode(try await gw.call(nil, Self.add, ["m": id, "e": "👍"]), "UNAUTHENTICATED")
            try await gw.ok(ada, "mutation($id: ID!) { deleteMessage(id: $id) { id } }", ["id": id], at: "deleteMessage")
            assertCode(try await gw.call(bola, Self.add, ["m": id, "e": "👍"]), "CONFLICT", "a deleted message")
            let rows = try await gw.harness.column("SELECT count(*)::text FROM message_reactions")
            XCTAssertEqual(rows, ["0"])
        }
    }
}
