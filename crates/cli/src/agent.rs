//! `symbolon provider agent`: follows the provider's events and releases the
//! provider's shares of every paid order of a pass it sealed.
//!
//! A release can fail for a while — most often because the buyer has not run
//! `symbolon keys init` yet (`party_keys_missing`), or the exchange is down.
//! Such an order waits in a queue kept beside the keystore (`agent.pending`)
//! and is tried again with exponential backoff: [`RELEASE_RETRY_FIRST`],
//! doubling up to [`RELEASE_RETRY_MAX_DELAY`], at most
//! [`RELEASE_RETRY_ATTEMPTS`] attempts in all (about a day), after which the
//! agent says so and names the command that releases by hand. An order leaves
//! the queue as soon as a release succeeds (or was already done), so it is
//! released once.

use crate::follower::Follower;
use crate::keystore;
use crate::sealing::{self, Released};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use symbolon_client::{Client, ClientError};

/// The wait after a release's first failure; it doubles after each further one.
pub const RELEASE_RETRY_FIRST: Duration = Duration::from_secs(10);
/// The longest wait between two attempts of one release.
pub const RELEASE_RETRY_MAX_DELAY: Duration = Duration::from_secs(3600);
/// Attempts of one release before the agent gives up on it: with the delays
/// above, about a day for a buyer to register its keys.
pub const RELEASE_RETRY_ATTEMPTS: u32 = 30;
/// The largest page `--once` reads at a time.
const EVENT_PAGE: u32 = 500;

/// When failed releases are tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failure.
    pub first: Duration,
    /// The cap on any wait.
    pub max_delay: Duration,
    /// Attempts in all (the first included) before giving up.
    pub attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            first: RELEASE_RETRY_FIRST,
            max_delay: RELEASE_RETRY_MAX_DELAY,
            attempts: RELEASE_RETRY_ATTEMPTS,
        }
    }
}

impl RetryPolicy {
    /// The wait after the `failures`-th failure (1-based): `first · 2^(failures−1)`, capped.
    pub fn delay(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.first
            .checked_mul(1u32 << doublings)
            .unwrap_or(self.max_delay)
            .min(self.max_delay)
    }
}

/// An order whose release is waiting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Pending {
    order: String,
    /// Failed attempts so far.
    failures: u32,
    /// When the next attempt is due (Unix milliseconds).
    due_ms: u64,
}

/// What became of a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AfterFailure {
    /// Tried again after this wait; `attempt` of `of` failed.
    RetryIn {
        wait: Duration,
        attempt: u32,
        of: u32,
    },
    /// Dropped after this many attempts.
    GaveUp { attempts: u32 },
}

/// The orders waiting for a release, each with its own schedule.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
struct Queue {
    items: Vec<Pending>,
}

/// The queue as kept on disk; the agent's earlier format (bare order ids) is read too.
#[derive(Deserialize)]
#[serde(untagged)]
enum Stored {
    Queue(Queue),
    Ids(Vec<String>),
}

impl Queue {
    fn parse(text: &str) -> Self {
        match serde_json::from_str(text) {
            Ok(Stored::Queue(q)) => q,
            Ok(Stored::Ids(ids)) => {
                let mut q = Queue::default();
                for id in ids {
                    q.add(&id, 0);
                }
                q
            }
            Err(_) => Queue::default(),
        }
    }

    /// An order to release, due at once; an order already waiting keeps its
    /// schedule (an event seen twice never doubles a release).
    fn add(&mut self, order: &str, now_ms: u64) {
        if !self.items.iter().any(|p| p.order == order) {
            self.items.push(Pending {
                order: order.to_string(),
                failures: 0,
                due_ms: now_ms,
            });
        }
    }

    /// The orders due at `now_ms`, oldest first.
    fn due(&self, now_ms: u64) -> Vec<String> {
        self.items
            .iter()
            .filter(|p| p.due_ms <= now_ms)
            .map(|p| p.order.clone())
            .collect()
    }

    /// The earliest due time, if any order waits.
    fn next_due(&self) -> Option<u64> {
        self.items.iter().map(|p| p.due_ms).min()
    }

    /// The order is released (or needs nothing): it leaves the queue.
    fn done(&mut self, order: &str) {
        self.items.retain(|p| p.order != order);
    }

    /// The order's attempt failed at `now_ms`: schedule the next one, or give up.
    fn failed(&mut self, order: &str, now_ms: u64, policy: &RetryPolicy) -> AfterFailure {
        let Some(i) = self.items.iter().position(|p| p.order == order) else {
            return AfterFailure::GaveUp { attempts: 0 };
        };
        let p = &mut self.items[i];
        p.failures += 1;
        if p.failures >= policy.attempts.max(1) {
            let attempts = p.failures;
            self.items.remove(i);
            return AfterFailure::GaveUp { attempts };
        }
        let wait = policy.delay(p.failures);
        p.due_ms = now_ms.saturating_add(wait.as_millis() as u64);
        AfterFailure::RetryIn {
            wait,
            attempt: p.failures,
            of: policy.attempts,
        }
    }

    fn len(&self) -> usize {
        self.items.len()
    }
}

/// Parses one wait for `--retry-first` (`500ms`, `10s`, `5m`; more than 0, at most a week).
pub fn parse_wait(text: &str) -> Result<Duration, String> {
    match symbolon_server::config::parse_schedule(text)?.as_slice() {
        [d] if !d.is_zero() => Ok(*d),
        [_] => Err("the wait must be longer than 0".into()),
        _ => Err(format!("`{text}` must be one duration, e.g. 10s")),
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// `10s`, `2m`, `1h` (for messages).
fn human(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => format!("{}ms", d.as_millis()),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// Whether waiting can cure a failed release: the buyer may register its
/// keys, the exchange may come back, the provider may trust a changed key;
/// a refusal (not the provider's order, no such order) never changes.
fn worth_retrying(err: &anyhow::Error) -> bool {
    match err.downcast_ref::<ClientError>() {
        Some(ClientError::Api { code, status, .. }) => {
            code == "party_keys_missing" || *status >= 500 || *status == 429
        }
        Some(_) => true,
        None => true,
    }
}

/// Why a release failed, in the provider's terms.
fn reason(err: &anyhow::Error) -> String {
    match err.downcast_ref::<ClientError>() {
        Some(ClientError::Api { code, message, .. }) if code == "party_keys_missing" => {
            format!("the buyer has no keys yet ({message}); it must run `symbolon keys init`")
        }
        Some(ClientError::Api { code, message, .. }) => format!("{code}: {message}"),
        _ => format!("{err:#}"),
    }
}

/// Tries every due release once; reports each outcome.
async fn release_due(c: &Client, queue: &mut Queue, policy: &RetryPolicy) {
    for order in queue.due(now_ms()) {
        match sealing::release(c, &order).await {
            Ok(Some(Released::Now(n))) => {
                println!("released {n} share(s) for {order}");
                queue.done(&order);
            }
            Ok(Some(Released::Before)) => {
                println!("the shares of {order} were already released");
                queue.done(&order);
            }
            // Not a pass this provider sealed on this machine.
            Ok(None) => queue.done(&order),
            Err(err) if !worth_retrying(&err) => {
                eprintln!(
                    "cannot release the shares of {order}: {}; not retrying",
                    reason(&err)
                );
                queue.done(&order);
            }
            Err(err) => match queue.failed(&order, now_ms(), policy) {
                AfterFailure::RetryIn { wait, attempt, of } => eprintln!(
                    "cannot release the shares of {order} yet: {}; next try in {} (attempt {attempt} of {of} failed)",
                    reason(&err),
                    human(wait)
                ),
                AfterFailure::GaveUp { attempts } => eprintln!(
                    "giving up on the shares of {order} after {attempts} attempt(s): {}\n  \
                     release them by hand once that is fixed: symbolon provider release {order}",
                    reason(&err)
                ),
            },
        }
    }
}

/// Runs the agent: with `once`, handles the events there are and the
/// releases due, then exits; otherwise follows the events for ever. It
/// resumes after the last event it handled (`agent.cursor` in the keystore).
pub async fn run(c: &Client, once: bool, policy: RetryPolicy) -> anyhow::Result<()> {
    let me = c.whoami().await?;
    let dir = keystore::account_dir(&me.id)?;
    let cursor_path = dir.join("agent.cursor");
    let pending_path = dir.join("agent.pending");
    let mut cursor = std::fs::read_to_string(&cursor_path)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let mut queue = std::fs::read_to_string(&pending_path)
        .map(|t| Queue::parse(&t))
        .unwrap_or_default();
    let save = |queue: &Queue, cursor: Option<&str>| -> anyhow::Result<()> {
        keystore::write_private(&pending_path, serde_json::to_string(queue)?.as_bytes())?;
        if let Some(c) = cursor {
            keystore::write_private(&cursor_path, c.as_bytes())?;
        }
        Ok(())
    };
    let take = |queue: &mut Queue, e: symbolon_client::api::Event| {
        if e.kind == "order.paid" {
            if let Some(order) = e.data["order_id"].as_str() {
                queue.add(order, now_ms());
            }
        }
        e.id
    };

    if once {
        loop {
            let page = c.events(cursor.as_deref(), Some(EVENT_PAGE)).await?;
            if page.events.is_empty() {
                break;
            }
            for e in page.events {
                cursor = Some(take(&mut queue, e));
            }
            save(&queue, cursor.as_deref())?;
        }
        release_due(c, &mut queue, &policy).await;
        save(&queue, cursor.as_deref())?;
        if let Some(due) = queue.next_due() {
            eprintln!(
                "{} release(s) wait for a retry (the next in {}); run the agent again then",
                queue.len(),
                human(Duration::from_millis(due.saturating_sub(now_ms())))
            );
        }
        return Ok(());
    }

    let mut events = Follower::new(c, cursor.clone());
    loop {
        // The next event, or the next due retry, whichever comes first.
        let event = match queue.next_due() {
            Some(due) => {
                let wait = Duration::from_millis(due.saturating_sub(now_ms()));
                tokio::time::timeout(wait, events.next()).await.ok()
            }
            None => Some(events.next().await),
        };
        if let Some(e) = event {
            cursor = Some(take(&mut queue, e?));
        }
        release_due(c, &mut queue, &policy).await;
        save(&queue, cursor.as_deref())?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            first: Duration::from_secs(10),
            max_delay: Duration::from_secs(60),
            attempts: 5,
        }
    }

    #[test]
    fn the_wait_doubles_up_to_its_cap() {
        let p = policy();
        let waits: Vec<u64> = (1..=6).map(|f| p.delay(f).as_secs()).collect();
        assert_eq!(waits, [10, 20, 40, 60, 60, 60]);
        // No overflow however many failures.
        assert_eq!(p.delay(u32::MAX), Duration::from_secs(60));
        let d = RetryPolicy::default();
        assert_eq!(d.delay(1), RELEASE_RETRY_FIRST);
        assert_eq!(d.delay(RELEASE_RETRY_ATTEMPTS), RELEASE_RETRY_MAX_DELAY);
    }

    /// The defaults give a buyer about a day to register its keys, not for ever.
    #[test]
    fn the_default_retries_are_bounded_to_about_a_day() {
        let d = RetryPolicy::default();
        let total: Duration = (1..d.attempts).map(|f| d.delay(f)).sum();
        assert!(total >= Duration::from_secs(12 * 3600), "{total:?}");
        assert!(total <= Duration::from_secs(48 * 3600), "{total:?}");
    }

    #[test]
    fn a_failed_release_waits_then_is_due_again_and_gives_up_at_the_bound() {
        let p = policy();
        let mut q = Queue::default();
        q.add("ord_1", 1_000);
        assert_eq!(q.due(1_000), ["ord_1"]);
        let mut now = 1_000;
        for attempt in 1..p.attempts {
            let after = q.failed("ord_1", now, &p);
            let wait = p.delay(attempt);
            assert_eq!(
                after,
                AfterFailure::RetryIn {
                    wait,
                    attempt,
                    of: p.attempts
                }
            );
            // Not due a millisecond early; due at its time.
            let due = now + wait.as_millis() as u64;
            assert!(q.due(due - 1).is_empty());
            assert_eq!(q.next_due(), Some(due));
            assert_eq!(q.due(due), ["ord_1"]);
            now = due;
        }
        assert_eq!(
            q.failed("ord_1", now, &p),
            AfterFailure::GaveUp {
                attempts: p.attempts
            }
        );
        assert_eq!(q.len(), 0, "dropped after the last attempt");
        assert_eq!(q.next_due(), None);
    }

    #[test]
    fn an_order_is_queued_once_and_leaves_when_released() {
        let p = policy();
        let mut q = Queue::default();
        q.add("ord_1", 0);
        q.failed("ord_1", 0, &p);
        // The same `order.paid` seen again (a replay) neither doubles the
        // order nor resets its schedule.
        q.add("ord_1", 5);
        q.add("ord_2", 5);
        assert_eq!(q.len(), 2);
        assert_eq!(q.due(5), ["ord_2"]);
        q.done("ord_2");
        q.done("ord_1");
        assert_eq!(q.len(), 0);
        assert!(q.due(u64::MAX).is_empty());
    }

    #[test]
    fn the_queue_survives_a_restart_and_reads_the_old_format() {
        let p = policy();
        let mut q = Queue::default();
        q.add("ord_1", 0);
        q.failed("ord_1", 0, &p);
        let text = serde_json::to_string(&q).unwrap();
        assert_eq!(Queue::parse(&text), q);
        let old = Queue::parse(r#"["ord_a","ord_b"]"#);
        assert_eq!(old.due(0), ["ord_a", "ord_b"]);
        assert_eq!(Queue::parse("not json"), Queue::default());
    }

    #[test]
    fn retry_waits_parse() {
        assert_eq!(parse_wait("10s"), Ok(RELEASE_RETRY_FIRST));
        assert_eq!(parse_wait("200ms"), Ok(Duration::from_millis(200)));
        assert!(parse_wait("0s").is_err());
        assert!(parse_wait("1s,2s").is_err());
        assert!(parse_wait("ten").is_err());
    }

    #[test]
    fn only_curable_failures_are_retried() {
        let api = |status: u16, code: &str| {
            anyhow::Error::from(ClientError::Api {
                status,
                code: code.into(),
                message: "m".into(),
                details: None,
            })
        };
        assert!(worth_retrying(&api(404, "party_keys_missing")));
        assert!(worth_retrying(&api(503, "unavailable")));
        assert!(worth_retrying(&anyhow::anyhow!(
            "the exchange now gives other keys"
        )));
        assert!(!worth_retrying(&api(403, "forbidden")));
        assert!(!worth_retrying(&api(404, "not_found")));
        assert!(reason(&api(404, "party_keys_missing")).contains("symbolon keys init"));
    }
}
