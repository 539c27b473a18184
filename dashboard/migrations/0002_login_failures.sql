-- Failed sign-ins per username, to slow down password guessing (see dashboard.users.login_blocked).
CREATE TABLE web_login_failures (
    username  text        NOT NULL,
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX web_login_failures_idx ON web_login_failures (username, at);
