-- Symbolon schema v1 (SQLite). Times are Unix milliseconds; money is integer minor units.

CREATE TABLE accounts (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    roles        TEXT NOT NULL,           -- comma-separated roles
    api_key_hash TEXT NOT NULL UNIQUE,    -- hex SHA-256 of the API key
    created_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE provider_keys (
    kid          TEXT PRIMARY KEY,
    provider_id  TEXT NOT NULL REFERENCES accounts(id),
    public_key   BLOB NOT NULL,
    secret       BLOB NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX provider_keys_by_provider ON provider_keys(provider_id, created_at);

CREATE TABLE products (
    id           TEXT PRIMARY KEY,
    provider_id  TEXT NOT NULL REFERENCES accounts(id),
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    category     TEXT NOT NULL,
    specs        TEXT NOT NULL,           -- JSON [[name, value], ...]
    price_minor  INTEGER NOT NULL CHECK (price_minor >= 0),
    currency     TEXT NOT NULL,
    stock        INTEGER NOT NULL CHECK (stock >= 0),
    created_at   INTEGER NOT NULL
) STRICT;

CREATE TABLE passes (
    id             TEXT PRIMARY KEY,
    product_id     TEXT NOT NULL REFERENCES products(id),
    provider_id    TEXT NOT NULL REFERENCES accounts(id),
    mode           TEXT NOT NULL CHECK (mode IN ('shareable', 'unique')),
    units          INTEGER,
    commission_bps INTEGER NOT NULL,
    valid_from     INTEGER NOT NULL,
    valid_until    INTEGER,
    jws            TEXT NOT NULL,
    created_at     INTEGER NOT NULL
) STRICT;

-- Units of unique passes: granted to a holder, then owned by the requester it was transferred to.
CREATE TABLE pass_units (
    pass_id   TEXT NOT NULL REFERENCES passes(id),
    unit_no   INTEGER NOT NULL,
    holder_id TEXT REFERENCES accounts(id),
    owner_id  TEXT REFERENCES accounts(id),
    offer_id  TEXT UNIQUE,
    PRIMARY KEY (pass_id, unit_no)
) STRICT;
CREATE INDEX pass_units_by_holder ON pass_units(pass_id, holder_id, owner_id);

CREATE TABLE grants (
    id          TEXT PRIMARY KEY,
    pass_id     TEXT NOT NULL REFERENCES passes(id),
    holder_id   TEXT NOT NULL REFERENCES accounts(id),
    created_at  INTEGER NOT NULL,
    UNIQUE (holder_id, pass_id)
) STRICT;

CREATE TABLE holder_profiles (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id),
    fields     TEXT NOT NULL              -- JSON array of taxonomy paths
) STRICT;

CREATE TABLE demands (
    id                TEXT PRIMARY KEY,
    requester_id      TEXT NOT NULL REFERENCES accounts(id),
    query             TEXT NOT NULL,
    category          TEXT,
    max_price_minor   INTEGER,
    currency          TEXT,
    min_positive_rate REAL,
    min_success_rate  REAL,
    min_ratings       INTEGER,
    fields            TEXT NOT NULL,
    min_holders       INTEGER NOT NULL,
    max_holders       INTEGER NOT NULL,
    ttl_seconds       INTEGER NOT NULL,
    deadline          INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    accepted_offer_id TEXT
) STRICT;

CREATE TABLE interactions (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT NOT NULL UNIQUE,
    demand_id        TEXT NOT NULL REFERENCES demands(id),
    holder_id        TEXT NOT NULL REFERENCES accounts(id),
    rank             INTEGER NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'offered', 'declined', 'expired', 'withdrawn')),
    deadline         INTEGER NOT NULL,
    matched_pass_ids TEXT NOT NULL,
    why              TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    decided_at       INTEGER,
    UNIQUE (demand_id, holder_id)
) STRICT;
CREATE INDEX interactions_by_holder ON interactions(holder_id, seq);
CREATE INDEX interactions_pending ON interactions(status, deadline);

CREATE TABLE offers (
    id             TEXT PRIMARY KEY,
    interaction_id TEXT NOT NULL UNIQUE REFERENCES interactions(id),
    demand_id      TEXT NOT NULL REFERENCES demands(id),
    holder_id      TEXT NOT NULL REFERENCES accounts(id),
    requester_id   TEXT NOT NULL REFERENCES accounts(id),
    pass_id        TEXT NOT NULL REFERENCES passes(id),
    note           TEXT,
    status         TEXT NOT NULL CHECK (status IN ('offered', 'accepted')),
    created_at     INTEGER NOT NULL,
    accepted_at    INTEGER,
    licence_jws    TEXT,
    unit_no        INTEGER
) STRICT;
CREATE INDEX offers_by_demand ON offers(demand_id, created_at);

CREATE TABLE requester_profiles (
    account_id     TEXT PRIMARY KEY REFERENCES accounts(id),
    ship_to        TEXT,
    payment_method TEXT,
    updated_at     INTEGER NOT NULL
) STRICT;

CREATE TABLE orders (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT NOT NULL UNIQUE,
    offer_id         TEXT NOT NULL UNIQUE REFERENCES offers(id),
    requester_id     TEXT NOT NULL REFERENCES accounts(id),
    provider_id      TEXT NOT NULL REFERENCES accounts(id),
    holder_id        TEXT NOT NULL REFERENCES accounts(id),
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
    shipped_at       INTEGER
) STRICT;
CREATE INDEX orders_by_provider ON orders(provider_id, seq);
CREATE INDEX orders_by_requester ON orders(requester_id, seq);
CREATE INDEX orders_by_holder ON orders(holder_id, seq);

CREATE TABLE ledger_transactions (
    id         TEXT PRIMARY KEY,
    order_id   TEXT NOT NULL REFERENCES orders(id),
    payment_ref TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE ledger_entries (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    transaction_id TEXT NOT NULL REFERENCES ledger_transactions(id),
    account_id     TEXT NOT NULL REFERENCES accounts(id),
    currency       TEXT NOT NULL,
    amount_minor   INTEGER NOT NULL,
    memo           TEXT NOT NULL
) STRICT;
CREATE INDEX ledger_by_account ON ledger_entries(account_id, currency);

CREATE TABLE ratings (
    id           TEXT PRIMARY KEY,
    offer_id     TEXT NOT NULL UNIQUE REFERENCES offers(id),
    holder_id    TEXT NOT NULL REFERENCES accounts(id),
    requester_id TEXT NOT NULL REFERENCES accounts(id),
    positive     INTEGER NOT NULL CHECK (positive IN (0, 1)),
    comment      TEXT,
    created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX ratings_by_holder ON ratings(holder_id);
