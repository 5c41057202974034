-- Symbolon schema v12 (PostgreSQL): the order lifecycle after payment —
-- cancellations, refunds, delivery, returns and disputes — and a ledger that
-- tells pending money from available money. See the SQLite migration of the
-- same number for the columns' meaning; the two schemas say the same.
--
-- Existing ratings stay: they were given under the rules of their time (a
-- paid order) and are part of the holders' reputations. New ratings need a
-- delivered order or a closed dispute.
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('placed', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded', 'expired'));
ALTER TABLE orders
    ADD COLUMN refunded_minor BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN refund_claimed_minor BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN commission_reversed_minor BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN delivered_at BIGINT,
    ADD COLUMN cancelled_at BIGINT,
    ADD COLUMN cancel_reason TEXT,
    ADD COLUMN cancelled_by TEXT,
    ADD COLUMN return_status TEXT CHECK (return_status IN ('requested', 'accepted', 'refused', 'refunded')),
    ADD COLUMN return_reason TEXT,
    ADD COLUMN return_requested_at BIGINT,
    ADD COLUMN dispute_id TEXT,
    ADD COLUMN settled_at BIGINT,
    ADD CONSTRAINT orders_refunds_bounded
        CHECK (0 <= refunded_minor AND refunded_minor <= refund_claimed_minor AND refund_claimed_minor <= total_minor);
-- One live order per accepted offer: one that expired or was cancelled leaves room for a new one.
DROP INDEX orders_one_live_per_offer;
CREATE UNIQUE INDEX orders_one_live_per_offer ON orders (offer_id) WHERE status NOT IN ('expired', 'cancelled');
CREATE INDEX orders_in_transit ON orders (shipped_at) WHERE status = 'shipped';
CREATE INDEX orders_unsettled ON orders (delivered_at) WHERE status = 'delivered' AND settled_at IS NULL;

ALTER TABLE ledger_entries ADD COLUMN bucket TEXT NOT NULL DEFAULT 'available' CHECK (bucket IN ('pending', 'available', 'paid_out'));
-- A payout's ledger transaction belongs to no order.
ALTER TABLE ledger_transactions ALTER COLUMN order_id DROP NOT NULL;
UPDATE ledger_entries e SET bucket = 'pending'
  FROM ledger_transactions t JOIN orders o ON o.id = t.order_id
 WHERE t.id = e.transaction_id AND e.account_id <> o.requester_id;
CREATE INDEX ledger_by_transaction ON ledger_entries (transaction_id);
CREATE INDEX ledger_transactions_by_order ON ledger_transactions (order_id);

CREATE TABLE refunds (
    seq          BIGSERIAL PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    order_id     TEXT NOT NULL REFERENCES orders(id),
    kind         TEXT NOT NULL CHECK (kind IN ('refund', 'cancel', 'dispute')),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    reason       TEXT NOT NULL,
    by_id        TEXT NOT NULL REFERENCES accounts(id),
    dispute_id   TEXT,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    gateway_ref  TEXT,
    commission_reversed_minor BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    completed_at BIGINT
);
CREATE INDEX refunds_by_order ON refunds (order_id, seq);
CREATE INDEX refunds_pending ON refunds (created_at) WHERE status = 'pending';

CREATE TABLE disputes (
    seq          BIGSERIAL PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    order_id     TEXT NOT NULL UNIQUE REFERENCES orders(id),
    requester_id TEXT NOT NULL REFERENCES accounts(id),
    provider_id  TEXT NOT NULL REFERENCES accounts(id),
    kind         TEXT NOT NULL CHECK (kind IN ('not_received', 'not_as_described')),
    reason       TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('open', 'resolved', 'rejected')),
    resolution   TEXT,
    refund_minor BIGINT,
    resolved_by  TEXT REFERENCES accounts(id),
    created_at   BIGINT NOT NULL,
    resolved_at  BIGINT
);
CREATE INDEX disputes_by_status ON disputes (status, seq);

CREATE TABLE dispute_messages (
    seq        BIGSERIAL PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    dispute_id TEXT NOT NULL REFERENCES disputes(id),
    author_id  TEXT NOT NULL REFERENCES accounts(id),
    role       TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX dispute_messages_by_dispute ON dispute_messages (dispute_id, seq);
