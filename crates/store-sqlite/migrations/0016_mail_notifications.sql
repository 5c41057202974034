-- Symbolon schema v16 (SQLite): e-mail notifications.
--
--   * mail_prefs: a person's choices — the language of their messages and
--     the kinds they turned off (comma-separated; no row: every kind on,
--     in en-US);
--   * mail_cursor: the one row saying up to which event `seq` the mailer
--     has looked (moved by a conditional update in the transaction that
--     queues the messages of those events, so a message is queued once);
--   * mail_outbox: one row per (event, recipient) — its state and retry
--     schedule, leased by the replica that sends it, like
--     webhook_deliveries. The message is rendered at send time from `data`
--     (a copy of the event's data) in `lang`.
CREATE TABLE mail_prefs (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id),
    lang       TEXT NOT NULL,
    off_kinds  TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE mail_cursor (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
) STRICT;

CREATE TABLE mail_outbox (
    event_seq       INTEGER NOT NULL,
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    kind            TEXT NOT NULL,
    to_addr         TEXT NOT NULL,
    lang            TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    data            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER NOT NULL DEFAULT 0,
    leased_by       TEXT,
    sent_at         INTEGER,
    last_error      TEXT,
    PRIMARY KEY (event_seq, account_id)
) STRICT;
CREATE INDEX mail_outbox_due ON mail_outbox(state, next_attempt_at);
