-- Symbolon schema v13 (PostgreSQL): what owners do with what they made —
-- products archived (`archived_at`) and revised (`revision`), demands
-- cancelled (`cancelled_at`), both listed by `seq` — a holder's reason for
-- declining (`interactions.decline_reason`) and a shipment's tracking
-- (`orders.tracking`). See the SQLite migration of the same number for the
-- columns' meaning; the two schemas say the same.
--
-- Existing rows are numbered in creation order; new ones take the next value
-- of their sequence.
ALTER TABLE products
    ADD COLUMN archived_at BIGINT,
    ADD COLUMN revision BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN seq BIGINT;
CREATE SEQUENCE products_seq_seq OWNED BY products.seq;
UPDATE products p SET seq = n.n
  FROM (SELECT id, row_number() OVER (ORDER BY created_at, id COLLATE "C") AS n FROM products) n
 WHERE n.id = p.id;
SELECT setval('products_seq_seq', COALESCE((SELECT MAX(seq) FROM products), 0) + 1, false);
ALTER TABLE products ALTER COLUMN seq SET DEFAULT nextval('products_seq_seq'),
                     ALTER COLUMN seq SET NOT NULL;
CREATE UNIQUE INDEX products_seq ON products (seq);
CREATE INDEX products_listed ON products(provider_id, seq);

ALTER TABLE demands
    ADD COLUMN cancelled_at BIGINT,
    ADD COLUMN seq BIGINT;
CREATE SEQUENCE demands_seq_seq OWNED BY demands.seq;
UPDATE demands d SET seq = n.n
  FROM (SELECT id, row_number() OVER (ORDER BY created_at, id COLLATE "C") AS n FROM demands) n
 WHERE n.id = d.id;
SELECT setval('demands_seq_seq', COALESCE((SELECT MAX(seq) FROM demands), 0) + 1, false);
ALTER TABLE demands ALTER COLUMN seq SET DEFAULT nextval('demands_seq_seq'),
                    ALTER COLUMN seq SET NOT NULL;
CREATE UNIQUE INDEX demands_seq ON demands (seq);
CREATE INDEX demands_listed ON demands(requester_id, seq);

ALTER TABLE interactions ADD COLUMN decline_reason TEXT;
ALTER TABLE orders ADD COLUMN tracking TEXT;

-- A product is on the market while it is in stock and not archived:
-- archiving takes it off exactly as selling out does (`mv_supply`, v11).
DROP TRIGGER mv_products_u ON products;
CREATE CONSTRAINT TRIGGER mv_products_u AFTER UPDATE ON products
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN ((OLD.stock > 0 AND OLD.archived_at IS NULL) IS DISTINCT FROM (NEW.stock > 0 AND NEW.archived_at IS NULL))
    EXECUTE FUNCTION mv_supply();
