-- A counter bumped by every change that can change matching (supply,
-- reputation, stock). The single writer connection orders the bumps.
CREATE TABLE market_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    v  INTEGER NOT NULL
) STRICT;
INSERT INTO market_version (id, v) VALUES (1, 0);

CREATE TRIGGER mv_products_i AFTER INSERT ON products BEGIN UPDATE market_version SET v = v + 1; END;
CREATE TRIGGER mv_products_u AFTER UPDATE ON products BEGIN UPDATE market_version SET v = v + 1; END;
CREATE TRIGGER mv_passes_i AFTER INSERT ON passes BEGIN UPDATE market_version SET v = v + 1; END;
CREATE TRIGGER mv_passes_u AFTER UPDATE ON passes BEGIN UPDATE market_version SET v = v + 1; END;
CREATE TRIGGER mv_units_i AFTER INSERT ON pass_units BEGIN UPDATE market_version SET v = v + 1; END;
CREATE TRIGGER mv_units_u AFTER UPDATE ON pass_units BEGIN UPDATE market_version SET v = v + 1; END;
CREATE TRIGGER mv_grants_i AFTER INSERT ON grants BEGIN UPDATE market_version SET v = v + 1; END;
CREATE TRIGGER mv_grants_d AFTER DELETE ON grants BEGIN UPDATE market_version SET v = v + 1; END;
CREATE TRIGGER mv_profiles_i AFTER INSERT ON holder_profiles BEGIN UPDATE market_version SET v = v + 1; END;
CREATE TRIGGER mv_profiles_u AFTER UPDATE ON holder_profiles BEGIN UPDATE market_version SET v = v + 1; END;
CREATE TRIGGER mv_interactions_i AFTER INSERT ON interactions BEGIN UPDATE market_version SET v = v + 1; END;
CREATE TRIGGER mv_interactions_u AFTER UPDATE ON interactions BEGIN UPDATE market_version SET v = v + 1; END;
CREATE TRIGGER mv_ratings_i AFTER INSERT ON ratings BEGIN UPDATE market_version SET v = v + 1; END;

-- Standing demands: stored with nobody contacted until enough holders qualify.
ALTER TABLE demands ADD COLUMN waiting INTEGER NOT NULL DEFAULT 0 CHECK (waiting IN (0, 1));
CREATE INDEX demands_waiting ON demands(waiting, deadline) WHERE waiting = 1;
