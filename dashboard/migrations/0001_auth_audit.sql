-- Web users, their site scope, login sessions / API tokens, and the audit trail of every change a person makes.
CREATE TABLE web_users (
    id              bigserial PRIMARY KEY,
    username        text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'),
    password_hash   text NOT NULL,
    role            text NOT NULL CHECK (role IN ('admin', 'operator', 'crew', 'committee', 'subdistrict',
                                                  'owner', 'public')),
    display_name    text NOT NULL,
    crew_member_id  text,
    unit_id         text,
    household_id    text,
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE web_user_sites (
    user_id  bigint NOT NULL REFERENCES web_users (id) ON DELETE CASCADE,
    site_id  text   NOT NULL REFERENCES sites (id),
    PRIMARY KEY (user_id, site_id)
);

-- Only a keyed hash of each token is stored; kind 'session' (browser cookie, has a CSRF token) or 'bearer'.
CREATE TABLE web_tokens (
    token_hash  text PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES web_users (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('session', 'bearer')),
    csrf_token  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX web_tokens_user_idx ON web_tokens (user_id);

-- Append-only: who changed what, when. Details never hold passwords or tokens.
CREATE TABLE audit_log (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor_id     bigint REFERENCES web_users (id),
    actor        text NOT NULL,
    role         text NOT NULL,
    action       text NOT NULL,
    target_type  text NOT NULL,
    target_id    text NOT NULL,
    site_id      text,
    detail       jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
