//! The per-address limit on `POST /v1/accounts` (`registrations_per_ip_per_hour`,
//! off by default), for exchanges open to the public internet.
//!
//! A sliding window: an address may register N accounts in any hour; the
//! N+1-th gets 429 `too_many_registrations` with `Retry-After` (seconds until
//! its oldest registration leaves the window). A refused request (bad input,
//! registration closed) gives its slot back. IPv6 peers count per /64.
//!
//! The count lives in this replica's memory: with R replicas behind a load
//! balancer an address may register up to R·N per hour, and a restart forgets
//! it. The address is the client's as [`crate::client_ip`] decides it: the
//! TCP peer's, or behind a proxy listed in `trusted_proxies` the address it
//! forwards (otherwise every client shares the proxy's address and the limit
//! applies to all of them together).

use crate::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use symbolon_core::limits::{REGISTRATION_IPV6_PREFIX_BITS, REGISTRATION_WINDOW_SECONDS};
use symbolon_core::ErrorCode;
use symbolon_exchange::ExchangeError;

/// Registrations per address in the last window.
pub struct RegistrationLimiter {
    per_window: u32,
    window: Duration,
    state: Mutex<Slots>,
}

#[derive(Default)]
struct Slots {
    by_addr: HashMap<IpAddr, VecDeque<Instant>>,
    /// Sweep out addresses with no registration in the window when the map reaches this size.
    sweep_at: usize,
}

/// The key an address counts under: IPv4 (and IPv4-mapped IPv6) as is, IPv6
/// per network (failed web sign-ins count per the same key).
pub(crate) fn key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let mask = u128::MAX
                .checked_shl(128 - REGISTRATION_IPV6_PREFIX_BITS)
                .unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(bits & mask))
        }
        v4 => v4,
    }
}

impl RegistrationLimiter {
    /// `per_hour` registrations per address and hour; 0 = no limit.
    pub fn new(per_hour: u32) -> Self {
        Self {
            per_window: per_hour,
            window: Duration::from_secs(REGISTRATION_WINDOW_SECONDS),
            state: Mutex::new(Slots {
                by_addr: HashMap::new(),
                sweep_at: 1024,
            }),
        }
    }

    pub fn is_off(&self) -> bool {
        self.per_window == 0
    }

    /// Takes a slot for `ip` at `now`; `Err` says how long until one frees.
    pub fn try_take(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        if self.is_off() {
            return Ok(());
        }
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let window = self.window;
        if s.by_addr.len() >= s.sweep_at {
            s.by_addr.retain(|_, q| {
                q.back()
                    .is_some_and(|t| now.saturating_duration_since(*t) < window)
            });
            s.sweep_at = (s.by_addr.len() * 2).max(1024);
        }
        let q = s.by_addr.entry(key(ip)).or_default();
        while q
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= window)
        {
            q.pop_front();
        }
        if q.len() >= self.per_window as usize {
            let oldest = q.front().copied().unwrap_or(now);
            return Err(window.saturating_sub(now.saturating_duration_since(oldest)));
        }
        q.push_back(now);
        Ok(())
    }

    /// Gives back the slot taken at `at` (the registration did not happen).
    pub fn give_back(&self, ip: IpAddr, at: Instant) {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(q) = s.by_addr.get_mut(&key(ip)) {
            if let Some(i) = q.iter().rposition(|t| *t == at) {
                q.remove(i);
            }
        }
    }
}

/// The middleware on `POST /v1/accounts`.
pub async fn limit(
    State(limiter): State<Arc<RegistrationLimiter>>,
    req: Request,
    next: Next,
) -> Response {
    if limiter.is_off() {
        return next.run(req).await;
    }
    // Every connection our accept loop serves carries its client's address;
    // a router driven another way (in-process) has none and no limit.
    let Some(ip) = crate::client_ip::ClientIp::of(req.extensions()) else {
        return next.run(req).await;
    };
    let now = Instant::now();
    match limiter.try_take(ip, now) {
        Err(wait) => {
            let secs = crate::rate_limit::retry_after_seconds(wait);
            let mut r = ApiError(
                ExchangeError::new(
                    ErrorCode::TooManyRegistrations,
                    format!(
                        "this address registered {} accounts within the last hour; retry in {secs} s",
                        limiter.per_window
                    ),
                )
                .with_details(json!({"retry_after_seconds": secs})),
            )
            .into_response();
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            r
        }
        Ok(()) => {
            let resp = next.run(req).await;
            if !resp.status().is_success() {
                limiter.give_back(ip, now);
            }
            resp
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sliding_hour_per_address() {
        let l = RegistrationLimiter::new(3);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let t0 = Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        for s in [0, 10, 20] {
            assert!(l.try_take(a, at(s)).is_ok());
        }
        // The 4th within the hour waits for the oldest to leave the window.
        assert_eq!(l.try_take(a, at(30)), Err(Duration::from_secs(3570)));
        assert!(l.try_take(b, at(30)).is_ok(), "another address");
        assert_eq!(l.try_take(a, at(3599)), Err(Duration::from_secs(1)));
        assert!(l.try_take(a, at(3600)).is_ok(), "the first left the window");
        assert!(l.try_take(a, at(3601)).is_err());
        // A slot given back is free again.
        l.give_back(a, at(3600));
        assert!(l.try_take(a, at(3602)).is_ok());
        // Off: no limit.
        let off = RegistrationLimiter::new(0);
        for s in 0..100 {
            assert!(off.try_take(a, at(s)).is_ok());
        }
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let l = RegistrationLimiter::new(1);
        let t = Instant::now();
        let x: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let y: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let z: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(l.try_take(x, t).is_ok());
        assert!(l.try_take(y, t).is_err(), "same /64");
        assert!(l.try_take(z, t).is_ok(), "another /64");
        let v4: IpAddr = "198.51.100.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:198.51.100.7".parse().unwrap();
        assert!(l.try_take(v4, t).is_ok());
        assert!(l.try_take(mapped, t).is_err(), "the same IPv4 host");
    }

    #[test]
    fn addresses_out_of_the_window_are_swept() {
        let l = RegistrationLimiter::new(1);
        let t0 = Instant::now();
        for i in 0..1024u32 {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            assert!(l.try_take(ip, t0).is_ok());
        }
        let later = t0 + Duration::from_secs(REGISTRATION_WINDOW_SECONDS);
        let ip = IpAddr::from(std::net::Ipv4Addr::new(192, 0, 2, 9));
        assert!(l.try_take(ip, later).is_ok());
        let s = l.state.lock().unwrap();
        assert!(s.by_addr.len() < 10, "{} addresses kept", s.by_addr.len());
    }
}
