-- Media: uploaded files (stored on disk by SHA-256, never under a client-chosen name) and the
-- messages that carry them. Who may download a file follows from these rows: its uploader, and
-- the members who can see a message it was sent with.

CREATE TABLE attachments (
    id              uuid PRIMARY KEY,
    owner_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind            text NOT NULL,
    mime_type       text NOT NULL,
    byte_size       bigint NOT NULL,
    sha256          text NOT NULL,
    width           integer,
    height          integer,
    -- The client's file name reveals content, so it is sealed like message text.
    name_key_id     text,
    name            bytea,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT attachments_kind CHECK (kind IN ('IMAGE', 'VIDEO', 'AUDIO', 'FILE')),
    CONSTRAINT attachments_size CHECK (byte_size >= 0),
    CONSTRAINT attachments_sha256 CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT attachments_name_key CHECK ((name IS NULL) = (name_key_id IS NULL))
);
CREATE INDEX attachments_owner_idx ON attachments (owner_id, created_at DESC);
CREATE INDEX attachments_sha256_idx ON attachments (sha256);

CREATE TABLE message_attachments (
    message_id      uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    attachment_id   uuid NOT NULL REFERENCES attachments (id) ON DELETE CASCADE,
    position        integer NOT NULL,
    PRIMARY KEY (message_id, attachment_id)
);
CREATE INDEX message_attachments_attachment_idx ON message_attachments (attachment_id);
