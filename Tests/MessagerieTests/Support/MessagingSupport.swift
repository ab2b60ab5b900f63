import Foundation
import XCTest

@testable import Gateway

/// The fields messaging tests read back on every message.
let messageFields = """
    id cursor kind text clientMessageId createdAt editedAt deletedAt status
    conversation { id kind } sender { id } replyTo { id text }
    systemEvent { type actor { id } users { id } title role }
    receipts { user { id } deliveredAt readAt } reactions { emoji count reactedByMe }
    """

let conversationFields = """
    id kind title createdAt unreadCount members { user { id } role joinedAt } lastMessage { id text kind }
    """

/// Messaging operations as a signed-in person performs them, over GraphQL through the gateway.
extension GatewayClient {
    /// Signs in `count` new people with distinct phone numbers (`+23480555<series><nn>`).
    func signInUsers(_ count: Int, series: Int = 0, file: StaticString = #filePath, line: UInt = #line) async throws -> [SignedIn] {
        var users: [SignedIn] = []
        for index in 0..<count {
            let phone = String(format: "+23480555%02d%03d", series, index + 1)
            users.append(try await signIn(phone, displayName: "User \(index + 1)", file: file, line: line))
        }
        return users
    }

    /// A GraphQL call as `user`.
    func call(_ user: SignedIn?, _ query: String, _ variables: [String: Any] = [:]) async throws -> GraphQLReply {
        try await graphQL(query, variables: variables.isEmpty ? nil : variables, token: user?.accessToken)
    }

    /// A GraphQL call that must succeed; returns `data.<path>`.
    @discardableResult
    func ok(
        _ user: SignedIn?, _ query: String, _ variables: [String: Any] = [:], at path: String,
        file: StaticString = #filePath, line: UInt = #line
    ) async throws -> Any? {
        let reply = try await call(user, query, variables)
        XCTAssertNil(reply.firstError, "unexpected error: \(reply.text)", file: file, line: line)
        return reply.value(path)
    }

    /// `sendMessage` with any of its inputs; the raw reply.
    func sendReply(
        _ user: SignedIn, to recipient: SignedIn? = nil, in conversationId: String? = nil, text: String?,
        clientMessageId: String? = nil, replyToId: String? = nil
    ) async throws -> GraphQLReply {
        var input: [String: Any] = [:]
        if let recipient { input["recipientId"] = recipient.userId }
        if let conversationId { input["conversationId"] = conversationId }
        if let text { input["text"] = text }
        if let clientMessageId { input["clientMessageId"] = clientMessageId }
        if let replyToId { input["replyToId"] = replyToId }
        return try await call(user, "mutation($i: SendMessageInput!) { sendMessage(input: $i) { \(messageFields) } }", ["i": input])
    }

    /// `sendMessage` that must succeed; the message as a dictionary.
    @discardableResult
    func send(
        _ user: SignedIn, to recipient: SignedIn? = nil, in conversationId: String? = nil, text: String?,
        clientMessageId: String? = nil, replyToId: String? = nil, file: StaticString = #filePath, line: UInt = #line
    ) async throws -> [String: Any] {
        let reply = try await sendReply(
            user, to: recipient, in: conversationId, text: text, clientMessageId: clientMessageId, replyToId: replyToId)
        XCTAssertNil(reply.firstError, "sendMessage failed: \(reply.text)", file: file, line: line)
        return try XCTUnwrap(reply.value("sendMessage") as? [String: Any], reply.text, file: file, line: line)
    }

    /// `createGroup` that must succeed; the conversation id.
    func createGroup(
        _ owner: SignedIn, title: String, members: [SignedIn], file: StaticString = #filePath, line: UInt = #line
    ) async throws -> String {
        let reply = try await call(owner, "mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }",
                                   ["i": ["title": title, "memberIds": members.map(\.userId)]])
        XCTAssertNil(reply.firstError, "createGroup failed: \(reply.text)", file: file, line: line)
        return try XCTUnwrap(reply.string("createGroup.id"), reply.text, file: file, line: line)
    }

    /// One page of `messages` as `user`: the whole reply, to read edges and pageInfo.
    func messagesPage(
        _ user: SignedIn, _ conversationId: String, first: Int? = nil, after: String? = nil, last: Int? = nil, before: String? = nil
    ) async throws -> GraphQLReply {
        var variables: [String: Any] = ["c": conversationId]
        if let first { variables["first"] = first }
        if let after { variables["after"] = after }
        if let last { variables["last"] = last }
        if let before { variables["before"] = before }
        return try await call(user, """
            query($c: ID!, $first: Int, $after: String, $last: Int, $before: String) {
              messages(conversationId: $c, first: $first, after: $after, last: $last, before: $before) {
                edges { cursor node { \(messageFields) } }
                pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
              }
            }
            """, variables)
    }

    /// Every message `user` can read in the conversation, oldest first (pages of 100).
    func allMessages(_ user: SignedIn, _ conversationId: String, file: StaticString = #filePath, line: UInt = #line) async throws -> [[String: Any]] {
        var result: [[String: Any]] = []
        var after: String?
        while true {
            let reply = try await messagesPage(user, conversationId, first: 100, after: after)
            XCTAssertNil(reply.firstError, reply.text, file: file, line: line)
            let edges = reply.value("messages.edges") as? [[String: Any]] ?? []
            result += edges.compactMap { $0["node"] as? [String: Any] }
            guard reply.value("messages.pageInfo.hasNextPage") as? Bool == true, let end = reply.string("messages.pageInfo.endCursor") else {
                return result
            }
            after = end
        }
    }

    /// One `myActivity` page of `user`, newest first.
    func activity(_ user: SignedIn, first: Int = 50) async throws -> [[String: Any]] {
        let reply = try await call(user, """
            query($n: Int) { myActivity(first: $n) { edges { node { id at kind target { id } conversationId details } } } }
            """, ["n": first])
        XCTAssertNil(reply.firstError, reply.text)
        return (reply.value("myActivity.edges") as? [[String: Any]] ?? []).compactMap { $0["node"] as? [String: Any] }
    }
}

/// Texts of the user messages in a list of messages, in order.
func texts(_ messages: [[String: Any]]) -> [String?] {
    messages.filter { $0["kind"] as? String == "USER" }.map { $0["text"] as? String }
}

/// System event types of a list of messages, in order.
func systemEventTypes(_ messages: [[String: Any]]) -> [String] {
    messages.compactMap { ($0["systemEvent"] as? [String: Any])?["type"] as? String }
}

func assertCode(
    _ reply: GraphQLReply, _ expected: String, _ message: String = "", file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(reply.errorCode, expected, "\(message) — reply: \(reply.text)", file: file, line: line)
}

/// A denial that does not reveal whether the thing exists: FORBIDDEN or NOT_FOUND.
func assertDenied(_ reply: GraphQLReply, _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertTrue(["FORBIDDEN", "NOT_FOUND"].contains(reply.errorCode ?? ""), "\(message): expected FORBIDDEN or NOT_FOUND — reply: \(reply.text)",
                  file: file, line: line)
}
