-- Sign-in throttling by (username, source address) and by source address (dashboard.throttle), and an audit
-- trail nobody can rewrite: TRUNCATE is refused by trigger like UPDATE and DELETE, and the three privileges are
-- revoked from everyone, the table's owner included.

-- An attempt is stored when its password check starts and removed when it succeeds, so concurrent guesses count.
-- Throttling never looks at a username alone: a flood from one address must not lock the user out elsewhere.
DROP TABLE web_login_failures;
CREATE TABLE web_login_failures (
    id        bigserial   PRIMARY KEY,
    username  text        NOT NULL,
    source    text        NOT NULL,
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX web_login_failures_source_idx ON web_login_failures (source, at);
CREATE INDEX web_login_failures_at_idx ON web_login_failures (at);

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM CURRENT_USER;
