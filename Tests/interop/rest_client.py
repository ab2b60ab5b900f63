#!/usr/bin/env python3
"""Messagerie's REST routes driven by the `requests` library, as an existing app of the original
API would call them. The code arrives by SMS, so the Swift test reads it from its fake Termii
between steps:

    rest_client.py request  BASE PHONE NAME               -> POST /api/auth/register (202)
    rest_client.py register BASE PHONE NAME CODE          -> POST /api/auth/register with otp (201)
    rest_client.py chat     BASE TOKEN_A ID_A TOKEN_B ID_B -> send, upload, conversation, read
    rest_client.py openapi  BASE                          -> fetch and validate /openapi.json

Each step checks what it got and prints one JSON summary line on stdout; a failed check exits
non-zero with the reason on stderr.
"""
import io
import json
import struct
import sys
import zlib

import requests


def fail(reason):
    print(reason, file=sys.stderr)
    sys.exit(1)


def expect(response, status):
    if response.status_code != status:
        fail(f"{response.request.method} {response.request.url}: expected {status}, got {response.status_code}: {response.text}")
    return response.json() if response.content and response.headers.get("content-type", "").startswith("application/json") else None


def png(width, height):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes([0x40]) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def main(argv):
    step, base = argv[1], argv[2].rstrip("/")
    if step == "request":
        phone, name = argv[3], argv[4]
        body = expect(requests.post(f"{base}/api/auth/register", json={"phone": phone, "name": name}, timeout=30), 202)
        if body.get("status") != "otp_sent":
            fail(f"unexpected answer {body}")
        print(json.dumps({"step": step, "phone": body["phone"], "expiresIn": body["expiresIn"]}))
    elif step == "register":
        phone, name, code = argv[3], argv[4], argv[5]
        body = expect(requests.post(f"{base}/api/auth/register", json={"phone": phone, "name": name, "otp": code}, timeout=30), 201)
        print(json.dumps({"step": step, "token": body["token"], "userId": body["user"]["id"], "name": body["user"]["name"]}))
    elif step == "chat":
        token_a, id_a, token_b, id_b = argv[3:7]
        a = requests.Session()
        a.headers["Authorization"] = f"Bearer {token_a}"
        b = requests.Session()
        b.headers["Authorization"] = f"Bearer {token_b}"
        sent = expect(a.post(f"{base}/api/messages/send", json={"receiverId": id_b, "content": "bonjour depuis Python"}, timeout=30), 201)["message"]
        picture = png(4, 3)
        uploaded = expect(a.post(f"{base}/api/messages/upload",
                                 files={"file": ("photo.png", io.BytesIO(picture), "image/png")}, timeout=30), 201)["attachment"]
        if (uploaded["mimeType"], uploaded["width"], uploaded["height"], uploaded["size"]) != ("image/png", 4, 3, len(picture)):
            fail(f"unexpected attachment {uploaded}")
        with_file = expect(a.post(f"{base}/api/messages/send",
                                  json={"conversationId": sent["conversationId"], "content": "une photo", "attachmentIds": [uploaded["id"]]},
                                  timeout=30), 201)["message"]
        history = expect(b.get(f"{base}/api/messages/conversation/{id_a}/{id_b}", params={"limit": 10}, timeout=30), 200)
        contents = [m["content"] for m in history["messages"]]
        if contents != ["bonjour depuis Python", "une photo"]:
            fail(f"unexpected history {contents}")
        download = b.get(base + history["messages"][1]["attachments"][0]["url"], timeout=30)
        if download.status_code != 200 or download.content != picture or download.headers["Content-Type"] != "image/png":
            fail(f"download failed: {download.status_code} {download.headers}")
        part = b.get(base + uploaded["url"], headers={"Range": "bytes=0-7"}, timeout=30)
        if part.status_code != 206 or part.content != picture[:8]:
            fail(f"range failed: {part.status_code}")
        read = expect(b.post(f"{base}/api/messages/read", json={"messageId": with_file["id"]}, timeout=30), 200)
        conversations = expect(a.get(f"{base}/api/conversations", timeout=30), 200)["conversations"]
        print(json.dumps({
            "step": step, "conversationId": sent["conversationId"], "sentId": sent["id"], "receiverId": sent["receiverId"],
            "contents": contents, "read": read["read"], "conversations": len(conversations),
            "lastMessage": conversations[0]["lastMessage"]["id"], "attachmentId": uploaded["id"],
        }))
    elif step == "openapi":
        from openapi_spec_validator import validate

        document = expect(requests.get(f"{base}/openapi.json", timeout=30), 200)
        validate(document)
        routes = sorted(f"{method.upper()} {path}" for path, item in document["paths"].items() for method in item)
        print(json.dumps({"step": step, "openapi": document["openapi"], "routes": routes}))
    else:
        fail(f"unknown step {step}")


if __name__ == "__main__":
    main(sys.argv)
