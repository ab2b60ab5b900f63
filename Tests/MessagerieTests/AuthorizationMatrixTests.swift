import Foundation
import XCTest

@testable import Gateway

/// Every operation on a conversation, tried by someone who may not do it: a stranger, a removed
/// member and a plain member acting as an admin. Each is refused with FORBIDDEN or NOT_FOUND,
/// changes nothing, and a stranger cannot tell an existing conversation from a made-up one.
final class AuthorizationMatrixTests: XCTestCase {
    /// The ids an operation is aimed at.
    struct Target: Sendable {
        let conversation: String
        let message: String
        let member: String
        let outsider: String
    }

    struct Operation: Sendable {
        let name: String
        let query: String
        let variables: @Sendable (Target) -> [String: Any]
    }

    static let operations: [Operation] = [
        Operation(name: "messages", query: "query($c: ID!) { messages(conversationId: $c, first: 5) { edges { node { id } } } }") { ["c": $0.conversation] },
        Operation(name: "sendMessage", query: "mutation($c: ID!) { sendMessage(input: { conversationId: $c, text: \"intrusion\" }) { id } }") { ["c": $0.conversation] },
        Operation(name: "editMessage", query: "mutation($m: ID!) { editMessage(id: $m, text: \"defaced\") { id } }") { ["m": $0.message] },
        Operation(name: "deleteMessage", query: "mutation($m: ID!) { deleteMessage(id: $m) { id } }") { ["m": $0.message] },
        Operation(name: "markDelivered", query: "mutation($m: ID!) { markDelivered(messageIds: [$m]) { id } }") { ["m": $0.message] },
        Operation(name: "markRead", query: "mutation($c: ID!, $m: ID!) { markRead(conversationId: $c, upToMessageId: $m) }") { ["c": $0.conversation, "m": $0.message] },
        Operation(name: "addReaction", query: "mutation($m: ID!) { addReaction(messageId: $m, emoji: \"😈\") { id } }") { ["m": $0.message] },
        Operation(name: "removeReaction", query: "mutation($m: ID!) { removeReaction(messageId: $m, emoji: \"👍\") { id } }") { ["m": $0.message] },
        Operation(name: "updateGroup", query: "mutation($c: ID!) { updateGroup(conversationId: $c, title: \"Hijacked\") { id } }") { ["c": $0.conversation] },
        Operation(name: "addGroupMembers", query: "mutation($c: ID!, $u: ID!) { addGroupMembers(conversationId: $c, userIds: [$u]) { id } }") { ["c": $0.conversation, "u": $0.outsider] },
        Operation(name: "removeGroupMember", query: "mutation($c: ID!, $u: ID!) { removeGroupMember(conversationId: $c, userId: $u) { id } }") { ["c": $0.conversation, "u": $0.member] },
        Operation(name: "setMemberRole", query: "mutation($c: ID!, $u: ID!) { setMemberRole(conversationId: $c, userId: $u, role: ADMIN) { id } }") { ["c": $0.conversation, "u": $0.member] },
        Operation(name: "leaveGroup", query: "mutation($c: ID!) { leaveGroup(conversationId: $c) }") { ["c": $0.conversation] },
        Operation(name: "setTyping", query: "mutation($c: ID!) { setTyping(conversationId: $c, isTyping: true) }") { ["c": $0.conversation] },
    ]

    /// Everything the refused operations could have changed, as one comparable text.
    private static func snapshot(_ gw: GatewayClient) async throws -> [String?] {
        try await gw.harness.column("""
            SELECT 'm:' || string_agg(id::text || coalesce(encode(body, 'hex'), '-') || coalesce(deleted_at::text, '-'), ',' ORDER BY id) FROM messages
            UNION ALL SELECT 'c:' || string_agg(id::text || coalesce(title, '-'), ',' ORDER BY id) FROM conversations
            UNION ALL SELECT 'cm:' || string_agg(conversation_id::text || user_id::text || role || coalesce(left_seq::text, '-'), ',' ORDER BY conversation_id, user_id) FROM conversation_members
            UNION ALL SELECT 'r:' || string_agg(message_id::text || user_id::text || coalesce(delivered_at::text, '-') || coalesce(read_at::text, '-'), ',' ORDER BY message_id, user_id) FROM message_receipts
            UNION ALL SELECT 'x:' || count(*) FROM message_reactions
            """)
    }

    func testStrangerRemovedMemberAndPlainMemberAreRefusedEverywhere() async throws {
        try await withGateway { gw in
            let users = try await gw.signInUsers(6)
            let (owner, admin, member, removed, stranger, outsider) = (users[0], users[1], users[2], users[3], users[4], users[5])
            let group = try await gw.createGroup(owner, title: "Guarded", members: [admin, member, removed])
            try await gw.ok(owner, GroupRoleTests.setRole, ["c": group, "u": admin.userId, "r": "ADMIN"], at: "setMemberRole")
            let removedSent = try await gw.send(removed, in: group, text: "mine, from before")
            let removedOwn = try XCTUnwrap(removedSent["id"] as? String)
            try await gw.ok(owner, GroupRoleTests.remove, ["c": group, "u": removed.userId], at: "removeGroupMember")
            let ownerSent = try await gw.send(owner, in: group, text: "owner's words")
            let ownerMessage = try XCTUnwrap(ownerSent["id"] as? String)
            try await gw.ok(member, "mutation($m: ID!) { addReaction(messageId: $m, emoji: \"👍\") { id } }", ["m": ownerMessage], at: "addReaction")
            let before = try await Self.snapshot(gw)

            let real = Target(conversation: group, message: ownerMessage, member: member.userId, outsider: outsider.userId)
            let madeUp = Target(conversation: UUID().uuidString, message: UUID().uuidString, member: member.userId, outsider: outsider.userId)

            // A stranger: every operation refused, with the very same answer as for ids that do not exist.
            for operation in Self.operations {
                let reply = try await gw.call(stranger, operation.query, operation.variables(real))
                assertDenied(reply, "stranger · \(operation.name)")
                let unknown = try await gw.call(stranger, operation.query, operation.variables(madeUp))
                XCTAssertEqual(reply.errorCode, unknown.errorCode, "stranger · \(operation.name): existence leaks through the code")
                XCTAssertEqual(reply.errorMessage, unknown.errorMessage, "stranger · \(operation.name): existence leaks through the message")
            }
            let strangerView = try await gw.call(stranger, "query($id: ID!) { conversation(id: $id) { id } }", ["id": group])
            XCTAssertNil(strangerView.firstError, strangerView.text)
            XCTAssertTrue(strangerView.value("conversation") is NSNull, strangerView.text)
            let strangerSearch = try await gw.ok(stranger, "query($c: ID!) { searchMessages(filter: { conversationId: $c }) { edges { node { id } } } }",
                                                 ["c": group], at: "searchMessages.edges") as? [Any]
            XCTAssertEqual(strangerSearch?.count, 0)

            // A removed member: nothing after their removal, and no action on the group at all, not
            // even on their own old message.
            for operation in Self.operations where operation.name != "messages" {
                assertDenied(try await gw.call(removed, operation.query, operation.variables(real)), "removed member · \(operation.name)")
            }
            let onOwn = Target(conversation: group, message: removedOwn, member: member.userId, outsider: outsider.userId)
            for name in ["editMessage", "deleteMessage", "addReaction", "sendMessage"] {
                let operation = try XCTUnwrap(Self.operations.first { $0.name == name })
                assertDenied(try await gw.call(removed, operation.query, operation.variables(onOwn)), "removed member · \(name) on their own message")
            }
            let removedView = try await gw.allMessages(removed, group)
            XCTAssertFalse(removedView.contains { $0["id"] as? String == ownerMessage }, "a removed member does not read later messages")

            // A plain member acting as an admin, and on someone else's message.
            for name in ["updateGroup", "addGroupMembers", "removeGroupMember", "setMemberRole", "editMessage", "deleteMessage"] {
                let operation = try XCTUnwrap(Self.operations.first { $0.name == name })
                let target = Target(conversation: group, message: ownerMessage, member: admin.userId, outsider: outsider.userId)
                assertCode(try await gw.call(member, operation.query, operation.variables(target)), "FORBIDDEN", "plain member · \(name)")
            }
            // An admin acting as the owner.
            let promote = try XCTUnwrap(Self.operations.first { $0.name == "setMemberRole" })
            assertCode(try await gw.call(admin, promote.query, promote.variables(real)), "FORBIDDEN", "admin · setMemberRole")

            let after = try await Self.snapshot(gw)
            XCTAssertEqual(after, before, "no refused operation changed anything")
            for operation in Self.operations {
                assertCode(try await gw.call(nil, operation.query, operation.variables(real)), "UNAUTHENTICATED", "anonymous · \(operation.name)")
            }
        }
    }
}
