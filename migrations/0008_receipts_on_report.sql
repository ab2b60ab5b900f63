-- Receipts are written when a recipient reports delivery or reading, no longer one row per
-- recipient when the message is sent: a 1,000-member group cost 999 inserts per message, under
-- the conversation's sequence lock. A recipient without a row has the message as SENT.
DELETE FROM message_receipts WHERE delivered_at IS NULL;
ALTER TABLE message_receipts ALTER COLUMN delivered_at SET NOT NULL;
DROP INDEX message_receipts_unread_idx;

-- last_read_seq now means: every message of the others up to here is read by this member (only
-- markRead moves it; sending no longer does). Unread counts are the messages above it.
UPDATE conversation_members cm SET last_read_seq = COALESCE(
    (SELECT max(r.seq) FROM message_receipts r
     WHERE r.conversation_id = cm.conversation_id AND r.user_id = cm.user_id AND r.read_at IS NOT NULL), 0);
