-- The peers' tables: the same rows per message as Messagerie writes (the message with its
-- per-conversation sequence; receipts once recipients report them), without encryption, search
-- index or push outbox, which the peers do not have.
CREATE TABLE IF NOT EXISTS users (
    id uuid PRIMARY KEY,
    display_name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS conversations (
    id uuid PRIMARY KEY,
    kind text NOT NULL,
    title text,
    last_seq bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS conversation_members (
    conversation_id uuid NOT NULL REFERENCES conversations,
    user_id uuid NOT NULL REFERENCES users,
    role text NOT NULL DEFAULT 'MEMBER',
    last_read_seq bigint NOT NULL DEFAULT 0,
    joined_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX IF NOT EXISTS conversation_members_user ON conversation_members (user_id);
CREATE TABLE IF NOT EXISTS messages (
    id uuid PRIMARY KEY,
    conversation_id uuid NOT NULL REFERENCES conversations,
    seq bigint NOT NULL,
    sender_id uuid NOT NULL REFERENCES users,
    body text,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (conversation_id, seq)
);
CREATE TABLE IF NOT EXISTS message_receipts (
    message_id uuid NOT NULL REFERENCES messages,
    user_id uuid NOT NULL REFERENCES users,
    conversation_id uuid NOT NULL,
    seq bigint NOT NULL,
    delivered_at timestamptz,
    read_at timestamptz,
    PRIMARY KEY (message_id, user_id)
);
CREATE TABLE IF NOT EXISTS message_reactions (
    message_id uuid NOT NULL REFERENCES messages,
    user_id uuid NOT NULL REFERENCES users,
    emoji text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (message_id, user_id, emoji)
);
