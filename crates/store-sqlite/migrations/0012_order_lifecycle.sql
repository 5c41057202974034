-- Symbolon schema v12 (SQLite): the order lifecycle after payment —
-- cancellations, refunds, delivery, returns and disputes — and a ledger that
-- tells pending money from available money.
--
-- `orders` gains the states `delivered`, `cancelled` and `refunded` (SQLite
-- cannot change a CHECK constraint in place, so the table is rebuilt as in
-- v8, foreign keys deferred until COMMIT, triggers made again after the copy
-- so it writes no events) and the columns of the new steps:
--   * refunded_minor: refunds that succeeded; refund_claimed_minor: those
--     plus the ones in flight (a refund reserves its amount here before the
--     payment gateway is called, so racing refunds can never exceed the
--     amount paid); commission_reversed_minor: ⌊commission·refunded/total⌋;
--   * delivered_at, cancelled_at (+ cancel_reason, cancelled_by),
--     return_status (+ return_reason, return_requested_at), dispute_id,
--     settled_at (when its pending money became available).
--
-- Ledger entries gain a bucket. A provider's and a holder's money from an
-- order is `pending` until the order is delivered and its return window has
-- passed; the sweeper then settles it (moves it to `available`). Existing
-- entries: everything of an order's provider and holder is pending (no order
-- was delivered before v12); the rest is available. A payout moves available
-- money to `paid_out` (it left the exchange): a refund after that can take
-- `available` below zero — the account owes it. A payout's ledger
-- transaction belongs to no order, so `ledger_transactions.order_id` becomes
-- nullable (the table is rebuilt).
--
-- Existing ratings stay: they were given under the rules of their time (a
-- paid order) and are part of the holders' reputations. New ratings need a
-- delivered order or a closed dispute.
PRAGMA defer_foreign_keys = ON;

CREATE TEMP TABLE orders_v11 AS SELECT * FROM orders;
DROP TABLE orders;
CREATE TABLE orders (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT NOT NULL UNIQUE,
    offer_id         TEXT REFERENCES offers(id),
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
    status           TEXT NOT NULL CHECK (status IN ('placed', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded', 'expired')),
    ship_to          TEXT NOT NULL,
    payment_ref      TEXT,
    created_at       INTEGER NOT NULL,
    paid_at          INTEGER,
    shipped_at       INTEGER,
    unit_no          INTEGER,
    pay_by           INTEGER,
    refunded_minor   INTEGER NOT NULL DEFAULT 0,
    refund_claimed_minor INTEGER NOT NULL DEFAULT 0,
    commission_reversed_minor INTEGER NOT NULL DEFAULT 0,
    delivered_at     INTEGER,
    cancelled_at     INTEGER,
    cancel_reason    TEXT,
    cancelled_by     TEXT,
    return_status    TEXT CHECK (return_status IN ('requested', 'accepted', 'refused', 'refunded')),
    return_reason    TEXT,
    return_requested_at INTEGER,
    dispute_id       TEXT,
    settled_at       INTEGER,
    CHECK (status <> 'placed' OR pay_by IS NOT NULL),
    CHECK (0 <= refunded_minor AND refunded_minor <= refund_claimed_minor AND refund_claimed_minor <= total_minor)
) STRICT;
INSERT INTO orders (seq, id, offer_id, requester_id, provider_id, holder_id, product_id, pass_id, quantity,
                    unit_price_minor, total_minor, commission_minor, currency, status, ship_to, payment_ref,
                    created_at, paid_at, shipped_at, unit_no, pay_by)
SELECT seq, id, offer_id, requester_id, provider_id, holder_id, product_id, pass_id, quantity,
       unit_price_minor, total_minor, commission_minor, currency, status, ship_to, payment_ref,
       created_at, paid_at, shipped_at, unit_no, pay_by
  FROM temp.orders_v11;
DROP TABLE temp.orders_v11;
CREATE INDEX orders_by_provider ON orders(provider_id, seq);
CREATE INDEX orders_by_requester ON orders(requester_id, seq);
CREATE INDEX orders_by_holder ON orders(holder_id, seq);
CREATE INDEX orders_by_pass ON orders(pass_id, seq);
-- One live order per accepted offer: one that expired or was cancelled leaves room for a new one.
CREATE UNIQUE INDEX orders_one_live_per_offer ON orders(offer_id) WHERE status NOT IN ('expired', 'cancelled');
CREATE INDEX orders_unpaid ON orders(pay_by) WHERE status = 'placed';
CREATE INDEX orders_unpaid_by_requester ON orders(requester_id) WHERE status = 'placed';
-- The sweeper's lookups: shipped orders to deliver, delivered ones to settle.
CREATE INDEX orders_in_transit ON orders(shipped_at) WHERE status = 'shipped';
CREATE INDEX orders_unsettled ON orders(delivered_at) WHERE status = 'delivered' AND settled_at IS NULL;

CREATE TRIGGER ev_order_placed AFTER INSERT ON orders BEGIN
    INSERT INTO events (account_id, type, data, created_at)
    SELECT r.account_id, 'order.placed',
           json_object('order_id', NEW.id, 'offer_id', NEW.offer_id, 'pass_id', NEW.pass_id, 'product_id', NEW.product_id,
                       'quantity', NEW.quantity, 'total_minor', NEW.total_minor, 'commission_minor', NEW.commission_minor,
                       'currency', NEW.currency, 'unit_no', NEW.unit_no, 'pay_by', NEW.pay_by),
           NEW.created_at
    FROM (SELECT 1 AS k, NEW.requester_id AS account_id UNION ALL SELECT 2, NEW.provider_id UNION ALL SELECT 3, NEW.holder_id) r
    WHERE r.account_id IS NOT NULL ORDER BY r.k;
    INSERT INTO events (account_id, type, data, created_at)
    SELECT r.account_id, 'order.paid',
           json_object('order_id', NEW.id, 'total_minor', NEW.total_minor, 'currency', NEW.currency),
           NEW.paid_at
    FROM (SELECT 1 AS k, NEW.requester_id AS account_id UNION ALL SELECT 2, NEW.provider_id UNION ALL SELECT 3, NEW.holder_id) r
    WHERE NEW.status = 'paid' AND r.account_id IS NOT NULL ORDER BY r.k;
END;

-- Paying, shipping and expiring stay trigger-written; the steps of v12 write
-- their events from the store (symbolon_store::lifecycle), with the audience
-- of `OrderEvent::audience`.
CREATE TRIGGER ev_order_status AFTER UPDATE OF status ON orders
WHEN NEW.status <> OLD.status AND NEW.status IN ('paid', 'shipped', 'expired') BEGIN
    INSERT INTO events (account_id, type, data, created_at)
    SELECT r.account_id, 'order.' || NEW.status,
           json_object('order_id', NEW.id, 'total_minor', NEW.total_minor, 'currency', NEW.currency),
           CASE NEW.status WHEN 'paid' THEN NEW.paid_at WHEN 'shipped' THEN NEW.shipped_at ELSE NEW.pay_by END
    FROM (SELECT 1 AS k, NEW.requester_id AS account_id UNION ALL SELECT 2, NEW.provider_id UNION ALL SELECT 3, NEW.holder_id) r
    WHERE r.account_id IS NOT NULL ORDER BY r.k;
END;

ALTER TABLE ledger_entries ADD COLUMN bucket TEXT NOT NULL DEFAULT 'available' CHECK (bucket IN ('pending', 'available', 'paid_out'));
UPDATE ledger_entries SET bucket = 'pending'
 WHERE id IN (SELECT e.id FROM ledger_entries e
                JOIN ledger_transactions t ON t.id = e.transaction_id
                JOIN orders o ON o.id = t.order_id
               WHERE e.account_id <> o.requester_id);
CREATE INDEX ledger_by_transaction ON ledger_entries(transaction_id);
CREATE TEMP TABLE ledger_transactions_v11 AS SELECT * FROM ledger_transactions;
DROP TABLE ledger_transactions;
CREATE TABLE ledger_transactions (
    id          TEXT PRIMARY KEY,
    order_id    TEXT REFERENCES orders(id),
    payment_ref TEXT NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;
INSERT INTO ledger_transactions (id, order_id, payment_ref, created_at)
SELECT id, order_id, payment_ref, created_at FROM temp.ledger_transactions_v11;
DROP TABLE temp.ledger_transactions_v11;
CREATE INDEX ledger_transactions_by_order ON ledger_transactions(order_id);

CREATE TABLE refunds (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    order_id     TEXT NOT NULL REFERENCES orders(id),
    kind         TEXT NOT NULL CHECK (kind IN ('refund', 'cancel', 'dispute')),
    amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
    reason       TEXT NOT NULL,
    by_id        TEXT NOT NULL REFERENCES accounts(id),
    dispute_id   TEXT,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    gateway_ref  TEXT,
    commission_reversed_minor INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    completed_at INTEGER
) STRICT;
CREATE INDEX refunds_by_order ON refunds(order_id, seq);
CREATE INDEX refunds_pending ON refunds(created_at) WHERE status = 'pending';

CREATE TABLE disputes (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    order_id     TEXT NOT NULL UNIQUE REFERENCES orders(id),
    requester_id TEXT NOT NULL REFERENCES accounts(id),
    provider_id  TEXT NOT NULL REFERENCES accounts(id),
    kind         TEXT NOT NULL CHECK (kind IN ('not_received', 'not_as_described')),
    reason       TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('open', 'resolved', 'rejected')),
    resolution   TEXT,
    refund_minor INTEGER,
    resolved_by  TEXT REFERENCES accounts(id),
    created_at   INTEGER NOT NULL,
    resolved_at  INTEGER
) STRICT;
CREATE INDEX disputes_by_status ON disputes(status, seq);

CREATE TABLE dispute_messages (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    dispute_id TEXT NOT NULL REFERENCES disputes(id),
    author_id  TEXT NOT NULL REFERENCES accounts(id),
    role       TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX dispute_messages_by_dispute ON dispute_messages(dispute_id, seq);
