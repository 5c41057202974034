-- Symbolon schema v11 (SQLite): every supply change names the holders it
-- changes.
-- Until v10 a supply change (a pass, a grant, a unit, a product selling out)
-- moved the market version without a `market_changes` row, which made every
-- replica re-read the whole market. Now each logs one row per holder whose
-- usable holdings it can change, with `supply = 1`, one version each: a
-- replica re-reads just those holders' holdings and replaces them in the
-- engine (`Engine::replace_holdings`). Rows with `supply = 0` are reputation
-- or field changes, as before.
--   * a grant, or its removal: its holder;
--   * a pass changed (revoked): the holders of its grants;
--   * a product's stock reaching 0 or coming back: the holders of its passes;
--   * a unit assigned, sold or transferred: the holder it is assigned to.
-- A new product or pass has no holder yet and changes no matching: it moves
-- nothing. Versions stay consecutive: the rows take v + 1 … v + n and the
-- version moves to the last of them.
ALTER TABLE market_changes ADD COLUMN supply INTEGER NOT NULL DEFAULT 0 CHECK (supply IN (0, 1));

DROP TRIGGER mv_grants_i;
DROP TRIGGER mv_grants_d;
CREATE TRIGGER mv_grants_i AFTER INSERT ON grants BEGIN
    UPDATE market_version SET v = v + 1;
    INSERT INTO market_changes (version, holder_id, supply) SELECT v, NEW.holder_id, 1 FROM market_version;
END;
CREATE TRIGGER mv_grants_d AFTER DELETE ON grants BEGIN
    UPDATE market_version SET v = v + 1;
    INSERT INTO market_changes (version, holder_id, supply) SELECT v, OLD.holder_id, 1 FROM market_version;
END;

DROP TRIGGER mv_products_i;
DROP TRIGGER mv_passes_i;
DROP TRIGGER mv_units_i;

DROP TRIGGER mv_products_u;
CREATE TRIGGER mv_products_u AFTER UPDATE ON products
WHEN (OLD.stock > 0) <> (NEW.stock > 0) BEGIN
    INSERT INTO market_changes (version, holder_id, supply)
    SELECT (SELECT v FROM market_version) + ROW_NUMBER() OVER (ORDER BY h), h, 1
      FROM (SELECT DISTINCT g.holder_id AS h FROM grants g JOIN passes p ON p.id = g.pass_id
             WHERE p.product_id = NEW.id);
    UPDATE market_version SET v = max(v, COALESCE((SELECT MAX(version) FROM market_changes), 0));
END;

DROP TRIGGER mv_passes_u;
CREATE TRIGGER mv_passes_u AFTER UPDATE ON passes BEGIN
    INSERT INTO market_changes (version, holder_id, supply)
    SELECT (SELECT v FROM market_version) + ROW_NUMBER() OVER (ORDER BY h), h, 1
      FROM (SELECT DISTINCT holder_id AS h FROM grants WHERE pass_id = NEW.id);
    UPDATE market_version SET v = max(v, COALESCE((SELECT MAX(version) FROM market_changes), 0));
END;

DROP TRIGGER mv_units_u;
CREATE TRIGGER mv_units_u AFTER UPDATE ON pass_units
WHEN NEW.holder_id IS NOT NULL
 AND (OLD.holder_id IS NOT NEW.holder_id OR OLD.owner_id IS NOT NEW.owner_id) BEGIN
    UPDATE market_version SET v = v + 1;
    INSERT INTO market_changes (version, holder_id, supply) SELECT v, NEW.holder_id, 1 FROM market_version;
END;
