-- A counter bumped by every statement that can change matching (supply,
-- reputation, stock). The row lock is held to commit, so versions are
-- visible in commit order (no out-of-order sequence trap).
CREATE TABLE market_version (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    v  BIGINT NOT NULL
);
INSERT INTO market_version (id, v) VALUES (1, 0);

CREATE FUNCTION bump_market_version() RETURNS trigger AS $$
BEGIN
    UPDATE market_version SET v = v + 1 WHERE id = 1;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER mv_products AFTER INSERT OR UPDATE ON products FOR EACH STATEMENT EXECUTE FUNCTION bump_market_version();
CREATE TRIGGER mv_passes AFTER INSERT OR UPDATE ON passes FOR EACH STATEMENT EXECUTE FUNCTION bump_market_version();
CREATE TRIGGER mv_units AFTER INSERT OR UPDATE ON pass_units FOR EACH STATEMENT EXECUTE FUNCTION bump_market_version();
CREATE TRIGGER mv_grants AFTER INSERT OR DELETE ON grants FOR EACH STATEMENT EXECUTE FUNCTION bump_market_version();
CREATE TRIGGER mv_profiles AFTER INSERT OR UPDATE ON holder_profiles FOR EACH STATEMENT EXECUTE FUNCTION bump_market_version();
CREATE TRIGGER mv_interactions AFTER INSERT OR UPDATE ON interactions FOR EACH STATEMENT EXECUTE FUNCTION bump_market_version();
CREATE TRIGGER mv_ratings AFTER INSERT ON ratings FOR EACH STATEMENT EXECUTE FUNCTION bump_market_version();

-- Standing demands: stored with nobody contacted until enough holders qualify.
ALTER TABLE demands ADD COLUMN waiting BIGINT NOT NULL DEFAULT 0 CHECK (waiting IN (0, 1));
CREATE INDEX demands_waiting ON demands(waiting, deadline) WHERE waiting = 1;
