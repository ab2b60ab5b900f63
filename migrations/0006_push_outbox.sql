-- Push outbox: one job per recipient to tell about a message, written in the transaction that
-- stores the message, so a stored message never lacks its notification and a rolled-back one
-- never has one. Workers lease due jobs (run_at moves into the future while a job is being
-- sent), so a crashed worker's jobs come back after the lease: at-least-once, never lost.

-- Mutes are `conversation_members.muted_until` (0002).

CREATE TABLE push_jobs (
    id              bigserial PRIMARY KEY,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    message_id      uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    state           text NOT NULL DEFAULT 'PENDING',
    attempts        integer NOT NULL DEFAULT 0,
    run_at          timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    CONSTRAINT push_jobs_state CHECK (state IN ('PENDING', 'SENT', 'FAILED', 'DROPPED')),
    CONSTRAINT push_jobs_once UNIQUE (message_id, user_id)
);
CREATE INDEX push_jobs_due_idx ON push_jobs (run_at) WHERE state = 'PENDING';

-- Expo answers a send with tickets; whether the device still exists is known only from the
-- receipt fetched later.
CREATE TABLE push_receipts (
    ticket_id       text PRIMARY KEY,
    token           text NOT NULL,
    check_after     timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_receipts_due_idx ON push_receipts (check_after);
