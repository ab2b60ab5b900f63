#!/usr/bin/env python3
"""Two people chat through Messagerie's Socket.IO door with the stock `python-socketio` client.

    socketio_chat.py chat    URL TRANSPORT TOKEN_A USER_A TOKEN_B USER_B
    socketio_chat.py refused URL TRANSPORT TOKEN
    socketio_chat.py relisten URL TOKEN_A TOKEN_B USER_B READY_FILE

TRANSPORT is `polling` (long-polling only), `websocket` (WebSocket only) or `upgrade` (polling
first, then upgraded to WebSocket, the client's default). `chat` expects A and B to share a direct
conversation already (the Swift test creates it over GraphQL), exercises every contract event both
ways with acknowledgements, and has B send one message over GraphQL (HTTP) that A must receive as
`messageReceived`. `relisten` connects B over WebSocket with the client's own reconnection, creates
READY_FILE, and waits for the server to close the connection and the client to come back by itself
(the Swift test cuts the gateway's LISTEN connection meanwhile); then A sends over GraphQL and B
must receive it. Each run prints one JSON summary line; any failed check exits non-zero.
"""
import json
import queue
import sys
import uuid

import requests
import socketio

WAIT = 15


def fail(reason):
    sys.stderr.write(reason + "\n")
    sys.exit(1)


def check(condition, reason):
    if not condition:
        fail(reason)


def transports(name):
    return {"polling": ["polling"], "websocket": ["websocket"], "upgrade": ["polling", "websocket"]}[name]


class Person:
    EVENTS = ["userOnline", "userOffline", "typing", "stopTyping", "messageReceived", "messageRead",
              "reactionAdded", "reactionRemoved"]

    def __init__(self, name):
        self.name = name
        self.sio = socketio.Client(reconnection=False)
        self.events = {event: queue.Queue() for event in self.EVENTS}
        for event in self.EVENTS:
            self.sio.on(event, self._recorder(event))

    def _recorder(self, event):
        def record(data):
            self.events[event].put(data)
        return record

    def connect(self, url, transport, token):
        self.sio.connect(url, transports=transports(transport), auth={"token": token}, wait_timeout=WAIT)

    def call(self, event, data):
        return self.sio.call(event, data, timeout=WAIT)

    def expect(self, event, predicate, what):
        """The next `event` matching `predicate`, skipping others of the same name."""
        while True:
            try:
                data = self.events[event].get(timeout=WAIT)
            except queue.Empty:
                fail(f"{self.name} never received {event} ({what})")
            if predicate(data):
                return data


def graphql_send(url, token, recipient, text):
    query = "mutation($i: SendMessageInput!) { sendMessage(input: $i) { id text } }"
    response = requests.post(url.rstrip("/") + "/graphql", json={"query": query, "variables": {
        "i": {"recipientId": recipient, "text": text}}}, headers={"Authorization": f"Bearer {token}"}, timeout=WAIT)
    body = response.json()
    check(response.status_code == 200 and not body.get("errors"), f"GraphQL sendMessage failed: {response.text}")
    return body["data"]["sendMessage"]


def chat(url, transport, token_a, user_a, token_b, user_b):
    summary = {"step": "chat", "transport": transport}
    a, b = Person("A"), Person("B")
    b.connect(url, transport, token_b)
    a.connect(url, transport, token_a)
    summary["transportA"] = a.sio.transport()
    summary["transportB"] = b.sio.transport()
    summary["sidA"] = a.sio.get_sid()

    # A came online after B: B, a contact, is told.
    online = b.expect("userOnline", lambda d: d.get("userId") == user_a, "A online")
    summary["userOnline"] = sorted(online.keys())

    # sendMessage with its acknowledgement; B receives it.
    client_id = str(uuid.uuid4())
    ack = a.call("sendMessage", {"receiverId": user_b, "content": "hello from A", "clientMessageId": client_id})
    check(ack.get("ok") is True, f"sendMessage ack: {ack}")
    message = ack["message"]
    summary["ackMessage"] = {k: message.get(k) for k in ["content", "senderId", "receiverId", "clientMessageId", "status"]}
    received = b.expect("messageReceived", lambda d: d["message"]["id"] == message["id"], "A's message")
    summary["bReceived"] = {k: received["message"].get(k) for k in ["id", "content", "senderId", "receiverId", "conversationId"]}

    # The same clientMessageId is the same message.
    again = a.call("sendMessage", {"receiverId": user_b, "content": "hello from A", "clientMessageId": client_id})
    summary["retrySameId"] = again.get("ok") is True and again["message"]["id"] == message["id"]

    # A refusal is an acknowledgement too.
    refused = a.call("sendMessage", {"content": "nobody"})
    summary["refusedAck"] = refused
    summary["emptyContentAck"] = a.call("sendMessage", {"receiverId": user_b, "content": ""})

    # B writes over GraphQL (HTTP): A receives it over Socket.IO.
    sent = graphql_send(url, token_b, user_a, "hello from B over GraphQL")
    crossed = a.expect("messageReceived", lambda d: d["message"]["id"] == sent["id"], "B's GraphQL message")
    summary["crossDoor"] = {"content": crossed["message"]["content"], "senderId": crossed["message"]["senderId"]}

    # Typing, by receiver and by conversation.
    typing_ack = a.call("typing", {"receiverId": user_b})
    check(typing_ack.get("ok") is True, f"typing ack: {typing_ack}")
    typing = b.expect("typing", lambda d: d.get("userId") == user_a, "A typing")
    summary["typing"] = typing
    stop_ack = a.call("stopTyping", {"conversationId": message["conversationId"]})
    check(stop_ack.get("ok") is True, f"stopTyping ack: {stop_ack}")
    summary["stopTyping"] = b.expect("stopTyping", lambda d: d.get("userId") == user_a, "A stopped typing")

    # B reads A's message: A is told.
    read_ack = b.call("messageRead", {"messageId": message["id"]})
    check(read_ack.get("ok") is True, f"messageRead ack: {read_ack}")
    read = a.expect("messageRead", lambda d: d.get("messageId") == message["id"] and d.get("userId") == user_b, "B read")
    summary["messageRead"] = sorted(read.keys())

    # Reactions both ways.
    react_ack = b.call("react", {"messageId": message["id"], "emoji": "👍"})
    check(react_ack.get("ok") is True, f"react ack: {react_ack}")
    summary["reactAck"] = react_ack["message"]["reactions"]
    added = a.expect("reactionAdded", lambda d: d.get("messageId") == message["id"], "reaction added")
    summary["reactionAdded"] = {"userId": added["userId"], "emoji": added["emoji"]}
    unreact_ack = b.call("unreact", {"messageId": message["id"], "emoji": "👍"})
    check(unreact_ack.get("ok") is True, f"unreact ack: {unreact_ack}")
    removed = a.expect("reactionRemoved", lambda d: d.get("messageId") == message["id"], "reaction removed")
    summary["reactionRemoved"] = {"userId": removed["userId"], "emoji": removed["emoji"]}

    # A leaves: B sees A go offline (after the presence grace).
    a.sio.disconnect()
    offline = b.expect("userOffline", lambda d: d.get("userId") == user_a, "A offline")
    summary["userOffline"] = sorted(offline.keys())
    b.sio.disconnect()
    print(json.dumps(summary))


def refused(url, transport, token):
    sio = socketio.Client(reconnection=False)
    refusals = queue.Queue()
    sio.on("connect_error", lambda data: refusals.put(data))
    try:
        sio.connect(url, transports=transports(transport), auth={"token": token}, wait_timeout=WAIT)
    except socketio.exceptions.ConnectionError as error:
        try:
            data = refusals.get(timeout=WAIT)
        except queue.Empty:
            fail(f"no connect_error event; the connection failed with: {error}")
        print(json.dumps({"step": "refused", "error": str(error), "connectError": data}))
        return
    fail("a bad token was accepted")


def relisten(url, token_a, token_b, user_b, ready_file):
    sio = socketio.Client(reconnection=True, reconnection_delay=0.2, reconnection_delay_max=1)
    connects, disconnects, received = queue.Queue(), [], queue.Queue()
    sio.on("connect", lambda *args: connects.put(True))
    sio.on("disconnect", lambda *args: disconnects.append([str(arg) for arg in args]))
    sio.on("messageReceived", lambda data: received.put(data))
    sio.connect(url, transports=["websocket"], auth={"token": token_b}, wait_timeout=WAIT)
    check(connects.get(timeout=WAIT), "no first connect")
    open(ready_file, "w").close()
    try:
        connects.get(timeout=60)
    except queue.Empty:
        fail(f"the client did not come back by itself (disconnects: {disconnects})")
    sent = graphql_send(url, token_a, user_b, "after LISTEN came back")
    while True:
        try:
            data = received.get(timeout=WAIT)
        except queue.Empty:
            fail("the message sent after the reconnection never arrived")
        if data["message"]["id"] == sent["id"]:
            break
    seen = list(disconnects)
    sio.disconnect()
    print(json.dumps({"step": "relisten", "disconnects": seen, "received": data["message"]["content"]}))


def main():
    step = sys.argv[1]
    if step == "chat":
        chat(*sys.argv[2:8])
    elif step == "refused":
        refused(*sys.argv[2:5])
    elif step == "relisten":
        relisten(*sys.argv[2:7])
    else:
        fail(f"unknown step {step}")


if __name__ == "__main__":
    main()
