-- Symbolon schema v9 (PostgreSQL): reputation as maintained state.
-- Per-holder counters are moved by triggers in the transaction of the change
-- that moves them (an answer, a decline, an expiry, a rating), so matching
-- never aggregates over history; a holder's row is locked only by changes
-- to that holder. An expiry counts once per holder, requester and UTC day of
-- its deadline (`expiry_marks`; the day is deadline / 86 400 000,
-- `EXPIRY_COUNT_WINDOW_MS`). A request still pending past its deadline is
-- added by readers until the sweeper records its expiry.
CREATE TABLE holder_stats (
    holder_id TEXT PRIMARY KEY REFERENCES accounts(id),
    positive  BIGINT NOT NULL DEFAULT 0,
    ratings   BIGINT NOT NULL DEFAULT 0,
    offered   BIGINT NOT NULL DEFAULT 0,
    answered  BIGINT NOT NULL DEFAULT 0,
    expired   BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE expiry_marks (
    holder_id    TEXT NOT NULL,
    requester_id TEXT NOT NULL,
    day          BIGINT NOT NULL,
    PRIMARY KEY (holder_id, requester_id, day)
);

INSERT INTO expiry_marks (holder_id, requester_id, day)
SELECT DISTINCT i.holder_id, d.requester_id, i.deadline / 86400000
  FROM interactions i JOIN demands d ON d.id = i.demand_id WHERE i.status = 'expired';
INSERT INTO holder_stats (holder_id, positive, ratings, offered, answered, expired)
SELECT h.id,
       (SELECT COUNT(*) FROM ratings r WHERE r.holder_id = h.id AND r.positive),
       (SELECT COUNT(*) FROM ratings r WHERE r.holder_id = h.id),
       (SELECT COUNT(*) FROM interactions i WHERE i.holder_id = h.id AND i.status = 'offered'),
       (SELECT COUNT(*) FROM interactions i WHERE i.holder_id = h.id AND i.status IN ('offered', 'declined')),
       (SELECT COUNT(*) FROM expiry_marks m WHERE m.holder_id = h.id)
  FROM (SELECT holder_id AS id FROM interactions UNION SELECT holder_id FROM ratings) h;

CREATE FUNCTION hs_ratings() RETURNS trigger AS $$
BEGIN
    INSERT INTO holder_stats (holder_id, ratings, positive)
    VALUES (NEW.holder_id, 1, CASE WHEN NEW.positive THEN 1 ELSE 0 END)
    ON CONFLICT (holder_id) DO UPDATE
       SET ratings = holder_stats.ratings + 1, positive = holder_stats.positive + EXCLUDED.positive;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER hs_ratings AFTER INSERT ON ratings FOR EACH ROW EXECUTE FUNCTION hs_ratings();

CREATE FUNCTION hs_interactions() RETURNS trigger AS $$
BEGIN
    IF OLD.status = 'pending' AND NEW.status IN ('offered', 'declined') THEN
        INSERT INTO holder_stats (holder_id, offered, answered)
        VALUES (NEW.holder_id, CASE WHEN NEW.status = 'offered' THEN 1 ELSE 0 END, 1)
        ON CONFLICT (holder_id) DO UPDATE
           SET offered = holder_stats.offered + EXCLUDED.offered, answered = holder_stats.answered + 1;
    ELSIF OLD.status = 'pending' AND NEW.status = 'expired' THEN
        INSERT INTO expiry_marks (holder_id, requester_id, day)
        SELECT NEW.holder_id, d.requester_id, NEW.deadline / 86400000 FROM demands d WHERE d.id = NEW.demand_id
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER hs_interactions AFTER UPDATE OF status ON interactions
    FOR EACH ROW EXECUTE FUNCTION hs_interactions();

CREATE FUNCTION hs_marks() RETURNS trigger AS $$
BEGIN
    INSERT INTO holder_stats (holder_id, expired) VALUES (NEW.holder_id, 1)
    ON CONFLICT (holder_id) DO UPDATE SET expired = holder_stats.expired + 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER hs_marks AFTER INSERT ON expiry_marks FOR EACH ROW EXECUTE FUNCTION hs_marks();

-- Sending interaction requests changes no reputation, so it no longer moves
-- the market version; the counters do.
DROP TRIGGER mv_interactions ON interactions;
DROP TRIGGER mv_ratings ON ratings;

-- Which holder's reputation or fields each market version changed: a
-- replica that sees only such versions since its last sync updates those
-- holders in place instead of re-reading the market. Versions that change
-- supply (passes, grants, units, stock) log nothing, and mean a full sync.
-- The version comes from the market_version row, locked until commit, so
-- changes are numbered in commit order.
CREATE TABLE market_changes (
    version   BIGINT PRIMARY KEY,
    holder_id TEXT NOT NULL
);
CREATE FUNCTION log_holder_change() RETURNS trigger AS $$
DECLARE
    n BIGINT;
BEGIN
    UPDATE market_version SET v = v + 1 WHERE id = 1 RETURNING v INTO n;
    INSERT INTO market_changes (version, holder_id) VALUES (n, to_jsonb(NEW) ->> TG_ARGV[0]);
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER mv_holder_stats AFTER INSERT OR UPDATE ON holder_stats
    FOR EACH ROW EXECUTE FUNCTION log_holder_change('holder_id');
DROP TRIGGER mv_profiles ON holder_profiles;
CREATE TRIGGER mv_profiles AFTER INSERT OR UPDATE ON holder_profiles
    FOR EACH ROW EXECUTE FUNCTION log_holder_change('account_id');

-- Matching sees a product's stock only as "some left": a sale that leaves
-- stock does not move the market (products change only in stock).
DROP TRIGGER mv_products ON products;
CREATE TRIGGER mv_products_i AFTER INSERT ON products
    FOR EACH STATEMENT EXECUTE FUNCTION bump_market_version();
CREATE TRIGGER mv_products_u AFTER UPDATE ON products FOR EACH ROW
    WHEN ((OLD.stock > 0) IS DISTINCT FROM (NEW.stock > 0)) EXECUTE FUNCTION bump_market_version();

-- A holder's requests still pending (readers add those past their deadline).
CREATE INDEX interactions_holder_pending ON interactions (holder_id, deadline) WHERE status = 'pending';
