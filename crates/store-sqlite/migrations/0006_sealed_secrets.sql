-- Symbolon schema v6: sealed secrets. The exchange stores only public keys,
-- the sealed payload (an age file to an identity nobody holds whole), the
-- provider-signed header, and shares wrapped (age) to their recipients.
CREATE TABLE party_keys (
    account_id    TEXT PRIMARY KEY REFERENCES accounts(id),
    age_recipient TEXT NOT NULL,
    signing_jwk   TEXT NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE pass_seals (
    pass_id    TEXT PRIMARY KEY REFERENCES passes(id),
    seal_id    TEXT NOT NULL UNIQUE,
    header_jws TEXT NOT NULL,
    payload    BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

-- kind: 'holder' (provider → holder at grant), 'offer' (holder → requester
-- with an offer), 'release' (provider → requester once the order is paid).
CREATE TABLE sealed_shares (
    id           TEXT PRIMARY KEY,
    pass_id      TEXT NOT NULL REFERENCES pass_seals(pass_id),
    recipient_id TEXT NOT NULL REFERENCES accounts(id),
    sender_id    TEXT NOT NULL REFERENCES accounts(id),
    kind         TEXT NOT NULL CHECK (kind IN ('holder', 'offer', 'release')),
    offer_id     TEXT,
    order_id     TEXT,
    wrapped      BLOB NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX sealed_shares_by_recipient ON sealed_shares(recipient_id, pass_id, created_at);
-- An offer carries one share; a holder cannot pile up forged ones.
CREATE UNIQUE INDEX sealed_shares_one_per_offer ON sealed_shares(offer_id) WHERE kind = 'offer';
CREATE INDEX sealed_shares_by_order ON sealed_shares(order_id) WHERE kind = 'release';
