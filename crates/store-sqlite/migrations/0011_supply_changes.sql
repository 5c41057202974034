-- Symbolon schema v11 (SQLite): a grant's version names its holder.
-- Until v10 a grant (or its removal) moved the market version without a
-- `market_changes` row, which made every replica re-read the whole market.
-- Now it logs its holder with `supply = 1`: a replica re-reads just that
-- holder's usable holdings and replaces them in the engine
-- (`Engine::replace_holdings`). Rows with `supply = 0` are reputation or
-- field changes, as before. Other supply changes (passes, units, a product
-- selling out) still log nothing and mean a full sync.
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
