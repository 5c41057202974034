-- Symbolon schema v14 (PostgreSQL): accounts for people.
--
--   * logins: how a person signs in on the web — an email (unique
--     case-insensitively: `email_lower` has a UNIQUE index) and an argon2id
--     password hash; API-only accounts have none;
--   * web_sessions: server-side sessions, stored only as the SHA-256 of
--     their random token, with an absolute and an inactivity expiry;
--   * api_keys: API keys beyond the registration key (`accounts.api_key_hash`,
--     which keeps authenticating), by SHA-256, revocable;
--   * sign_in_failures: one row per failed sign-in and scope (an email, a
--     client address), counted over a sliding window by every replica.
CREATE TABLE logins (
    account_id    TEXT PRIMARY KEY REFERENCES accounts(id),
    email         TEXT NOT NULL,
    email_lower   TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

CREATE TABLE web_sessions (
    id              TEXT PRIMARY KEY,
    token_hash      TEXT NOT NULL UNIQUE,
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    created_at      BIGINT NOT NULL,
    last_seen_at    BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    idle_expires_at BIGINT NOT NULL,
    user_agent      TEXT NOT NULL,
    revoked_at      BIGINT
);
CREATE INDEX web_sessions_of_account ON web_sessions(account_id, created_at);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    key_hash   TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    label      TEXT NOT NULL,
    hint       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX api_keys_of_account ON api_keys(account_id, created_at);

CREATE TABLE sign_in_failures (
    scope TEXT NOT NULL,
    at    BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_of_scope ON sign_in_failures(scope, at);
