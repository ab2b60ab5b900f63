-- Identity: people, their sign-in sessions, refresh tokens and one-time codes, and the activity log.

CREATE TABLE users (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    phone           text NOT NULL,
    display_name    text,
    avatar_attachment_id uuid,
    is_operator     boolean NOT NULL DEFAULT false,
    last_seen_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_phone_e164 CHECK (phone ~ '^\+[1-9][0-9]{7,14}$'),
    CONSTRAINT users_display_name_length CHECK (display_name IS NULL OR char_length(display_name) BETWEEN 1 AND 64)
);
CREATE UNIQUE INDEX users_phone_key ON users (phone);

-- A session is one signed-in device; every refresh token of a device belongs to its session
-- (the "family"), so reuse of an old token can revoke the whole family at once.
CREATE TABLE sessions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_used_at    timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    revoked_at      timestamptz,
    revoked_reason  text,
    user_agent      text,
    ip              text,
    CONSTRAINT sessions_revocation CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
);
CREATE INDEX sessions_user_active_idx ON sessions (user_id) WHERE revoked_at IS NULL;

-- Only a SHA-256 of each opaque refresh token is kept: a database leak does not leak sessions.
CREATE TABLE refresh_tokens (
    token_hash      bytea PRIMARY KEY,
    session_id      uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at       timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    used_at         timestamptz,
    CONSTRAINT refresh_tokens_hash_length CHECK (octet_length(token_hash) = 32),
    CONSTRAINT refresh_tokens_expiry CHECK (expires_at > issued_at)
);
CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id);

-- Codes are stored as a keyed hash (HMAC) bound to the phone, never in clear.
CREATE TABLE otp_challenges (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    phone           text NOT NULL,
    code_hash       bytea NOT NULL,
    requested_ip    text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    consumed_at     timestamptz,
    CONSTRAINT otp_challenges_attempts CHECK (attempts >= 0),
    CONSTRAINT otp_challenges_expiry CHECK (expires_at > created_at)
);
CREATE INDEX otp_challenges_phone_idx ON otp_challenges (phone, created_at DESC);
CREATE INDEX otp_challenges_ip_idx ON otp_challenges (requested_ip, created_at DESC) WHERE requested_ip IS NOT NULL;

-- Append-only record of what people and operators did; never message text.
CREATE TABLE activity_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    actor_id        uuid REFERENCES users (id),
    kind            text NOT NULL,
    target_user_id  uuid REFERENCES users (id),
    conversation_id uuid,
    details         jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX activity_log_actor_idx ON activity_log (actor_id, id DESC);
CREATE INDEX activity_log_kind_idx ON activity_log (kind, id DESC);
CREATE INDEX activity_log_at_idx ON activity_log (at);

CREATE FUNCTION activity_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'activity_log is append-only';
END;
$$;
CREATE TRIGGER activity_log_no_update BEFORE UPDATE OR DELETE ON activity_log
    FOR EACH ROW EXECUTE FUNCTION activity_log_append_only();
