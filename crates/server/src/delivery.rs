//! The webhook delivery worker (one per replica) and the event poller.
//!
//! The worker claims due deliveries from the store under a lease, sends each
//! signed request in its own task (no redirects, a timeout, addresses checked
//! at every resolution), and records the attempt; the exchange decides what
//! follows. Everything it needs is in the database: a replica that dies
//! mid-send loses its lease and another sends again (receivers dedupe on
//! `webhook-id`).
//!
//! A slow endpoint cannot hold the worker: each send runs in its own task,
//! at most [`WEBHOOK_IN_FLIGHT`] at once, and the loop keeps claiming while
//! sends are in flight. The store bounds what one endpoint and one account
//! may have in flight (across replicas) and hands out due work round-robin
//! across accounts, so another account's events are claimed at once.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use symbolon_core::limits::{
    WEBHOOK_CLAIM_BATCH, WEBHOOK_CONNECT_TIMEOUT_SECONDS, WEBHOOK_IN_FLIGHT,
    WEBHOOK_TIMEOUT_SECONDS,
};
use symbolon_exchange::events::{
    check_webhook_url, literal_host_refused, resolve_webhook_host, HostRefused, HOST_REFUSED,
};
use symbolon_exchange::{AttemptOutcome, Exchange};
use symbolon_store::DeliveryJob;
use tokio::sync::watch;

/// Resolves names as registration does ([`resolve_webhook_host`]) and drops
/// loopback and private addresses (unless allowed), so a public name cannot
/// be pointed at the inside later (DNS rebinding).
struct GuardedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow_private;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = resolve_webhook_host(name.as_str(), 0, allow).await?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The webhook HTTP client: no redirects, no proxies from the environment
/// (they would bypass the resolver), timeouts, the guarded resolver.
pub fn http_client(allow_private: bool) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(WEBHOOK_TIMEOUT_SECONDS))
        .connect_timeout(Duration::from_secs(WEBHOOK_CONNECT_TIMEOUT_SECONDS))
        .user_agent(concat!("Symbolon-Webhooks/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(Arc::new(GuardedResolver { allow_private }))
        .build()
}

/// The text an attempt records for a failed send: [`HOST_REFUSED`] alone
/// when the host was refused or did not resolve (whatever the reason, so the
/// log is no oracle for internal DNS), else the error and its causes.
fn send_error(e: &reqwest::Error) -> String {
    let mut causes = Vec::new();
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = src {
        if s.is::<HostRefused>() || s.to_string() == HOST_REFUSED {
            return HOST_REFUSED.to_string();
        }
        causes.push(s.to_string());
        src = s.source();
    }
    causes.join(": ")
}

async fn attempt(
    client: &reqwest::Client,
    exchange: &Exchange,
    job: &DeliveryJob,
) -> AttemptOutcome {
    let started = Instant::now();
    let mut outcome = AttemptOutcome::default();
    let allow = exchange.webhook_policy().allow_private;
    let sent = match (
        check_webhook_url(&job.endpoint.url, true),
        exchange.outbound(job),
    ) {
        (Err(e), _) | (_, Err(e)) => Err(e.to_string()),
        // Registered while private endpoints were allowed, refused now.
        (Ok(url), _) if !allow && literal_host_refused(&url) => Err(HOST_REFUSED.to_string()),
        (Ok(_), Ok(out)) => {
            let mut req = client
                .post(&out.url)
                .header(reqwest::header::CONTENT_TYPE, "application/json");
            for (k, v) in &out.headers {
                req = req.header(*k, v);
            }
            req.body(out.body).send().await.map_err(|e| send_error(&e))
        }
    };
    match sent {
        Ok(resp) => {
            outcome.status = Some(resp.status().as_u16());
            outcome.retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<i64>().ok());
        }
        Err(e) => outcome.error = Some(e.chars().take(500).collect()),
    }
    outcome.duration = started.elapsed();
    outcome
}

/// Runs until `stop` turns true: claims due deliveries while fewer than
/// [`WEBHOOK_IN_FLIGHT`] sends are in flight, sends each in its own task and
/// records its attempt. Claims again at once when a claim came back full,
/// else when new events are committed, a send finishes, or 500 ms pass. On
/// stop, sends in flight finish (bounded by their timeout); an interrupted
/// one is retried by whichever replica claims it next.
pub async fn run_worker(
    exchange: Arc<Exchange>,
    client: reqwest::Client,
    mut stop: watch::Receiver<bool>,
) {
    let owner = symbolon_core::ids::IdGen::fresh("wrk");
    let mut wake = exchange.hub().subscribe();
    let mut in_flight = tokio::task::JoinSet::new();
    loop {
        while in_flight.try_join_next().is_some() {}
        if *stop.borrow() {
            break;
        }
        let free = WEBHOOK_IN_FLIGHT.saturating_sub(in_flight.len());
        let asked = u32::try_from(free)
            .unwrap_or(u32::MAX)
            .min(WEBHOOK_CLAIM_BATCH);
        if asked > 0 {
            match exchange.claim_deliveries(&owner, asked).await {
                Ok(jobs) => {
                    let full = jobs.len() == asked as usize;
                    for job in jobs {
                        let (exchange, client, owner) =
                            (exchange.clone(), client.clone(), owner.clone());
                        in_flight.spawn(async move {
                            let outcome = attempt(&client, &exchange, &job).await;
                            if let Err(e) = exchange.finish_delivery(&owner, &job, &outcome).await
                            {
                                tracing::warn!(error = %e, webhook = %job.endpoint.id, "recording a webhook attempt failed");
                            }
                        });
                    }
                    if full {
                        // More may be due: claim again before waiting.
                        continue;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "claiming webhook deliveries failed"),
            }
        }
        tokio::select! {
            _ = wake.changed() => {}
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            _ = stop.changed() => break,
        }
    }
    while in_flight.join_next().await.is_some() {}
}

/// Kicks the poller whenever the store says some process committed events
/// (PostgreSQL `LISTEN`/`NOTIFY`), so streams on every replica wake at once;
/// returns at once for a backend without wake-ups (the poll period alone).
pub async fn run_listener(exchange: Arc<Exchange>, mut stop: watch::Receiver<bool>) {
    let mut wakeups = None;
    loop {
        if *stop.borrow() {
            return;
        }
        let Some(w) = wakeups.as_mut() else {
            match exchange.store().event_wakeups().await {
                Ok(None) => return,
                Ok(Some(w)) => {
                    tracing::debug!("listening for events committed by other replicas");
                    wakeups = Some(w);
                    // Anything committed before the LISTEN took effect.
                    exchange.hub().kick();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "listening for events failed; polling meanwhile");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = stop.changed() => return,
                    }
                }
            }
            continue;
        };
        tokio::select! {
            woke = w.next() => match woke {
                Ok(()) => exchange.hub().kick(),
                Err(e) => {
                    tracing::warn!(error = %e, "the event listener lost its connection; polling meanwhile");
                    wakeups = None;
                    exchange.hub().kick();
                }
            },
            _ = stop.changed() => return,
        }
    }
}

/// Polls the store's last event `seq` every [`Exchange::event_poll`], and at
/// once when this replica [kicks](symbolon_exchange::EventHub::kick) it after
/// a write, and wakes streams and the worker when it moves.
pub async fn run_poller(exchange: Arc<Exchange>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(exchange.event_poll());
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let hub = exchange.hub().clone();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = hub.kicked() => {}
            _ = stop.changed() => return,
        }
        if let Err(e) = exchange.poll_events().await {
            tracing::warn!(error = %e, "polling for events failed");
        }
    }
}
