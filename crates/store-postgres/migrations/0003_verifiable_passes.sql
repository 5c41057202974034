-- Symbolon schema v3 (PostgreSQL): passes anyone can verify. See the SQLite migration for the why.

ALTER TABLE provider_keys ADD COLUMN retired_at BIGINT;
ALTER TABLE provider_keys ALTER COLUMN secret DROP NOT NULL;
ALTER TABLE products ADD COLUMN gtin TEXT;
ALTER TABLE passes ADD COLUMN kid TEXT;
ALTER TABLE passes ADD COLUMN status_index BIGINT;
ALTER TABLE passes ADD COLUMN revoked_at BIGINT;
CREATE UNIQUE INDEX passes_status_index ON passes(provider_id, status_index);

CREATE TABLE unit_transfers (
    pass_id    TEXT NOT NULL,
    unit_no    BIGINT NOT NULL,
    seq        BIGINT NOT NULL CHECK (seq >= 1),
    id         TEXT NOT NULL UNIQUE,
    from_id    TEXT NOT NULL REFERENCES accounts(id),
    to_id      TEXT NOT NULL REFERENCES accounts(id),
    jws        TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (pass_id, unit_no, seq),
    FOREIGN KEY (pass_id, unit_no) REFERENCES pass_units(pass_id, unit_no)
);

ALTER TABLE orders ALTER COLUMN offer_id DROP NOT NULL;
ALTER TABLE orders ALTER COLUMN holder_id DROP NOT NULL;
ALTER TABLE orders ADD COLUMN unit_no BIGINT;
CREATE INDEX orders_by_pass ON orders(pass_id, seq);
CREATE INDEX offers_by_pass ON offers(pass_id);
