-- Symbolon schema v9 (SQLite): reputation as maintained state.
-- Per-holder counters are moved by triggers in the transaction of the change
-- that moves them (an answer, a decline, an expiry, a rating), so matching
-- never aggregates over history. An expiry counts once per holder, requester
-- and UTC day of its deadline (`expiry_marks`; the day is deadline / 86 400 000,
-- `EXPIRY_COUNT_WINDOW_MS`). A request still pending past its deadline is
-- added by readers until the sweeper records its expiry.
CREATE TABLE holder_stats (
    holder_id TEXT PRIMARY KEY REFERENCES accounts(id),
    positive  INTEGER NOT NULL DEFAULT 0,
    ratings   INTEGER NOT NULL DEFAULT 0,
    offered   INTEGER NOT NULL DEFAULT 0,
    -- offered or declined
    answered  INTEGER NOT NULL DEFAULT 0,
    -- rows of expiry_marks
    expired   INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE expiry_marks (
    holder_id    TEXT NOT NULL,
    requester_id TEXT NOT NULL,
    day          INTEGER NOT NULL,
    PRIMARY KEY (holder_id, requester_id, day)
) STRICT, WITHOUT ROWID;

-- The history so far.
INSERT OR IGNORE INTO expiry_marks (holder_id, requester_id, day)
SELECT i.holder_id, d.requester_id, i.deadline / 86400000
  FROM interactions i JOIN demands d ON d.id = i.demand_id WHERE i.status = 'expired';
INSERT INTO holder_stats (holder_id, positive, ratings, offered, answered, expired)
SELECT h.id,
       (SELECT COUNT(*) FROM ratings r WHERE r.holder_id = h.id AND r.positive = 1),
       (SELECT COUNT(*) FROM ratings r WHERE r.holder_id = h.id),
       (SELECT COUNT(*) FROM interactions i WHERE i.holder_id = h.id AND i.status = 'offered'),
       (SELECT COUNT(*) FROM interactions i WHERE i.holder_id = h.id AND i.status IN ('offered', 'declined')),
       (SELECT COUNT(*) FROM expiry_marks m WHERE m.holder_id = h.id)
  FROM (SELECT holder_id AS id FROM interactions UNION SELECT holder_id FROM ratings) h;

CREATE TRIGGER hs_rating AFTER INSERT ON ratings BEGIN
    INSERT INTO holder_stats (holder_id) VALUES (NEW.holder_id) ON CONFLICT (holder_id) DO NOTHING;
    UPDATE holder_stats SET ratings = ratings + 1, positive = positive + NEW.positive
     WHERE holder_id = NEW.holder_id;
END;

CREATE TRIGGER hs_answered AFTER UPDATE OF status ON interactions
WHEN OLD.status = 'pending' AND NEW.status IN ('offered', 'declined') BEGIN
    INSERT INTO holder_stats (holder_id) VALUES (NEW.holder_id) ON CONFLICT (holder_id) DO NOTHING;
    UPDATE holder_stats SET offered = offered + (NEW.status = 'offered'), answered = answered + 1
     WHERE holder_id = NEW.holder_id;
END;

CREATE TRIGGER hs_expired AFTER UPDATE OF status ON interactions
WHEN OLD.status = 'pending' AND NEW.status = 'expired' BEGIN
    INSERT OR IGNORE INTO expiry_marks (holder_id, requester_id, day)
    SELECT NEW.holder_id, d.requester_id, NEW.deadline / 86400000 FROM demands d WHERE d.id = NEW.demand_id;
END;

CREATE TRIGGER hs_mark AFTER INSERT ON expiry_marks BEGIN
    INSERT INTO holder_stats (holder_id) VALUES (NEW.holder_id) ON CONFLICT (holder_id) DO NOTHING;
    UPDATE holder_stats SET expired = expired + 1 WHERE holder_id = NEW.holder_id;
END;

-- Sending interaction requests changes no reputation, so it no longer moves
-- the market version; the counters do.
DROP TRIGGER mv_interactions_i;
DROP TRIGGER mv_interactions_u;
DROP TRIGGER mv_ratings_i;

-- Which holder's reputation or fields each market version changed: a
-- replica that sees only such versions since its last sync updates those
-- holders in place instead of re-reading the market. Versions that change
-- supply (passes, grants, units, stock) log nothing, and mean a full sync.
CREATE TABLE market_changes (
    version   INTEGER PRIMARY KEY,
    holder_id TEXT NOT NULL
) STRICT;
CREATE TRIGGER mv_holder_stats_i AFTER INSERT ON holder_stats BEGIN
    UPDATE market_version SET v = v + 1;
    INSERT INTO market_changes (version, holder_id) SELECT v, NEW.holder_id FROM market_version;
END;
CREATE TRIGGER mv_holder_stats_u AFTER UPDATE ON holder_stats BEGIN
    UPDATE market_version SET v = v + 1;
    INSERT INTO market_changes (version, holder_id) SELECT v, NEW.holder_id FROM market_version;
END;
DROP TRIGGER mv_profiles_i;
DROP TRIGGER mv_profiles_u;
CREATE TRIGGER mv_profiles_i AFTER INSERT ON holder_profiles BEGIN
    UPDATE market_version SET v = v + 1;
    INSERT INTO market_changes (version, holder_id) SELECT v, NEW.account_id FROM market_version;
END;
CREATE TRIGGER mv_profiles_u AFTER UPDATE ON holder_profiles BEGIN
    UPDATE market_version SET v = v + 1;
    INSERT INTO market_changes (version, holder_id) SELECT v, NEW.account_id FROM market_version;
END;

-- Matching sees a product's stock only as "some left": a sale that leaves
-- stock does not move the market (products change only in stock).
DROP TRIGGER mv_products_u;
CREATE TRIGGER mv_products_u AFTER UPDATE ON products
WHEN (OLD.stock > 0) <> (NEW.stock > 0) BEGIN UPDATE market_version SET v = v + 1; END;

-- A holder's requests still pending (readers add those past their deadline).
CREATE INDEX interactions_holder_pending ON interactions(holder_id, deadline) WHERE status = 'pending';
