//! The event hub of one replica: wakes event streams when events commit, and
//! holds the newest events of every account so streams read them from memory.
//!
//! One poller per replica tails the outbox (`Store::events_since`, every
//! account at once) after each kick, store wake-up or poll period, appends
//! what it read to [`EventHub`]'s recent events, and publishes the new last
//! `seq`. A stream then takes its account's events from memory; only a stream
//! whose cursor lies before the kept window (a reconnect with an old
//! `Last-Event-ID`, or a replica just started) reads the store. So the store
//! is read once per commit batch, not once per open stream.

use crate::error::{ExchangeError, ExchangeResult};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use symbolon_core::limits::{HUB_RECENT_EVENTS, MAX_STREAMS_PER_ACCOUNT};
use symbolon_core::ErrorCode;
use symbolon_store::EventRecord;

/// Wakes event streams when any replica commits events: the server tails the
/// store's events every [`EVENT_POLL_MILLIS`](symbolon_core::limits::EVENT_POLL_MILLIS), keeps the newest here and
/// publishes the last `seq`. A
/// write on this replica [kicks](EventHub::kick) the poller, so its own
/// events go out at once; so does a store wake-up (PostgreSQL `NOTIFY`) for
/// another replica's. Without wake-ups, or while the listener reconnects,
/// other replicas' events arrive within one period.
#[derive(Debug)]
pub struct EventHub {
    latest: tokio::sync::watch::Sender<i64>,
    closing: tokio::sync::watch::Sender<bool>,
    kick: tokio::sync::Notify,
    streams: Mutex<HashMap<String, usize>>,
    recent: Mutex<Recent>,
}

/// The newest events of every account, in `seq` order: every event with
/// `from < seq <= upto` is here (none before the tail started).
#[derive(Debug, Default)]
struct Recent {
    started: bool,
    from: i64,
    upto: i64,
    events: VecDeque<Arc<EventRecord>>,
}

impl Default for EventHub {
    fn default() -> Self {
        Self {
            latest: tokio::sync::watch::channel(0).0,
            closing: tokio::sync::watch::channel(false).0,
            kick: tokio::sync::Notify::new(),
            streams: Mutex::default(),
            recent: Mutex::default(),
        }
    }
}

impl EventHub {
    /// Publishes the last committed `seq` (wakes streams if it moved).
    pub fn publish(&self, seq: i64) {
        self.latest.send_if_modified(|v| {
            if seq > *v {
                *v = seq;
                true
            } else {
                false
            }
        });
    }

    /// Asks the poller to read the last `seq` now rather than at its next
    /// tick: this replica may just have committed events. Kicks that come
    /// while a poll runs are kept (one more poll follows), never lost.
    pub fn kick(&self) {
        self.kick.notify_one();
    }

    /// Resolves at the next [`kick`](Self::kick) (or at once for one that came
    /// since the last call).
    pub async fn kicked(&self) {
        self.kick.notified().await;
    }

    /// A receiver that changes whenever events were committed.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<i64> {
        self.latest.subscribe()
    }

    /// Ends every stream (the server is shutting down; clients reconnect
    /// with `Last-Event-ID`, to this replica once restarted or to another).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Changes to `true` when streams must end.
    pub fn closing(&self) -> tokio::sync::watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Where the tail stands: every event up to this `seq` has been read
    /// (`None` before the first poll).
    pub fn tail_position(&self) -> Option<i64> {
        let r = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        r.started.then_some(r.upto)
    }

    /// Starts the tail at `seq` (the store's last at start-up): earlier
    /// events are read from the store by whoever needs them.
    pub fn start_tail(&self, seq: i64) {
        let mut r = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if !r.started {
            *r = Recent {
                started: true,
                from: seq,
                upto: seq,
                events: VecDeque::new(),
            };
        }
    }

    /// Appends events the tail read (every event after [`Self::tail_position`],
    /// oldest first), keeping at most [`HUB_RECENT_EVENTS`].
    pub fn append(&self, events: Vec<EventRecord>) {
        let mut r = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        for e in events {
            if e.seq > r.upto {
                r.upto = e.seq;
                r.events.push_back(Arc::new(e));
            }
        }
        while r.events.len() > HUB_RECENT_EVENTS {
            if let Some(e) = r.events.pop_front() {
                r.from = e.seq;
            }
        }
    }

    /// `account`'s events after `after`, at most `limit`, from memory, and the
    /// `seq` up to which that answer is complete; `None` when `after` lies
    /// before the kept window (read the store instead).
    pub fn recent_for(
        &self,
        account: &str,
        after: i64,
        limit: usize,
    ) -> Option<(Vec<EventRecord>, i64)> {
        let r = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if !r.started || after < r.from {
            return None;
        }
        let start = r.events.partition_point(|e| e.seq <= after);
        let mut out = Vec::new();
        for e in r.events.range(start..) {
            if e.account_id == account {
                out.push(EventRecord::clone(e));
                if out.len() == limit {
                    let last = e.seq;
                    return Some((out, last));
                }
            }
        }
        Some((out, r.upto.max(after)))
    }

    /// Event streams open on this replica now.
    pub fn open_streams(&self) -> usize {
        let streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        streams.values().sum()
    }

    /// Registers an open stream of `account`; dropped when the stream ends.
    pub fn open_stream(self: &Arc<Self>, account: &str) -> ExchangeResult<StreamSlot> {
        let mut streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        let n = streams.entry(account.to_string()).or_default();
        if *n >= MAX_STREAMS_PER_ACCOUNT {
            return Err(ExchangeError::new(
                ErrorCode::TooManyStreams,
                format!("at most {MAX_STREAMS_PER_ACCOUNT} event streams per account"),
            ));
        }
        *n += 1;
        Ok(StreamSlot {
            hub: self.clone(),
            account: account.to_string(),
        })
    }
}

/// One open stream, counted against its account until dropped.
#[derive(Debug)]
pub struct StreamSlot {
    hub: Arc<EventHub>,
    account: String,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut streams = self.hub.streams.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = streams.get_mut(&self.account) {
            *n -= 1;
            if *n == 0 {
                streams.remove(&self.account);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use symbolon_core::Timestamp;

    fn ev(seq: i64, account: &str) -> EventRecord {
        EventRecord {
            seq,
            account_id: account.into(),
            kind: "offer.created".into(),
            data: format!("{{\"n\":{seq}}}"),
            created_at: Timestamp::from_millis(seq),
        }
    }

    #[test]
    fn recent_events_answer_from_memory_within_the_window() {
        let hub = EventHub::default();
        assert_eq!(hub.recent_for("a", 0, 10), None, "not started");
        hub.start_tail(5);
        assert_eq!(hub.tail_position(), Some(5));
        assert_eq!(hub.recent_for("a", 4, 10), None, "before the window");
        assert_eq!(hub.recent_for("a", 5, 10), Some((vec![], 5)));
        hub.append(vec![ev(6, "a"), ev(7, "b"), ev(8, "a"), ev(9, "b")]);
        hub.append(vec![ev(8, "a")]); // read twice: kept once
        assert_eq!(hub.tail_position(), Some(9));
        assert_eq!(
            hub.recent_for("a", 5, 10),
            Some((vec![ev(6, "a"), ev(8, "a")], 9))
        );
        assert_eq!(hub.recent_for("a", 6, 10), Some((vec![ev(8, "a")], 9)));
        // A full page is complete only up to its last event.
        assert_eq!(hub.recent_for("a", 5, 1), Some((vec![ev(6, "a")], 6)));
        assert_eq!(hub.recent_for("c", 5, 10), Some((vec![], 9)));
        // A cursor past the tail (another replica ran ahead) keeps its place.
        assert_eq!(hub.recent_for("a", 12, 10), Some((vec![], 12)));
    }

    #[test]
    fn the_window_keeps_the_newest_events() {
        let hub = EventHub::default();
        hub.start_tail(0);
        let n = HUB_RECENT_EVENTS as i64 + 10;
        hub.append(
            (1..=n)
                .map(|s| ev(s, if s % 2 == 0 { "a" } else { "b" }))
                .collect(),
        );
        assert_eq!(hub.recent_for("a", 9, 5), None, "fell out of the window");
        let (page, complete) = hub.recent_for("a", 10, 3).expect("in the window");
        assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), [12, 14, 16]);
        assert_eq!(complete, 16);
        let (tail, complete) = hub.recent_for("b", n - 2, 10).expect("in the window");
        assert_eq!(tail.iter().map(|e| e.seq).collect::<Vec<_>>(), [n - 1]);
        assert_eq!(complete, n);
    }
}
