import Foundation
import Resolvers
import XCTest

@testable import Gateway

/// Message text is sealed before it reaches PostgreSQL; keys rotate; altered rows fail loudly.
final class EncryptionAtRestTests: XCTestCase {
    /// Every row of every table of the test database, as text (bytea shows as `\x` hex).
    private static func wholeDatabase(_ harness: GatewayHarness) async throws -> String {
        let tables = try await harness.column(
            "SELECT quote_ident(table_name) FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")
        XCTAssertTrue(tables.contains("messages"), "\(tables)")
        var dump = ""
        for case let table? in tables {
            dump += try await harness.column("SELECT t::text FROM \(table) t").compactMap { $0 }.joined(separator: "\n") + "\n"
        }
        return dump
    }

    private static func hex(_ text: String) -> String { text.utf8.map { String(format: "%02x", $0) }.joined() }

    func testNoPlaintextInAnyTable() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(3)
            let (ada, bola, chidi) = (users[0], users[1], users[2])
            let secrets = ["Zanzibarquokka", "Ouagadougou-pelican", "Crème brûlée à minuit"]
            let first = try await gw.send(ada, to: bola, text: "meet at \(secrets[0]) tonight", clientMessageId: "enc-1")
            let group = try await gw.createGroup(ada, title: "Sealed", members: [bola, chidi])
            let sent = try await gw.send(bola, in: group, text: secrets[1])
            try await gw.ok(bola, "mutation($id: ID!, $t: String!) { editMessage(id: $id, text: $t) { id } }",
                            ["id": try XCTUnwrap(sent["id"] as? String), "t": "edited: \(secrets[2])"], at: "editMessage")
            try await gw.ok(chidi, "mutation($m: ID!) { addReaction(messageId: $m, emoji: \"🔒\") { id } }",
                            ["m": try XCTUnwrap(sent["id"] as? String)], at: "addReaction")
            try await gw.ok(bola, "mutation($c: ID!, $m: ID!) { markRead(conversationId: $c, upToMessageId: $m) }",
                            ["c": try XCTUnwrap((first["conversation"] as? [String: Any])?["id"] as? String), "m": try XCTUnwrap(first["id"] as? String)],
                            at: "markRead")

            // Readable through the API…
            let got1 = texts(try await gw.allMessages(chidi, group))
            XCTAssertEqual(got1, ["edited: \(secrets[2])"])
            // …and nowhere in the tables, neither as text nor as hex bytes, nor any of its words.
            let dump = try await Self.wholeDatabase(gw.harness)
            XCTAssertFalse(dump.isEmpty)
            let words = secrets.flatMap { BlindIndex.words($0) } + secrets + ["tonight", "edited", "minuit"]
            for word in words where word.count >= 5 {
                XCTAssertFalse(dump.localizedCaseInsensitiveContains(word), "\(word) appears in the database")
                XCTAssertFalse(dump.contains(Self.hex(word)), "\(word) appears in the database as bytes")
                XCTAssertFalse(dump.contains(Self.hex(word.lowercased())), "\(word) appears in the database as bytes")
            }
            let keyIds = try await gw.harness.column("SELECT DISTINCT body_key_id FROM messages WHERE kind = 'USER'")
            XCTAssertEqual(keyIds, ["k1"], "each ciphertext names its key")
        }
    }

    func testATamperedOrMovedCiphertextIsAnErrorNotGarbage() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(2)
            let (ada, bola) = (users[0], users[1])
            let one = try await gw.send(ada, to: bola, text: "first sealed text")
            let two = try await gw.send(ada, to: bola, text: "second sealed text")
            let conversation = try XCTUnwrap((one["conversation"] as? [String: Any])?["id"] as? String)
            let (oneId, twoId) = (try XCTUnwrap(one["id"] as? String), try XCTUnwrap(two["id"] as? String))
            let single = "query($c: ID!, $n: Int) { messages(conversationId: $c, first: $n) { edges { node { id text } } } }"

            // One flipped bit in the ciphertext of the first message.
            try await gw.harness.execute("UPDATE messages SET body = set_byte(body, 20, get_byte(body, 20) # 1) WHERE id = '\(oneId)'")
            var reply = try await gw.call(bola, single, ["c": conversation, "n": 1])
            assertCode(reply, "INTERNAL", "an altered ciphertext")
            XCTAssertFalse(reply.text.contains("first sealed"), reply.text)
            XCTAssertFalse(reply.text.contains("k1"), "no internals in the answer: \(reply.text)")
            XCTAssertFalse(reply.text.localizedCaseInsensitiveContains("AES"), "no internals in the answer: \(reply.text)")

            // The second message's ciphertext pasted onto the first row: valid bytes, wrong row.
            try await gw.harness.execute("UPDATE messages SET body = (SELECT body FROM messages WHERE id = '\(twoId)') WHERE id = '\(oneId)'")
            reply = try await gw.call(bola, single, ["c": conversation, "n": 1])
            assertCode(reply, "INTERNAL", "a ciphertext moved from another row")
            XCTAssertFalse(reply.text.contains("second sealed"), reply.text)

            // Truncated, and under a key id nobody configured.
            try await gw.harness.execute("UPDATE messages SET body = substring(body from 1 for 10) WHERE id = '\(oneId)'")
            assertCode(try await gw.call(bola, single, ["c": conversation, "n": 1]), "INTERNAL", "a truncated ciphertext")
            try await gw.harness.execute("UPDATE messages SET body_key_id = 'k9' WHERE id = '\(twoId)'")
            let search = try await gw.call(bola, "{ searchMessages(filter: { text: \"second\" }) { edges { node { text } } } }")
            assertCode(search, "INTERNAL", "an unknown key id")
        }
    }

    /// `messagerie keys rotate`, run as operators run it, against the test database.
    private static func rotate(_ harness: GatewayHarness, keys: String, batchSize: Int) async throws -> String {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("messagerie").path
        let path = FileManager.default.isExecutableFile(atPath: binary) ? binary : GatewayHarness.packageRoot + "/.build/debug/messagerie"
        var environment = GatewayHarness.environment(endpoint: harness.endpoint, termiiURL: harness.termii.baseURL)
        environment["MESSAGE_KEYS"] = keys
        environment["LOG_LEVEL"] = "error"
        let result = try await ChildProcess.run(
            [path, "keys", "rotate", "--batch-size", String(batchSize), "--env-file", "/nonexistent/.env"],
            environment: environment, directory: GatewayHarness.packageRoot, mergeOutput: true, timeout: .seconds(120))
        let output = String(decoding: result.stdout, as: UTF8.self)
        XCTAssertEqual(result.status, 0, "keys rotate failed: \(output)")
        return output
    }

    /// The same database and people, with another MESSAGE_KEYS.
    private static func harness(_ base: GatewayHarness, keys: String) throws -> GatewayHarness {
        var environment = GatewayHarness.environment(endpoint: base.endpoint, termiiURL: base.termii.baseURL)
        environment["MESSAGE_KEYS"] = keys
        return GatewayHarness(endpoint: base.endpoint, termii: base.termii, termiiMode: base.termiiMode,
                              settings: try Settings(values: environment), logger: base.logger)
    }

    func testKeyRotationReSealsEveryRowAndKeepsEverythingReadable() async throws {
        let base = try await GatewayHarness.make()
        do {
            let k1 = GatewayHarness.messageKeys
            let k2 = MessageKeyring.generateSetting(id: "k2")
            let k2Only = k2

            // Five messages under k1.
            let (users, conversation, group) = try await base.withApp { gw in
                let users = try await gw.signInUsers(3)
                for index in 1...3 { try await gw.send(users[0], to: users[1], text: "old direct \(index)") }
                let group = try await gw.createGroup(users[0], title: "Rotation", members: [users[1], users[2]])
                try await gw.send(users[2], in: group, text: "old group one")
                let last = try await gw.send(users[1], in: group, text: "old group two")
                let direct = try await gw.allMessages(users[0], group)
                XCTAssertEqual(texts(direct), ["old group one", "old group two"])
                XCTAssertNotNil(last["id"])
                let edges = try await gw.ok(users[0], "{ conversations(first: 5) { edges { node { id kind } } } }", at: "conversations.edges")
                let conversation = try XCTUnwrap(edges as? [[String: Any]])
                    .compactMap { $0["node"] as? [String: Any] }.first { $0["kind"] as? String == "DIRECT" }?["id"] as? String
                return (users, try XCTUnwrap(conversation), group)
            }
            let before = try await base.column("SELECT body_key_id FROM messages WHERE body IS NOT NULL")
            XCTAssertEqual(before, Array(repeating: "k1", count: 5))

            // k2 becomes active: old rows still open with k1, new ones are sealed with k2.
            let both = try Self.harness(base, keys: "\(k1),*\(k2)")
            try await both.withApp { gw in
                try await gw.send(users[0], in: conversation, text: "new under k2")
                let got2 = texts(try await gw.allMessages(users[1], conversation))
                XCTAssertEqual(got2, ["old direct 1", "old direct 2", "old direct 3", "new under k2"])
            }
            let mixed = try await base.column("SELECT body_key_id || ':' || count(*) FROM messages WHERE body IS NOT NULL GROUP BY body_key_id ORDER BY body_key_id")
            XCTAssertEqual(mixed, ["k1:5", "k2:1"])

            // The rotation, in batches of two, then again (nothing left: it resumes from what remains).
            let output = try await Self.rotate(base, keys: "\(k1),*\(k2)", batchSize: 2)
            XCTAssertTrue(output.contains("5 messages to re-seal"), output)
            XCTAssertTrue(output.contains("re-sealed 2") && output.contains("re-sealed 4") && output.contains("re-sealed 5"), output)
            let after = try await base.column("SELECT DISTINCT body_key_id FROM messages WHERE body IS NOT NULL")
            XCTAssertEqual(after, ["k2"])
            let again = try await Self.rotate(base, keys: "\(k1),*\(k2)", batchSize: 2)
            XCTAssertTrue(again.contains("0 messages to re-seal"), again)

            let logged = try await base.column("SELECT details->>'resealed' FROM activity_log WHERE kind = 'key_rotation' ORDER BY id")
            XCTAssertEqual(logged, ["5", "0"], "each rotation is in the activity log")

            // Without k1 at all, everything still opens: every row really is under k2 now; and
            // search (whose index key does not rotate) still finds old words.
            let only = try Self.harness(base, keys: k2Only)
            try await only.withApp { gw in
                let got3 = texts(try await gw.allMessages(users[1], conversation))
                XCTAssertEqual(got3, ["old direct 1", "old direct 2", "old direct 3", "new under k2"])
                let got4 = texts(try await gw.allMessages(users[2], group))
                XCTAssertEqual(got4, ["old group one", "old group two"])
                let found = try await gw.ok(users[2], "{ searchMessages(filter: { text: \"OLD group\" }) { edges { node { text } } } }",
                                            at: "searchMessages.edges") as? [[String: Any]]
                XCTAssertEqual(found?.compactMap { ($0["node"] as? [String: Any])?["text"] as? String }, ["old group two", "old group one"])
            }
            await base.stop()
        } catch {
            await base.stop()
            XCTFail(String(reflecting: error))
            throw error
        }
    }
}
