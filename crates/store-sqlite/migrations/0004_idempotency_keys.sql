-- Symbolon schema v4 (SQLite): idempotency keys (Stripe semantics).
-- One row per (account, key): the request's fingerprint, whether it is still
-- running (with a lock time, so a request cut off by a crash is retried after
-- the lock expires), and once done the response to replay.
CREATE TABLE idempotency_keys (
    account_id   TEXT NOT NULL REFERENCES accounts(id),
    key          TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('running', 'done')),
    status       INTEGER,
    content_type TEXT,
    body         BLOB,
    created_at   INTEGER NOT NULL,
    locked_at    INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
) STRICT;
CREATE INDEX idempotency_keys_by_age ON idempotency_keys(created_at);
