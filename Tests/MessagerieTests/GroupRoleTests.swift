import Foundation
import XCTest

@testable import Gateway

/// Groups and their roles: who may do what, and the system message each change leaves.
final class GroupRoleTests: XCTestCase {
    static let update = "mutation($c: ID!, $t: String) { updateGroup(conversationId: $c, title: $t) { id title } }"
    static let add = "mutation($c: ID!, $u: [ID!]!) { addGroupMembers(conversationId: $c, userIds: $u) { id members { user { id } role } } }"
    static let remove = "mutation($c: ID!, $u: ID!) { removeGroupMember(conversationId: $c, userId: $u) { id members { user { id } role } } }"
    static let setRole = "mutation($c: ID!, $u: ID!, $r: MemberRole!) { setMemberRole(conversationId: $c, userId: $u, role: $r) { id members { user { id } role } } }"
    static let leave = "mutation($c: ID!) { leaveGroup(conversationId: $c) }"

    /// Role of each current member, by user id, as `viewer` reads the conversation.
    private static func roles(_ gw: GatewayClient, _ viewer: SignedIn, _ conversation: String) async throws -> [String: String] {
        let members = try await gw.ok(viewer, "query($id: ID!) { conversation(id: $id) { members { user { id } role } } }",
                                      ["id": conversation], at: "conversation.members") as? [[String: Any]] ?? []
        var result: [String: String] = [:]
        for member in members {
            if let id = (member["user"] as? [String: Any])?["id"] as? String { result[id] = member["role"] as? String }
        }
        return result
    }

    /// Someone removed from a group still sees the group in their list, as it was when they
    /// left: its title then and its members then, not a later rename or who joined after. The
    /// same over REST.
    func testARemovedMemberSeesTheGroupAsItWasWhenTheyLeft() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(5)
            let (owner, stays, removed, leavesLater, newcomer) = (users[0], users[1], users[2], users[3], users[4])
            let group = try await gw.createGroup(owner, title: "Before", members: [stays, removed, leavesLater])
            try await gw.ok(owner, Self.update, ["c": group, "t": "At the time"], at: "updateGroup")
            try await gw.ok(owner, Self.remove, ["c": group, "u": removed.userId], at: "removeGroupMember")
            try await gw.ok(owner, Self.update, ["c": group, "t": "Renamed after"], at: "updateGroup")
            try await gw.ok(owner, Self.add, ["c": group, "u": [newcomer.userId]], at: "addGroupMembers")
            try await gw.ok(owner, Self.remove, ["c": group, "u": leavesLater.userId], at: "removeGroupMember")

            let query = "query($c: ID!) { conversation(id: $c) { title members { user { id } } } }"
            let seen = try await gw.call(removed, query, ["c": group])
            XCTAssertNil(seen.firstError, seen.text)
            XCTAssertEqual(seen.string("conversation.title"), "At the time")
            let ids = Set((seen.value("conversation.members") as? [[String: Any]] ?? []).compactMap { ($0["user"] as? [String: Any])?["id"] as? String })
            XCTAssertEqual(ids, Set([owner, stays, removed, leavesLater].map(\.userId)), seen.text)

            let current = try await gw.call(stays, query, ["c": group])
            XCTAssertEqual(current.string("conversation.title"), "Renamed after")
            let currentIds = Set((current.value("conversation.members") as? [[String: Any]] ?? []).compactMap { ($0["user"] as? [String: Any])?["id"] as? String })
            XCTAssertEqual(currentIds, Set([owner, stays, newcomer].map(\.userId)), current.text)

            let rest = try await gw.raw(method: .get, uri: "/api/conversations", headers: [.authorization: "Bearer \(removed.accessToken)"])
            XCTAssertEqual(rest.status, .ok)
            XCTAssertTrue(rest.text.contains("At the time"), rest.text)
            XCTAssertFalse(rest.text.contains("Renamed after"), rest.text)
            XCTAssertFalse(rest.text.contains(newcomer.userId), rest.text)
        }
    }

    func testCreateGroupMakesTheCreatorOwnerAndLeavesASystemMessage() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(3)
            let (ada, bola, chidi) = (users[0], users[1], users[2])
            let reply = try await gw.call(ada, "mutation($i: CreateGroupInput!) { createGroup(input: $i) { \(conversationFields) } }",
                                          ["i": ["title": "  Family  ", "memberIds": [bola.userId, chidi.userId, bola.userId, ada.userId]]])
            XCTAssertNil(reply.firstError, reply.text)
            XCTAssertEqual(reply.string("createGroup.kind"), "GROUP")
            XCTAssertEqual(reply.string("createGroup.title"), "Family", "the title is trimmed")
            let id = try XCTUnwrap(reply.string("createGroup.id"))
            let roles = try await Self.roles(gw, chidi, id)
            XCTAssertEqual(roles, [ada.userId: "OWNER", bola.userId: "MEMBER", chidi.userId: "MEMBER"], "duplicates and the creator are folded")

            let messages = try await gw.allMessages(bola, id)
            XCTAssertEqual(systemEventTypes(messages), ["GROUP_CREATED"])
            let event = try XCTUnwrap(messages.first?["systemEvent"] as? [String: Any])
            XCTAssertEqual((event["actor"] as? [String: Any])?["id"] as? String, ada.userId)
            XCTAssertEqual(Set((event["users"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }), [bola.userId, chidi.userId])
            XCTAssertEqual(event["title"] as? String, "Family")
            XCTAssertTrue(messages.first?["sender"] is NSNull, "system messages have no sender")

            let create = "mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }"
            assertCode(try await gw.call(ada, create, ["i": ["title": "   ", "memberIds": [bola.userId]]]), "BAD_USER_INPUT", "blank title")
            assertCode(try await gw.call(ada, create, ["i": ["title": String(repeating: "t", count: 101), "memberIds": [bola.userId]]]),
                       "BAD_USER_INPUT", "overlong title")
            assertCode(try await gw.call(ada, create, ["i": ["title": "Ghosts", "memberIds": [UUID().uuidString]]]), "NOT_FOUND", "unknown member")
            assertCode(try await gw.call(nil, create, ["i": ["title": "Anon", "memberIds": [bola.userId]]]), "UNAUTHENTICATED")
            let count = try await gw.harness.column("SELECT count(*)::text FROM conversations")
            XCTAssertEqual(count, ["1"], "refused creations leave nothing")
        }
    }

    func testSizeLimitOnCreateAndAdd() async throws {
        try await withGateway(["GROUP_MAX_MEMBERS": "3"]) { gw in
            let users = try await gw.signInUsers(4)
            let create = "mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }"
            assertCode(try await gw.call(users[0], create, ["i": ["title": "Too big", "memberIds": users[1...].map(\.userId)]]),
                       "BAD_USER_INPUT", "four people in a group of at most three")
            let group = try await gw.createGroup(users[0], title: "Small", members: [users[1]])
            try await gw.ok(users[0], Self.add, ["c": group, "u": [users[2].userId]], at: "addGroupMembers")
            assertCode(try await gw.call(users[0], Self.add, ["c": group, "u": [users[3].userId]]), "BAD_USER_INPUT", "the fourth member")
            let roles = try await Self.roles(gw, users[0], group)
            XCTAssertEqual(roles.count, 3)
            // A place freed by someone leaving can be taken again.
            try await gw.ok(users[2], Self.leave, ["c": group], at: "leaveGroup")
            try await gw.ok(users[0], Self.add, ["c": group, "u": [users[3].userId]], at: "addGroupMembers")
        }
    }

    func testOnlyOwnerAndAdminsManageMembersAndOnlyTheOwnerMakesAdmins() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(5)
            let (owner, admin, member, other, newcomer) = (users[0], users[1], users[2], users[3], users[4])
            let group = try await gw.createGroup(owner, title: "Club", members: [admin, member, other])

            // A plain member acts as an admin: every management operation is refused.
            assertCode(try await gw.call(member, Self.update, ["c": group, "t": "Mine"]), "FORBIDDEN", "member renames")
            assertCode(try await gw.call(member, Self.add, ["c": group, "u": [newcomer.userId]]), "FORBIDDEN", "member adds")
            assertCode(try await gw.call(member, Self.remove, ["c": group, "u": other.userId]), "FORBIDDEN", "member removes")
            assertCode(try await gw.call(member, Self.setRole, ["c": group, "u": other.userId, "r": "ADMIN"]), "FORBIDDEN", "member promotes")

            try await gw.ok(owner, Self.setRole, ["c": group, "u": admin.userId, "r": "ADMIN"], at: "setMemberRole")
            var roles = try await Self.roles(gw, member, group)
            XCTAssertEqual(roles[admin.userId], "ADMIN")

            // An admin manages members but not roles, and not the owner.
            assertCode(try await gw.call(admin, Self.setRole, ["c": group, "u": member.userId, "r": "ADMIN"]), "FORBIDDEN", "admin promotes")
            assertCode(try await gw.call(admin, Self.setRole, ["c": group, "u": owner.userId, "r": "MEMBER"]), "FORBIDDEN", "admin demotes owner")
            assertCode(try await gw.call(admin, Self.remove, ["c": group, "u": owner.userId]), "FORBIDDEN", "admin removes the owner")
            let renamed = try await gw.ok(admin, Self.update, ["c": group, "t": "Club 2"], at: "updateGroup.title") as? String
            XCTAssertEqual(renamed, "Club 2")
            try await gw.ok(admin, Self.add, ["c": group, "u": [newcomer.userId]], at: "addGroupMembers")
            try await gw.ok(admin, Self.remove, ["c": group, "u": other.userId], at: "removeGroupMember")

            // Another admin may not remove an admin; the owner may.
            try await gw.ok(owner, Self.setRole, ["c": group, "u": newcomer.userId, "r": "ADMIN"], at: "setMemberRole")
            assertCode(try await gw.call(admin, Self.remove, ["c": group, "u": newcomer.userId]), "FORBIDDEN", "admin removes admin")
            try await gw.ok(owner, Self.setRole, ["c": group, "u": newcomer.userId, "r": "MEMBER"], at: "setMemberRole")

            // Refusals with bad input.
            assertCode(try await gw.call(owner, Self.remove, ["c": group, "u": owner.userId]), "BAD_USER_INPUT", "removing oneself")
            assertCode(try await gw.call(owner, Self.remove, ["c": group, "u": other.userId]), "NOT_FOUND", "removing a former member")
            assertCode(try await gw.call(owner, Self.setRole, ["c": group, "u": owner.userId, "r": "MEMBER"]), "BAD_USER_INPUT", "owner demotes self")
            assertCode(try await gw.call(owner, Self.setRole, ["c": group, "u": other.userId, "r": "ADMIN"]), "NOT_FOUND", "promoting a former member")
            assertCode(try await gw.call(owner, Self.setRole, ["c": group, "u": admin.userId, "r": "KING"]), "BAD_USER_INPUT", "unknown role")
            assertCode(try await gw.call(owner, Self.add, ["c": group, "u": []]), "BAD_USER_INPUT", "nobody to add")
            assertCode(try await gw.call(owner, Self.add, ["c": group, "u": [UUID().uuidString]]), "NOT_FOUND", "unknown user")
            assertCode(try await gw.call(owner, Self.update, ["c": group, "t": ""]), "BAD_USER_INPUT", "empty title")

            roles = try await Self.roles(gw, owner, group)
            XCTAssertEqual(roles, [owner.userId: "OWNER", admin.userId: "ADMIN", member.userId: "MEMBER", newcomer.userId: "MEMBER"])

            let types = systemEventTypes(try await gw.allMessages(owner, group))
            XCTAssertEqual(types, ["GROUP_CREATED", "ROLE_CHANGED", "TITLE_CHANGED", "MEMBERS_ADDED", "MEMBER_REMOVED",
                                   "ROLE_CHANGED", "ROLE_CHANGED"], "every change, and only changes, leave a system message")
        }
    }

    func testHandingOverOwnershipKeepsExactlyOneOwner() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(3)
            let (ada, bola, chidi) = (users[0], users[1], users[2])
            let group = try await gw.createGroup(ada, title: "Hand over", members: [bola, chidi])
            try await gw.ok(ada, Self.setRole, ["c": group, "u": bola.userId, "r": "OWNER"], at: "setMemberRole")
            let roles = try await Self.roles(gw, chidi, group)
            XCTAssertEqual(roles, [ada.userId: "ADMIN", bola.userId: "OWNER", chidi.userId: "MEMBER"])
            assertCode(try await gw.call(ada, Self.setRole, ["c": group, "u": chidi.userId, "r": "ADMIN"]), "FORBIDDEN",
                       "the former owner is an admin now")
            let owners = try await gw.harness.column("SELECT count(*)::text FROM conversation_members WHERE role = 'OWNER'")
            XCTAssertEqual(owners, ["1"])
        }
    }

    func testTheLastOwnerLeavingHandsOwnershipToTheOldestAdminThenTheOldestMember() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(4)
            let (ada, bola, chidi, dayo) = (users[0], users[1], users[2], users[3])
            let group = try await gw.createGroup(ada, title: "Heirs", members: [bola])
            try await gw.ok(ada, Self.add, ["c": group, "u": [chidi.userId]], at: "addGroupMembers")
            try await gw.ok(ada, Self.add, ["c": group, "u": [dayo.userId]], at: "addGroupMembers")
            try await gw.ok(ada, Self.setRole, ["c": group, "u": dayo.userId, "r": "ADMIN"], at: "setMemberRole")

            let left = try await gw.ok(ada, Self.leave, ["c": group], at: "leaveGroup") as? Bool
            XCTAssertEqual(left, true)
            var roles = try await Self.roles(gw, bola, group)
            XCTAssertEqual(roles, [bola.userId: "MEMBER", chidi.userId: "MEMBER", dayo.userId: "OWNER"], "the only admin inherits")

            try await gw.ok(dayo, Self.leave, ["c": group], at: "leaveGroup")
            roles = try await Self.roles(gw, chidi, group)
            XCTAssertEqual(roles, [bola.userId: "OWNER", chidi.userId: "MEMBER"], "no admin left: the oldest member inherits")

            let messages = try await gw.allMessages(bola, group)
            XCTAssertEqual(systemEventTypes(messages).suffix(4), ["MEMBER_LEFT", "ROLE_CHANGED", "MEMBER_LEFT", "ROLE_CHANGED"])
            let handover = try XCTUnwrap(messages.last?["systemEvent"] as? [String: Any])
            XCTAssertEqual(handover["role"] as? String, "OWNER")
            XCTAssertEqual((handover["users"] as? [[String: Any]])?.first?["id"] as? String, bola.userId)

            // Someone who left can leave no more, nor send.
            assertCode(try await gw.call(ada, Self.leave, ["c": group]), "FORBIDDEN", "leaving twice")
            assertCode(try await gw.sendReply(ada, in: group, text: "still here?"), "FORBIDDEN", "a former member sends")

            // The last person leaving leaves an ownerless, memberless group behind without error.
            try await gw.ok(chidi, Self.leave, ["c": group], at: "leaveGroup")
            try await gw.ok(bola, Self.leave, ["c": group], at: "leaveGroup")
            let active = try await gw.harness.column("SELECT count(*)::text FROM conversation_members WHERE left_at IS NULL")
            XCTAssertEqual(active, ["0"])
        }
    }

    func testConcurrentAddsRespectTheSizeLimit() async throws {
        try await withGateway(["GROUP_MAX_MEMBERS": "3"]) { gw in
            let users = try await gw.signInUsers(5)
            let (owner, admin) = (users[0], users[1])
            let group = try await gw.createGroup(owner, title: "Last seat", members: [admin])
            try await gw.ok(owner, Self.setRole, ["c": group, "u": admin.userId, "r": "ADMIN"], at: "setMemberRole")
            // Owner and admin each add someone at the same time: one seat, one winner.
            let codes = try await withThrowingTaskGroup(of: String?.self) { tasks in
                for (actor, newcomer) in [(owner, users[2]), (admin, users[3]), (owner, users[4])] {
                    tasks.addTask { try await gw.call(actor, Self.add, ["c": group, "u": [newcomer.userId]]).errorCode }
                }
                var codes: [String?] = []
                for try await code in tasks { codes.append(code) }
                return codes
            }
            XCTAssertEqual(codes.filter { $0 == nil }.count, 1, "\(codes)")
            XCTAssertEqual(codes.filter { $0 == "BAD_USER_INPUT" }.count, 2, "\(codes)")
            let active = try await gw.harness.column(
                "SELECT count(*)::text FROM conversation_members WHERE conversation_id = '\(group)' AND left_at IS NULL")
            XCTAssertEqual(active, ["3"])
        }
    }

    func testOwnerAndOnlyAdminLeavingAtOnceLeaveExactlyOneOwner() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(3)
            let (owner, admin, member) = (users[0], users[1], users[2])
            let group = try await gw.createGroup(owner, title: "Exodus", members: [admin, member])
            try await gw.ok(owner, Self.setRole, ["c": group, "u": admin.userId, "r": "ADMIN"], at: "setMemberRole")
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for leaver in [owner, admin] { tasks.addTask { try await gw.ok(leaver, Self.leave, ["c": group], at: "leaveGroup") } }
                try await tasks.waitForAll()
            }
            let roles = try await Self.roles(gw, member, group)
            XCTAssertEqual(roles, [member.userId: "OWNER"], "whoever left first, the one left is the owner")
        }
    }

    func testTitlesAreMeasuredTheWayTheDatabaseMeasuresThem() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(2)
            let create = "mutation($i: CreateGroupInput!) { createGroup(input: $i) { id title } }"
            // 30 family emoji: 30 characters on screen, 210 code points in PostgreSQL.
            let families = String(repeating: "👨‍👩‍👧‍👦", count: 30)
            assertCode(try await gw.call(users[0], create, ["i": ["title": families, "memberIds": [users[1].userId]]]), "BAD_USER_INPUT")
            let group = try await gw.createGroup(users[0], title: "Fine", members: [users[1]])
            assertCode(try await gw.call(users[0], Self.update, ["c": group, "t": families]), "BAD_USER_INPUT")
            let ok = try await gw.ok(users[0], create, ["i": ["title": String(repeating: "👨‍👩‍👧‍👦", count: 14), "memberIds": [users[1].userId]]],
                                     at: "createGroup.title") as? String
            XCTAssertEqual(ok?.count, 14)
        }
    }

    func testLeavingADirectConversationIsRefused() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(2)
            let message = try await gw.send(users[0], to: users[1], text: "hi")
            let direct = try XCTUnwrap((message["conversation"] as? [String: Any])?["id"] as? String)
            assertCode(try await gw.call(users[0], Self.leave, ["c": direct]), "BAD_USER_INPUT")
            assertCode(try await gw.call(users[0], Self.update, ["c": direct, "t": "Renamed"]), "BAD_USER_INPUT")
            assertCode(try await gw.call(users[0], Self.add, ["c": direct, "u": [users[1].userId]]), "BAD_USER_INPUT")
        }
    }

    func testARemovedMemberKeepsOldMessagesButSeesNoNewOnes() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(3)
            let (owner, kept, removed) = (users[0], users[1], users[2])
            let group = try await gw.createGroup(owner, title: "Before and after", members: [kept, removed])
            try await gw.send(owner, in: group, text: "before one")
            try await gw.send(removed, in: group, text: "before two")
            try await gw.ok(owner, Self.remove, ["c": group, "u": removed.userId], at: "removeGroupMember")
            let after = try await gw.send(owner, in: group, text: "after secret")

            let seen = try await gw.allMessages(removed, group)
            XCTAssertEqual(texts(seen), ["before one", "before two"])
            XCTAssertEqual(systemEventTypes(seen), ["GROUP_CREATED", "MEMBER_REMOVED"], "they see their own removal, nothing after")

            let conversation = try await gw.ok(removed, "query($id: ID!) { conversation(id: $id) { id unreadCount lastMessage { systemEvent { type } } } }",
                                               ["id": group], at: "conversation") as? [String: Any]
            XCTAssertEqual(((conversation?["lastMessage"] as? [String: Any])?["systemEvent"] as? [String: Any])?["type"] as? String, "MEMBER_REMOVED")
            XCTAssertEqual(conversation?["unreadCount"] as? Int, 1, "the owner's message from before the removal; nothing after")

            let search = try await gw.ok(removed, "{ searchMessages(filter: { text: \"secret\" }) { edges { node { id } } } }",
                                         at: "searchMessages.edges") as? [Any]
            XCTAssertEqual(search?.count, 0)
            let afterId = try XCTUnwrap(after["id"] as? String)
            assertDenied(try await gw.call(removed, "mutation($m: ID!) { addReaction(messageId: $m, emoji: \"👍\") { id } }", ["m": afterId]))
            assertDenied(try await gw.call(removed, "mutation($m: [ID!]!) { markDelivered(messageIds: $m) { id } }", ["m": [afterId]]))
            assertCode(try await gw.sendReply(removed, in: group, text: "let me back"), "FORBIDDEN")

            // Added back later, they start afresh from the announcement: the gap stays closed.
            try await gw.ok(owner, Self.add, ["c": group, "u": [removed.userId]], at: "addGroupMembers")
            try await gw.send(kept, in: group, text: "welcome back")
            let again = try await gw.allMessages(removed, group)
            XCTAssertFalse(texts(again).contains("after secret"), "\(texts(again))")
            XCTAssertEqual(texts(again).last, "welcome back")
        }
    }
}
