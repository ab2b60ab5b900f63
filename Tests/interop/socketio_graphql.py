#!/usr/bin/env python3
"""The two doors see each other's traffic: a message sent with the stock `python-socketio`
client reaches a GraphQL subscriber (`gql` over WebSocket, graphql-transport-ws).

    socketio_graphql.py BASE_URL CONVERSATION_ID SENDER_TOKEN RECEIVER_TOKEN TRANSPORT

The subscription is synchronised, not slept on: after subscribing, a query runs on the same
socket, which the server answers only once the subscription is live. Prints one JSON line.
"""
import asyncio
import json
import sys

import socketio
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

TIMEOUT = 20


def fail(reason):
    sys.stderr.write(reason + "\n")
    sys.exit(1)


def send_over_socketio(base, transport, token, conversation_id, text):
    sio = socketio.Client(reconnection=False)
    transports = {"polling": ["polling"], "websocket": ["websocket"], "upgrade": ["polling", "websocket"]}[transport]
    sio.connect(base, transports=transports, auth={"token": token}, wait_timeout=TIMEOUT)
    try:
        ack = sio.call("sendMessage", {"conversationId": conversation_id, "content": text}, timeout=TIMEOUT)
    finally:
        sio.disconnect()
    if not ack.get("ok"):
        fail(f"sendMessage refused: {ack}")
    return ack["message"]


async def main(base, conversation_id, sender_token, receiver_token, transport):
    ws = WebsocketsTransport(url=base.replace("http", "ws", 1) + "/graphql", subprotocols=["graphql-transport-ws"],
                             init_payload={"authorization": f"Bearer {receiver_token}"})
    async with Client(transport=ws) as session:
        query_id = ws.next_query_id
        generator = session.subscribe(GraphQLRequest(
            "subscription R($c: ID) { messageReceived(conversationId: $c) { id text sender { id } } }",
            variable_values={"c": conversation_id}))
        pending = asyncio.ensure_future(generator.__anext__())
        while query_id not in ws.listeners:
            if pending.done():
                pending.result()
            await asyncio.sleep(0.01)
        await session.execute(GraphQLRequest("query Sync { me { id } }"))

        text = "from Socket.IO to GraphQL"
        sent = await asyncio.get_running_loop().run_in_executor(
            None, send_over_socketio, base, transport, sender_token, conversation_id, text)
        while True:
            event = (await asyncio.wait_for(pending, TIMEOUT))["messageReceived"]
            if event["id"] == sent["id"]:
                break
            pending = asyncio.ensure_future(generator.__anext__())
        await generator.aclose()
    print(json.dumps({"sentId": sent["id"], "received": event}))


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
