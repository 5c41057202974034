//! The exchange's metric names, recorded through the `metrics` facade (no
//! exporter here: the server installs one and serves `/metrics`). Without
//! a recorder installed, recording costs nothing and goes nowhere.

/// Counter: demands by `outcome` — `contacted` (requests sent), `refused`
/// (fewer than `min_holders` qualified; nobody contacted), `waiting` (a
/// standing demand stored to wait for holders).
pub const DEMANDS: &str = "symbolon_demands_total";
/// Histogram: seconds to match one demand (engine freshness check and ranking).
pub const MATCH_SECONDS: &str = "symbolon_demand_match_duration_seconds";
/// Histogram: holders contacted by one demand (when it is matched, at once
/// or later as a standing demand).
pub const HOLDERS_CONTACTED: &str = "symbolon_demand_holders_contacted";
/// Counter: standing demands matched by a re-match sweep.
pub const STANDING_MATCHED: &str = "symbolon_standing_demands_matched_total";
/// Counter: webhook delivery attempts by `outcome` (`delivered`, `retry`,
/// `disabled`, …: the labels of [`crate::events::next_step`]).
pub const WEBHOOK_ATTEMPTS: &str = "symbolon_webhook_attempts_total";
/// Counter: sealed-secret shares released by providers to buyers of paid orders.
pub const SHARES_RELEASED: &str = "symbolon_sealed_shares_released_total";

/// Records one demand's outcome.
pub(crate) fn demand(outcome: &'static str) {
    metrics::counter!(DEMANDS, "outcome" => outcome).increment(1);
}

/// Describes the exchange's metrics to the installed recorder (their `# HELP`)
/// and registers every counter series at 0, so a dashboard sees each
/// outcome before the first one happens.
pub fn describe() {
    for outcome in ["contacted", "refused", "waiting"] {
        metrics::counter!(DEMANDS, "outcome" => outcome).increment(0);
    }
    for outcome in ["delivered", "retry", "disabled"] {
        metrics::counter!(WEBHOOK_ATTEMPTS, "outcome" => outcome).increment(0);
    }
    metrics::counter!(STANDING_MATCHED).increment(0);
    metrics::counter!(SHARES_RELEASED).increment(0);
    metrics::describe_counter!(DEMANDS, "Demands by outcome: contacted, refused, waiting.");
    metrics::describe_histogram!(
        MATCH_SECONDS,
        metrics::Unit::Seconds,
        "Time to match one demand: engine freshness check and ranking."
    );
    metrics::describe_histogram!(
        HOLDERS_CONTACTED,
        metrics::Unit::Count,
        "Holders contacted by one demand when it is matched."
    );
    metrics::describe_counter!(
        STANDING_MATCHED,
        "Standing demands matched by a re-match sweep."
    );
    metrics::describe_counter!(WEBHOOK_ATTEMPTS, "Webhook delivery attempts by outcome.");
    metrics::describe_counter!(
        SHARES_RELEASED,
        "Sealed-secret shares released to buyers of paid orders."
    );
}
