"""Database work shared by both peers: the same statements per message as Messagerie runs.

Auth is deliberately minimal (the token is the user id, looked up in the database): the peers do
not verify signatures, which only flatters them.
"""
import datetime
import os
import uuid

import asyncpg

POOL = None


class Refused(Exception):
    pass


async def open_pool():
    global POOL
    POOL = await asyncpg.create_pool(os.environ["PEER_DATABASE_URL"], min_size=4, max_size=int(os.environ.get("PEER_POOL", "20")))
    with open(os.path.join(os.path.dirname(__file__), "schema.sql")) as f:
        await POOL.execute(f.read())


def iso(value):
    return value.astimezone(datetime.timezone.utc).isoformat().replace("+00:00", "Z") if value else None


async def user_for_token(token):
    if not token:
        return None
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    try:
        uid = uuid.UUID(token)
    except ValueError:
        return None
    row = await POOL.fetchrow("SELECT id, display_name FROM users WHERE id = $1", uid)
    return str(row["id"]) if row else None


async def conversations_of(user_id):
    rows = await POOL.fetch("SELECT conversation_id FROM conversation_members WHERE user_id = $1", uuid.UUID(user_id))
    return [str(r["conversation_id"]) for r in rows]


async def store_message(sender_id, conversation_id, text):
    """One transaction, as Messagerie's send: membership, next sequence, the message (receipts are
    written when recipients report them). Returns the message and the member ids."""
    if not conversation_id or not text or len(text) > 4000:
        raise Refused("conversationId and a text of 1 to 4000 characters are required")
    try:
        cid = uuid.UUID(conversation_id)
    except ValueError:
        raise Refused("bad conversationId")
    sid = uuid.UUID(sender_id)
    mid = uuid.uuid4()
    async with POOL.acquire() as con:
        async with con.transaction():
            member = await con.fetchval("SELECT 1 FROM conversation_members WHERE conversation_id = $1 AND user_id = $2", cid, sid)
            if not member:
                raise Refused("not a member")
            seq = await con.fetchval("UPDATE conversations SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq", cid)
            created = await con.fetchval(
                "INSERT INTO messages (id, conversation_id, seq, sender_id, body) VALUES ($1, $2, $3, $4, $5) RETURNING created_at",
                mid, cid, seq, sid, text)
            members = await con.fetch("SELECT user_id FROM conversation_members WHERE conversation_id = $1", cid)
    message = {"id": str(mid), "conversationId": conversation_id, "senderId": sender_id, "content": text,
               "status": "SENT", "createdAt": iso(created)}
    return message, [str(r["user_id"]) for r in members]


async def mark_delivered(user_id, message_ids):
    """Writes the viewer's delivery receipts; returns (message id, sender id, text) of those new."""
    ids = []
    for m in message_ids:
        try:
            ids.append(uuid.UUID(m))
        except ValueError:
            raise Refused("bad message id")
    rows = await POOL.fetch(
        "WITH new AS (INSERT INTO message_receipts (message_id, user_id, conversation_id, seq, delivered_at) "
        "SELECT m.id, $2, m.conversation_id, m.seq, now() FROM messages m "
        "JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id = $2 "
        "WHERE m.id = ANY($1::uuid[]) AND m.sender_id <> $2 ON CONFLICT DO NOTHING RETURNING message_id) "
        "SELECT m.id, m.sender_id, m.body, m.created_at, m.conversation_id FROM messages m JOIN new ON new.message_id = m.id",
        ids, uuid.UUID(user_id))
    return rows


# --- set-up routes' work (not measured) ---

async def create_users(count):
    ids = [uuid.uuid4() for _ in range(count)]
    await POOL.executemany("INSERT INTO users (id, display_name) VALUES ($1, $2)", [(u, f"Peer {i}") for i, u in enumerate(ids)])
    return [{"id": str(u), "token": str(u)} for u in ids]


async def create_conversation(kind, member_ids, title=None):
    cid = uuid.uuid4()
    async with POOL.acquire() as con:
        async with con.transaction():
            await con.execute("INSERT INTO conversations (id, kind, title) VALUES ($1, $2, $3)", cid, kind, title)
            await con.executemany(
                "INSERT INTO conversation_members (conversation_id, user_id, role) VALUES ($1, $2, $3)",
                [(cid, uuid.UUID(m), "OWNER" if i == 0 else "MEMBER") for i, m in enumerate(member_ids)])
    return str(cid)


async def seed_history(member_ids, count):
    """The same page as Messagerie's history scenario: rotating senders, two reactions per message,
    every message delivered to every other member and read by the first two."""
    cid = await create_conversation("GROUP", member_ids, "history")
    members = [uuid.UUID(m) for m in member_ids]
    for i in range(count):
        sender = members[i % len(members)]
        message, _ = await store_message(str(sender), cid, f"history message {i} with a few words of text")
        mid = uuid.UUID(message["id"])
        for k, emoji in enumerate(["👍", "❤️"]):
            await POOL.execute("INSERT INTO message_reactions (message_id, user_id, emoji) VALUES ($1, $2, $3)",
                               mid, members[(i + 1 + k) % len(members)], emoji)
    await POOL.execute(
        "INSERT INTO message_receipts (message_id, user_id, conversation_id, seq, delivered_at, read_at) "
        "SELECT m.id, cm.user_id, m.conversation_id, m.seq, now(), CASE WHEN cm.user_id = ANY($2::uuid[]) THEN now() END "
        "FROM messages m JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id <> m.sender_id "
        "WHERE m.conversation_id = $1", uuid.UUID(cid), members[:2])
    return cid


async def history_page(viewer, conversation_id, last):
    """A page with its sender, reactions and receipts in four queries (what a DataLoader would batch)."""
    cid = uuid.UUID(conversation_id)
    vid = uuid.UUID(viewer)
    if not await POOL.fetchval("SELECT 1 FROM conversation_members WHERE conversation_id = $1 AND user_id = $2", cid, vid):
        raise Refused("not a member")
    rows = await POOL.fetch(
        "SELECT m.id, m.seq, m.body, m.created_at, u.id AS uid, u.display_name FROM messages m JOIN users u ON u.id = m.sender_id "
        "WHERE m.conversation_id = $1 ORDER BY m.seq DESC LIMIT $2", cid, last)
    rows = list(reversed(rows))
    ids = [r["id"] for r in rows]
    reactions = await POOL.fetch(
        "SELECT message_id, emoji, count(*) AS n, bool_or(user_id = $2) AS mine FROM message_reactions "
        "WHERE message_id = ANY($1::uuid[]) GROUP BY message_id, emoji ORDER BY message_id, min(created_at)", ids, vid)
    receipts = await POOL.fetch(
        "SELECT m.id AS message_id, r.delivered_at, r.read_at, u.id AS uid, u.display_name FROM messages m "
        "JOIN conversation_members cm ON cm.conversation_id = m.conversation_id AND cm.user_id <> m.sender_id "
        "JOIN users u ON u.id = cm.user_id "
        "LEFT JOIN message_receipts r ON r.message_id = m.id AND r.user_id = cm.user_id "
        "WHERE m.id = ANY($1::uuid[]) ORDER BY m.id, u.id", ids)
    by_reaction, by_receipt = {}, {}
    for r in reactions:
        by_reaction.setdefault(r["message_id"], []).append({"emoji": r["emoji"], "count": r["n"], "reactedByMe": r["mine"]})
    for r in receipts:
        by_receipt.setdefault(r["message_id"], []).append(
            {"user": {"id": str(r["uid"]), "displayName": r["display_name"]}, "deliveredAt": r["delivered_at"], "readAt": r["read_at"]})
    return [{"id": str(r["id"]), "seq": r["seq"], "text": r["body"], "createdAt": r["created_at"],
             "sender": {"id": str(r["uid"]), "displayName": r["display_name"]},
             "reactions": by_reaction.get(r["id"], []), "receipts": by_receipt.get(r["id"], [])} for r in rows]
