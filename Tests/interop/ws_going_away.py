"""Connects to /graphql over graphql-transport-ws, then asks the server process to stop (SIGTERM)
and reports how the socket was closed: a stopping gateway must say "reconnect" (1012)."""
import json
import os
import signal
import sys

import websocket  # websocket-client


def main(url, pid):
    ws = websocket.create_connection(url, subprotocols=["graphql-transport-ws"], timeout=20)
    ws.send(json.dumps({"type": "connection_init", "payload": {}}))
    ack = json.loads(ws.recv())
    os.kill(pid, signal.SIGTERM)
    code, reason = None, ""
    while True:
        opcode, data = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
            reason = data[2:].decode("utf-8", "replace")
            break
    print(json.dumps({"ack": ack.get("type"), "code": code, "reason": reason}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
