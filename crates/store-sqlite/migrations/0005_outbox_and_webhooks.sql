-- Symbolon schema v5 (SQLite): the transactional outbox and webhooks.
--
-- Every event a party must hear about is written by a trigger on the row
-- whose change causes it, so it commits (or rolls back) with that change and
-- no code path can forget it. One row per recipient account; `seq` grows in
-- commit order (SQLite has one writer), so "after seq N" resumes exactly.
-- The event id seen by clients (`evt_<seq>`) is the SSE id, the webhook-id
-- and the dedupe key.
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    type       TEXT NOT NULL,
    data       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX events_by_account ON events(account_id, seq);
CREATE INDEX events_by_age ON events(created_at);

-- Webhook endpoints. Secrets are sealed under the master key (the kid-style
-- associated data is the endpoint id); a rotation keeps the previous secret
-- until `previous_until`, signing with both meanwhile.
CREATE TABLE webhook_endpoints (
    id              TEXT PRIMARY KEY,
    account_id      TEXT NOT NULL REFERENCES accounts(id),
    url             TEXT NOT NULL,
    secret          BLOB NOT NULL,
    previous_secret BLOB,
    previous_until  INTEGER,
    created_at      INTEGER NOT NULL,
    disabled_at     INTEGER,
    disabled_reason TEXT,
    failing_since   INTEGER
) STRICT;
CREATE INDEX webhook_endpoints_by_account ON webhook_endpoints(account_id, created_at);

-- One row per (endpoint, event): the delivery's state and retry schedule
-- live here, not in a volatile queue. Workers claim due rows with a lease.
CREATE TABLE webhook_deliveries (
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_seq       INTEGER NOT NULL REFERENCES events(seq),
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER NOT NULL DEFAULT 0,
    leased_by       TEXT,
    delivered_at    INTEGER,
    PRIMARY KEY (endpoint_id, event_seq)
) STRICT;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, next_attempt_at);
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries(event_seq);

CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
    event_seq   INTEGER NOT NULL,
    attempt     INTEGER NOT NULL,
    at          INTEGER NOT NULL,
    status      INTEGER,
    error       TEXT,
    duration_ms INTEGER NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('delivered', 'retry', 'disabled'))
) STRICT;
CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts(endpoint_id, id);

-- Each event, as it is written, gets a delivery row for every endpoint of its
-- account (disabled ones too: their events wait, never dropped).
CREATE TRIGGER ev_deliveries AFTER INSERT ON events BEGIN
    INSERT INTO webhook_deliveries (endpoint_id, event_seq, state, next_attempt_at)
    SELECT id, NEW.seq, 'pending', NEW.created_at FROM webhook_endpoints WHERE account_id = NEW.account_id;
END;

CREATE TRIGGER ev_interaction_requested AFTER INSERT ON interactions BEGIN
    INSERT INTO events (account_id, type, data, created_at)
    SELECT NEW.holder_id, 'interaction.requested',
           json_object('interaction_id', NEW.id, 'demand_id', NEW.demand_id, 'deadline', NEW.deadline,
                       'query', d.query, 'category', d.category, 'max_price_minor', d.max_price_minor,
                       'currency', d.currency, 'matched_pass_ids', json(NEW.matched_pass_ids)),
           NEW.created_at
    FROM demands d WHERE d.id = NEW.demand_id;
END;

CREATE TRIGGER ev_interaction_closed AFTER UPDATE OF status ON interactions
WHEN OLD.status = 'pending' AND NEW.status IN ('expired', 'withdrawn') BEGIN
    INSERT INTO events (account_id, type, data, created_at)
    VALUES (NEW.holder_id, 'interaction.' || NEW.status,
            json_object('interaction_id', NEW.id, 'demand_id', NEW.demand_id, 'deadline', NEW.deadline),
            COALESCE(NEW.decided_at, NEW.deadline));
END;

CREATE TRIGGER ev_offer_created AFTER INSERT ON offers BEGIN
    INSERT INTO events (account_id, type, data, created_at)
    VALUES (NEW.requester_id, 'offer.created',
            json_object('offer_id', NEW.id, 'interaction_id', NEW.interaction_id, 'demand_id', NEW.demand_id,
                        'holder_id', NEW.holder_id, 'pass_id', NEW.pass_id),
            NEW.created_at);
END;

CREATE TRIGGER ev_offer_accepted AFTER UPDATE OF status ON offers
WHEN OLD.status = 'offered' AND NEW.status = 'accepted' BEGIN
    INSERT INTO events (account_id, type, data, created_at)
    VALUES (NEW.holder_id, 'offer.accepted',
            json_object('offer_id', NEW.id, 'demand_id', NEW.demand_id, 'pass_id', NEW.pass_id, 'unit_no', NEW.unit_no),
            NEW.accepted_at);
END;

-- Orders are heard by the requester, the provider and the holder (if any).
CREATE TRIGGER ev_order_placed AFTER INSERT ON orders BEGIN
    INSERT INTO events (account_id, type, data, created_at)
    SELECT r.account_id, 'order.placed',
           json_object('order_id', NEW.id, 'offer_id', NEW.offer_id, 'pass_id', NEW.pass_id, 'product_id', NEW.product_id,
                       'quantity', NEW.quantity, 'total_minor', NEW.total_minor, 'commission_minor', NEW.commission_minor,
                       'currency', NEW.currency, 'unit_no', NEW.unit_no),
           NEW.created_at
    FROM (SELECT 1 AS k, NEW.requester_id AS account_id UNION ALL SELECT 2, NEW.provider_id UNION ALL SELECT 3, NEW.holder_id) r
    WHERE r.account_id IS NOT NULL ORDER BY r.k;
    INSERT INTO events (account_id, type, data, created_at)
    SELECT r.account_id, 'order.paid',
           json_object('order_id', NEW.id, 'total_minor', NEW.total_minor, 'currency', NEW.currency),
           NEW.paid_at
    FROM (SELECT 1 AS k, NEW.requester_id AS account_id UNION ALL SELECT 2, NEW.provider_id UNION ALL SELECT 3, NEW.holder_id) r
    WHERE NEW.status = 'paid' AND r.account_id IS NOT NULL ORDER BY r.k;
END;

CREATE TRIGGER ev_order_status AFTER UPDATE OF status ON orders
WHEN NEW.status <> OLD.status AND NEW.status IN ('paid', 'shipped') BEGIN
    INSERT INTO events (account_id, type, data, created_at)
    SELECT r.account_id, 'order.' || NEW.status,
           json_object('order_id', NEW.id, 'total_minor', NEW.total_minor, 'currency', NEW.currency),
           CASE NEW.status WHEN 'paid' THEN NEW.paid_at ELSE NEW.shipped_at END
    FROM (SELECT 1 AS k, NEW.requester_id AS account_id UNION ALL SELECT 2, NEW.provider_id UNION ALL SELECT 3, NEW.holder_id) r
    WHERE r.account_id IS NOT NULL ORDER BY r.k;
END;

CREATE TRIGGER ev_rating_created AFTER INSERT ON ratings BEGIN
    INSERT INTO events (account_id, type, data, created_at)
    VALUES (NEW.holder_id, 'rating.created',
            json_object('rating_id', NEW.id, 'offer_id', NEW.offer_id, 'positive', json(CASE NEW.positive WHEN 1 THEN 'true' ELSE 'false' END)),
            NEW.created_at);
END;
