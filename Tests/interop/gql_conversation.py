#!/usr/bin/env python3
"""A two-person conversation through Messagerie's GraphQL endpoint with the `gql` client.

    gql_conversation.py URL TOKEN_A USER_A TOKEN_B USER_B

The Swift test signs both people in and passes their access tokens. A writes to B by recipient
(creating the direct conversation), retries with the same clientMessageId, B finds the
conversation, reads, replies, marks delivered and read, reacts; A sees READ and the reaction,
searches, and pages. Every document is validated locally against the committed `schema.graphql`
first, as generated clients do. Prints one JSON summary line; a failed check exits non-zero.
"""
import json
import os
import sys

from gql import Client, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.requests import RequestsHTTPTransport

try:  # gql >= 4: variables travel on the request object
    from gql import GraphQLRequest
except ImportError:  # gql 3
    GraphQLRequest = None

SCHEMA_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "schema.graphql")

MESSAGE = """
fragment M on Message {
  id text clientMessageId createdAt status
  sender { id }
  conversation { id kind }
  replyTo { id }
  receipts { user { id } deliveredAt readAt }
  reactions { emoji count reactedByMe }
}
"""


def check(condition, message):
    if not condition:
        print(f"check failed: {message}", file=sys.stderr)
        sys.exit(1)


def execute(session, document, variables=None):
    if GraphQLRequest is not None:
        return session.execute(GraphQLRequest(document, variable_values=variables))
    return session.execute(gql(document), variable_values=variables)


def error_codes(error):
    return [(e.get("extensions") or {}).get("code") for e in (error.errors or [])]


def client_for(url, token):
    transport = RequestsHTTPTransport(url=url, headers={"Authorization": f"Bearer {token}"}, timeout=20, retries=0)
    with open(SCHEMA_FILE, encoding="utf-8") as sdl:
        return Client(transport=transport, schema=sdl.read())


def send(session, variables):
    return execute(session, MESSAGE + "mutation Send($i: SendMessageInput!) { sendMessage(input: $i) { ...M } }",
                   {"i": variables})["sendMessage"]


def main(url, token_a, user_a, token_b, user_b):
    with client_for(url, token_a) as a, client_for(url, token_b) as b:
        # A writes first, by recipient: the direct conversation appears.
        first = send(a, {"recipientId": user_b, "text": "Bonjour Bola, ça va ?", "clientMessageId": "py-1"})
        check(first["sender"]["id"] == user_a, f"sender is A: {first}")
        check(first["conversation"]["kind"] == "DIRECT", f"a direct conversation: {first}")
        check(first["status"] == "SENT", f"SENT at first: {first}")
        conversation = first["conversation"]["id"]

        # A network retry with the same clientMessageId: the same message, no duplicate.
        retry = send(a, {"recipientId": user_b, "text": "Bonjour Bola, ça va ?", "clientMessageId": "py-1"})
        check(retry["id"] == first["id"], f"a retry returns the first message: {retry['id']} vs {first['id']}")

        # B finds the conversation with its unread count, reads, replies.
        listed = execute(b, "query { conversations(first: 10) { edges { node { id kind unreadCount lastMessage { id } } } } }")
        nodes = [edge["node"] for edge in listed["conversations"]["edges"]]
        check([n["id"] for n in nodes] == [conversation], f"B has exactly this conversation: {nodes}")
        check(nodes[0]["unreadCount"] == 1 and nodes[0]["lastMessage"]["id"] == first["id"], f"unread and last: {nodes}")

        page = execute(b, MESSAGE + """
            query Read($c: ID!) { messages(conversationId: $c, last: 20) { edges { cursor node { ...M } } pageInfo { hasPreviousPage } } }
            """, {"c": conversation})["messages"]
        check([e["node"]["text"] for e in page["edges"]] == ["Bonjour Bola, ça va ?"], f"B reads A's words: {page}")

        delivered = execute(b, MESSAGE + "mutation D($m: [ID!]!) { markDelivered(messageIds: $m) { ...M } }",
                            {"m": [first["id"]]})["markDelivered"]
        check(delivered[0]["receipts"][0]["deliveredAt"] is not None, f"delivered: {delivered}")
        read = execute(b, "mutation R($c: ID!, $m: ID!) { markRead(conversationId: $c, upToMessageId: $m) }",
                       {"c": conversation, "m": first["id"]})["markRead"]
        check(read == 1, f"one message marked read: {read}")
        reacted = execute(b, MESSAGE + "mutation X($m: ID!, $e: String!) { addReaction(messageId: $m, emoji: $e) { ...M } }",
                          {"m": first["id"], "e": "👍🏾"})["addReaction"]
        check(reacted["reactions"] == [{"emoji": "👍🏾", "count": 1, "reactedByMe": True}], f"B's reaction: {reacted}")
        try:
            execute(b, "mutation X($m: ID!, $e: String!) { addReaction(messageId: $m, emoji: $e) { id } }",
                    {"m": first["id"], "e": "not an emoji"})
            check(False, "text is not an emoji")
        except TransportQueryError as error:
            check("BAD_USER_INPUT" in error_codes(error), f"BAD_USER_INPUT for text as emoji: {error.errors}")

        reply = send(b, {"conversationId": conversation, "text": "Très bien, merci !", "replyToId": first["id"]})
        check(reply["replyTo"]["id"] == first["id"], f"the reply names its message: {reply}")

        # A sees the read receipt and the reaction, then searches with folded accents and case.
        seen = execute(a, MESSAGE + """
            query Mine($c: ID!) { messages(conversationId: $c, first: 1) { edges { node { ...M } } pageInfo { hasNextPage endCursor } } }
            """, {"c": conversation})["messages"]
        mine = seen["edges"][0]["node"]
        check(mine["status"] == "READ", f"A sees READ: {mine}")
        check(mine["reactions"] == [{"emoji": "👍🏾", "count": 1, "reactedByMe": False}], f"A sees B's reaction: {mine}")
        check(seen["pageInfo"]["hasNextPage"] is True, f"one more page: {seen['pageInfo']}")
        rest = execute(a, MESSAGE + """
            query Next($c: ID!, $a: String) { messages(conversationId: $c, first: 10, after: $a) { edges { node { ...M } } pageInfo { hasNextPage } } }
            """, {"c": conversation, "a": seen["pageInfo"]["endCursor"]})["messages"]
        check([e["node"]["id"] for e in rest["edges"]] == [reply["id"]], f"the next page is the reply: {rest}")

        found = execute(a, MESSAGE + """
            query Find($f: MessageSearchInput!) { searchMessages(filter: $f, first: 10) { edges { node { ...M } } } }
            """, {"f": {"text": "TRES merci", "senderId": user_b}})["searchMessages"]
        check([e["node"]["id"] for e in found["edges"]] == [reply["id"]], f"search finds the reply: {found}")

        # A local refusal: gql validates against the schema before sending.
        try:
            execute(a, "query { messages(conversationId: \"x\") { edges { node { noSuchField } } } }")
            check(False, "gql should refuse an invalid document locally")
        except TransportQueryError:
            check(False, "the invalid document reached the server")
        except Exception as error:  # graphql.GraphQLError
            check("noSuchField" in str(error), f"local validation names the field: {error}")

    print(json.dumps({
        "conversationId": conversation,
        "messageIds": [first["id"], reply["id"]],
        "texts": [first["text"], reply["text"]],
        "statusSeenByA": mine["status"],
        "markRead": read,
    }, ensure_ascii=False))


if __name__ == "__main__":
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(*sys.argv[1:])
