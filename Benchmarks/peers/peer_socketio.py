"""The Socket.IO peer: python-socketio on aiohttp (uvloop), the contract's `sendMessage` with an
acknowledgement and `messageReceived` to the conversation's members, persisted with asyncpg."""
import inspect
import os
import sys

import socketio
import uvloop
from aiohttp import web

sys.path.insert(0, os.path.dirname(__file__))
import peer_common as pc  # noqa: E402

sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*", ping_interval=25, ping_timeout=20)
app = web.Application()
sio.attach(app)


async def maybe(value):
    if inspect.isawaitable(value):
        await value


@sio.event
async def connect(sid, environ, auth):
    user = await pc.user_for_token((auth or {}).get("token"))
    if not user:
        raise socketio.exceptions.ConnectionRefusedError("unauthorized")
    await sio.save_session(sid, {"user": user})
    for cid in await pc.conversations_of(user):
        await maybe(sio.enter_room(sid, cid))


@sio.on("sendMessage")
async def send_message(sid, data):
    session = await sio.get_session(sid)
    data = data if isinstance(data, dict) else {}
    try:
        message, _members = await pc.store_message(session["user"], data.get("conversationId"), data.get("content"))
    except pc.Refused as e:
        return {"ok": False, "error": str(e)}
    await sio.emit("messageReceived", {"message": message}, room=message["conversationId"], skip_sid=sid)
    return {"ok": True, "message": message}


async def json_body(request):
    try:
        return await request.json()
    except Exception:
        raise web.HTTPBadRequest(text="JSON body expected")


async def setup_users(request):
    body = await json_body(request)
    return web.json_response(await pc.create_users(int(body["count"])))


async def setup_group(request):
    body = await json_body(request)
    return web.json_response({"conversationId": await pc.create_conversation("GROUP", body["memberIds"], "bench")})


async def setup_direct(request):
    body = await json_body(request)
    return web.json_response({"conversationId": await pc.create_conversation("DIRECT", [body["a"], body["b"]])})


async def setup_history(request):
    body = await json_body(request)
    return web.json_response({"conversationId": await pc.seed_history(body["memberIds"], int(body["count"]))})


async def on_startup(_app):
    await pc.open_pool()


app.router.add_post("/setup/users", setup_users)
app.router.add_post("/setup/group", setup_group)
app.router.add_post("/setup/direct", setup_direct)
app.router.add_post("/setup/history", setup_history)
app.on_startup.append(on_startup)

if __name__ == "__main__":
    uvloop.install()
    web.run_app(app, host="127.0.0.1", port=int(os.environ.get("PORT", "4102")), access_log=None, backlog=4096)
