"""Holds one authenticated graphql-transport-ws connection with one live subscription, reads
/metrics while it is open, and prints the series that describe it."""
import json
import sys

import requests
import websocket  # websocket-client


def value(scrape, series):
    for line in scrape.splitlines():
        if line.startswith(series + " "):
            return float(line.split(" ")[1])
    return None


def main(base, token, metrics_token, sender_token, recipient_id):
    ws = websocket.create_connection(base.replace("http", "ws") + "/graphql", subprotocols=["graphql-transport-ws"], timeout=20)
    ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": "Bearer " + token}}))
    assert json.loads(ws.recv())["type"] == "connection_ack"
    ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "subscription { messageReceived { id text } }"}}))
    # A query answered after the subscribe proves the subscription is live (operations run in order).
    ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": {"query": "{ me { id } }"}}))
    while json.loads(ws.recv()).get("id") != "2":
        pass
    scrape = requests.get(base + "/metrics", headers={"Authorization": "Bearer " + metrics_token}, timeout=20).text
    sent = requests.post(base + "/graphql", timeout=20, headers={"Authorization": "Bearer " + sender_token}, json={
        "query": "mutation($i: SendMessageInput!) { sendMessage(input: $i) { id } }",
        "variables": {"i": {"recipientId": recipient_id, "text": "measured"}}}).json()
    while True:
        frame = json.loads(ws.recv())
        if frame.get("id") == "1" and frame.get("type") == "next":
            received = frame["payload"]["data"]["messageReceived"]
            break
    after = requests.get(base + "/metrics", headers={"Authorization": "Bearer " + metrics_token}, timeout=20).text
    ws.close()
    print(json.dumps({
        "connections": value(scrape, 'messagerie_open_connections{transport="graphql-ws"}'),
        "subscriptions": value(scrape, 'messagerie_active_subscriptions{transport="graphql-ws"}'),
        "sentId": sent["data"]["sendMessage"]["id"],
        "receivedId": received["id"],
        "fanOutCount": value(after, "messagerie_fanout_delay_seconds_count"),
    }))


if __name__ == "__main__":
    main(*sys.argv[1:6])
