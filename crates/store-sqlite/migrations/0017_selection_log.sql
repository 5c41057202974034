-- Symbolon schema v17 (SQLite): the selection log, a Merkle-tree
-- transparency log of every demand's selection (RFC 6962 leaves over
-- `body`; see crates/store/src/tlog.rs).
--
--   * selection_log_head: the one row counting entries; an append takes
--     its index with UPDATE … RETURNING in the transaction that records
--     the selection, so indices are gapless and in commit order;
--   * selection_log: one entry per demand whose selection was made (its
--     holders contacted, or the refusal), the exact bytes hashed;
--   * selection_log_holders: the holders an entry names;
--   * log_checkpoints: every signed checkpoint (size, root, signed note);
--   * log_key: the log's Ed25519 seed, sealed under the master key.
CREATE TABLE selection_log_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    size INTEGER NOT NULL
) STRICT;
INSERT INTO selection_log_head (id, size) VALUES (1, 0);

CREATE TABLE selection_log (
    idx          INTEGER PRIMARY KEY,
    demand_id    TEXT NOT NULL UNIQUE,
    requester_id TEXT NOT NULL REFERENCES accounts(id),
    body         TEXT NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE selection_log_holders (
    holder_id TEXT NOT NULL REFERENCES accounts(id),
    idx       INTEGER NOT NULL REFERENCES selection_log(idx),
    PRIMARY KEY (holder_id, idx)
) STRICT;

CREATE TABLE log_checkpoints (
    size       INTEGER PRIMARY KEY,
    root       BLOB NOT NULL,
    note       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE log_key (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    sealed     BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
