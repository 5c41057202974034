-- Symbolon schema v11 (PostgreSQL): event and market-version numbers are
-- taken at commit, not mid-transaction.
--
-- Both numbers come from the one `market_version` row, whose row lock is
-- held until commit; that is what makes them commit-ordered (a reader that
-- saw number 11 can never later see 10 appear). Until v10 the lock was taken
-- by the first event or counter change of a transaction and held through the
-- rest of it: every statement the application still had to send, each a
-- round trip, ran while every other writer waited. On two cores under load
-- that made the row the exchange's bottleneck (25 demands/s; sampling
-- pg_stat_activity showed Lock:transactionid ten times as often as CPU).
--
-- Now the triggers that take a number are deferred constraint triggers: they
-- run inside COMMIT, after the transaction's last statement, so the row is
-- held only for the trigger bodies and the commit's WAL flush. The numbers
-- keep their meaning and their order; readers change nothing.
--
-- Events: `emit_event` stages the event in `events_staged` (unlogged: a row
-- lives only inside its own transaction), and a deferred trigger on that
-- table numbers it, writes it to `events` with its webhook deliveries, and
-- removes the staged row. Deferred triggers fire in the order their rows
-- were written, so a transaction's events keep their order.
--
-- Market version: holder changes log one version each, as before; supply
-- changes now log the holders they change (below).
--
-- Lock order: the `market_version` row is now always the last lock a
-- transaction takes, after every row lock its statements took, so it cannot
-- be part of a lock cycle.

CREATE UNLOGGED TABLE events_staged (
    id         BIGSERIAL PRIMARY KEY,
    account_id TEXT NOT NULL,
    type       TEXT NOT NULL,
    data       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE OR REPLACE FUNCTION emit_event(account TEXT, kind TEXT, body TEXT, at BIGINT) RETURNS void AS $$
BEGIN
    IF account IS NULL THEN
        RETURN;
    END IF;
    INSERT INTO events_staged (account_id, type, data, created_at) VALUES (account, kind, body, at);
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION publish_event() RETURNS trigger AS $$
DECLARE
    n BIGINT;
BEGIN
    UPDATE market_version SET events = events + 1 WHERE id = 1 RETURNING events INTO n;
    INSERT INTO events (seq, account_id, type, data, created_at)
    VALUES (n, NEW.account_id, NEW.type, NEW.data, NEW.created_at);
    INSERT INTO webhook_deliveries (endpoint_id, event_seq, state, next_attempt_at)
    -- KEY SHARE: wait for (and skip) an endpoint being deleted, rather than
    -- fail this transaction's foreign-key check once the delete commits.
    SELECT id, n, 'pending', NEW.created_at FROM webhook_endpoints WHERE account_id = NEW.account_id FOR KEY SHARE;
    DELETE FROM events_staged WHERE id = NEW.id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE CONSTRAINT TRIGGER ev_publish AFTER INSERT ON events_staged
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION publish_event();

-- Holder changes: one version each, logged with the holder, at commit.
DROP TRIGGER mv_holder_stats ON holder_stats;
CREATE CONSTRAINT TRIGGER mv_holder_stats AFTER INSERT OR UPDATE ON holder_stats
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION log_holder_change('holder_id');
DROP TRIGGER mv_profiles ON holder_profiles;
CREATE CONSTRAINT TRIGGER mv_profiles AFTER INSERT OR UPDATE ON holder_profiles
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION log_holder_change('account_id');

-- Supply changes: every one names the holders whose usable holdings it can
-- change, one version and one `market_changes` row (`supply = TRUE`) each,
-- at commit; a replica re-reads just those holders' holdings and replaces
-- them in the engine (`Engine::replace_holdings`) instead of re-reading the
-- market:
--   * a grant, or its removal: its holder;
--   * a pass changed (revoked): the holders of its grants;
--   * a product's stock reaching 0 or coming back: the holders of its passes;
--   * a unit assigned, sold or transferred: the holder it is assigned to.
-- A new product or pass has no holder yet and changes no matching: it moves
-- nothing.
ALTER TABLE market_changes ADD COLUMN supply BOOLEAN NOT NULL DEFAULT FALSE;
CREATE FUNCTION log_supply_of(holder TEXT) RETURNS void AS $$
DECLARE
    n BIGINT;
BEGIN
    UPDATE market_version SET v = v + 1 WHERE id = 1 RETURNING v INTO n;
    INSERT INTO market_changes (version, holder_id, supply) VALUES (n, holder, TRUE);
END
$$ LANGUAGE plpgsql;

CREATE FUNCTION mv_supply() RETURNS trigger AS $$
DECLARE
    h TEXT;
BEGIN
    IF TG_TABLE_NAME = 'grants' THEN
        PERFORM log_supply_of(CASE WHEN TG_OP = 'DELETE' THEN OLD.holder_id ELSE NEW.holder_id END);
    ELSIF TG_TABLE_NAME = 'pass_units' THEN
        PERFORM log_supply_of(NEW.holder_id);
    ELSIF TG_TABLE_NAME = 'passes' THEN
        FOR h IN SELECT DISTINCT holder_id FROM grants WHERE pass_id = NEW.id ORDER BY 1 LOOP
            PERFORM log_supply_of(h);
        END LOOP;
    ELSIF TG_TABLE_NAME = 'products' THEN
        FOR h IN SELECT DISTINCT g.holder_id FROM grants g JOIN passes p ON p.id = g.pass_id
                  WHERE p.product_id = NEW.id ORDER BY 1 LOOP
            PERFORM log_supply_of(h);
        END LOOP;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

DROP TRIGGER mv_products_i ON products;
DROP TRIGGER mv_products_u ON products;
DROP TRIGGER mv_passes ON passes;
DROP TRIGGER mv_units ON pass_units;
DROP TRIGGER mv_grants ON grants;
CREATE CONSTRAINT TRIGGER mv_grants AFTER INSERT OR DELETE ON grants
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION mv_supply();
CREATE CONSTRAINT TRIGGER mv_products_u AFTER UPDATE ON products
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN ((OLD.stock > 0) IS DISTINCT FROM (NEW.stock > 0)) EXECUTE FUNCTION mv_supply();
CREATE CONSTRAINT TRIGGER mv_passes AFTER UPDATE ON passes
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION mv_supply();
CREATE CONSTRAINT TRIGGER mv_units AFTER UPDATE ON pass_units
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (NEW.holder_id IS NOT NULL
          AND (OLD.holder_id IS DISTINCT FROM NEW.holder_id OR OLD.owner_id IS DISTINCT FROM NEW.owner_id))
    EXECUTE FUNCTION mv_supply();

-- Nothing bumps the version without naming a holder any more.
DROP FUNCTION bump_market_version();
