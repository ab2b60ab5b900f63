import Foundation
import GraphQL
import Graphiti
import XCTest

@testable import Gateway
@testable import Resolvers
@testable import Schema

/// Messagerie runs operations on its own executor (`DirectExecutor`) and keeps GraphQLSwift's as
/// the reference: the same documents, on the same data, must answer the same on both.
final class DirectExecutionTests: XCTestCase {
    struct Case: Sendable {
        let name: String
        let query: String
        let variables: String
    }

    static let messageSelection = """
        id cursor text kind createdAt editedAt deletedAt status clientMessageId
        sender { id displayName phone } replyTo { id text sender { id } }
        attachments { __typename } systemEvent { type title role actor { id } users { id displayName } }
        reactions { emoji count reactedByMe } receipts { user { id displayName } deliveredAt readAt }
        conversation { id kind title }
        """

    static func corpus(group: String, direct: String, stranger: String) -> [Case] {
        [
            Case(name: "history page", query: """
                query($c: ID!) { messages(conversationId: $c, last: 50) {
                  edges { cursor node { \(messageSelection) } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }
                """, variables: #"{"c":"\#(group)"}"#),
            Case(name: "fragments, aliases, __typename", query: """
                query($c: ID!) {
                  page: messages(conversationId: $c, first: 3) { edges { node { ...M ... on Message { k: kind } __typename } } }
                  me { ...U } again: me { id }
                }
                fragment M on Message { id t: text sender { ...U } reactions { ...R } }
                fragment U on User { id displayName __typename }
                fragment R on ReactionSummary { emoji count }
                """, variables: #"{"c":"\#(group)"}"#),
            Case(name: "skip and include", query: """
                query($c: ID!, $yes: Boolean!, $no: Boolean!) { messages(conversationId: $c, first: 2) { edges { node {
                  id text @include(if: $yes) createdAt @skip(if: $yes) sender @include(if: $no) { id }
                  ... @skip(if: $no) { kind } ... @include(if: false) { status } receipts @skip(if: true) { readAt }
                } } } }
                """, variables: #"{"c":"\#(group)","yes":true,"no":false}"#),
            Case(name: "conversations with members and last messages", query: """
                { conversations(first: 10) { edges { cursor node {
                    id kind title unreadCount createdAt lastActivityAt
                    members { role joinedAt user { id displayName } } lastMessage { id text sender { id } status }
                } } pageInfo { hasNextPage endCursor } } }
                """, variables: "{}"),
            Case(name: "literal arguments and a nullable root field", query: """
                { conversation(id: "\(direct)") { id kind members { user { id } } }
                  missing: conversation(id: "00000000-0000-4000-8000-000000000000") { id }
                  user(id: "\(stranger)") { id displayName } }
                """, variables: "{}"),
            Case(name: "input object variable", query: """
                query($f: MessageSearchInput!, $n: Int) { searchMessages(filter: $f, first: $n) {
                  edges { node { id text sender { id } } } pageInfo { hasNextPage } } }
                """, variables: #"{"f":{"text":"parity","conversationId":"\#(group)"},"n":5}"#),
            Case(name: "input object literal", query: """
                { searchMessages(filter: {text: "parity", conversationId: "\(group)"}, first: 2) { edges { node { id } } } }
                """, variables: "{}"),
            Case(name: "domain error at a non-null root field", query: """
                query($c: ID!) { messages(conversationId: $c, first: 1) { edges { node { id } } } }
                """, variables: #"{"c":"00000000-0000-4000-8000-000000000000"}"#),
            Case(name: "domain error beside a good field", query: """
                query($c: ID!) { me { id } conversation(id: $c) { id } }
                """, variables: #"{"c":"not-a-uuid"}"#),
            Case(name: "variable of the wrong type", query: """
                query($n: Int) { conversations(first: $n) { edges { cursor } } }
                """, variables: #"{"n":"ten"}"#),
            Case(name: "missing required variable", query: """
                query($c: ID!) { messages(conversationId: $c) { edges { cursor } } }
                """, variables: "{}"),
            Case(name: "introspection (runs on GraphQLSwift)", query: """
                { __type(name: "Receipt") { name fields { name } } }
                """, variables: "{}"),
        ]
    }

    func testDirectExecutorAnswersAsGraphQLSwift() async throws {
        let harness = try await GatewayHarness.make()
        do {
            let (cases, viewer, direct) = try await harness.withApp { gw in
                let users = try await gw.signInUsers(4)
                let group = try await gw.createGroup(users[0], title: "Parity", members: Array(users[1...2]))
                var ids: [String] = []
                for index in 0..<6 {
                    let sender = users[index % 3]
                    let message = try await gw.send(sender, in: group, text: "parity \(index)", replyToId: ids.last)
                    ids.append(try XCTUnwrap(message["id"] as? String))
                    try await gw.ok(users[(index + 1) % 3], "mutation($m: ID!) { addReaction(messageId: $m, emoji: \"👍\") { id } }",
                                    ["m": ids[index]], at: "addReaction")
                }
                try await gw.ok(users[1], "mutation($ids: [ID!]!) { markDelivered(messageIds: $ids) { id } }", ["ids": ids], at: "markDelivered")
                try await gw.ok(users[2], "mutation($c: ID!, $m: ID!) { markRead(conversationId: $c, upToMessageId: $m) }",
                                ["c": group, "m": ids[3]], at: "markRead")
                let directMessage = try await gw.send(users[0], to: users[1], text: "parity direct")
                let direct = try XCTUnwrap(directMessage["conversation"] as? [String: Any])
                let cases = Self.corpus(group: group, direct: try XCTUnwrap(direct["id"] as? String), stranger: users[3].userId)
                return (cases, users[0], try await Self.answers(cases, gw, viewer: users[0]))
            }
            var reference = harness
            reference.settings.directExecution = false
            let expected = try await reference.withApp { gw in try await Self.answers(cases, gw, viewer: viewer) }
            for (index, item) in cases.enumerated() {
                XCTAssertEqual(direct[index], expected[index], item.name)
            }
            XCTAssertTrue(direct[0].contains("\"deliveredAt\""), "the history page has receipts: \(direct[0].prefix(300))")
            await harness.stop()
        } catch {
            await harness.stop()
            throw error
        }
    }

    /// Stored properties are read without Graphiti's resolver (the corpus above checks that the
    /// answers stay the same); fields computed by a resolver keep it.
    func testStoredPropertiesAreReadDirectly() throws {
        let schema = try DirectSchema(MessagerieSchema.build().schema)
        let message = Message(
            id: UUID(), conversationId: UUID(), seq: 3, senderId: nil, kind: .user, text: "bonjour", systemEvent: nil,
            replyToId: nil, clientMessageId: "c-1", createdAt: Date(), editedAt: nil, deletedAt: nil)
        let text = try XCTUnwrap(schema.objects["Message"]?.fields["text"]?.readers[ObjectIdentifier(Message.self)])
        XCTAssertEqual(text(message) as? String, "bonjour")
        let edited = try XCTUnwrap(schema.objects["Message"]?.fields["editedAt"]?.readers[ObjectIdentifier(Message.self)])
        XCTAssertNil(edited(message) as? Date)
        XCTAssertNil(schema.objects["Message"]?.fields["sender"]?.readers[ObjectIdentifier(Message.self)], "a resolver, not a property")
        XCTAssertNil(schema.objects["Query"]?.fields["messages"]?.readers.first, "fields with arguments always go through their resolver")
    }

    struct Twice: Sendable { let a: Int; let b: Int }

    func testATypeAndNameDeclaredWithTwoPropertiesKeepNoReader() {
        PropertyFields.register("ambiguousField", \Twice.a)
        XCTAssertNotNil(PropertyFields.readers(named: "ambiguousField")[ObjectIdentifier(Twice.self)])
        PropertyFields.register("ambiguousField", \Twice.a)
        XCTAssertNotNil(PropertyFields.readers(named: "ambiguousField")[ObjectIdentifier(Twice.self)], "the same property again is fine")
        PropertyFields.register("ambiguousField", \Twice.b)
        XCTAssertNil(PropertyFields.readers(named: "ambiguousField")[ObjectIdentifier(Twice.self)])
        PropertyFields.register("ambiguousField", \Twice.a)
        XCTAssertNil(PropertyFields.readers(named: "ambiguousField")[ObjectIdentifier(Twice.self)], "and stays without")
    }

    /// Methods taking only the context are called without Graphiti's wrapper; a type and name
    /// declared at two places of the source keep no direct resolver.
    func testContextOnlyMethodsAreCalledDirectly() throws {
        let schema = try DirectSchema(MessagerieSchema.build().schema)
        for field in ["sender", "receipts", "reactions"] {
            XCTAssertNotNil(schema.objects["Message"]?.fields[field]?.resolvers[ObjectIdentifier(Message.self)], field)
        }
        XCTAssertNotNil(schema.objects["Receipt"]?.fields["user"]?.resolvers[ObjectIdentifier(Receipt.self)])
        XCTAssertNil(schema.objects["Message"]?.fields["text"]?.resolvers.first, "a property is read, not resolved")
        XCTAssertNil(schema.objects["Query"]?.fields["messages"]?.resolvers.first, "fields with arguments keep Graphiti's resolver")

        let first: AsyncResolve<Twice, OperationContext, NoArguments, Int> = { twice in { _, _ in twice.a } }
        let second: AsyncResolve<Twice, OperationContext, NoArguments, Int> = { twice in { _, _ in twice.b } }
        ResolverFields.register("ambiguousResolved", site: "A.swift:1", first)
        ResolverFields.register("ambiguousResolved", site: "A.swift:1", first)
        XCTAssertNotNil(ResolverFields.resolvers(named: "ambiguousResolved")[ObjectIdentifier(Twice.self)], "the same site again is fine")
        ResolverFields.register("ambiguousResolved", site: "B.swift:9", second)
        XCTAssertNil(ResolverFields.resolvers(named: "ambiguousResolved")[ObjectIdentifier(Twice.self)])
        ResolverFields.register("ambiguousResolved", site: "A.swift:1", first)
        XCTAssertNil(ResolverFields.resolvers(named: "ambiguousResolved")[ObjectIdentifier(Twice.self)], "and stays without")
    }

    /// What the direct executor takes is decided per document, before anything runs; the rest
    /// goes to GraphQLSwift (introspection answered above is one of them).
    func testDocumentsLeftToGraphQLSwift() throws {
        let schema = try DirectSchema(MessagerieSchema.build().schema)
        func direct(_ query: String) throws -> Bool {
            let document = try parse(source: Source(body: query))
            return schema.supports(DocumentRules.operations(of: document)[0], fragments: DocumentRules.fragments(of: document))
        }
        XCTAssertTrue(try direct("{ me { id __typename } }"))
        XCTAssertTrue(try direct("query($c: ID!) { messages(conversationId: $c) { edges { node { ...M } } } } fragment M on Message { id sender { id } }"))
        XCTAssertTrue(try direct("mutation($i: SendMessageInput!) { sendMessage(input: $i) { id @skip(if: false) } }"))
        XCTAssertTrue(try direct("subscription { messageReceived { id text } }"))
        XCTAssertFalse(try direct("{ __schema { types { name } } }"))
        XCTAssertFalse(try direct("{ me { id } __type(name: \"User\") { name } }"))
        XCTAssertFalse(try direct("{ me { id @unknownDirective } }"))
        XCTAssertFalse(try direct("{ me { ... on Message { id } } }"), "a fragment on another type")
        XCTAssertFalse(try direct("{ me { ...F } } fragment F on Message { id }"))
    }

    /// Each answer as canonical JSON: sorted keys, errors by message and path (locations and
    /// order aside: GraphQLSwift reports concurrent fields' errors in completion order).
    static func answers(_ cases: [Case], _ gw: GatewayClient, viewer: SignedIn) async throws -> [String] {
        var answers: [String] = []
        for item in cases {
            let variables = try JSONSerialization.jsonObject(with: Data(item.variables.utf8)) as? [String: Any] ?? [:]
            let reply = try await gw.call(viewer, item.query, variables)
            var json = reply.json
            json["errors"] = reply.errors.map { error in
                ["message": error["message"] ?? "", "path": error["path"] ?? [], "code": (error["extensions"] as? [String: Any])?["code"] ?? ""]
            }.sorted { "\($0)" < "\($1)" }
            answers.append("\(reply.status.code) " + String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self))
        }
        return answers
    }
}
