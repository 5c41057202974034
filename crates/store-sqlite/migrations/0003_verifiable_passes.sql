-- Symbolon schema v3 (SQLite): passes anyone can verify.

-- Provider keys: `secret` now holds the key sealed under the server's master
-- key (a 32-byte plaintext row from v1/v2 is sealed at start-up); rotation
-- retires a key, which stays published while passes signed with it are valid.
-- A key with no secret is the provider's own (it signs passes itself).
-- (Rebuilt to let `secret` be NULL; nothing references provider_keys.)
CREATE TABLE provider_keys_v3 (
    kid          TEXT PRIMARY KEY,
    provider_id  TEXT NOT NULL REFERENCES accounts(id),
    public_key   BLOB NOT NULL,
    secret       BLOB,
    created_at   INTEGER NOT NULL,
    retired_at   INTEGER
) STRICT;
INSERT INTO provider_keys_v3 (kid, provider_id, public_key, secret, created_at)
SELECT kid, provider_id, public_key, secret, created_at FROM provider_keys;
DROP TABLE provider_keys;
ALTER TABLE provider_keys_v3 RENAME TO provider_keys;
CREATE INDEX provider_keys_by_provider ON provider_keys(provider_id, created_at);

-- A product may carry a GTIN (its pass then gets a GS1 Digital Link id).
ALTER TABLE products ADD COLUMN gtin TEXT;

-- Which key signed a pass, its bit in the provider's revocation status list,
-- and when it was revoked.
ALTER TABLE passes ADD COLUMN kid TEXT;
ALTER TABLE passes ADD COLUMN status_index INTEGER;
ALTER TABLE passes ADD COLUMN revoked_at INTEGER;
CREATE UNIQUE INDEX passes_status_index ON passes(provider_id, status_index);

-- The ownership history of each unit: one signed statement per transfer,
-- numbered per unit; the primary key makes a second transfer from the same
-- point impossible.
CREATE TABLE unit_transfers (
    pass_id    TEXT NOT NULL,
    unit_no    INTEGER NOT NULL,
    seq        INTEGER NOT NULL CHECK (seq >= 1),
    id         TEXT NOT NULL UNIQUE,
    from_id    TEXT NOT NULL REFERENCES accounts(id),
    to_id      TEXT NOT NULL REFERENCES accounts(id),
    jws        TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (pass_id, unit_no, seq),
    FOREIGN KEY (pass_id, unit_no) REFERENCES pass_units(pass_id, unit_no)
) STRICT;

-- Orders placed from a pass page have no offer, and a holder only when a
-- holder's link brought the buyer. SQLite cannot relax NOT NULL in place: the
-- table is rebuilt (https://www.sqlite.org/lang_altertable.html#otheralter).
-- Foreign keys cannot be switched off inside the migration's transaction, so
-- they are deferred: dropping `orders` orphans ledger_transactions' rows for
-- a moment, re-inserting the same orders answers them before COMMIT checks.
PRAGMA defer_foreign_keys = ON;
CREATE TEMP TABLE orders_v2 AS SELECT * FROM orders;
DROP TABLE orders;
CREATE TABLE orders (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT NOT NULL UNIQUE,
    offer_id         TEXT UNIQUE REFERENCES offers(id),
    requester_id     TEXT NOT NULL REFERENCES accounts(id),
    provider_id      TEXT NOT NULL REFERENCES accounts(id),
    holder_id        TEXT REFERENCES accounts(id),
    product_id       TEXT NOT NULL REFERENCES products(id),
    pass_id          TEXT NOT NULL REFERENCES passes(id),
    quantity         INTEGER NOT NULL CHECK (quantity > 0),
    unit_price_minor INTEGER NOT NULL,
    total_minor      INTEGER NOT NULL,
    commission_minor INTEGER NOT NULL,
    currency         TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('placed', 'paid', 'shipped')),
    ship_to          TEXT NOT NULL,
    payment_ref      TEXT,
    created_at       INTEGER NOT NULL,
    paid_at          INTEGER,
    shipped_at       INTEGER,
    unit_no          INTEGER
) STRICT;
INSERT INTO orders (seq, id, offer_id, requester_id, provider_id, holder_id, product_id, pass_id, quantity,
                    unit_price_minor, total_minor, commission_minor, currency, status, ship_to, payment_ref,
                    created_at, paid_at, shipped_at)
SELECT seq, id, offer_id, requester_id, provider_id, holder_id, product_id, pass_id, quantity,
       unit_price_minor, total_minor, commission_minor, currency, status, ship_to, payment_ref,
       created_at, paid_at, shipped_at FROM temp.orders_v2;
DROP TABLE temp.orders_v2;
CREATE INDEX orders_by_provider ON orders(provider_id, seq);
CREATE INDEX orders_by_requester ON orders(requester_id, seq);
CREATE INDEX orders_by_holder ON orders(holder_id, seq);
CREATE INDEX orders_by_pass ON orders(pass_id, seq);
CREATE INDEX offers_by_pass ON offers(pass_id);
