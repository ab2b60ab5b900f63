"""Opens an Engine.IO session over WebSocket (the transport Socket.IO clients upgrade to), asks
the server process to stop (SIGTERM) and reports how the session ended: a stopping gateway
closes it, so that the client reconnects to another one, after answering through the drain."""
import json
import os
import signal
import sys
import time

import requests
import websocket  # websocket-client


def main(base, pid):
    ws = websocket.create_connection(
        base.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket", timeout=20)
    opened = ws.recv()
    check_open = opened.startswith("0") and "sid" in json.loads(opened[1:])
    os.kill(pid, signal.SIGTERM)
    # Readiness turns first; the session is still served meanwhile (the server keeps pinging).
    deadline = time.time() + 10
    ready = None
    while time.time() < deadline:
        ready = requests.get(base + "/readyz", timeout=5).status_code
        if ready == 503:
            break
        time.sleep(0.05)
    started = time.time()
    frames, closed = [], None
    while True:
        try:
            opcode, data = ws.recv_data(control_frame=True)
        except websocket.WebSocketConnectionClosedException:
            closed = "connection closed"
            break
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            closed = "close frame"
            break
        if opcode == websocket.ABNF.OPCODE_TEXT:
            text = data.decode()
            frames.append(text)
            if text == "2":
                ws.send("3")
            if text == "1":
                closed = "close packet"
                break
    print(json.dumps({"open": check_open, "readyDuringDrain": ready, "closed": closed,
                      "secondsAfterUnready": round(time.time() - started, 2), "frames": frames}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
