-- Symbolon schema v5 (PostgreSQL): the transactional outbox and webhooks.
-- See the SQLite migration for the design. Here `seq` is not a sequence:
-- sequences hand out numbers at insert time, so a reader could see seq 11
-- committed before seq 10 and a client resuming "after 11" would miss 10.
-- Instead each event takes the next number from the `events` column of the
-- one `market_version` row, whose row lock is held until commit: numbers are
-- handed out in commit order. (One row, one lock: the market-version bump
-- and the event counter can never deadlock against each other.)
ALTER TABLE market_version ADD COLUMN events BIGINT NOT NULL DEFAULT 0;

CREATE TABLE events (
    seq        BIGINT PRIMARY KEY,
    account_id TEXT NOT NULL,
    type       TEXT NOT NULL,
    data       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX events_by_account ON events(account_id, seq);
CREATE INDEX events_by_age ON events(created_at);

CREATE TABLE webhook_endpoints (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    url             TEXT NOT NULL,
    secret          BYTEA NOT NULL,
    previous_secret BYTEA,
    previous_until  BIGINT,
    created_at      BIGINT NOT NULL,
    disabled_at     BIGINT,
    disabled_reason TEXT,
    failing_since   BIGINT
);
CREATE INDEX webhook_endpoints_by_account ON webhook_endpoints(account_id, created_at);

CREATE TABLE webhook_deliveries (
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_seq       BIGINT NOT NULL REFERENCES events(seq),
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT NOT NULL DEFAULT 0,
    leased_by       TEXT,
    delivered_at    BIGINT,
    PRIMARY KEY (endpoint_id, event_seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_attempt_at);
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries(event_seq);

CREATE TABLE webhook_attempts (
    id          BIGSERIAL PRIMARY KEY,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_seq   BIGINT NOT NULL,
    attempt     BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    status      BIGINT,
    error       TEXT,
    duration_ms BIGINT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('delivered', 'retry', 'disabled'))
);
CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts(endpoint_id, id);

-- Writes one event (and its deliveries) inside the caller's transaction.
CREATE FUNCTION emit_event(account TEXT, kind TEXT, body TEXT, at BIGINT) RETURNS void AS $$
DECLARE
    n BIGINT;
BEGIN
    IF account IS NULL THEN
        RETURN;
    END IF;
    UPDATE market_version SET events = events + 1 WHERE id = 1 RETURNING events INTO n;
    INSERT INTO events (seq, account_id, type, data, created_at) VALUES (n, account, kind, body, at);
    INSERT INTO webhook_deliveries (endpoint_id, event_seq, state, next_attempt_at)
    -- KEY SHARE: wait for (and skip) an endpoint being deleted, rather than
    -- fail this transaction's foreign-key check once the delete commits.
    SELECT id, n, 'pending', at FROM webhook_endpoints WHERE account_id = account FOR KEY SHARE;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION ev_interactions() RETURNS trigger AS $$
DECLARE
    d RECORD;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT query, category, max_price_minor, currency INTO d FROM demands WHERE id = NEW.demand_id;
        PERFORM emit_event(NEW.holder_id, 'interaction.requested',
            json_build_object('interaction_id', NEW.id, 'demand_id', NEW.demand_id, 'deadline', NEW.deadline,
                              'query', d.query, 'category', d.category, 'max_price_minor', d.max_price_minor,
                              'currency', d.currency, 'matched_pass_ids', NEW.matched_pass_ids::json)::text,
            NEW.created_at);
    ELSIF OLD.status = 'pending' AND NEW.status IN ('expired', 'withdrawn') THEN
        PERFORM emit_event(NEW.holder_id, 'interaction.' || NEW.status,
            json_build_object('interaction_id', NEW.id, 'demand_id', NEW.demand_id, 'deadline', NEW.deadline)::text,
            COALESCE(NEW.decided_at, NEW.deadline));
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ev_interactions AFTER INSERT OR UPDATE OF status ON interactions
    FOR EACH ROW EXECUTE FUNCTION ev_interactions();

CREATE FUNCTION ev_offers() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM emit_event(NEW.requester_id, 'offer.created',
            json_build_object('offer_id', NEW.id, 'interaction_id', NEW.interaction_id, 'demand_id', NEW.demand_id,
                              'holder_id', NEW.holder_id, 'pass_id', NEW.pass_id)::text,
            NEW.created_at);
    ELSIF OLD.status = 'offered' AND NEW.status = 'accepted' THEN
        PERFORM emit_event(NEW.holder_id, 'offer.accepted',
            json_build_object('offer_id', NEW.id, 'demand_id', NEW.demand_id, 'pass_id', NEW.pass_id,
                              'unit_no', NEW.unit_no)::text,
            NEW.accepted_at);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ev_offers AFTER INSERT OR UPDATE OF status ON offers
    FOR EACH ROW EXECUTE FUNCTION ev_offers();

CREATE FUNCTION emit_order_event(o orders, kind TEXT, body TEXT, at BIGINT) RETURNS void AS $$
BEGIN
    PERFORM emit_event(o.requester_id, kind, body, at);
    PERFORM emit_event(o.provider_id, kind, body, at);
    PERFORM emit_event(o.holder_id, kind, body, at);
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION ev_orders() RETURNS trigger AS $$
DECLARE
    status_body TEXT := json_build_object('order_id', NEW.id, 'total_minor', NEW.total_minor,
                                          'currency', NEW.currency)::text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM emit_order_event(NEW, 'order.placed',
            json_build_object('order_id', NEW.id, 'offer_id', NEW.offer_id, 'pass_id', NEW.pass_id,
                              'product_id', NEW.product_id, 'quantity', NEW.quantity, 'total_minor', NEW.total_minor,
                              'commission_minor', NEW.commission_minor, 'currency', NEW.currency,
                              'unit_no', NEW.unit_no)::text,
            NEW.created_at);
        IF NEW.status = 'paid' THEN
            PERFORM emit_order_event(NEW, 'order.paid', status_body, NEW.paid_at);
        END IF;
    ELSIF NEW.status <> OLD.status AND NEW.status = 'paid' THEN
        PERFORM emit_order_event(NEW, 'order.paid', status_body, NEW.paid_at);
    ELSIF NEW.status <> OLD.status AND NEW.status = 'shipped' THEN
        PERFORM emit_order_event(NEW, 'order.shipped', status_body, NEW.shipped_at);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ev_orders AFTER INSERT OR UPDATE OF status ON orders
    FOR EACH ROW EXECUTE FUNCTION ev_orders();

CREATE FUNCTION ev_ratings() RETURNS trigger AS $$
BEGIN
    PERFORM emit_event(NEW.holder_id, 'rating.created',
        json_build_object('rating_id', NEW.id, 'offer_id', NEW.offer_id, 'positive', NEW.positive)::text,
        NEW.created_at);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ev_ratings AFTER INSERT ON ratings
    FOR EACH ROW EXECUTE FUNCTION ev_ratings();
