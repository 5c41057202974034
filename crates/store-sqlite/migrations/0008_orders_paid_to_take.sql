-- Symbolon schema v8 (SQLite): unpaid orders hold nothing.
-- Stock is taken, and a unique pass's unit changes hands, only in the
-- transaction that records the payment. An unpaid order (`placed`) may be paid
-- until `pay_by`; after it the sweeper marks it `expired` (an `order.expired`
-- event). Shipping an unpaid order is no longer possible.
--
-- SQLite cannot change a CHECK constraint in place: `orders` is rebuilt (as in
-- v3), with foreign keys deferred until COMMIT. Its triggers go with the old
-- table and are made again below, after the rows are back, so the copy writes
-- no events.
PRAGMA defer_foreign_keys = ON;

-- Orders placed unpaid under the old rules took stock: it is given back, since
-- paying them now takes it (as for every unpaid order). A unit a legacy unpaid
-- order already moved stays moved (its transfer is signed); paying such an
-- order moves nothing more.
UPDATE products SET stock = stock + (SELECT SUM(o.quantity) FROM orders o WHERE o.product_id = products.id AND o.status = 'placed')
 WHERE id IN (SELECT product_id FROM orders WHERE status = 'placed');

CREATE TEMP TABLE orders_v7 AS SELECT * FROM orders;
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
    status           TEXT NOT NULL CHECK (status IN ('placed', 'paid', 'shipped', 'expired')),
    ship_to          TEXT NOT NULL,
    payment_ref      TEXT,
    created_at       INTEGER NOT NULL,
    paid_at          INTEGER,
    shipped_at       INTEGER,
    unit_no          INTEGER,
    pay_by           INTEGER,
    CHECK (status <> 'placed' OR pay_by IS NOT NULL)
) STRICT;
INSERT INTO orders (seq, id, offer_id, requester_id, provider_id, holder_id, product_id, pass_id, quantity,
                    unit_price_minor, total_minor, commission_minor, currency, status, ship_to, payment_ref,
                    created_at, paid_at, shipped_at, unit_no, pay_by)
SELECT seq, id, offer_id, requester_id, provider_id, holder_id, product_id, pass_id, quantity,
       unit_price_minor, total_minor, commission_minor, currency, status, ship_to, payment_ref,
       created_at, paid_at, shipped_at, unit_no,
       CASE status WHEN 'placed' THEN created_at + 1800000 END
  FROM temp.orders_v7;
DROP TABLE temp.orders_v7;
CREATE INDEX orders_by_provider ON orders(provider_id, seq);
CREATE INDEX orders_by_requester ON orders(requester_id, seq);
CREATE INDEX orders_by_holder ON orders(holder_id, seq);
CREATE INDEX orders_by_pass ON orders(pass_id, seq);
-- One live order per accepted offer: an unpaid order that expired leaves room for a new one.
CREATE UNIQUE INDEX orders_one_live_per_offer ON orders(offer_id) WHERE status <> 'expired';
-- The sweeper's and the unpaid limits' lookups.
CREATE INDEX orders_unpaid ON orders(pay_by) WHERE status = 'placed';
CREATE INDEX orders_unpaid_by_requester ON orders(requester_id) WHERE status = 'placed';

-- Orders are heard by the requester, the provider and the holder (if any).
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

CREATE TRIGGER ev_order_status AFTER UPDATE OF status ON orders
WHEN NEW.status <> OLD.status AND NEW.status IN ('paid', 'shipped', 'expired') BEGIN
    INSERT INTO events (account_id, type, data, created_at)
    SELECT r.account_id, 'order.' || NEW.status,
           json_object('order_id', NEW.id, 'total_minor', NEW.total_minor, 'currency', NEW.currency),
           CASE NEW.status WHEN 'paid' THEN NEW.paid_at WHEN 'shipped' THEN NEW.shipped_at ELSE NEW.pay_by END
    FROM (SELECT 1 AS k, NEW.requester_id AS account_id UNION ALL SELECT 2, NEW.provider_id UNION ALL SELECT 3, NEW.holder_id) r
    WHERE r.account_id IS NOT NULL ORDER BY r.k;
END;

-- A requester's open demands (the per-requester limit counts them in the writing transaction).
CREATE INDEX demands_by_requester ON demands(requester_id, deadline);
