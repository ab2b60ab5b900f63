import Foundation
import XCTest

@testable import Gateway

/// The append-only activity log, as each person reads their own part of it (`myActivity`).
final class ActivityLogTests: XCTestCase {
    func testGroupChangesDeletionsAndSignInsAreRecordedForTheirActor() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(3)
            let (ada, bola, chidi) = (users[0], users[1], users[2])
            let group = try await gw.createGroup(ada, title: "Logged", members: [bola])
            try await gw.ok(ada, GroupRoleTests.update, ["c": group, "t": "Logged too"], at: "updateGroup")
            try await gw.ok(ada, GroupRoleTests.add, ["c": group, "u": [chidi.userId]], at: "addGroupMembers")
            try await gw.ok(ada, GroupRoleTests.remove, ["c": group, "u": chidi.userId], at: "removeGroupMember")
            try await gw.ok(ada, GroupRoleTests.setRole, ["c": group, "u": bola.userId, "r": "ADMIN"], at: "setMemberRole")
            let secret = "the launch code is 0000"
            let sent = try await gw.send(ada, in: group, text: secret)
            let sentId = try XCTUnwrap(sent["id"] as? String)
            try await gw.ok(ada, "mutation($id: ID!) { deleteMessage(id: $id) { id } }", ["id": sentId], at: "deleteMessage")
            try await gw.ok(ada, GroupRoleTests.leave, ["c": group], at: "leaveGroup")

            let entries = try await gw.activity(ada)
            let kinds = entries.compactMap { $0["kind"] as? String }
            XCTAssertEqual(kinds, ["member_left", "role_changed", "message_deleted", "role_changed", "member_removed", "members_added",
                                   "group_updated", "group_created", "sign_up"], "newest first, every change by Ada")
            func entry(_ kind: String) -> [String: Any]? { entries.first { $0["kind"] as? String == kind } }
            XCTAssertEqual((entry("members_added")?["target"] as? [String: Any])?["id"] as? String, chidi.userId)
            XCTAssertEqual((entry("member_removed")?["target"] as? [String: Any])?["id"] as? String, chidi.userId)
            XCTAssertEqual(entry("member_removed")?["conversationId"] as? String, group)
            // The hand-over when Ada, the owner, left names Bola, the admin, as the new owner.
            let handover = try XCTUnwrap(entries.first { $0["kind"] as? String == "role_changed" })
            XCTAssertEqual((handover["target"] as? [String: Any])?["id"] as? String, bola.userId)
            XCTAssertTrue((handover["details"] as? String ?? "").contains("OWNER"), "\(handover)")
            XCTAssertTrue((entry("message_deleted")?["details"] as? String ?? "").contains(sentId))
            for entry in entries { XCTAssertNotNil(parseRFC3339(entry["at"] as? String ?? ""), "\(entry)") }

            // Each person reads only what they did.
            let bolas = try await gw.activity(bola).compactMap { $0["kind"] as? String }
            XCTAssertEqual(bolas, ["sign_up"])

            // No message text anywhere in the log.
            let details = try await gw.harness.column("SELECT details::text FROM activity_log")
            XCTAssertFalse(details.contains { ($0 ?? "").contains("launch") }, "\(details)")

            // Signing in again is recorded as a sign-in.
            _ = try await gw.signIn(bola.phone)
            let again = try await gw.activity(bola).compactMap { $0["kind"] as? String }
            XCTAssertEqual(again, ["sign_in", "sign_up"])
        }
    }

    func testTheLogIsAppendOnlyAndPagesWithoutRepeats() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(2)
            let group = try await gw.createGroup(users[0], title: "Pages", members: [users[1]])
            for index in 1...4 {
                try await gw.ok(users[0], GroupRoleTests.update, ["c": group, "t": "Pages \(index)"], at: "updateGroup")
            }
            let all = try await gw.activity(users[0]).compactMap { $0["id"] as? String }
            XCTAssertEqual(all.count, 6)
            var paged: [String] = []
            var after: String?
            repeat {
                var variables: [String: Any] = ["n": 4]
                if let after { variables["a"] = after }
                let reply = try await gw.call(users[0], "query($n: Int, $a: String) { myActivity(first: $n, after: $a) { edges { node { id } } pageInfo { hasNextPage endCursor } } }", variables)
                XCTAssertNil(reply.firstError, reply.text)
                paged += (reply.value("myActivity.edges") as? [[String: Any]] ?? []).compactMap { ($0["node"] as? [String: Any])?["id"] as? String }
                after = reply.value("myActivity.pageInfo.hasNextPage") as? Bool == true ? reply.string("myActivity.pageInfo.endCursor") : nil
            } while after != nil
            XCTAssertEqual(paged, all)

            do {
                try await gw.harness.execute("UPDATE activity_log SET kind = 'rewritten'")
                XCTFail("an update of the activity log must be refused")
            } catch {
                XCTAssertTrue(String(reflecting: error).contains("append-only"), String(reflecting: error))
            }
            do {
                try await gw.harness.execute("DELETE FROM activity_log")
                XCTFail("a delete from the activity log must be refused")
            } catch {
                XCTAssertTrue(String(reflecting: error).contains("append-only"), String(reflecting: error))
            }
            let count = try await gw.harness.column("SELECT count(*)::text FROM activity_log WHERE kind <> 'rewritten'")
            XCTAssertEqual(count, ["7"], "six of Ada's, one of Bola's, untouched")
            assertCode(try await gw.call(nil, "{ myActivity(first: 5) { edges { node { id } } } }"), "UNAUTHENTICATED")
            assertCode(try await gw.call(users[0], "{ myActivity(first: 5, after: \"junk\") { edges { node { id } } } }"), "BAD_USER_INPUT")
        }
    }
}
