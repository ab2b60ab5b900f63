-- Gateways keep the sessions they found valid for a while, so that a request need not ask the
-- database again. Whatever ends a session or changes what it may do (sign-out, a revocation,
-- an operator's right granted or withdrawn, a deleted account), by the application or by hand,
-- is announced to every gateway on this channel when it commits: 's' and a session's id, or 'u'
-- and a user's id.
CREATE FUNCTION messagerie_session_notice() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'sessions' THEN
        PERFORM pg_notify('messagerie_sessions', 's' || OLD.id::text);
    ELSE
        PERFORM pg_notify('messagerie_sessions', 'u' || OLD.id::text);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER sessions_notice AFTER UPDATE OF user_id, revoked_at, expires_at OR DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION messagerie_session_notice();

CREATE TRIGGER users_session_notice AFTER UPDATE OF id, is_operator OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION messagerie_session_notice();
