-- Symbolon schema v4 (PostgreSQL): idempotency keys. See the SQLite migration.
CREATE TABLE idempotency_keys (
    account_id   TEXT NOT NULL REFERENCES accounts(id),
    key          TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('running', 'done')),
    status       INTEGER,
    content_type TEXT,
    body         BYTEA,
    created_at   BIGINT NOT NULL,
    locked_at    BIGINT NOT NULL,
    PRIMARY KEY (account_id, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at);
