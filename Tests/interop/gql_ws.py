#!/usr/bin/env python3
"""GraphQL over WebSocket against a live Messagerie gateway, with real clients: `gql`'s
WebsocketsTransport (either subprotocol: `graphql-transport-ws` or the legacy `graphql-ws`) and,
where the exact frames matter (close codes, a socket that stops reading), `websocket-client`.

    gql_ws.py SCENARIO 'JSON parameters'

Scenarios: receive, events, catchup, gap, biggap, typing, removed, presence, slow, closes, interrupted, protocol, deflate,
keepalive. Each prints one JSON summary line on stdout; a failed check exits non-zero with the reason on stderr. The Swift
tests (GraphQLWebSocketTests) assert on the summary.

Subscriptions are synchronised, not slept on: after sending `subscribe`, the script runs a query
on the same socket; the server answers it only once the subscription is live.
"""
import asyncio
import json
import random
import socket
import string
import sys
import time

import requests
import websocket  # websocket-client
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

TIMEOUT = 30


def check(condition, message):
    if not condition:
        print(f"check failed: {message}", file=sys.stderr)
        sys.exit(1)


def http(params, token, query, variables=None):
    response = requests.post(
        params["http"], json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT)
    body = response.json()
    check(not body.get("errors"), f"HTTP GraphQL failed: {body}")
    return body["data"]


def send_message(params, token, conversation_id, text):
    data = http(params, token, "mutation($i: SendMessageInput!) { sendMessage(input: $i) { id cursor text } }",
                {"i": {"conversationId": conversation_id, "text": text}})
    return data["sendMessage"]


def transport(params, token, proto, key="authorization"):
    value = f"Bearer {token}" if key.lower() == "authorization" else token
    return WebsocketsTransport(url=params["ws"], subprotocols=[proto], init_payload={key: value})


class Subscription:
    """One subscription on a gql session, live once `start` returns."""

    def __init__(self, session, ws_transport, document, variables=None):
        self.session = session
        self.transport = ws_transport
        self.generator = session.subscribe(GraphQLRequest(document, variable_values=variables or {}))
        self.pending = None

    async def start(self):
        query_id = self.transport.next_query_id
        self.pending = asyncio.ensure_future(self.generator.__anext__())
        while query_id not in self.transport.listeners:
            if self.pending.done():
                self.pending.result()  # raises the refusal
            await asyncio.sleep(0.01)
        await self.session.execute(GraphQLRequest("query Sync { me { id } }"))
        return self

    async def next(self):
        if self.pending is None:
            self.pending = asyncio.ensure_future(self.generator.__anext__())
        try:
            return await asyncio.wait_for(self.pending, TIMEOUT)
        finally:
            self.pending = None

    async def close(self):
        if self.pending is not None:
            self.pending.cancel()
        await self.generator.aclose()


MESSAGE_SUB = """
subscription Received($c: ID, $after: String) {
  messageReceived(conversationId: $c, after: $after) { id cursor text kind sender { id } conversation { id } }
}
"""


# --- receive: a message sent over HTTP by someone else arrives; queries and mutations on the socket


async def receive(params):
    proto = params["proto"]
    ws = transport(params, params["receiverToken"], proto, key=params.get("tokenKey", "authorization"))
    async with Client(transport=ws) as session:
        check(ws.subprotocol == proto, f"negotiated {ws.subprotocol}, wanted {proto}")
        extensions = ws.response_headers.get("Sec-WebSocket-Extensions")
        me = (await session.execute(GraphQLRequest("query Me { me { id } }")))["me"]["id"]
        typing = await session.execute(GraphQLRequest(
            "mutation T($c: ID!) { setTyping(conversationId: $c, isTyping: false) }",
            variable_values={"c": params["conversationId"]}))
        sub = await Subscription(session, ws, MESSAGE_SUB, {"c": params["conversationId"]}).start()
        sent = send_message(params, params["senderToken"], params["conversationId"], params["text"])
        event = (await sub.next())["messageReceived"]
        await sub.close()
        # An operation the server refuses arrives as an error for that operation only.
        try:
            await session.execute(GraphQLRequest("query Bad { conversation(id: \"not-a-uuid\") { id } }"))
            refused = None
        except Exception as error:  # TransportQueryError
            refused = type(error).__name__
        again = (await session.execute(GraphQLRequest("query Me { me { id } }")))["me"]["id"]
    print(json.dumps({
        "subprotocol": ws.subprotocol, "extensions": extensions, "me": me, "meAfterError": again, "setTyping": typing["setTyping"],
        "sentId": sent["id"], "event": event, "refused": refused,
    }))


# --- deflate: gql's transport (the `websockets` library) negotiates permessage-deflate by default,
# as browsers do; messages larger than 16 KiB once inflated go both ways.


async def deflate(params):
    ws = transport(params, params["token"], "graphql-transport-ws")
    padding = "".join(random.choice(string.ascii_letters) for _ in range(params["padding"]))
    introspection = ("query Types { __schema { types { name kind description fields { name description "
                     "args { name description } type { name kind ofType { name kind } } } } } }")
    async with Client(transport=ws) as session:
        extensions = ws.response_headers.get("Sec-WebSocket-Extensions")
        # gql prints the parsed document again, comments dropped: the bulk travels as a variable.
        big = await session.execute(GraphQLRequest(
            "query Big($n: String!) { me { id } __type(name: $n) { name } }", variable_values={"n": padding}))
        me = big["me"]["id"] if big["__type"] is None else None
        types = await session.execute(GraphQLRequest(introspection))
    over_http = http(params, params["token"], introspection)
    print(json.dumps({
        "extensions": extensions, "me": me, "typesOverSocket": len(json.dumps(types)),
        "sameAsHTTP": types == over_http,
    }))


# --- events: receipts and reactions by someone else reach the author


async def events(params):
    proto, conv = params["proto"], params["conversationId"]
    ws = transport(params, params["authorToken"], proto)
    async with Client(transport=ws) as session:
        statuses = await Subscription(session, ws, """
            subscription S($c: ID) { messageStatusChanged(conversationId: $c) { message { id } user { id } status at } }
            """, {"c": conv}).start()
        reactions = await Subscription(session, ws, """
            subscription R($c: ID) { reactions(conversationId: $c) { message { id } user { id } emoji action at } }
            """, {"c": conv}).start()
        message = send_message(params, params["authorToken"], conv, "react to me")
        reader = params["readerToken"]
        http(params, reader, "mutation($c: ID!, $m: ID!) { markRead(conversationId: $c, upToMessageId: $m) }",
             {"c": conv, "m": message["id"]})
        http(params, reader, "mutation($m: ID!) { addReaction(messageId: $m, emoji: \"👍\") { id } }", {"m": message["id"]})
        http(params, reader, "mutation($m: ID!) { removeReaction(messageId: $m, emoji: \"👍\") { id } }", {"m": message["id"]})
        status = (await statuses.next())["messageStatusChanged"]
        while status["message"]["id"] != message["id"] or status["status"] != "READ":
            status = (await statuses.next())["messageStatusChanged"]
        added = (await reactions.next())["reactions"]
        removed = (await reactions.next())["reactions"]
        await statuses.close()
        await reactions.close()
    print(json.dumps({"messageId": message["id"], "status": status, "added": added, "removed": removed}))


# --- catchup: reconnect with `after`; nothing missed, nothing duplicated


async def catchup(params):
    proto, conv = params["proto"], params["conversationId"]
    sender, receiver = params["senderToken"], params["receiverToken"]
    seen = []
    ws = transport(params, receiver, proto)
    async with Client(transport=ws) as session:
        sub = await Subscription(session, ws, MESSAGE_SUB, {"c": conv}).start()
        for text in ["c1", "c2"]:
            send_message(params, sender, conv, text)
            seen.append((await sub.next())["messageReceived"])
        await sub.close()
    # Away: two messages are missed.
    for text in ["c3", "c4"]:
        send_message(params, sender, conv, text)
    ws = transport(params, receiver, proto)
    async with Client(transport=ws) as session:
        sub = Subscription(session, ws, MESSAGE_SUB, {"c": conv, "after": seen[-1]["cursor"]})
        await sub.start()
        # One more while the catch-up may still be running.
        send_message(params, sender, conv, "c5")
        after = []
        while not after or after[-1]["text"] != "c5":
            after.append((await sub.next())["messageReceived"])
        # A later live message comes next: a duplicate of an earlier one would come before it.
        send_message(params, sender, conv, "c6")
        after.append((await sub.next())["messageReceived"])
        await sub.close()
    print(json.dumps({"before": [m["text"] for m in seen], "after": [m["text"] for m in after],
                      "afterIds": [m["id"] for m in after]}))


# --- typing: setTyping over HTTP, then the state expires by itself


async def typing(params):
    proto, conv = params["proto"], params["conversationId"]
    ws = transport(params, params["receiverToken"], proto)
    async with Client(transport=ws) as session:
        sub = await Subscription(session, ws, """
            subscription T($c: ID) { typing(conversationId: $c) { conversationId isTyping at user { id } } }
            """, {"c": conv}).start()
        http(params, params["senderToken"], "mutation($c: ID!) { setTyping(conversationId: $c, isTyping: true) }", {"c": conv})
        started = (await sub.next())["typing"]
        began = time.monotonic()
        stopped = (await sub.next())["typing"]
        waited = time.monotonic() - began
        await sub.close()
    print(json.dumps({"started": started, "stopped": stopped, "secondsToExpiry": waited}))


# --- removed: a member removed from a group stops receiving its messages at once


async def removed(params):
    proto, group, direct = params["proto"], params["groupId"], params["directId"]
    owner, member = params["ownerToken"], params["memberToken"]
    ws = transport(params, member, proto)
    texts = []
    async with Client(transport=ws) as session:
        sub = await Subscription(session, ws, MESSAGE_SUB, {}).start()
        send_message(params, owner, group, "before removal")
        while "before removal" not in texts:
            texts.append((await sub.next())["messageReceived"]["text"])
        http(params, owner, "mutation($c: ID!, $u: ID!) { removeGroupMember(conversationId: $c, userId: $u) { id } }",
             {"c": group, "u": params["memberId"]})
        send_message(params, owner, group, "after removal")
        # Events reach subscribers in order: once this marker arrives, the group message was not sent.
        send_message(params, owner, direct, "marker")
        while "marker" not in texts:
            texts.append((await sub.next())["messageReceived"]["text"])
        await sub.close()
    print(json.dumps({"texts": [t for t in texts if t is not None]}))


# --- presence: online, away after the idle period, offline with lastSeenAt


async def presence(params):
    proto = params["proto"]
    ws = transport(params, params["watcherToken"], proto)
    async with Client(transport=ws) as session:
        sub = await Subscription(session, ws, """
            subscription P($u: [ID!]) { presence(userIds: $u) { status lastSeenAt user { id } } }
            """, {"u": [params["watchedId"]]}).start()
        watched = transport(params, params["watchedToken"], proto)
        events = []
        async with Client(transport=watched):
            events.append((await sub.next())["presence"])
            # Idle: nothing is sent on the watched socket, so AWAY follows.
            events.append((await sub.next())["presence"])
        events.append((await sub.next())["presence"])
        await sub.close()
    print(json.dumps({"events": events}))


# --- slow: a socket that stops reading is closed; the others keep receiving


async def gap(params):
    """The receiver subscribes, then `params["ready"]` is created; the Swift test sends a message,
    writes one straight into the log (its notification lost) and sends one more. All three must
    arrive, in the log's order: the subscriber reads the gap from the log when the third shows it."""
    ws = transport(params, params["receiverToken"], "graphql-transport-ws")
    async with Client(transport=ws) as session:
        sub = await Subscription(session, ws, MESSAGE_SUB, {"c": params["conversationId"]}).start()
        open(params["ready"], "w").close()
        events = [(await sub.next())["messageReceived"] for _ in range(3)]
        await sub.close()
    print(json.dumps({"ids": [e["id"] for e in events], "texts": [e["text"] for e in events]}))


async def biggap(params):
    """The receiver subscribes, then `params["ready"]` is created; the Swift test sends a message,
    writes more messages straight into the log than a gap is filled with, and sends one more. The
    socket gets the first, then is closed (try again later): the last one must not arrive with the
    gap before it skipped."""
    ws = raw_connect(params["ws"], "graphql-transport-ws", params["receiverToken"])
    ws.send(json.dumps({"id": "m", "type": "subscribe", "payload": {
        "query": MESSAGE_SUB, "variables": {"c": params["conversationId"]}}}))
    ws.send(json.dumps({"id": "sync", "type": "subscribe", "payload": {"query": "{ me { id } }"}}))
    while True:  # answered once the subscription is live
        message = json.loads(ws.recv())
        check(message.get("type") != "error", f"subscription refused: {message}")
        if message.get("id") == "sync":
            break
    open(params["ready"], "w").close()
    messages, code, reason = read_until_close(ws)
    texts = [m["payload"]["data"]["messageReceived"]["text"] for m in messages if m.get("type") == "next" and m.get("id") == "m"]
    print(json.dumps({"texts": texts, "code": code, "reason": reason}))


def raw_connect(url, proto, token, rcvbuf=None):
    options = {"subprotocols": [proto], "timeout": TIMEOUT, "enable_multithread": True}
    if rcvbuf:
        options["sockopt"] = ((socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf),)
    ws = websocket.create_connection(url, **options)
    ws.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
    expect_ack(ws, proto)
    return ws


def claims(token):
    import base64
    body = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def expect_ack(ws, what):
    opcode, data = ws.recv_data(control_frame=True)
    if opcode == websocket.ABNF.OPCODE_CLOSE:
        code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
        check(False, f"{what}: closed with {code} {data[2:].decode('utf-8', 'replace')!r} instead of an ack")
    ack = json.loads(data.decode("utf-8"))
    check(ack["type"] == "connection_ack", f"{what}: ack expected, got {ack}")


def read_until_close(ws):
    """Frames until the close frame: (list of decoded messages, close code, reason)."""
    messages = []
    while True:
        try:
            opcode, data = ws.recv_data(control_frame=True)
        except websocket.WebSocketConnectionClosedException:
            return messages, None, "connection dropped without a close frame"
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
            return messages, code, data[2:].decode("utf-8", "replace")
        if opcode == websocket.ABNF.OPCODE_TEXT:
            messages.append(json.loads(data.decode("utf-8")))


async def slow(params):
    proto, conv = "graphql-transport-ws", params["conversationId"]
    # A fat selection: every event is megabytes, so that a socket that stops reading fills the
    # kernel buffers quickly.
    fat = " ".join(f"t{i}: text" for i in range(params["aliases"]))
    stalled = raw_connect(params["ws"], proto, params["slowToken"], rcvbuf=4096)
    stalled.send(json.dumps({"id": "fat", "type": "subscribe", "payload": {
        "query": f"subscription($c: ID) {{ messageReceived(conversationId: $c) {{ id {fat} }} }}", "variables": {"c": conv}}}))
    stalled.send(json.dumps({"id": "sync", "type": "subscribe", "payload": {"query": "{ me { id } }"}}))
    while True:  # answered once the fat subscription is live
        message = json.loads(stalled.recv())
        check(message.get("type") != "error", f"stalled subscription refused: {message}")
        if message.get("id") == "sync":
            break
    # The stalled client reads nothing more from here on, until the server has given up on it.

    ws = transport(params, params["healthyToken"], "graphql-transport-ws")
    received = []
    async with Client(transport=ws) as session:
        sub = await Subscription(session, ws, MESSAGE_SUB, {"c": conv}).start()
        body = "x" * params["textLength"]
        sent = []
        for index in range(params["count"]):
            sent.append(send_message(params, params["senderToken"], conv, f"{index}:{body}")["id"])
            received.append((await sub.next())["messageReceived"]["id"])
        # The server counts the stalled socket as gone once it gave up: its user goes offline.
        polls = 0
        while True:
            status = http(params, params["healthyToken"], "query($u: [ID!]!) { presence(userIds: $u) { status } }",
                          {"u": [params["slowId"]]})["presence"][0]["status"]
            if status == "OFFLINE":
                break
            polls += 1
            check(polls < 600, "the stalled socket was never given up")
            await asyncio.sleep(0.05)
        # The healthy client is unaffected: one more message arrives.
        sent.append(send_message(params, params["senderToken"], conv, "after the cut")["id"])
        received.append((await sub.next())["messageReceived"]["id"])
        await sub.close()

    messages, code, reason = read_until_close(stalled)
    nexts = [m for m in messages if m.get("type") == "next" and m.get("id") == "fat"]
    print(json.dumps({
        "sent": sent, "received": received, "stalledCode": code, "stalledReason": reason,
        "stalledNextCount": len(nexts),
    }))


# --- closes: a token that expires, a session that is revoked


async def closes(params):
    """Each socket subscribes, then waits: its token expires, or (`logout`) its session is revoked."""
    results = {}
    for proto, token in params["sockets"]:  # in order: tokens that expire first come first
        ws = websocket.create_connection(params["ws"], subprotocols=[proto], timeout=TIMEOUT)
        ws.send(json.dumps({"type": "connection_init", "payload": {"accessToken": token}}))
        expect_ack(ws, f"{proto} at {time.time():.3f}, token exp {claims(token).get('exp')}")
        start = "subscribe" if proto == "graphql-transport-ws" else "start"
        ws.send(json.dumps({"id": "1", "type": start, "payload": {
            "query": "subscription { messageReceived { id } }"}}))
        if params.get("logout"):
            http(params, token, "mutation { logout }")
        messages, code, reason = read_until_close(ws)
        results[proto] = {"code": code, "reason": reason, "types": sorted({m["type"] for m in messages})}
        ws.close()
    print(json.dumps(results))


async def interrupted(params):
    """A socket of each subprotocol subscribes, then `params["ready"]` is created and the Swift test
    cuts the gateway's LISTEN connection: each socket must be closed, with the words that say so."""
    sockets = {}
    for proto in ["graphql-transport-ws", "graphql-ws"]:
        ws = raw_connect(params["ws"], proto, params["token"])
        start, data = ("subscribe", "next") if proto == "graphql-transport-ws" else ("start", "data")
        ws.send(json.dumps({"id": "1", "type": start, "payload": {"query": "subscription { messageReceived { id } }"}}))
        # Answered only once the subscription before it is live.
        ws.send(json.dumps({"id": "2", "type": start, "payload": {"query": "{ __typename }"}}))
        while True:
            frame = json.loads(ws.recv())
            if frame.get("id") == "2" and frame["type"] == data:
                break
            check(frame["type"] in (data, "complete", "ka"), f"{proto}: unexpected {frame}")
        sockets[proto] = ws
    open(params["ready"], "w").close()
    results = {}
    for proto, ws in sockets.items():
        messages, code, reason = read_until_close(ws)
        results[proto] = {"code": code, "reason": reason}
        ws.close()
    print(json.dumps(results))


# --- protocol: the refusals and their close codes


class Progress(dict):
    """Results that also go to stderr as they come, so a hang shows where it stopped."""

    def __setitem__(self, key, value):
        print(f"{key}: {value}", file=sys.stderr, flush=True)
        super().__setitem__(key, value)


def protocol(params):
    url, token = params["ws"], params["token"]
    results = Progress()

    def connect(protos, **options):
        return websocket.create_connection(url, subprotocols=protos, timeout=TIMEOUT, **options)

    # An unknown offer is upgraded without a subprotocol, then closed with 4406. (websocket-client
    # refuses such a handshake when it offered subprotocols itself, so the offer is a raw header.)
    ws = websocket.create_connection(url, header=["Sec-WebSocket-Protocol: mqtt"], timeout=TIMEOUT)
    results["unknownSubprotocol"] = read_until_close(ws)[1:]
    results["unknownSubprotocolAnswer"] = ws.getheaders().get("sec-websocket-protocol")
    ws.close()
    ws = websocket.create_connection(url, timeout=TIMEOUT)
    results["noSubprotocol"] = read_until_close(ws)[1:]
    ws.close()

    ws = connect(["graphql-transport-ws"])
    results["chosen"] = ws.getsubprotocol()
    results["initTimeout"] = read_until_close(ws)[1:]
    ws.close()

    ws = connect(["graphql-transport-ws"])
    ws.send(json.dumps({"type": "subscribe", "id": "1", "payload": {"query": "{ me { id } }"}}))
    results["subscribeBeforeInit"] = read_until_close(ws)[1:]
    ws.close()

    ws = connect(["graphql-transport-ws"])
    ws.send(json.dumps({"type": "connection_init", "payload": {"token": "not.a.token"}}))
    results["badToken"] = read_until_close(ws)[1:]
    ws.close()

    ws = connect(["graphql-ws"])
    ws.send(json.dumps({"type": "connection_init", "payload": {"token": "not.a.token"}}))
    messages, code, reason = read_until_close(ws)
    results["legacyBadToken"] = [code, reason, [m["type"] for m in messages]]
    ws.close()

    ws = raw_connect(url, "graphql-transport-ws", token)
    ws.send(json.dumps({"type": "ping", "payload": {"n": 1}}))
    results["pong"] = json.loads(ws.recv())
    ws.send(json.dumps({"type": "connection_init"}))
    results["secondInit"] = read_until_close(ws)[1:]
    ws.close()

    ws = raw_connect(url, "graphql-transport-ws", token)
    sub = {"query": "subscription { typing { isTyping } }"}
    ws.send(json.dumps({"type": "subscribe", "id": "dup", "payload": sub}))
    ws.send(json.dumps({"type": "subscribe", "id": "dup", "payload": sub}))
    results["duplicateId"] = read_until_close(ws)[1:]
    ws.close()

    ws = raw_connect(url, "graphql-transport-ws", token)
    ws.send("{not json")
    results["malformed"] = read_until_close(ws)[1:]
    ws.close()

    ws = raw_connect(url, "graphql-transport-ws", token)
    ws.send(json.dumps({"type": "subscribe", "id": "big", "payload": {"query": "{ me { id } }", "variables": {
        "pad": "p" * params["tooLarge"]}}}))
    results["tooLarge"] = read_until_close(ws)[1:]
    ws.close()

    # The operation limit refuses one operation and keeps the socket; completing frees a slot.
    ws = raw_connect(url, "graphql-transport-ws", token)
    for n in range(params["maxSubscriptions"] + 1):
        ws.send(json.dumps({"type": "subscribe", "id": f"s{n}", "payload": sub}))
    refused = json.loads(ws.recv())
    results["overLimit"] = {"type": refused["type"], "id": refused["id"],
                            "code": refused["payload"][0]["extensions"]["code"]}
    ws.send(json.dumps({"type": "complete", "id": "s0"}))
    ws.send(json.dumps({"type": "subscribe", "id": "q", "payload": {"query": "{ me { id } }"}}))
    answer = [json.loads(ws.recv()), json.loads(ws.recv())]
    results["afterComplete"] = [a["type"] for a in answer]
    results["meOverSocket"] = answer[0]["payload"]["data"]["me"]["id"]
    ws.close()

    # Anonymous sockets run sign-in style operations; those needing a viewer say why not.
    ws = connect(["graphql-transport-ws"])
    ws.send(json.dumps({"type": "connection_init"}))
    check(json.loads(ws.recv())["type"] == "connection_ack", "anonymous ack")
    ws.send(json.dumps({"type": "subscribe", "id": "a", "payload": {"query": "subscription { typing { isTyping } }"}}))
    anonymous = json.loads(ws.recv())
    results["anonymousSubscription"] = [anonymous["type"], anonymous["payload"][0]["extensions"]["code"]]
    ws.close()

    # Legacy: start, data, stop, complete; and the per-user connection limit (another user, whose
    # sockets are all open here).
    limited = params["limitToken"]
    open_sockets = []
    for _ in range(params["maxConnections"]):
        open_sockets.append(raw_connect(url, "graphql-ws", limited))
    ws = connect(["graphql-ws"])
    ws.send(json.dumps({"type": "connection_init", "payload": {"token": limited}}))
    messages, code, reason = read_until_close(ws)
    results["tooManyConnections"] = [code, reason]
    ws.close()
    legacy = open_sockets[0]
    legacy.send(json.dumps({"type": "start", "id": "1", "payload": {"query": "query { me { id } }"}}))
    legacy.send(json.dumps({"type": "start", "id": "2", "payload": sub}))
    legacy.send(json.dumps({"type": "stop", "id": "2"}))
    types = []
    while len([t for t in types if t.startswith("complete")]) < 2:
        message = json.loads(legacy.recv())
        if message["type"] != "ka":
            types.append(f'{message["type"]}:{message.get("id")}')
        else:
            types.append("ka")
    results["legacyFlow"] = types
    legacy.send(json.dumps({"type": "connection_terminate"}))
    results["legacyTerminate"] = read_until_close(legacy)[1:]
    for other in open_sockets:
        other.close()
    print(json.dumps(results))


# --- keepalive: the server keeps sockets alive with the subprotocol's own messages (the Swift test
# sets WS_PING_SECONDS and WS_KEEPALIVE_SECONDS to 1). graphql-transport-ws: a `ping` a client
# answers keeps the socket, one left unanswered for a period closes it with 1001. Legacy: `ka`,
# which needs no answer. gql's transport answers pings by itself and stays usable.

def next_text(ws):
    opcode, data = ws.recv_data(control_frame=True)
    check(opcode == websocket.ABNF.OPCODE_TEXT, f"text frame expected, got opcode {opcode} {data[:40]!r}")
    return json.loads(data.decode("utf-8"))


async def keepalive(params):
    token, results = params["token"], {}
    ws = raw_connect(params["ws"], "graphql-transport-ws", token)
    answered = []
    while len(answered) < 2:
        message = next_text(ws)
        answered.append(message["type"])
        if message["type"] == "ping":
            ws.send(json.dumps({"type": "pong"}))
    messages, code, reason = read_until_close(ws)
    results["transport"] = {"answered": answered, "afterSilence": [m["type"] for m in messages], "code": code, "reason": reason}
    ws.close()

    legacy = raw_connect(params["ws"], "graphql-ws", token)
    kinds = [next_text(legacy)["type"] for _ in range(3)]
    legacy.send(json.dumps({"id": "q", "type": "start", "payload": {"query": "{ me { id } }"}}))
    while True:
        message = next_text(legacy)
        if message["type"] != "ka":
            break
    results["legacy"] = {"first": kinds, "afterKa": message["type"], "me": message.get("payload", {}).get("data", {}).get("me", {}).get("id")}
    legacy.close()

    ws_transport = transport(params, token, "graphql-transport-ws")
    async with Client(transport=ws_transport) as session:
        await asyncio.sleep(params["quietSeconds"])
        results["gqlAfterQuiet"] = (await session.execute(GraphQLRequest("query Me { me { id } }")))["me"]["id"]
    print(json.dumps(results))


def main(argv):
    scenarios = {"receive": receive, "events": events, "catchup": catchup, "gap": gap, "biggap": biggap, "typing": typing, "removed": removed,
                 "presence": presence, "slow": slow, "closes": closes, "deflate": deflate,
                 "interrupted": interrupted, "keepalive": keepalive}
    if len(argv) != 2 or (argv[0] not in scenarios and argv[0] != "protocol"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    params = json.loads(argv[1])
    if argv[0] == "protocol":
        protocol(params)
    else:
        asyncio.run(scenarios[argv[0]](params))


if __name__ == "__main__":
    main(sys.argv[1:])
