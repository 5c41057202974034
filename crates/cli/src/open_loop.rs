//! An open-loop request schedule: request i of a step starts at its intended
//! time `t0 + i / rate` on its own task, whatever the earlier ones are doing,
//! so a slow server cannot slow the generator down (no coordinated
//! omission); callers measure latency from the intended time. Beyond
//! `max_in_flight` unfinished requests, a request is dropped and counted
//! rather than queued.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// What one schedule did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scheduled {
    /// Requests started.
    pub(crate) started: u64,
    /// Requests not started: `max_in_flight` were unfinished at their time.
    pub(crate) dropped: u64,
}

/// Starts `n` requests at `rate` per second: `make(i, intended)` at its
/// intended time, each on its own task; returns once every request has been
/// started or dropped, with the tasks still running in the returned set.
pub(crate) async fn schedule<F, Fut>(
    rate: f64,
    n: u64,
    max_in_flight: usize,
    mut make: F,
) -> (Scheduled, JoinSet<()>)
where
    F: FnMut(u64, Instant) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let in_flight = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    let mut done = Scheduled::default();
    let t0 = Instant::now() + Duration::from_millis(10);
    for i in 0..n {
        let intended = t0 + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(intended.into()).await;
        // Reap finished tasks so the set does not grow with the whole run.
        while tasks.try_join_next().is_some() {}
        if in_flight.load(Ordering::Relaxed) >= max_in_flight {
            done.dropped += 1;
            continue;
        }
        in_flight.fetch_add(1, Ordering::Relaxed);
        done.started += 1;
        let (fut, in_flight) = (make(i, intended), in_flight.clone());
        tasks.spawn(async move {
            fut.await;
            in_flight.fetch_sub(1, Ordering::Relaxed);
        });
    }
    (done, tasks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A server that takes 300 ms per request, at 100 requests/s for half a
    /// second: a closed-loop generator would need 15 s to send 50 and would
    /// report 300 ms each; the open loop starts all 50 on time and the
    /// latency from the intended time shows the full 300 ms.
    #[tokio::test]
    async fn a_slow_server_does_not_slow_the_schedule() {
        let lat = Arc::new(Mutex::new(Vec::new()));
        let began = Instant::now();
        let (done, mut tasks) = schedule(100.0, 50, 1000, |_, intended| {
            let lat = lat.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(300)).await;
                lat.lock().unwrap().push(intended.elapsed());
            }
        })
        .await;
        let scheduled_in = began.elapsed();
        while tasks.join_next().await.is_some() {}
        assert_eq!(
            done,
            Scheduled {
                started: 50,
                dropped: 0
            }
        );
        // 50 at 100/s is 0.49 s of schedule; generous bound, far below 50 × 300 ms.
        assert!(scheduled_in < Duration::from_secs(5), "{scheduled_in:?}");
        let lat = lat.lock().unwrap();
        assert_eq!(lat.len(), 50);
        assert!(lat.iter().all(|d| *d >= Duration::from_millis(300)));
    }

    /// Requests that never finish: past `max_in_flight`, every later one is
    /// dropped and counted, none queued.
    #[tokio::test]
    async fn beyond_the_in_flight_cap_requests_are_dropped_and_counted() {
        let run = schedule(1000.0, 40, 5, |_, _| std::future::pending::<()>());
        // A generator that waited for its requests would never get past the first.
        let (done, mut tasks) = tokio::time::timeout(Duration::from_secs(10), run)
            .await
            .expect("the schedule finished although no request did");
        assert_eq!(
            done,
            Scheduled {
                started: 5,
                dropped: 35
            }
        );
        tasks.abort_all();
    }
}
