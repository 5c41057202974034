//! Events and webhooks: reading the outbox, and the delivery policy.
//!
//! The store writes every event in the transaction of the change that causes
//! it (see the backends' migration v5). This module pages through them (for
//! SSE and polling clients), keeps webhook endpoints (secrets sealed under the
//! master key), and decides, for each attempt the server's delivery worker
//! makes, what happens next: done, retry on the schedule (or after
//! `Retry-After`), or disable. The HTTP sending itself is the server's.

use crate::error::{ExchangeError, ExchangeResult, OrNotFound};
use crate::Exchange;
use rand::RngCore;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use symbolon_api as api;
use symbolon_core::limits::*;
use symbolon_core::webhook;
use symbolon_core::{ErrorCode, Timestamp};
use symbolon_store::{self as store, DeliveryAttempt, DeliveryJob, DeliveryResult, EventRecord};

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookPolicy {
    /// Allow endpoints on loopback and private addresses (tests, on-premise).
    pub allow_private: bool,
    /// Delay before attempt n+1 after n failures; the last repeats.
    pub retry_schedule: Vec<Duration>,
    /// Failing without a success this long disables an endpoint.
    pub disable_after: Duration,
}

impl Default for WebhookPolicy {
    fn default() -> Self {
        Self {
            allow_private: false,
            retry_schedule: WEBHOOK_RETRY_SCHEDULE_SECONDS
                .iter()
                .map(|s| Duration::from_secs(*s as u64))
                .collect(),
            disable_after: Duration::from_secs(WEBHOOK_DISABLE_AFTER_SECONDS as u64),
        }
    }
}

pub use crate::hub::{EventHub, StreamSlot};

mod wire;
pub use wire::{event_body, event_id, event_out, parse_cursor, EVENT_ID_PREFIX};

/// Whether an address may receive webhooks when private ones are not allowed:
/// not loopback, private (RFC 1918, unique local, deprecated site-local
/// `fec0::/10`), link-local, shared (100.64/10), unspecified, multicast,
/// broadcast or documentation ranges, nor an IPv4-translated
/// `::ffff:0:a.b.c.d` (`::ffff:0:0:0/96`); an IPv4-mapped `::ffff:a.b.c.d`, a
/// 6to4 address or an IPv4-compatible one is judged as the IPv4 address it
/// carries (the last always refused).
pub fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (18..20).contains(&o[1]))
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_ip(IpAddr::V4(v4));
            }
            let s = v6.segments();
            // 6to4 and IPv4-compatible addresses carry an IPv4 address.
            if s[0] == 0x2002 {
                let v4 = std::net::Ipv4Addr::new(
                    (s[1] >> 8) as u8,
                    s[1] as u8,
                    (s[2] >> 8) as u8,
                    s[2] as u8,
                );
                return is_public_ip(IpAddr::V4(v4));
            }
            if s[..6] == [0; 6] {
                return false;
            }
            // IPv4-translated (SIIT, RFC 2765): `::ffff:0:a.b.c.d`.
            if s[..4] == [0; 4] && s[4] == 0xffff && s[5] == 0 {
                return false;
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] == 0x2001 && s[1] == 0)
                || (s[0] == 0x64 && s[1] == 0xff9b))
        }
    }
}

/// What an attempt records, and registration answers, for every host that
/// does not resolve or resolves only to addresses webhooks may not reach
/// (and for a literal address that is refused): one text, so that neither is
/// an oracle for internal DNS.
pub const HOST_REFUSED: &str = "the host does not resolve to a public address";

/// A webhook host that is refused or does not resolve (see [`HOST_REFUSED`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", HOST_REFUSED)]
pub struct HostRefused;

/// Resolves a webhook host the one way both registration and every
/// connection do: the system resolver (`/etc/hosts`, then DNS, as
/// `getaddrinfo` does) within [`WEBHOOK_CONNECT_TIMEOUT_SECONDS`], keeping
/// the addresses webhooks may reach — every one when private endpoints are
/// allowed, else only public ones. None left (or no answer): [`HostRefused`].
pub async fn resolve_webhook_host(
    host: &str,
    port: u16,
    allow_private: bool,
) -> Result<Vec<std::net::SocketAddr>, HostRefused> {
    let lookup = tokio::time::timeout(
        Duration::from_secs(WEBHOOK_CONNECT_TIMEOUT_SECONDS),
        tokio::net::lookup_host((host, port)),
    )
    .await;
    let addrs: Vec<std::net::SocketAddr> = match lookup {
        Ok(Ok(addrs)) => addrs
            .filter(|a| allow_private || is_public_ip(a.ip()))
            .collect(),
        Ok(Err(_)) | Err(_) => Vec::new(),
    };
    if addrs.is_empty() {
        Err(HostRefused)
    } else {
        Ok(addrs)
    }
}

/// Whether the URL's host is refused without resolving it: a loopback or
/// private literal address, or `localhost` (and names under it).
pub fn literal_host_refused(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => !is_public_ip(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => !is_public_ip(IpAddr::V6(ip)),
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        None => true,
    }
}

/// The reason an endpoint disabled by its owner shows.
pub const WEBHOOK_DISABLED_BY_OWNER: &str = "disabled by its owner";

/// Checks a webhook URL's form: `http(s)`, a host, bounded length, no
/// credentials, and (unless private endpoints are allowed) no loopback or
/// private literal address and no `localhost`. Names are resolved by
/// [`check_webhook_target`] at registration and again at every connection.
pub fn check_webhook_url(raw: &str, allow_private: bool) -> ExchangeResult<url::Url> {
    let bad = |m: &str| ExchangeError::field("url", m.to_string());
    if raw.len() > MAX_WEBHOOK_URL_BYTES {
        return Err(bad(&format!("longer than {MAX_WEBHOOK_URL_BYTES} bytes")));
    }
    if !webhook_url_form(raw) {
        return Err(bad("an http(s) URL: a host name of letters, digits, dots and hyphens (or a bracketed IPv6 address), an optional port, then a path and query of URL characters"));
    }
    // The documented form, yet refused by the URL parser (e.g. a dotted
    // host that is no IPv4 address): a rule the schema does not state.
    let url =
        url::Url::parse(raw).map_err(|e| ExchangeError::value("url", format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("only http and https URLs are allowed"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("credentials in the URL are not allowed"));
    }
    if url.host().is_none() {
        return Err(bad("the URL has no host"));
    }
    if !allow_private && literal_host_refused(&url) {
        return Err(ExchangeError::value(
            "url",
            "loopback and private addresses are not allowed (the exchange may allow them with --allow-private-webhooks)",
        ));
    }
    Ok(url)
}

/// The documented form of a webhook URL (the API schema's `pattern` for
/// `CreateWebhook.url`, [`WEBHOOK_URL_PATTERN`], says the same).
pub fn webhook_url_form(raw: &str) -> bool {
    let lower = raw.get(..8).unwrap_or(raw).to_ascii_lowercase();
    let rest = if lower.starts_with("https://") {
        &raw[8..]
    } else if lower.starts_with("http://") {
        &raw[7..]
    } else {
        return false;
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let url_char = |c: char| c.is_ascii_alphanumeric() || "._~%!$&'()*+,;=:@/?-".contains(c);
    if !tail.chars().all(url_char) {
        return false;
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let Some((addr, after)) = v6.split_once(']') else {
            return false;
        };
        if addr.is_empty()
            || !addr
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return false;
        }
        match after {
            "" => ("v6", None),
            p => match p.strip_prefix(':') {
                Some(p) => ("v6", Some(p)),
                None => return false,
            },
        }
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let label_ok = |l: &str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let port_ok = port.is_none_or(|p| {
        (1..=5).contains(&p.len())
            && p.bytes().all(|b| b.is_ascii_digit())
            && !(p.len() == 5 && p.starts_with('0'))
            && p.parse::<u16>().is_ok()
    });
    (host == "v6" || host.split('.').all(label_ok)) && port_ok
}

/// [`webhook_url_form`] as a regular expression, for the API schema.
pub const WEBHOOK_URL_PATTERN: &str = r"^[Hh][Tt][Tt][Pp][Ss]?://(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?(?:[/?][A-Za-z0-9._~%!$&'()*+,;=:@/?-]*)?$";

/// The registration check: [`check_webhook_url`], then (unless private
/// endpoints are allowed) the host name resolved as a connection resolves it
/// ([`resolve_webhook_host`]): a name that does not resolve, or only to
/// private addresses (`/etc/hosts` included), is refused with
/// [`HOST_REFUSED`] either way.
pub async fn check_webhook_target(raw: &str, allow_private: bool) -> ExchangeResult<url::Url> {
    let url = check_webhook_url(raw, allow_private)?;
    if let (false, Some(url::Host::Domain(name))) = (allow_private, url.host()) {
        let port = url.port_or_known_default().unwrap_or(443);
        resolve_webhook_host(name, port, false)
            .await
            .map_err(|e| ExchangeError::value("url", e.to_string()))?;
    }
    Ok(url)
}

/// A webhook request ready to send.
#[derive(Debug, Clone)]
pub struct OutboundWebhook {
    pub url: String,
    /// `webhook-id`, `webhook-timestamp`, `webhook-signature`.
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// What an attempt got back.
#[derive(Debug, Clone, Default)]
pub struct AttemptOutcome {
    /// The HTTP status, if the endpoint answered.
    pub status: Option<u16>,
    /// Why there was no answer (connect error, timeout, refused address).
    pub error: Option<String>,
    /// `Retry-After` in seconds, if sent.
    pub retry_after: Option<i64>,
    pub duration: Duration,
}

/// Decides what follows an attempt, made at `now` after `attempts_before`
/// earlier ones. `jitter_percent` in 80..=120 scales scheduled delays.
pub fn next_step(
    policy: &WebhookPolicy,
    outcome: &AttemptOutcome,
    attempts_before: i64,
    now: Timestamp,
    jitter_percent: u32,
) -> (&'static str, DeliveryResult) {
    match outcome.status {
        Some(s) if (200..300).contains(&s) => ("delivered", DeliveryResult::Delivered),
        Some(410) => (
            "disabled",
            DeliveryResult::Disable {
                reason: "the endpoint answered 410 Gone".into(),
            },
        ),
        status => {
            let scheduled = {
                let schedule = &policy.retry_schedule;
                let base = if schedule.is_empty() {
                    Duration::from_secs(5)
                } else {
                    let i = usize::try_from(attempts_before).unwrap_or(0);
                    schedule[i.min(schedule.len() - 1)]
                };
                (base.as_millis() as i64).saturating_mul(i64::from(jitter_percent)) / 100
            };
            // A throttling endpoint's Retry-After is a floor: never sooner
            // than it asks, never sooner than the schedule.
            let delay_ms = match (status, outcome.retry_after) {
                (Some(429 | 502 | 503 | 504), Some(secs)) => {
                    scheduled.max(secs.clamp(0, MAX_RETRY_AFTER_SECONDS) * 1000)
                }
                _ => scheduled,
            };
            let disable_ms = policy.disable_after.as_millis() as i64;
            (
                "retry",
                DeliveryResult::Retry {
                    at: Timestamp::from_millis(now.millis().saturating_add(delay_ms)),
                    disable_if_failing_since: Timestamp::from_millis(
                        now.millis().saturating_sub(disable_ms),
                    ),
                },
            )
        }
    }
}

fn webhook_out(e: &store::WebhookEndpoint, secret: Option<String>) -> api::Webhook {
    api::Webhook {
        id: e.id.clone(),
        url: e.url.clone(),
        secret,
        created_at: e.created_at.to_rfc3339(),
        status: if e.disabled_at.is_some() {
            "disabled"
        } else {
            "active"
        }
        .into(),
        disabled_at: e.disabled_at.map(Timestamp::to_rfc3339),
        disabled_reason: e.disabled_reason.clone(),
        failing_since: e.failing_since.map(Timestamp::to_rfc3339),
        pending: e.pending,
    }
}

fn attempt_out(a: &DeliveryAttempt) -> api::WebhookAttempt {
    api::WebhookAttempt {
        event_id: event_id(a.event_seq),
        attempt: a.attempt,
        at: a.at.to_rfc3339(),
        status: a.status,
        error: a.error.clone(),
        duration_ms: a.duration_ms,
        outcome: a.outcome.clone(),
    }
}

fn new_secret() -> [u8; webhook::SECRET_BYTES] {
    let mut s = [0u8; webhook::SECRET_BYTES];
    rand::rng().fill_bytes(&mut s);
    s
}

impl Exchange {
    pub fn hub(&self) -> &Arc<EventHub> {
        &self.hub
    }

    pub fn webhook_policy(&self) -> &WebhookPolicy {
        &self.config.webhooks
    }

    /// The event poll period; a stream that heard no wake for
    /// [`STREAM_RECHECK_POLLS`] periods reads the store anyway.
    pub fn event_poll(&self) -> Duration {
        self.config.event_poll
    }

    /// The account's events after `after` (`evt_…`), oldest first: the page a
    /// polling client asks for, and what a stream replays.
    pub async fn events_page(
        &self,
        me: &store::Account,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> ExchangeResult<api::EventPage> {
        let after = parse_cursor("after", after.unwrap_or(""))?;
        let limit = match limit {
            None => EVENT_PAGE_DEFAULT,
            Some(n) if (1..=EVENT_PAGE_MAX).contains(&n) => n,
            Some(_) => {
                return Err(ExchangeError::field(
                    "limit",
                    format!("between 1 and {EVENT_PAGE_MAX}"),
                ))
            }
        };
        let events = self.store.events_after(&me.id, after, limit).await?;
        let next = events.last().map(|e| e.seq).unwrap_or(after);
        Ok(api::EventPage {
            events: events.iter().map(event_out).collect(),
            next_after: event_id(next),
        })
    }

    /// Raw events of `account_id` after `seq` (for streams).
    pub async fn events_after(
        &self,
        account_id: &str,
        after: i64,
        limit: u32,
    ) -> ExchangeResult<Vec<EventRecord>> {
        Ok(self.store.events_after(account_id, after, limit).await?)
    }

    /// Tails the store's events into the hub (every account's, in commit
    /// order) and publishes the last `seq`. The first call starts the tail at
    /// the store's last event.
    pub async fn poll_events(&self) -> ExchangeResult<i64> {
        let Some(mut upto) = self.hub.tail_position() else {
            let seq = self.store.last_event_seq().await?;
            self.hub.start_tail(seq);
            self.hub.publish(seq);
            return Ok(seq);
        };
        loop {
            let batch = self.store.events_since(upto, HUB_TAIL_BATCH).await?;
            let full = batch.len() as u32 == HUB_TAIL_BATCH;
            if let Some(last) = batch.last() {
                upto = last.seq;
            }
            self.hub.append(batch);
            if !full {
                break;
            }
        }
        self.hub.publish(upto);
        Ok(upto)
    }

    /// Deletes events past [`EVENT_RETENTION_SECONDS`] that no delivery waits for.
    pub async fn prune_events(&self) -> ExchangeResult<u64> {
        let before = self.now().plus_seconds(-EVENT_RETENTION_SECONDS);
        let version = self.store.market_version().await?;
        // A replica further behind than this re-reads the market instead.
        self.store
            .prune_market_changes(version - MARKET_CHANGES_KEPT, MARKET_CHANGES_PRUNE_BATCH)
            .await?;
        Ok(self.store.prune_events(before).await?)
    }

    pub async fn create_webhook(
        &self,
        me: &store::Account,
        req: api::CreateWebhook,
    ) -> ExchangeResult<api::Webhook> {
        let url = check_webhook_target(req.url.trim(), self.config.webhooks.allow_private).await?;
        if let Some(done) = self
            .made_by_earlier_run(
                "whk",
                |id| async move { self.store.webhook(&me.id, &id).await },
            )
            .await
        {
            let secret = self
                .config
                .master_key
                .open(&done.id, &done.secret)
                .map_err(ExchangeError::internal)?;
            return Ok(webhook_out(&done, Some(webhook::encode_secret(&secret))));
        }
        let id = self.new_id("whk");
        let secret = new_secret();
        let endpoint = store::WebhookEndpoint {
            id: id.clone(),
            account_id: me.id.clone(),
            url: url.to_string(),
            secret: self.config.master_key.seal(&id, &secret),
            previous_secret: None,
            previous_until: None,
            created_at: self.now(),
            disabled_at: None,
            disabled_reason: None,
            failing_since: None,
            pending: 0,
        };
        // The store counts inside its transaction: concurrent registrations
        // (on any replica) never pass the limit.
        match self
            .store
            .create_webhook(&endpoint, MAX_WEBHOOKS_PER_ACCOUNT)
            .await
        {
            Err(store::StoreError::Conflict(store::Conflict::TooManyWebhooks)) => {
                return Err(ExchangeError::new(
                    ErrorCode::TooManyWebhooks,
                    format!("at most {MAX_WEBHOOKS_PER_ACCOUNT} webhook endpoints per account"),
                ))
            }
            other => other?,
        }
        tracing::info!(account = %me.id, webhook = %id, "webhook endpoint registered");
        Ok(webhook_out(
            &endpoint,
            Some(webhook::encode_secret(&secret)),
        ))
    }

    pub async fn list_webhooks(&self, me: &store::Account) -> ExchangeResult<api::WebhookList> {
        let items = self.store.webhooks(&me.id).await?;
        Ok(api::WebhookList {
            items: items.iter().map(|e| webhook_out(e, None)).collect(),
        })
    }

    /// One of the caller's endpoints (404 for another account's).
    async fn own_webhook(
        &self,
        me: &store::Account,
        id: &str,
    ) -> ExchangeResult<store::WebhookEndpoint> {
        self.store.webhook(&me.id, id).await.or_not_found("webhook")
    }

    pub async fn get_webhook(&self, me: &store::Account, id: &str) -> ExchangeResult<api::Webhook> {
        let e = self.own_webhook(me, id).await?;
        Ok(webhook_out(&e, None))
    }

    pub async fn delete_webhook(&self, me: &store::Account, id: &str) -> ExchangeResult<()> {
        self.store
            .delete_webhook(&me.id, id)
            .await
            .or_not_found("webhook")
    }

    /// A new secret; the previous one keeps signing (a second signature) for
    /// [`WEBHOOK_PREVIOUS_SECRET_SECONDS`], so receivers can switch without loss.
    pub async fn rotate_webhook(
        &self,
        me: &store::Account,
        id: &str,
    ) -> ExchangeResult<api::Webhook> {
        let e = self.own_webhook(me, id).await?;
        let secret = new_secret();
        let until = self.now().plus_seconds(WEBHOOK_PREVIOUS_SECRET_SECONDS);
        self.store
            .rotate_webhook_secret(
                &e.id,
                &self.config.master_key.seal(&e.id, &secret),
                &e.secret,
                until,
            )
            .await?;
        let e = self.store.webhook(&me.id, id).await?;
        Ok(webhook_out(&e, Some(webhook::encode_secret(&secret))))
    }

    /// Re-enables a disabled endpoint; what waited is delivered now.
    pub async fn enable_webhook(
        &self,
        me: &store::Account,
        id: &str,
    ) -> ExchangeResult<api::Webhook> {
        let e = self.own_webhook(me, id).await?;
        self.store.enable_webhook(&e.id, self.now()).await?;
        let e = self.store.webhook(&me.id, id).await?;
        Ok(webhook_out(&e, None))
    }

    /// Disables an endpoint at its owner's request: nothing is sent to it
    /// until it is enabled again; its events keep waiting meanwhile.
    pub async fn disable_webhook(
        &self,
        me: &store::Account,
        id: &str,
    ) -> ExchangeResult<api::Webhook> {
        let e = self.own_webhook(me, id).await?;
        self.store
            .disable_webhook(&e.id, self.now(), WEBHOOK_DISABLED_BY_OWNER)
            .await?;
        let e = self.store.webhook(&me.id, id).await?;
        Ok(webhook_out(&e, None))
    }

    /// Queues the account's events after `after` for the endpoint again.
    pub async fn replay_webhook(
        &self,
        me: &store::Account,
        id: &str,
        req: api::ReplayWebhook,
    ) -> ExchangeResult<api::Replay> {
        let after = parse_cursor("after", req.after.as_deref().unwrap_or(""))?;
        let e = self.own_webhook(me, id).await?;
        let queued = self
            .store
            .replay_webhook(&e.id, after, self.now(), MAX_REPLAY_EVENTS)
            .await?;
        Ok(api::Replay { queued })
    }

    pub async fn webhook_attempts(
        &self,
        me: &store::Account,
        id: &str,
    ) -> ExchangeResult<api::WebhookAttempts> {
        let e = self.own_webhook(me, id).await?;
        let items = self
            .store
            .webhook_attempts(&e.id, WEBHOOK_ATTEMPTS_LISTED)
            .await?;
        Ok(api::WebhookAttempts {
            items: items.iter().map(attempt_out).collect(),
        })
    }

    /// Claims up to `limit` (at most [`WEBHOOK_CLAIM_BATCH`]) due deliveries
    /// for the worker `owner`, fairly across accounts and within the
    /// per-endpoint and per-account bounds of sends in flight.
    pub async fn claim_deliveries(
        &self,
        owner: &str,
        limit: u32,
    ) -> ExchangeResult<Vec<DeliveryJob>> {
        let now = self.now();
        Ok(self
            .store
            .claim_deliveries(
                now,
                now.plus_seconds(WEBHOOK_LEASE_SECONDS),
                owner,
                limit.min(WEBHOOK_CLAIM_BATCH),
            )
            .await?)
    }

    /// The signed request for a claimed delivery: signed with the current
    /// secret and, within its grace period after a rotation, the previous one.
    pub fn outbound(&self, job: &DeliveryJob) -> ExchangeResult<OutboundWebhook> {
        let now = self.now();
        let e = &job.endpoint;
        let id = event_id(job.event.seq);
        let body = event_body(&job.event);
        let ts = now.seconds();
        let mut signatures = Vec::with_capacity(2);
        let open = |sealed: &[u8]| {
            self.config
                .master_key
                .open(&e.id, sealed)
                .map_err(ExchangeError::internal)
        };
        signatures.push(webhook::sign(&open(&e.secret)?, &id, ts, &body));
        if let (Some(prev), Some(until)) = (&e.previous_secret, e.previous_until) {
            if now < until {
                signatures.push(webhook::sign(&open(prev)?, &id, ts, &body));
            }
        }
        Ok(OutboundWebhook {
            url: e.url.clone(),
            headers: vec![
                ("webhook-id", id),
                ("webhook-timestamp", ts.to_string()),
                ("webhook-signature", signatures.join(" ")),
            ],
            body,
        })
    }

    /// Records an attempt and schedules what follows; `false` if the lease was lost.
    pub async fn finish_delivery(
        &self,
        owner: &str,
        job: &DeliveryJob,
        outcome: &AttemptOutcome,
    ) -> ExchangeResult<bool> {
        let now = self.now();
        let jitter = 80 + self.ids.below(41);
        let (label, result) = next_step(&self.config.webhooks, outcome, job.attempts, now, jitter);
        metrics::counter!(crate::metrics::WEBHOOK_ATTEMPTS, "outcome" => label).increment(1);
        let attempt = DeliveryAttempt {
            endpoint_id: job.endpoint.id.clone(),
            event_seq: job.event.seq,
            attempt: job.attempts + 1,
            at: now,
            status: outcome.status.map(i64::from),
            error: outcome.error.clone(),
            duration_ms: outcome.duration.as_millis() as i64,
            outcome: label.into(),
        };
        match &result {
            DeliveryResult::Delivered => {
                tracing::debug!(webhook = %job.endpoint.id, event = job.event.seq, "webhook delivered")
            }
            DeliveryResult::Retry { at, .. } => tracing::info!(
                webhook = %job.endpoint.id, event = job.event.seq, status = ?outcome.status,
                error = ?outcome.error, next = %at.to_rfc3339(), "webhook attempt failed; retrying"
            ),
            DeliveryResult::Disable { reason } => tracing::warn!(
                webhook = %job.endpoint.id, %reason, "webhook endpoint disabled"
            ),
        }
        Ok(self.store.finish_delivery(owner, &attempt, &result).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(status: Option<u16>, retry_after: Option<i64>) -> AttemptOutcome {
        AttemptOutcome {
            status,
            retry_after,
            ..Default::default()
        }
    }

    #[test]
    fn the_retry_schedule_backs_off_with_jitter_and_honours_retry_after() {
        let p = WebhookPolicy::default();
        let now = Timestamp::from_millis(1_000_000);
        let at = |o: &AttemptOutcome, n: i64, jitter: u32| match next_step(&p, o, n, now, jitter).1
        {
            DeliveryResult::Retry { at, .. } => at.millis() - now.millis(),
            other => panic!("{other:?}"),
        };
        let fail = outcome(Some(500), None);
        assert_eq!(at(&fail, 0, 100), 5_000);
        assert_eq!(at(&fail, 1, 100), 300_000);
        assert_eq!(at(&fail, 2, 80), 1_440_000, "30 min − 20 %");
        assert_eq!(at(&fail, 6, 120), 43_200_000, "10 h + 20 %");
        assert_eq!(at(&fail, 60, 100), 36_000_000, "the last delay repeats");
        assert_eq!(at(&outcome(None, None), 0, 100), 5_000, "no answer");
        assert_eq!(
            at(&outcome(Some(302), None), 0, 100),
            5_000,
            "redirects fail"
        );
        for s in [429, 502, 503, 504] {
            assert_eq!(at(&outcome(Some(s), Some(120)), 0, 100), 120_000, "{s}");
        }
        assert_eq!(
            at(&outcome(Some(429), Some(0)), 1, 100),
            300_000,
            "Retry-After never shortens the schedule"
        );
        assert_eq!(
            at(&outcome(Some(429), Some(10 * 86_400)), 0, 100),
            86_400_000,
            "capped"
        );
        assert_eq!(
            at(&outcome(Some(500), Some(120)), 0, 100),
            5_000,
            "only 429/502/504"
        );
        assert_eq!(
            next_step(&p, &outcome(Some(204), None), 3, now, 100).0,
            "delivered"
        );
        assert!(matches!(
            next_step(&p, &outcome(Some(410), None), 0, now, 100).1,
            DeliveryResult::Disable { .. }
        ));
        match next_step(&p, &fail, 0, now, 100).1 {
            DeliveryResult::Retry {
                disable_if_failing_since,
                ..
            } => assert_eq!(
                now.millis() - disable_if_failing_since.millis(),
                WEBHOOK_DISABLE_AFTER_SECONDS * 1000
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn private_addresses_are_refused_unless_allowed() {
        for bad in [
            "http://127.0.0.1:8080/h",
            "http://localhost/h",
            "http://api.localhost/h",
            "http://10.1.2.3/h",
            "http://172.16.0.1/h",
            "http://192.168.1.1/h",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/h",
            "http://0.0.0.0/h",
            "http://[::1]/h",
            "http://[fd00::1]/h",
            "http://[fe80::1]/h",
            "http://[::ffff:127.0.0.1]/h",
            "http://[2002:7f00:1::]/h",
            "http://[::127.0.0.1]/h",
            "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/h",
            // IPv4-translated, of a public and of a private IPv4 address.
            "http://[::ffff:0:5db8:d822]/h",
            "http://[::ffff:0:93.184.216.34]/h",
            "http://[::ffff:0:10.0.0.1]/h",
            // Site-local (deprecated, still routed inside some networks).
            "http://[fec0::1]/h",
            "http://[feff:ffff::1]/h",
            // IPv4-mapped private addresses stay refused as their IPv4.
            "http://[::ffff:10.0.0.1]/h",
            "http://[::ffff:c0a8:101]/h",
        ] {
            assert!(check_webhook_url(bad, false).is_err(), "{bad}");
            assert!(check_webhook_url(bad, true).is_ok(), "{bad} allowed");
        }
        for bad in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "example.com",
            "http://u:p@example.com/",
        ] {
            assert!(check_webhook_url(bad, true).is_err(), "{bad}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_WEBHOOK_URL_BYTES));
        assert!(check_webhook_url(&long, false).is_err());
        for good in [
            "https://hooks.example.com/x",
            "http://93.184.216.34/h",
            "https://[2606:4700::1]/",
            // IPv4-mapped public addresses are judged as their IPv4.
            "http://[::ffff:93.184.216.34]/h",
            "http://[::ffff:5db8:d822]/h",
        ] {
            assert!(check_webhook_url(good, false).is_ok(), "{good}");
        }
    }

    #[test]
    fn translated_and_site_local_prefixes_are_refused_at_their_edges() {
        let public = |s: &str| is_public_ip(s.parse().unwrap());
        // ::ffff:0:0:0/96 (IPv4-translated), first and last address.
        assert!(!public("::ffff:0:0.0.0.0"));
        assert!(!public("::ffff:0:255.255.255.255"));
        assert!(!public("::ffff:0:8.8.8.8"), "even of a public IPv4 address");
        // fec0::/10 (site-local), first and last address.
        assert!(!public("fec0::"));
        assert!(!public("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
        // IPv4-mapped stays judged as its IPv4 address.
        assert!(public("::ffff:8.8.8.8"));
        assert!(!public("::ffff:127.0.0.1"));
        assert!(!public("::ffff:192.168.0.1"));
        assert!(!public("::ffff:100.64.0.1"));
    }

    #[tokio::test]
    async fn names_resolve_as_a_connection_resolves_them() {
        // `localhost` comes from /etc/hosts (or the resolver) as loopback:
        // allowed only with private endpoints.
        assert_eq!(
            resolve_webhook_host("localhost", 80, false).await,
            Err(HostRefused)
        );
        let all = resolve_webhook_host("localhost", 80, true).await.unwrap();
        assert!(all.iter().all(|a| a.ip().is_loopback() && a.port() == 80));
        // A name that cannot exist (RFC 6761) is refused the same way.
        assert_eq!(
            resolve_webhook_host("no-such-host.invalid", 80, true).await,
            Err(HostRefused)
        );
        assert_eq!(HostRefused.to_string(), HOST_REFUSED);
    }
}
