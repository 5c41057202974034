-- Symbolon schema v1 (PostgreSQL): a port of the SQLite schema v1.
-- Times are Unix milliseconds (BIGINT); money is integer minor units (BIGINT).
-- JSON columns are TEXT holding serde_json output, as in SQLite.

CREATE TABLE accounts (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    roles        TEXT NOT NULL,           -- comma-separated roles
    api_key_hash TEXT NOT NULL UNIQUE,    -- hex SHA-256 of the API key
    created_at   BIGINT NOT NULL
);

CREATE TABLE provider_keys (
    kid          TEXT PRIMARY KEY,
    provider_id  TEXT NOT NULL REFERENCES accounts(id),
    public_key   BYTEA NOT NULL,
    secret       BYTEA NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX provider_keys_by_provider ON provider_keys(provider_id, created_at);

CREATE TABLE products (
    id           TEXT PRIMARY KEY,
    provider_id  TEXT NOT NULL REFERENCES accounts(id),
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    category     TEXT NOT NULL,
    specs        TEXT NOT NULL,           -- JSON [[name, value], ...]
    price_minor  BIGINT NOT NULL CHECK (price_minor >= 0),
    currency     TEXT NOT NULL,
    stock        BIGINT NOT NULL CHECK (stock >= 0),
    created_at   BIGINT NOT NULL
);

CREATE TABLE passes (
    id             TEXT PRIMARY KEY,
    product_id     TEXT NOT NULL REFERENCES products(id),
    provider_id    TEXT NOT NULL REFERENCES accounts(id),
    mode           TEXT NOT NULL CHECK (mode IN ('shareable', 'unique')),
    units          BIGINT,
    commission_bps BIGINT NOT NULL,
    valid_from     BIGINT NOT NULL,
    valid_until    BIGINT,
    jws            TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);

-- Units of unique passes: granted to a holder, then owned by the requester it was transferred to.
CREATE TABLE pass_units (
    pass_id   TEXT NOT NULL REFERENCES passes(id),
    unit_no   BIGINT NOT NULL,
    holder_id TEXT REFERENCES accounts(id),
    owner_id  TEXT REFERENCES accounts(id),
    offer_id  TEXT UNIQUE,
    PRIMARY KEY (pass_id, unit_no)
);
CREATE INDEX pass_units_by_holder ON pass_units(pass_id, holder_id, owner_id);

CREATE TABLE grants (
    id          TEXT PRIMARY KEY,
    pass_id     TEXT NOT NULL REFERENCES passes(id),
    holder_id   TEXT NOT NULL REFERENCES accounts(id),
    created_at  BIGINT NOT NULL,
    UNIQUE (holder_id, pass_id)
);

CREATE TABLE holder_profiles (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id),
    fields     TEXT NOT NULL              -- JSON array of taxonomy paths
);

CREATE TABLE demands (
    id                TEXT PRIMARY KEY,
    requester_id      TEXT NOT NULL REFERENCES accounts(id),
    query             TEXT NOT NULL,
    category          TEXT,
    max_price_minor   BIGINT,
    currency          TEXT,
    min_positive_rate DOUBLE PRECISION,
    min_success_rate  DOUBLE PRECISION,
    min_ratings       BIGINT,
    fields            TEXT NOT NULL,
    min_holders       BIGINT NOT NULL,
    max_holders       BIGINT NOT NULL,
    ttl_seconds       BIGINT NOT NULL,
    deadline          BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    accepted_offer_id TEXT
);

CREATE TABLE interactions (
    seq              BIGSERIAL PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    demand_id        TEXT NOT NULL REFERENCES demands(id),
    holder_id        TEXT NOT NULL REFERENCES accounts(id),
    rank             BIGINT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'offered', 'declined', 'expired', 'withdrawn')),
    deadline         BIGINT NOT NULL,
    matched_pass_ids TEXT NOT NULL,
    why              TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    decided_at       BIGINT,
    UNIQUE (demand_id, holder_id)
);
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
    created_at     BIGINT NOT NULL,
    accepted_at    BIGINT,
    licence_jws    TEXT,
    unit_no        BIGINT
);
CREATE INDEX offers_by_demand ON offers(demand_id, created_at);

CREATE TABLE requester_profiles (
    account_id     TEXT PRIMARY KEY REFERENCES accounts(id),
    ship_to        TEXT,
    payment_method TEXT,
    updated_at     BIGINT NOT NULL
);

CREATE TABLE orders (
    seq              BIGSERIAL PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    offer_id         TEXT NOT NULL UNIQUE REFERENCES offers(id),
    requester_id     TEXT NOT NULL REFERENCES accounts(id),
    provider_id      TEXT NOT NULL REFERENCES accounts(id),
    holder_id        TEXT NOT NULL REFERENCES accounts(id),
    product_id       TEXT NOT NULL REFERENCES products(id),
    pass_id          TEXT NOT NULL REFERENCES passes(id),
    quantity         BIGINT NOT NULL CHECK (quantity > 0),
    unit_price_minor BIGINT NOT NULL,
    total_minor      BIGINT NOT NULL,
    commission_minor BIGINT NOT NULL,
    currency         TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('placed', 'paid', 'shipped')),
    ship_to          TEXT NOT NULL,
    payment_ref      TEXT,
    created_at       BIGINT NOT NULL,
    paid_at          BIGINT,
    shipped_at       BIGINT
);
CREATE INDEX orders_by_provider ON orders(provider_id, seq);
CREATE INDEX orders_by_requester ON orders(requester_id, seq);
CREATE INDEX orders_by_holder ON orders(holder_id, seq);

CREATE TABLE ledger_transactions (
    id          TEXT PRIMARY KEY,
    order_id    TEXT NOT NULL REFERENCES orders(id),
    payment_ref TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE ledger_entries (
    id             BIGSERIAL PRIMARY KEY,
    transaction_id TEXT NOT NULL REFERENCES ledger_transactions(id),
    account_id     TEXT NOT NULL REFERENCES accounts(id),
    currency       TEXT NOT NULL,
    amount_minor   BIGINT NOT NULL,
    memo           TEXT NOT NULL
);
CREATE INDEX ledger_by_account ON ledger_entries(account_id, currency);

CREATE TABLE ratings (
    id           TEXT PRIMARY KEY,
    offer_id     TEXT NOT NULL REFERENCES offers(id),
    holder_id    TEXT NOT NULL REFERENCES accounts(id),
    requester_id TEXT NOT NULL REFERENCES accounts(id),
    positive     BOOLEAN NOT NULL,
    comment      TEXT,
    created_at   BIGINT NOT NULL,
    -- Named: a violation of this one is a second rating of the offer (AlreadyRated).
    CONSTRAINT ratings_one_per_offer UNIQUE (offer_id)
);
CREATE INDEX ratings_by_holder ON ratings(holder_id);
