-- Symbolon schema v7 (PostgreSQL): replicas hear of committed events at once.
-- A statement-level trigger on `events` sends NOTIFY symbolon_events.
-- PostgreSQL delivers a notification only when its transaction commits (none
-- for one rolled back) and folds identical ones within a transaction, so each
-- writing transaction wakes each listening replica once. The payload is
-- empty: a listener polls the store for what is new, so a notification lost
-- while it reconnects delays an event by one poll period at most.
CREATE FUNCTION notify_events() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('symbolon_events', '');
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER ev_notify AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION notify_events();
