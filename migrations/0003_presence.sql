-- Presence: which gateway processes are alive, and how many connections each holds per user.
-- A user is online while any live gateway holds a connection of theirs.

CREATE TABLE gateways (
    id            uuid PRIMARY KEY,
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE presence (
    user_id           uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    gateway_id        uuid NOT NULL REFERENCES gateways (id) ON DELETE CASCADE,
    connections       integer NOT NULL,
    last_activity_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, gateway_id),
    CONSTRAINT presence_connections CHECK (connections > 0)
);
CREATE INDEX presence_gateway_idx ON presence (gateway_id);
