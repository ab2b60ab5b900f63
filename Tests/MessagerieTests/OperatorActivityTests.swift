import Foundation
import XCTest

@testable import Gateway

/// The operator's view of the activity log: granted from the command line, read through GraphQL
/// and with `messagerie activity`.
final class OperatorActivityTests: XCTestCase {
    private static let logQuery = """
        query($f: ActivityLogFilter, $first: Int, $after: String) {
          activityLog(filter: $f, first: $first, after: $after) {
            edges { cursor node { kind actor { id } target { id } details } }
            pageInfo { hasNextPage endCursor }
          }
        }
        """

    func testGrantAdminThenReadTheWholeLogWithFiltersAndCursors() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(3)
            let (ada, bola, chidi) = (users[0], users[1], users[2])
            let group = try await gw.createGroup(ada, title: "Ops", members: [bola])
            try await gw.ok(ada, "mutation($c: ID!, $u: ID!) { addGroupMembers(conversationId: $c, userIds: [$u]) { id } }",
                            ["c": group, "u": chidi.userId], at: "addGroupMembers")

            let before = try await gw.call(chidi, Self.logQuery)
            XCTAssertEqual(before.errorCode, "FORBIDDEN", before.text)

            let granted = try Self.cli(gw, ["users", "grant-admin", chidi.phone])
            XCTAssertEqual(granted.status, 0, granted.stderr)
            XCTAssertTrue(granted.stdout.contains("is now an operator"), granted.stdout)
            // Chidi's session was checked (and cached) before: the grant reaches the gateway as
            // the trigger's notice, within moments of the command's commit.
            try await eventually("the grant reached the gateway") { try await gw.call(chidi, Self.logQuery).firstError == nil }

            let all = try await gw.ok(chidi, Self.logQuery, ["first": 100], at: "activityLog.edges") as? [[String: Any]] ?? []
            let kinds = all.compactMap { ($0["node"] as? [String: Any])?["kind"] as? String }
            XCTAssertEqual(kinds.first, "operator_granted", "newest first")
            XCTAssertEqual(kinds.filter { $0 == "sign_up" }.count, 3)
            XCTAssertTrue(kinds.contains("group_created") && kinds.contains("members_added"), "\(kinds)")

            let added = try await gw.ok(chidi, Self.logQuery, ["f": ["kind": "members_added"]], at: "activityLog.edges") as? [[String: Any]]
            XCTAssertEqual(added?.count, 1)
            let node = added?.first?["node"] as? [String: Any]
            XCTAssertEqual((node?["actor"] as? [String: Any])?["id"] as? String, ada.userId)

            let bolas = try await gw.ok(chidi, Self.logQuery, ["f": ["userId": bola.userId]], at: "activityLog.edges") as? [[String: Any]]
            XCTAssertFalse(bolas?.isEmpty ?? true)
            for edge in bolas ?? [] {
                let node = edge["node"] as? [String: Any]
                let ids = [(node?["actor"] as? [String: Any])?["id"] as? String, (node?["target"] as? [String: Any])?["id"] as? String]
                XCTAssertTrue(ids.contains(bola.userId), "\(edge)")
            }

            // Page by page with cursors: the same entries, no gaps, no repeats.
            var seen: [String] = []
            var after: String?
            repeat {
                var variables: [String: Any] = ["first": 2]
                if let after { variables["after"] = after }
                let reply = try await gw.call(chidi, Self.logQuery, variables)
                XCTAssertNil(reply.firstError, reply.text)
                let edges = reply.value("activityLog.edges") as? [[String: Any]] ?? []
                seen += edges.compactMap { ($0["node"] as? [String: Any])?["kind"] as? String }
                after = (reply.value("activityLog.pageInfo.hasNextPage") as? Bool) == true ? reply.string("activityLog.pageInfo.endCursor") : nil
            } while after != nil
            XCTAssertEqual(seen, kinds)

            let future = try await gw.call(chidi, Self.logQuery, ["f": ["since": "2999-01-01T00:00:00Z"]])
            XCTAssertEqual((future.value("activityLog.edges") as? [Any])?.count, 0, future.text)
            let badKind = try await gw.call(chidi, Self.logQuery, ["f": ["kind": "nonsense"]])
            XCTAssertEqual(badKind.errorCode, "BAD_USER_INPUT", badKind.text)

            let revoked = try Self.cli(gw, ["users", "revoke-admin", chidi.phone])
            XCTAssertEqual(revoked.status, 0, revoked.stderr)
            try await eventually("the revocation reached the gateway") { try await gw.call(chidi, Self.logQuery).errorCode == "FORBIDDEN" }
        }
    }

    func testActivityCommandPrintsFilteredJSONLinesAndTables() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(2)
            _ = try await gw.createGroup(users[0], title: "Team", members: [users[1]])

            let signUps = try Self.cli(gw, ["activity", "--format", "json", "--kind", "sign_up"])
            XCTAssertEqual(signUps.status, 0, signUps.stderr)
            let lines = signUps.stdout.split(separator: "\n").compactMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
            }
            XCTAssertEqual(lines.count, 2, signUps.stdout)
            XCTAssertTrue(lines.allSatisfy { $0["kind"] as? String == "sign_up" })
            XCTAssertEqual(Set(lines.compactMap { $0["actorId"] as? String }), Set(users.map(\.userId)))

            let mine = try Self.cli(gw, ["activity", "--format", "json", "--user", users[0].phone, "--since", "1h"])
            XCTAssertEqual(mine.status, 0, mine.stderr)
            let mineKinds = mine.stdout.split(separator: "\n").compactMap {
                ((try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any])?["kind"] as? String
            }
            XCTAssertEqual(mineKinds.first, "group_created")
            XCTAssertTrue(mineKinds.contains("sign_up"))

            let limited = try Self.cli(gw, ["activity", "--limit", "1"])
            XCTAssertEqual(limited.status, 0, limited.stderr)
            let rows = limited.stdout.split(separator: "\n")
            XCTAssertEqual(rows.first.map(String.init), ActivityFormat.tableHeader)
            XCTAssertEqual(rows.count, 2, limited.stdout)
            XCTAssertTrue(rows.last?.contains("group_created") == true, limited.stdout)

            let none = try Self.cli(gw, ["activity", "--format", "json", "--since", "2999-01-01T00:00:00Z"])
            XCTAssertEqual(none.status, 0, none.stderr)
            XCTAssertEqual(none.stdout, "")

            let bad = try Self.cli(gw, ["activity", "--since", "yesterday-ish"])
            XCTAssertNotEqual(bad.status, 0)
            XCTAssertTrue(bad.stderr.contains("--since"), bad.stderr)
            let unknown = try Self.cli(gw, ["users", "grant-admin", "+2348099999999"])
            XCTAssertNotEqual(unknown.status, 0)
            XCTAssertTrue(unknown.stderr.contains("No account"), unknown.stderr)
        }
    }

    func testAgesAndTimesForSince() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        XCTAssertEqual(ActivityTime.parse("90m", now: now), now.addingTimeInterval(-5400))
        XCTAssertEqual(ActivityTime.parse("2d", now: now), now.addingTimeInterval(-172_800))
        XCTAssertEqual(ActivityTime.parse("1970-01-12T13:46:40Z", now: now), now)
        XCTAssertNil(ActivityTime.parse("soon", now: now))
        XCTAssertNil(ActivityTime.parse("-3h", now: now))
    }

    /// Runs the built `messagerie` binary against the test's database, from an empty folder so
    /// that no developer `.env` leaks in.
    static func cli(_ gw: GatewayClient, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let binary = GatewayHarness.packageRoot + "/.build/debug/messagerie"
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw PythonError("not built: \(binary)") }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("messagerie-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
            "DATABASE_URL": GatewayHarness.databaseURL(gw.harness.endpoint),
            "MESSAGE_KEYS": GatewayHarness.messageKeys,
            "JWT_SECRET": GatewayHarness.jwtSecret,
            "LOG_LEVEL": "error",
            "OTP_PROVIDER": "console",
        ]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}
