-- Messaging: conversations, membership with roles, messages (text sealed at rest), receipts, reactions.

CREATE TABLE conversations (
    id               uuid PRIMARY KEY,
    kind             text NOT NULL,
    title            text,
    -- "smaller:larger" user ids of a direct conversation: one conversation per pair.
    direct_key       text,
    created_by       uuid REFERENCES users (id),
    last_seq         bigint NOT NULL DEFAULT 0,
    last_activity_at timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT conversations_kind CHECK (kind IN ('DIRECT', 'GROUP')),
    CONSTRAINT conversations_direct_key CHECK ((kind = 'DIRECT') = (direct_key IS NOT NULL)),
    CONSTRAINT conversations_group_title CHECK (kind = 'DIRECT' OR (title IS NOT NULL AND char_length(title) BETWEEN 1 AND 100))
);
CREATE UNIQUE INDEX conversations_direct_key ON conversations (direct_key) WHERE direct_key IS NOT NULL;

-- A member sees the messages with joined_seq < seq <= left_seq (left_seq NULL: still a member),
-- so someone removed keeps what they had and sees nothing after.
CREATE TABLE conversation_members (
    conversation_id  uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id          uuid NOT NULL REFERENCES users (id),
    role             text NOT NULL,
    joined_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    joined_seq       bigint NOT NULL,
    left_at          timestamptz,
    left_seq         bigint,
    last_read_seq    bigint NOT NULL DEFAULT 0,
    muted_until      timestamptz,
    PRIMARY KEY (conversation_id, user_id),
    CONSTRAINT conversation_members_role CHECK (role IN ('OWNER', 'ADMIN', 'MEMBER')),
    CONSTRAINT conversation_members_left CHECK ((left_at IS NULL) = (left_seq IS NULL))
);
CREATE INDEX conversation_members_user_idx ON conversation_members (user_id, conversation_id);

CREATE TABLE messages (
    id                uuid PRIMARY KEY,
    conversation_id   uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq               bigint NOT NULL,
    sender_id         uuid REFERENCES users (id),
    kind              text NOT NULL DEFAULT 'USER',
    -- AES-256-GCM of the text; key_id names the key so keys can rotate.
    body_key_id       text,
    body              bytea,
    system_event      jsonb,
    reply_to_id       uuid REFERENCES messages (id),
    client_message_id text,
    -- Blind index: keyed HMACs of the normalised words (see docs/search-index.md).
    search_tokens     bytea[] NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL DEFAULT now(),
    edited_at         timestamptz,
    deleted_at        timestamptz,
    CONSTRAINT messages_kind CHECK (kind IN ('USER', 'SYSTEM')),
    CONSTRAINT messages_sender CHECK ((kind = 'USER') = (sender_id IS NOT NULL)),
    CONSTRAINT messages_body_key CHECK ((body IS NULL) = (body_key_id IS NULL)),
    CONSTRAINT messages_client_id CHECK (client_message_id IS NULL OR char_length(client_message_id) BETWEEN 1 AND 128),
    CONSTRAINT messages_seq UNIQUE (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_client_message_key ON messages (sender_id, client_message_id) WHERE client_message_id IS NOT NULL;
CREATE INDEX messages_search_idx ON messages USING gin (search_tokens) WHERE deleted_at IS NULL;
CREATE INDEX messages_sender_idx ON messages (sender_id, created_at DESC, id DESC);
CREATE INDEX messages_created_idx ON messages (created_at DESC, id DESC);
CREATE INDEX messages_conversation_created_idx ON messages (conversation_id, created_at DESC, id DESC);
CREATE INDEX messages_key_idx ON messages (body_key_id) WHERE body_key_id IS NOT NULL;

-- One row per recipient of each message: delivery and read times never move backwards.
CREATE TABLE message_receipts (
    message_id       uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id          uuid NOT NULL REFERENCES users (id),
    conversation_id  uuid NOT NULL,
    seq              bigint NOT NULL,
    delivered_at     timestamptz,
    read_at          timestamptz,
    PRIMARY KEY (message_id, user_id),
    CONSTRAINT message_receipts_order CHECK (read_at IS NULL OR delivered_at IS NOT NULL)
);
CREATE INDEX message_receipts_unread_idx ON message_receipts (user_id, conversation_id, seq) WHERE read_at IS NULL;

CREATE TABLE message_reactions (
    message_id  uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id     uuid NOT NULL REFERENCES users (id),
    emoji       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (message_id, user_id, emoji),
    CONSTRAINT message_reactions_emoji CHECK (octet_length(emoji) BETWEEN 1 AND 64)
);
