-- A profile picture is readable by anyone signed in; downloads look it up by attachment id.
CREATE INDEX users_avatar_attachment_idx ON users (avatar_attachment_id) WHERE avatar_attachment_id IS NOT NULL;
