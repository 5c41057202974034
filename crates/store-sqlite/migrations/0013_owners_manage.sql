-- Symbolon schema v13 (SQLite): what owners do with what they made, and
-- two notes that travel with an answer.
--
--   * products: `archived_at` (archived by its provider: no longer sold,
--     no longer changed), `revision` (bumped by every change of a field its
--     passes sign, possible only while it has none; a pass is issued only
--     against the revision it was signed from) and `seq` (insertion order,
--     for the provider's list);
--   * demands: `cancelled_at` (cancelled by its requester) and `seq`
--     (insertion order, for the requester's list, newest first);
--   * interactions: `decline_reason`, a holder's reason for declining;
--   * orders: `tracking`, the carrier and number the provider gave when
--     shipping.
--
-- Existing rows take their `seq` from their rowid (insertion order); new
-- ones take the next in the inserting statement (one writer).
ALTER TABLE products ADD COLUMN archived_at INTEGER;
ALTER TABLE products ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE products ADD COLUMN seq INTEGER;
UPDATE products SET seq = rowid;
CREATE UNIQUE INDEX products_seq ON products(seq);
CREATE INDEX products_listed ON products(provider_id, seq);

ALTER TABLE demands ADD COLUMN cancelled_at INTEGER;
ALTER TABLE demands ADD COLUMN seq INTEGER;
UPDATE demands SET seq = rowid;
CREATE UNIQUE INDEX demands_seq ON demands(seq);
CREATE INDEX demands_listed ON demands(requester_id, seq);

ALTER TABLE interactions ADD COLUMN decline_reason TEXT;
ALTER TABLE orders ADD COLUMN tracking TEXT;

-- A product is on the market while it is in stock and not archived:
-- archiving takes it off exactly as selling out does, logging a supply
-- change for every holder of its passes (as in v11), so each replica
-- re-reads just those holders' holdings.
DROP TRIGGER mv_products_u;
CREATE TRIGGER mv_products_u AFTER UPDATE ON products
WHEN (OLD.stock > 0 AND OLD.archived_at IS NULL) <> (NEW.stock > 0 AND NEW.archived_at IS NULL) BEGIN
    INSERT INTO market_changes (version, holder_id, supply)
    SELECT (SELECT v FROM market_version) + ROW_NUMBER() OVER (ORDER BY h), h, 1
      FROM (SELECT DISTINCT g.holder_id AS h FROM grants g JOIN passes p ON p.id = g.pass_id
             WHERE p.product_id = NEW.id);
    UPDATE market_version SET v = max(v, COALESCE((SELECT MAX(version) FROM market_changes), 0));
END;
