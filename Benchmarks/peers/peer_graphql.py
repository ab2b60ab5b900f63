"""The GraphQL peer: strawberry-graphql on uvicorn (uvloop, httptools, websockets) with
graphql-transport-ws subscriptions, the same operation shapes as Messagerie's schema for what the
benchmarks ask, persisted with asyncpg."""
import asyncio
import contextlib
import datetime
import os
import sys
import typing

import strawberry
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL

sys.path.insert(0, os.path.dirname(__file__))
import peer_common as pc  # noqa: E402

# user id -> queues of that user's live subscriptions
RECEIVED: dict[str, set[asyncio.Queue]] = {}
STATUS: dict[str, set[asyncio.Queue]] = {}


@strawberry.type
class User:
    id: strawberry.ID
    display_name: typing.Optional[str] = None


@strawberry.type
class ReactionSummary:
    emoji: str
    count: int
    reacted_by_me: bool


@strawberry.type
class Receipt:
    user: User
    delivered_at: typing.Optional[datetime.datetime]
    read_at: typing.Optional[datetime.datetime]


@strawberry.type
class Message:
    id: strawberry.ID
    text: typing.Optional[str]
    created_at: typing.Optional[datetime.datetime] = None
    sender: typing.Optional[User] = None
    reactions: list[ReactionSummary] = strawberry.field(default_factory=list)
    receipts: list[Receipt] = strawberry.field(default_factory=list)


@strawberry.type
class MessageEdge:
    cursor: str
    node: Message


@strawberry.type
class MessageConnection:
    edges: list[MessageEdge]


@strawberry.type
class MessageStatusEvent:
    status: str
    message: Message


@strawberry.input
class SendMessageInput:
    conversation_id: typing.Optional[strawberry.ID] = None
    text: typing.Optional[str] = None


async def viewer(info) -> str:
    ctx = info.context
    params = ctx.get("connection_params") if isinstance(ctx, dict) else None
    token = None
    if isinstance(params, dict):
        token = params.get("Authorization") or params.get("token")
    if token is None:
        request = ctx.get("request") if isinstance(ctx, dict) else None
        if request is not None:
            token = request.headers.get("authorization")
    user = await pc.user_for_token(token)
    if not user:
        raise PermissionError("UNAUTHENTICATED")
    return user


@strawberry.type
class Query:
    @strawberry.field
    async def messages(self, info: strawberry.Info, conversation_id: strawberry.ID, last: int = 50) -> MessageConnection:
        me = await viewer(info)
        rows = await pc.history_page(me, conversation_id, min(last, 100))
        edges = []
        for r in rows:
            node = Message(id=r["id"], text=r["text"], created_at=r["createdAt"], sender=User(**{"id": r["sender"]["id"], "display_name": r["sender"]["displayName"]}),
                           reactions=[ReactionSummary(emoji=x["emoji"], count=x["count"], reacted_by_me=x["reactedByMe"]) for x in r["reactions"]],
                           receipts=[Receipt(user=User(id=x["user"]["id"], display_name=x["user"]["displayName"]), delivered_at=x["deliveredAt"], read_at=x["readAt"]) for x in r["receipts"]])
            edges.append(MessageEdge(cursor=str(r["seq"]), node=node))
        return MessageConnection(edges=edges)


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def send_message(self, info: strawberry.Info, input: SendMessageInput) -> Message:
        me = await viewer(info)
        message, members = await pc.store_message(me, input.conversation_id, input.text)
        node = Message(id=message["id"], text=message["content"])
        for member in members:
            for queue in RECEIVED.get(member, ()):
                queue.put_nowait(node)
        return node

    @strawberry.mutation
    async def mark_delivered(self, info: strawberry.Info, message_ids: list[strawberry.ID]) -> list[Message]:
        me = await viewer(info)
        rows = await pc.mark_delivered(me, message_ids)
        out = []
        for r in rows:
            node = Message(id=str(r["id"]), text=r["body"])
            for queue in STATUS.get(str(r["sender_id"]), ()):
                queue.put_nowait(MessageStatusEvent(status="DELIVERED", message=node))
            out.append(node)
        return out


async def feed(registry, user):
    queue = asyncio.Queue()
    registry.setdefault(user, set()).add(queue)
    try:
        while True:
            yield await queue.get()
    finally:
        registry[user].discard(queue)


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def message_received(self, info: strawberry.Info) -> typing.AsyncGenerator[Message, None]:
        me = await viewer(info)
        async for item in feed(RECEIVED, me):
            yield item

    @strawberry.subscription
    async def message_status_changed(self, info: strawberry.Info) -> typing.AsyncGenerator[MessageStatusEvent, None]:
        me = await viewer(info)
        async for item in feed(STATUS, me):
            yield item


schema = strawberry.Schema(query=Query, mutation=Mutation, subscription=Subscription)
graphql_app = GraphQL(schema)


async def body(request: Request):
    return await request.json()


async def setup_users(request):
    return JSONResponse(await pc.create_users(int((await body(request))["count"])))


async def setup_group(request):
    return JSONResponse({"conversationId": await pc.create_conversation("GROUP", (await body(request))["memberIds"], "bench")})


async def setup_direct(request):
    b = await body(request)
    return JSONResponse({"conversationId": await pc.create_conversation("DIRECT", [b["a"], b["b"]])})


async def setup_history(request):
    b = await body(request)
    return JSONResponse({"conversationId": await pc.seed_history(b["memberIds"], int(b["count"]))})


@contextlib.asynccontextmanager
async def lifespan(_app):
    await pc.open_pool()
    yield


app = Starlette(
    routes=[
        Route("/setup/users", setup_users, methods=["POST"]),
        Route("/setup/group", setup_group, methods=["POST"]),
        Route("/setup/direct", setup_direct, methods=["POST"]),
        Route("/setup/history", setup_history, methods=["POST"]),
        Route("/graphql", graphql_app, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql_app),
    ],
    lifespan=lifespan,
)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ.get("PORT", "4103")), log_level="warning",
                loop="uvloop", http="httptools", ws="websockets", backlog=4096, access_log=False)
