-- Symbolon schema v8 (PostgreSQL): unpaid orders hold nothing.
-- Stock is taken, and a unique pass's unit changes hands, only in the
-- transaction that records the payment. An unpaid order (`placed`) may be paid
-- until `pay_by`; after it the sweeper marks it `expired` (an `order.expired`
-- event). Shipping an unpaid order is no longer possible.

-- Orders placed unpaid under the old rules took stock: it is given back, since
-- paying them now takes it (as for every unpaid order). A unit a legacy unpaid
-- order already moved stays moved (its transfer is signed); paying such an
-- order moves nothing more.
UPDATE products p SET stock = p.stock + o.q
  FROM (SELECT product_id, SUM(quantity) AS q FROM orders WHERE status = 'placed' GROUP BY product_id) o
 WHERE o.product_id = p.id;

ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
    CHECK (status IN ('placed', 'paid', 'shipped', 'expired'));
ALTER TABLE orders ADD COLUMN pay_by BIGINT;
UPDATE orders SET pay_by = created_at + 1800000 WHERE status = 'placed';
ALTER TABLE orders ADD CONSTRAINT orders_unpaid_pay_by CHECK (status <> 'placed' OR pay_by IS NOT NULL);
-- One live order per accepted offer: an unpaid order that expired leaves room for a new one.
ALTER TABLE orders DROP CONSTRAINT orders_offer_id_key;
CREATE UNIQUE INDEX orders_one_live_per_offer ON orders (offer_id) WHERE status <> 'expired';
-- The sweeper's and the unpaid limits' lookups.
CREATE INDEX orders_unpaid ON orders (pay_by) WHERE status = 'placed';
CREATE INDEX orders_unpaid_by_requester ON orders (requester_id) WHERE status = 'placed';
-- A requester's open demands (the per-requester limit counts them in the writing transaction).
CREATE INDEX demands_by_requester ON demands (requester_id, deadline);

CREATE OR REPLACE FUNCTION ev_orders() RETURNS trigger AS $$
DECLARE
    status_body TEXT := json_build_object('order_id', NEW.id, 'total_minor', NEW.total_minor,
                                          'currency', NEW.currency)::text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM emit_order_event(NEW, 'order.placed',
            json_build_object('order_id', NEW.id, 'offer_id', NEW.offer_id, 'pass_id', NEW.pass_id,
                              'product_id', NEW.product_id, 'quantity', NEW.quantity, 'total_minor', NEW.total_minor,
                              'commission_minor', NEW.commission_minor, 'currency', NEW.currency,
                              'unit_no', NEW.unit_no, 'pay_by', NEW.pay_by)::text,
            NEW.created_at);
        IF NEW.status = 'paid' THEN
            PERFORM emit_order_event(NEW, 'order.paid', status_body, NEW.paid_at);
        END IF;
    ELSIF NEW.status <> OLD.status AND NEW.status = 'paid' THEN
        PERFORM emit_order_event(NEW, 'order.paid', status_body, NEW.paid_at);
    ELSIF NEW.status <> OLD.status AND NEW.status = 'shipped' THEN
        PERFORM emit_order_event(NEW, 'order.shipped', status_body, NEW.shipped_at);
    ELSIF NEW.status <> OLD.status AND NEW.status = 'expired' THEN
        PERFORM emit_order_event(NEW, 'order.expired', status_body, NEW.pay_by);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
