//! Rate limits: per API key or web session (on by default,
//! `rate_limit_per_second` 100 with bursts of `rate_limit_burst` 200), and per
//! client address (`ip_rate_limit_per_second`, off by default: many buyers
//! share one proxy's address, and the load benchmark runs from one). Past a
//! limit the answer is 429 `rate_limited` with `Retry-After` in whole seconds
//! (at least 1); a page gets the error page, the API the JSON error.
//!
//! Each limit is a keyed GCRA (`governor`): a bucket of `burst` requests
//! refilled at `per_second`. A credential counts only once verified — a
//! bearer key the store knows, a live session — so random tokens never add
//! a key (they are answered 401, or served as a visitor, and only the
//! per-address limit sees them). The key is the SHA-256 of the credential,
//! never the credential. Keys whose bucket is full again are forgotten at
//! most every [`RATE_LIMIT_SWEEP_SECONDS`], so memory follows the clients of
//! the last few seconds.
//!
//! The counts live in this replica's memory: R replicas behind a load
//! balancer allow up to R times the rate. The probes (`/healthz`, `/livez`,
//! `/readyz`), `/metrics` and `/openapi.json` are
//! never limited, and static assets count only per address.

use crate::client_ip::ClientIp;
use crate::error::ApiError;
use crate::extract::{bearer_key, Authenticated, MAX_API_KEY_CHARS};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock, Reference};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use symbolon_core::limits::RATE_LIMIT_SWEEP_SECONDS;
use symbolon_core::ErrorCode;
use symbolon_exchange::{Exchange, ExchangeError};

/// Paths never limited (probes and the API description).
const EXEMPT: [&str; 5] = ["/healthz", "/livez", "/readyz", "/metrics", "/openapi.json"];

/// A rate and a burst; either 0 turns the limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_second: u32,
    pub burst: u32,
}

impl Rate {
    /// The quota, or `None` when the limit is off.
    fn quota(self) -> Option<Quota> {
        let per_second = NonZeroU32::new(self.per_second)?;
        let burst = NonZeroU32::new(self.burst)?;
        Some(Quota::per_second(per_second).allow_burst(burst))
    }
}

/// One keyed limit and when it last forgot its idle keys.
pub struct Limiter<K: Hash + Eq + Clone, C: Clock = DefaultClock> {
    inner: RateLimiter<K, DashMapStateStore<K>, C, NoOpMiddleware<C::Instant>>,
    clock: C,
    last_sweep: Mutex<C::Instant>,
}

impl<K: Hash + Eq + Clone, C: Clock + Clone> Limiter<K, C> {
    /// A limiter at `rate` on `clock`; `None` when the rate is off.
    pub fn with_clock(rate: Rate, clock: C) -> Option<Self> {
        let quota = rate.quota()?;
        Some(Self {
            inner: RateLimiter::dashmap_with_clock(quota, clock.clone()),
            last_sweep: Mutex::new(clock.now()),
            clock,
        })
    }

    /// Counts one request of `key`; `Err` is how long until it may retry.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        self.sweep();
        self.inner
            .check_key(key)
            .map_err(|no| no.wait_time_from(self.clock.now()))
    }

    /// Forgets the keys whose bucket is full again, at most every
    /// [`RATE_LIMIT_SWEEP_SECONDS`] (whichever request comes first does it).
    fn sweep(&self) {
        let now = self.clock.now();
        let Ok(mut last) = self.last_sweep.try_lock() else {
            return;
        };
        let since = Duration::from(now.duration_since(*last));
        if since >= Duration::from_secs(RATE_LIMIT_SWEEP_SECONDS) {
            *last = now;
            self.inner.retain_recent();
            self.inner.shrink_to_fit();
        }
    }

    /// The keys kept (an estimate while requests run).
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    /// A limiter at `rate` on the wall clock; `None` when the rate is off.
    pub fn new(rate: Rate) -> Option<Self> {
        Self::with_clock(rate, DefaultClock::default())
    }
}

/// Whole seconds to announce in `Retry-After`: rounded up, at least 1.
pub fn retry_after_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// The server's rate limits and what they need to verify credentials.
pub struct RateLimits {
    exchange: Arc<Exchange>,
    credential: Option<Limiter<[u8; 32]>>,
    address: Option<Limiter<IpAddr>>,
}

impl RateLimits {
    /// `credential` per API key or web session; `address` per client
    /// address (IPv6 per /64, as the registration limit counts).
    pub fn new(exchange: Arc<Exchange>, credential: Rate, address: Rate) -> Self {
        Self {
            exchange,
            credential: Limiter::new(credential),
            address: Limiter::new(address),
        }
    }
}

/// The key a credential counts under: SHA-256 of its kind and value.
fn credential_key(kind: &[u8], secret: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(kind);
    h.update([0]);
    h.update(secret.as_bytes());
    h.finalize().into()
}

/// The middleware on every route (after [`crate::client_ip::resolve`]).
pub async fn limit(State(s): State<Arc<RateLimits>>, mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if EXEMPT.contains(&path) {
        return next.run(req).await;
    }
    if let (Some(l), Some(ip)) = (&s.address, ClientIp::of(req.extensions())) {
        if let Err(wait) = l.check(&crate::registration::key(ip)) {
            return refuse(&s, &req, wait, "this address");
        }
    }
    let Some(l) = &s.credential else {
        return next.run(req).await;
    };
    if path.starts_with("/assets/") {
        return next.run(req).await;
    }
    // The credential the route itself reads: the API takes only the bearer
    // key, pages only the session cookie. Counting the other would let a
    // caller add a bad (or a second, fresh) credential to dodge its limit.
    let api = path == "/v1" || path.starts_with("/v1/");
    let key = if api {
        match bearer_key(req.headers()).filter(|k| k.len() <= MAX_API_KEY_CHARS) {
            Some(bearer) => {
                let bearer = bearer.to_string();
                match s.exchange.authenticate(&bearer).await {
                    Ok(account) => {
                        let key = credential_key(b"api-key", &bearer);
                        // The handler's `Caller` takes the account read here.
                        req.extensions_mut()
                            .insert(Authenticated { bearer, account });
                        Some(key)
                    }
                    // Unknown: the handler answers 401 as usual.
                    Err(_) => None,
                }
            }
            None => None,
        }
    } else if let Some(token) = crate::web::session_token(req.headers()) {
        s.exchange
            .web_session(token)
            .await
            .map(|_| credential_key(b"session", token))
    } else {
        None
    };
    if let Some(key) = key {
        if let Err(wait) = l.check(&key) {
            return refuse(&s, &req, wait, "this API key or session");
        }
    }
    next.run(req).await
}

/// 429 `rate_limited` with `Retry-After`: the error page for a page, the
/// JSON error for the API.
fn refuse(s: &RateLimits, req: &Request, wait: Duration, who: &str) -> Response {
    let secs = retry_after_seconds(wait);
    let path = req.uri().path();
    let api = path == "/v1" || path.starts_with("/v1/") || path.starts_with("/.well-known/");
    let mut r = if api {
        ApiError(
            ExchangeError::new(
                ErrorCode::RateLimited,
                format!("too many requests from {who}; retry in {secs} s"),
            )
            .with_details(json!({"retry_after_seconds": secs})),
        )
        .into_response()
    } else {
        crate::web::rate_limited_page(s.exchange.clone(), req.headers(), secs)
    };
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    fn limiter(
        per_second: u32,
        burst: u32,
    ) -> (Limiter<u32, FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        let l = Limiter::with_clock(Rate { per_second, burst }, clock.clone()).unwrap();
        (l, clock)
    }

    #[test]
    fn a_burst_then_the_rate_per_key() {
        let (l, clock) = limiter(100, 200);
        for i in 0..200 {
            assert!(l.check(&1).is_ok(), "request {i} of the burst");
        }
        let wait = l.check(&1).unwrap_err();
        assert_eq!(wait, Duration::from_millis(10), "one request per 10 ms");
        assert_eq!(retry_after_seconds(wait), 1, "at least a second");
        assert!(l.check(&2).is_ok(), "another key has its own bucket");
        clock.advance(Duration::from_millis(10));
        assert!(l.check(&1).is_ok(), "one more after 10 ms");
        assert!(l.check(&1).is_err());
    }

    #[test]
    fn a_slow_rate_asks_for_whole_seconds() {
        let (l, _) = limiter(1, 2);
        assert!(l.check(&7).is_ok() && l.check(&7).is_ok());
        let wait = l.check(&7).unwrap_err();
        assert_eq!(wait, Duration::from_secs(1));
        assert_eq!(retry_after_seconds(wait), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
    }

    #[test]
    fn zero_turns_a_limit_off() {
        assert!(Limiter::<u32>::new(Rate {
            per_second: 0,
            burst: 200
        })
        .is_none());
        assert!(Limiter::<u32>::new(Rate {
            per_second: 100,
            burst: 0
        })
        .is_none());
        assert!(Limiter::<u32>::new(Rate {
            per_second: 1,
            burst: 1
        })
        .is_some());
    }

    #[test]
    fn idle_keys_are_forgotten() {
        let (l, clock) = limiter(100, 200);
        for k in 0..1000 {
            assert!(l.check(&k).is_ok());
        }
        assert_eq!(l.len(), 1000);
        // Buckets full again after 10 ms; the sweep runs at most every 10 s.
        clock.advance(Duration::from_secs(RATE_LIMIT_SWEEP_SECONDS));
        assert!(l.check(&5000).is_ok());
        assert!(l.len() <= 1, "{} keys kept", l.len());
    }
}
