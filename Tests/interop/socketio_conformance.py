#!/usr/bin/env python3
"""Raw Engine.IO v4 / Socket.IO v5 checks against `messagerie socketio-conformance`, written from
the behaviour the official `engine.io-protocol` and `socket.io-protocol` test suites expect
(reference configuration: pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1e6,
connectTimeout 1 s). Plain `requests` and `websocket-client`, no Socket.IO library.

    socketio_conformance.py URL

Runs every case and prints one JSON line {case: "ok" | "FAILED: why"}; exits non-zero if any failed.
"""
import json
import sys
import threading
import time

import requests
import websocket

URL = sys.argv[1].rstrip("/")
WS_URL = URL.replace("http", "ws", 1)
RS = "\x1e"
results = {}


class Failed(Exception):
    pass


def expect(condition, why):
    if not condition:
        raise Failed(why)


def case(function):
    try:
        function()
        results[function.__name__] = "ok"
    except Exception as error:  # noqa: BLE001 - every failure is reported by name
        results[function.__name__] = f"FAILED: {type(error).__name__}: {error}"
    return function


def get(path, query):
    return requests.get(f"{URL}{path}/?{query}", timeout=5)


def post(path, query, body):
    return requests.post(f"{URL}{path}/?{query}", data=body.encode(), timeout=5,
                         headers={"content-type": "text/plain;charset=UTF-8"})


def open_polling(path="/engine.io", consume_ping=True):
    response = get(path, "EIO=4&transport=polling")
    expect(response.status_code == 200 and response.text.startswith("0"), f"handshake: {response.status_code} {response.text}")
    sid = json.loads(response.text[1:])["sid"]
    if consume_ping:
        ping = get(path, f"EIO=4&transport=polling&sid={sid}")
        expect(ping.text == "2", f"first poll should be a ping, got {ping.text!r}")
    return sid


def ws(path, query="EIO=4&transport=websocket"):
    socket = websocket.create_connection(f"{WS_URL}{path}/?{query}", timeout=5)
    return socket


def receive(socket, skip_pings=True):
    while True:
        opcode, data = socket.recv_data()
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            raise Failed("closed while waiting for a message")
        if opcode == websocket.ABNF.OPCODE_TEXT:
            text = data.decode()
            if skip_pings and text == "2":
                continue
            return text
        return bytes(data)


def closes(socket, within=3):
    socket.settimeout(within)
    try:
        while True:
            opcode, _ = socket.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return True
    except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
        return True
    except websocket.WebSocketTimeoutException:
        return False


# MARK: Engine.IO

@case
def eio_polling_handshake():
    response = get("/engine.io", "EIO=4&transport=polling")
    expect(response.status_code == 200, response.status_code)
    value = json.loads(response.text[1:])
    expect(set(value) == {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}, value)
    expect(value["upgrades"] == ["websocket"] and value["pingInterval"] == 300 and value["pingTimeout"] == 200
           and value["maxPayload"] == 1000000, value)


@case
def eio_polling_bad_requests():
    for query in ["transport=polling", "EIO=abc&transport=polling", "EIO=4", "EIO=4&transport=abc"]:
        expect(get("/engine.io", query).status_code == 400, query)
    expect(post("/engine.io", "EIO=4&transport=polling", "").status_code == 400, "POST handshake")
    expect(requests.put(f"{URL}/engine.io/?EIO=4&transport=polling", timeout=5).status_code == 400, "PUT")


@case
def eio_websocket_handshake():
    socket = ws("/engine.io")
    text = receive(socket)
    value = json.loads(text[1:])
    expect(text.startswith("0") and value["upgrades"] == [] and value["pingInterval"] == 300, text)
    socket.close()


@case
def eio_websocket_bad_query_is_refused():
    for query in ["transport=websocket", "EIO=abc&transport=websocket", "EIO=4", "EIO=4&transport=abc"]:
        try:
            socket = ws("/engine.io", query)
        except websocket.WebSocketBadStatusException:
            continue
        expect(closes(socket), f"{query} was accepted")


@case
def eio_polling_echo_text_several_and_binary():
    for body in ["4hello", f"4test1{RS}4test2{RS}4test3", f"4hello{RS}bAQIDBA=="]:
        sid = open_polling()
        pushed = post("/engine.io", f"EIO=4&transport=polling&sid={sid}", body)
        expect(pushed.status_code == 200 and pushed.text == "ok", pushed.text)
        polled = get("/engine.io", f"EIO=4&transport=polling&sid={sid}")
        expect(polled.status_code == 200 and polled.text == body, polled.text)


@case
def eio_polling_invalid_packet_closes():
    sid = open_polling()
    expect(post("/engine.io", f"EIO=4&transport=polling&sid={sid}", "abc").status_code == 400, "bad post")
    expect(get("/engine.io", f"EIO=4&transport=polling&sid={sid}").status_code == 400, "session kept")


@case
def eio_polling_duplicate_poll_closes():
    sid = open_polling()
    answers = {}

    def first():
        answers["first"] = get("/engine.io", f"EIO=4&transport=polling&sid={sid}")
    thread = threading.Thread(target=first)
    thread.start()
    time.sleep(0.05)
    second = get("/engine.io", f"EIO=4&transport=polling&sid={sid}&t=burst")
    thread.join()
    expect(answers["first"].status_code == 200 and answers["first"].text == "1", answers["first"].text)
    expect(second.status_code in (400, 500), second.status_code)
    expect(get("/engine.io", f"EIO=4&transport=polling&sid={sid}").status_code == 400, "session kept")


@case
def eio_websocket_echo_text_and_binary():
    socket = ws("/engine.io")
    receive(socket)
    socket.send("4hello")
    expect(receive(socket) == "4hello", "text echo")
    socket.send_binary(bytes([1, 2, 3, 4]))
    expect(receive(socket) == bytes([1, 2, 3, 4]), "binary echo")
    socket.close()


@case
def eio_websocket_invalid_packet_closes():
    socket = ws("/engine.io")
    receive(socket)
    socket.send("abc")
    expect(closes(socket), "still open")


@case
def eio_polling_heartbeat():
    sid = open_polling(consume_ping=False)
    for _ in range(3):
        ping = get("/engine.io", f"EIO=4&transport=polling&sid={sid}")
        expect(ping.text == "2", ping.text)
        expect(post("/engine.io", f"EIO=4&transport=polling&sid={sid}", "3").text == "ok", "pong")


@case
def eio_polling_ping_timeout():
    sid = open_polling()
    time.sleep(0.5)
    expect(get("/engine.io", f"EIO=4&transport=polling&sid={sid}").status_code == 400, "session kept")


@case
def eio_websocket_heartbeat_and_timeout():
    socket = ws("/engine.io")
    receive(socket)
    for _ in range(3):
        expect(receive(socket, skip_pings=False) == "2", "ping")
        socket.send("3")
    expect(closes(socket), "no timeout without pong")


@case
def eio_polling_close():
    sid = open_polling()
    answers = {}

    def poll():
        answers["poll"] = get("/engine.io", f"EIO=4&transport=polling&sid={sid}")
    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(0.05)
    post("/engine.io", f"EIO=4&transport=polling&sid={sid}", "1")
    thread.join()
    expect(answers["poll"].status_code == 200 and answers["poll"].text == "6", answers["poll"].text)
    expect(get("/engine.io", f"EIO=4&transport=polling&sid={sid}").status_code == 400, "session kept")


@case
def eio_websocket_close():
    socket = ws("/engine.io")
    receive(socket)
    socket.send("1")
    expect(closes(socket), "still open")


@case
def eio_upgrade():
    sid = open_polling()
    socket = ws("/engine.io", f"EIO=4&transport=websocket&sid={sid}")
    socket.send("2probe")
    expect(receive(socket) == "3probe", "probe")
    noop = get("/engine.io", f"EIO=4&transport=polling&sid={sid}")
    expect(noop.text == "6", noop.text)
    socket.send("5")
    socket.send("4hello")
    expect(receive(socket) == "4hello", "echo after upgrade")
    expect(get("/engine.io", f"EIO=4&transport=polling&sid={sid}").status_code == 400, "polling after upgrade")
    try:
        second = ws("/engine.io", f"EIO=4&transport=websocket&sid={sid}")
        expect(closes(second), "second WebSocket accepted")
    except websocket.WebSocketBadStatusException:
        pass
    socket.close()


@case
def eio_max_payload_is_enforced():
    sid = open_polling(consume_ping=False)
    big = post("/engine.io", f"EIO=4&transport=polling&sid={sid}", "4" + "x" * 1000001)
    expect(big.status_code == 413, f"polling body over maxPayload: {big.status_code}")
    socket = ws("/engine.io")
    receive(socket)
    socket.send("4" + "x" * 1000001)
    expect(closes(socket), "WebSocket message over maxPayload accepted")


# MARK: Socket.IO

def sio_connect(payload=""):
    socket = ws("/socket.io")
    receive(socket)
    socket.send("40" + payload)
    handshake = receive(socket)
    expect(handshake.startswith("40{"), handshake)
    expect(list(json.loads(handshake[2:]).keys()) == ["sid"], handshake)
    auth = receive(socket)
    return socket, auth


@case
def sio_connect_main_namespace():
    socket, auth = sio_connect()
    expect(auth == '42["auth",{}]', auth)
    socket.close()
    socket, auth = sio_connect('{"token":"123"}')
    expect(auth == '42["auth",{"token":"123"}]', auth)
    socket.close()


@case
def sio_connect_custom_namespace():
    for payload, auth_text in [("", "{}"), ('{"token":"abc"}', '{"token":"abc"}')]:
        socket = ws("/socket.io")
        receive(socket)
        socket.send("40/custom," + payload)
        handshake = receive(socket)
        expect(handshake.startswith("40/custom,") and list(json.loads(handshake[10:])) == ["sid"], handshake)
        auth = receive(socket)
        expect(auth == f'42/custom,["auth",{auth_text}]', auth)
        socket.close()


@case
def sio_unknown_namespace():
    socket = ws("/socket.io")
    receive(socket)
    socket.send("40/random")
    answer = receive(socket)
    expect(answer == '44/random,{"message":"Invalid namespace"}', answer)
    socket.close()


@case
def sio_invalid_handshake_closes():
    socket = ws("/socket.io")
    receive(socket)
    socket.send("4abc")
    expect(closes(socket), "still open")


@case
def sio_disconnect_custom_then_message_main():
    socket, _ = sio_connect()
    socket.send("40/custom")
    receive(socket)
    receive(socket)
    socket.send("41/custom")
    socket.send('42["message","message to main namespace"]')
    answer = receive(socket)
    expect(answer == '42["message-back","message to main namespace"]', answer)
    socket.close()


@case
def sio_plain_message():
    socket, _ = sio_connect()
    socket.send('42["message",1,"2",{"3":[true]}]')
    answer = receive(socket)
    expect(answer == '42["message-back",1,"2",{"3":[true]}]', answer)
    socket.close()


@case
def sio_binary_message():
    socket, _ = sio_connect()
    socket.send('452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]')
    socket.send_binary(bytes([1, 2, 3]))
    socket.send_binary(bytes([4, 5, 6]))
    packets = [receive(socket) for _ in range(3)]
    expect(packets[0] == '452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', packets[0])
    expect(packets[1:] == [bytes([1, 2, 3]), bytes([4, 5, 6])], packets[1:])
    socket.close()


@case
def sio_ack():
    socket, _ = sio_connect()
    socket.send('42456["message-with-ack",1,"2",{"3":[false]}]')
    answer = receive(socket)
    expect(answer == '43456[1,"2",{"3":[false]}]', answer)
    socket.close()


@case
def sio_binary_ack():
    socket, _ = sio_connect()
    socket.send('452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]')
    socket.send_binary(bytes([1, 2, 3]))
    socket.send_binary(bytes([4, 5, 6]))
    packets = [receive(socket) for _ in range(3)]
    expect(packets[0] == '462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', packets[0])
    expect(packets[1:] == [bytes([1, 2, 3]), bytes([4, 5, 6])], packets[1:])
    socket.close()


@case
def sio_connect_timeout():
    socket = ws("/socket.io")
    receive(socket)
    # Answer pings so that only the connect timeout can end the session.
    deadline = time.time() + 3
    socket.settimeout(0.5)
    closed = False
    while time.time() < deadline and not closed:
        try:
            opcode, data = socket.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                closed = True
            elif data == b"2":
                socket.send("3")
        except websocket.WebSocketTimeoutException:
            continue
        except (websocket.WebSocketConnectionClosedException, ConnectionError, OSError):
            closed = True
    expect(closed, "no CONNECT and still open")


# MARK: The stock python-socketio client against the same server

def python_client_binary_ack(transport):
    import socketio
    client = socketio.Client(reconnection=False)
    auths = []
    client.on("auth", lambda data: auths.append(data))
    client.connect(URL, transports=[transport], auth={"token": "py"}, wait_timeout=5)
    try:
        answer = client.call("message-with-ack", (b"\x01\x02\x03", {"nested": b"\x04"}, "text"), timeout=5)
        expect(answer == (b"\x01\x02\x03", {"nested": b"\x04"}, "text"), f"ack: {answer!r}")
        expect(client.get_sid() is not None, "no sid")
    finally:
        client.disconnect()


@case
def python_socketio_binary_ack_over_websocket():
    python_client_binary_ack("websocket")


@case
def python_socketio_binary_ack_over_polling():
    python_client_binary_ack("polling")


print(json.dumps(results))
sys.exit(0 if all(value == "ok" for value in results.values()) else 1)
