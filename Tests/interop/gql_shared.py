#!/usr/bin/env python3
"""Several `gql` clients (both subprotocols) subscribe with the same viewer-independent document
and with a viewer-dependent one; messages are sent over HTTP; /metrics is read before and after.

    gql_shared.py 'JSON parameters'

Prints one JSON line: what each client received and the subscription execution counters. The
Swift test (SharedExecutionTests) asserts on it.
"""
import asyncio
import contextlib
import json
import sys

import requests
from gql import Client

from gql_ws import Subscription, send_message, transport

SHARED = """
subscription Shared($c: ID) {
  messageReceived(conversationId: $c) { id cursor text sender { id displayName } reactions { emoji count } __typename }
}
"""

PER_VIEWER = """
subscription PerViewer($c: ID) {
  messageReceived(conversationId: $c) { id status reactions { emoji reactedByMe } }
}
"""


def counters(params):
    scrape = requests.get(params["metrics"], headers={"Authorization": "Bearer " + params["metricsToken"]}, timeout=30).text

    def value(series):
        for line in scrape.splitlines():
            if line.startswith(series + " "):
                return float(line.split(" ")[1])
        return 0.0

    return {
        "shared": value('messagerie_graphql_subscription_executions_total{mode="shared"}'),
        "perViewer": value('messagerie_graphql_subscription_executions_total{mode="per_viewer"}'),
        "reused": value("messagerie_graphql_subscription_shared_results_total"),
    }


async def main(params):
    conv = params["conversationId"]
    async with contextlib.AsyncExitStack() as stack:
        subscriptions = []
        for index, token in enumerate(params["receiverTokens"]):
            ws = transport(params, token, "graphql-ws" if index == 0 else "graphql-transport-ws")
            session = await stack.enter_async_context(Client(transport=ws))
            shared = await Subscription(session, ws, SHARED, {"c": conv}).start()
            per_viewer = await Subscription(session, ws, PER_VIEWER, {"c": conv}).start()
            subscriptions.append((shared, per_viewer))
        before = counters(params)
        sent = [send_message(params, params["senderToken"], conv, f"shared {n}")["id"] for n in range(params["count"])]
        received = []
        for shared, per_viewer in subscriptions:
            received.append({
                "shared": [(await shared.next())["messageReceived"] for _ in sent],
                "perViewer": [(await per_viewer.next())["messageReceived"] for _ in sent],
            })
        after = counters(params)
        for shared, per_viewer in subscriptions:
            await shared.close()
            await per_viewer.close()
    print(json.dumps({"sent": sent, "received": received, "before": before, "after": after}))


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
