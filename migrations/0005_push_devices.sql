-- Push devices: one row per device token. A token belongs to whoever registered it last, so a
-- phone handed to someone else stops receiving the previous owner's notifications.

CREATE TABLE push_devices (
    token           text PRIMARY KEY,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    platform        text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT push_devices_platform CHECK (platform IN ('FCM', 'EXPO')),
    CONSTRAINT push_devices_token_length CHECK (char_length(token) BETWEEN 1 AND 4096)
);
CREATE INDEX push_devices_user_idx ON push_devices (user_id);
