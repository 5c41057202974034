//! Server configuration, layered: built-in defaults < TOML file < `SYMBOLON_*`
//! environment variables < command-line flags.

pub mod settings;

use serde::Deserialize;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7878";
/// Default data directory.
pub const DEFAULT_DATA_DIR: &str = "./symbolon-data";
/// How often expired interaction requests are swept (seconds).
pub const EXPIRY_SWEEP_SECONDS: u64 = 1;

/// The resolved configuration.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// Base URL clients reach the server at; defaults to `http://<listen address>`.
    pub public_url: Option<String>,
    pub registration_open: bool,
    /// Seed for ids (tests replay runs with it); `None` draws from the OS.
    pub seed: Option<u64>,
    /// `sqlite://…` or `postgres://…`; `None` means SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// The master key (base64url or hex, 32 bytes) sealing provider signing
    /// keys and signing web sessions; `None`: `<data_dir>/master.key`,
    /// created (mode 0600) on first start. Replicas must share it.
    pub master_key: Option<String>,
    /// Let webhooks reach loopback and private addresses (tests, on-premise).
    pub allow_private_webhooks: bool,
    /// The webhook retry schedule; empty means the default
    /// (`symbolon_core::limits::WEBHOOK_RETRY_SCHEDULE_SECONDS`).
    pub webhook_retry_schedule: Vec<std::time::Duration>,
    /// How often this replica looks for events committed by other replicas
    /// even when nothing woke it (its own writes and, on PostgreSQL,
    /// `NOTIFY` wake its streams and webhook worker at once).
    pub event_poll: std::time::Duration,
    /// A request head must arrive within this, from its first byte (from the
    /// accept for a connection's first request); past it the connection is closed.
    pub header_read_timeout: std::time::Duration,
    /// A request body must arrive within this, from the end of its head; past it
    /// the answer is 408 `request_timeout` and the connection is closed.
    pub body_read_timeout: std::time::Duration,
    /// A keep-alive connection with no request in flight is closed when its
    /// next request has not begun within this. Event streams are in flight.
    pub idle_timeout: std::time::Duration,
    /// Connections served at once; beyond it the server stops accepting until
    /// one closes (new ones wait in the kernel's listen backlog).
    pub max_connections: usize,
    /// On shutdown, in-flight requests get this long to finish; then every
    /// connection still open is closed.
    pub shutdown_grace: std::time::Duration,
    /// On shutdown, `/readyz` answers 503 (`draining`) and the server keeps
    /// serving and accepting this long before it stops accepting (0: stop at once).
    pub drain_delay: std::time::Duration,
    /// Where `/metrics` is served: `None` on the main listener; else only on
    /// this address (its own listener), and not on the main one.
    pub metrics_listen: Option<SocketAddr>,
    /// Accounts one client address may register per hour (IPv6: per /64);
    /// 0 = no limit. Counted in each replica's memory, on the peer address
    /// (behind a proxy, every client shares the proxy's).
    pub registrations_per_ip_per_hour: u32,
    /// Requests one API key or web session may make per second, sustained,
    /// after a burst of `rate_limit_burst`; either 0 turns the limit off.
    /// Counted in each replica's memory.
    pub rate_limit_per_second: u32,
    pub rate_limit_burst: u32,
    /// The same per client address (IPv6: per /64); off (0) by default.
    pub ip_rate_limit_per_second: u32,
    pub ip_rate_limit_burst: u32,
    /// The reverse proxies whose `X-Forwarded-For` names the client
    /// (addresses or networks); empty: the client is the TCP peer.
    pub trusted_proxies: Vec<crate::client_ip::IpNet>,
    /// How long an unpaid order may be paid in before it expires.
    pub unpaid_order_ttl: std::time::Duration,
    /// A shipped order counts as delivered this long after shipping.
    pub auto_deliver_after: std::time::Duration,
    /// How long after delivery a return may be requested (the sellers'
    /// money stays pending until then).
    pub return_window: std::time::Duration,
    /// The SMTP server e-mail notifications go through, as a URL:
    /// `smtp://[user:password@]host[:port]` (add `?tls=required` for
    /// STARTTLS) or `smtps://…` (TLS from the start). `None`: mail is off —
    /// the mailer does not run and nothing is queued. Its password is
    /// redacted in `Debug` and logs.
    pub smtp_url: Option<String>,
    /// The `From` of notifications; `None`: `Symbolon <noreply@<public host>>`.
    pub mail_from: Option<String>,
    /// The delays between attempts to send a message; empty means the
    /// default (`symbolon_core::limits::MAIL_RETRY_SCHEDULE_SECONDS`).
    pub mail_retry_schedule: Vec<std::time::Duration>,
}

/// The shortest and longest [`ServerConfig::event_poll`] accepted.
pub const EVENT_POLL_RANGE_MILLIS: (u64, u64) = (10, 60_000);
/// The shortest and longest [`ServerConfig::header_read_timeout`] accepted.
pub const HEADER_READ_TIMEOUT_RANGE_MILLIS: (u64, u64) = (100, 600_000);
/// The shortest and longest [`ServerConfig::body_read_timeout`] accepted.
pub const BODY_READ_TIMEOUT_RANGE_MILLIS: (u64, u64) = (100, 3_600_000);
/// The shortest and longest [`ServerConfig::idle_timeout`] accepted.
pub const IDLE_TIMEOUT_RANGE_MILLIS: (u64, u64) = (100, 3_600_000);
/// The shortest and longest [`ServerConfig::shutdown_grace`] accepted (0: close at once).
pub const SHUTDOWN_GRACE_RANGE_MILLIS: (u64, u64) = (0, 600_000);
/// The shortest and longest [`ServerConfig::drain_delay`] accepted (0: none).
pub const DRAIN_DELAY_RANGE_MILLIS: (u64, u64) = (0, 600_000);
/// The fewest and most [`ServerConfig::max_connections`] accepted.
pub const MAX_CONNECTIONS_RANGE: (usize, usize) = (1, 1_000_000);
/// The shortest and longest [`ServerConfig::auto_deliver_after`] and
/// [`ServerConfig::return_window`] accepted (ms): 1 minute … 365 days.
pub const LIFECYCLE_WINDOW_RANGE_MILLIS: (u64, u64) = (
    symbolon_core::limits::MIN_LIFECYCLE_WINDOW_SECONDS * 1000,
    symbolon_core::limits::MAX_LIFECYCLE_WINDOW_SECONDS * 1000,
);
/// The shortest and longest [`ServerConfig::unpaid_order_ttl`] accepted (ms).
pub const UNPAID_ORDER_TTL_RANGE_MILLIS: (u64, u64) = (
    symbolon_core::limits::MIN_UNPAID_ORDER_TTL_SECONDS * 1000,
    symbolon_core::limits::MAX_UNPAID_ORDER_TTL_SECONDS * 1000,
);
/// The largest [`ServerConfig::registrations_per_ip_per_hour`] accepted.
pub const MAX_REGISTRATIONS_PER_IP_PER_HOUR: u32 = 1_000_000;
/// The range of every rate limit's rate and burst (0 = off).
pub const RATE_LIMIT_RANGE: (u32, u32) = (0, symbolon_core::limits::MAX_RATE_LIMIT);

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 7878))),
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            public_url: None,
            registration_open: true,
            seed: None,
            database_url: None,
            master_key: None,
            allow_private_webhooks: false,
            webhook_retry_schedule: Vec::new(),
            event_poll: std::time::Duration::from_millis(symbolon_core::limits::EVENT_POLL_MILLIS),
            header_read_timeout: std::time::Duration::from_millis(
                symbolon_core::limits::HEADER_READ_TIMEOUT_MILLIS,
            ),
            body_read_timeout: std::time::Duration::from_millis(
                symbolon_core::limits::BODY_READ_TIMEOUT_MILLIS,
            ),
            idle_timeout: std::time::Duration::from_millis(
                symbolon_core::limits::IDLE_TIMEOUT_MILLIS,
            ),
            max_connections: symbolon_core::limits::MAX_CONNECTIONS,
            shutdown_grace: std::time::Duration::from_millis(
                symbolon_core::limits::SHUTDOWN_GRACE_MILLIS,
            ),
            drain_delay: std::time::Duration::from_millis(
                symbolon_core::limits::DRAIN_DELAY_MILLIS,
            ),
            metrics_listen: None,
            registrations_per_ip_per_hour: 0,
            rate_limit_per_second: symbolon_core::limits::DEFAULT_RATE_LIMIT_PER_SECOND,
            rate_limit_burst: symbolon_core::limits::DEFAULT_RATE_LIMIT_BURST,
            ip_rate_limit_per_second: symbolon_core::limits::DEFAULT_IP_RATE_LIMIT_PER_SECOND,
            ip_rate_limit_burst: symbolon_core::limits::DEFAULT_IP_RATE_LIMIT_BURST,
            trusted_proxies: Vec::new(),
            unpaid_order_ttl: std::time::Duration::from_secs(
                symbolon_core::limits::DEFAULT_UNPAID_ORDER_TTL_SECONDS,
            ),
            auto_deliver_after: std::time::Duration::from_secs(
                symbolon_core::limits::DEFAULT_AUTO_DELIVER_DAYS * 86_400,
            ),
            return_window: std::time::Duration::from_secs(
                symbolon_core::limits::DEFAULT_RETURN_WINDOW_DAYS * 86_400,
            ),
            smtp_url: None,
            mail_from: None,
            mail_retry_schedule: Vec::new(),
        }
    }
}

/// Parses `200ms,5s,5m,2h` into durations (each at most a week).
pub fn parse_schedule(text: &str) -> Result<Vec<std::time::Duration>, String> {
    parse_durations(text, 7 * 24 * 3_600_000)
}

/// Parses comma-separated durations (`ms`, `s`, `m`, `h` or `d`), each at
/// most `cap_ms`.
fn parse_durations(text: &str, cap_ms: u64) -> Result<Vec<std::time::Duration>, String> {
    use std::time::Duration;
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let split = part
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| format!("`{part}` needs a unit (ms, s, m, h or d)"))?;
        let (n, unit) = part.split_at(split);
        let n: u64 = n
            .parse()
            .map_err(|_| format!("`{part}` is not a number with a unit"))?;
        let too_long = || match cap_ms {
            604_800_000 => format!("`{part}` is longer than a week"),
            cap => format!("`{part}` is longer than {} days", cap / 86_400_000),
        };
        let ms = match unit {
            "ms" => Some(n),
            "s" => n.checked_mul(1000),
            "m" => n.checked_mul(60_000),
            "h" => n.checked_mul(3_600_000),
            "d" => n.checked_mul(86_400_000),
            _ => return Err(format!("`{part}`: the unit must be ms, s, m, h or d")),
        }
        .filter(|ms| *ms <= cap_ms)
        .ok_or_else(too_long)?;
        out.push(Duration::from_millis(ms));
    }
    if out.len() > 32 {
        return Err("at most 32 delays".into());
    }
    Ok(out)
}

/// Parses one duration within [`EVENT_POLL_RANGE_MILLIS`].
fn parse_event_poll(text: &str) -> Result<std::time::Duration, String> {
    parse_duration_within(text, EVENT_POLL_RANGE_MILLIS)
}

/// Parses one duration (`10s`, `500ms`) within `(lo, hi)` milliseconds.
fn parse_duration_within(text: &str, (lo, hi): (u64, u64)) -> Result<std::time::Duration, String> {
    let show = |ms: u64| settings::show_duration(std::time::Duration::from_millis(ms));
    match parse_durations(text, hi.max(7 * 24 * 3_600_000))?.as_slice() {
        [d] if (lo..=hi).contains(&(d.as_millis() as u64)) => Ok(*d),
        [_] => Err(format!(
            "`{text}` must be between {} and {}",
            show(lo),
            show(hi)
        )),
        _ => Err(format!("`{text}` must be one duration, e.g. 200ms")),
    }
}

impl ServerConfig {
    /// The webhook policy these settings give.
    pub fn webhook_policy(&self) -> symbolon_exchange::WebhookPolicy {
        let mut p = symbolon_exchange::WebhookPolicy {
            allow_private: self.allow_private_webhooks,
            ..Default::default()
        };
        if !self.webhook_retry_schedule.is_empty() {
            p.retry_schedule = self.webhook_retry_schedule.clone();
        }
        p
    }

    /// The limit per API key or web session.
    pub fn credential_rate(&self) -> crate::rate_limit::Rate {
        crate::rate_limit::Rate {
            per_second: self.rate_limit_per_second,
            burst: self.rate_limit_burst,
        }
    }

    /// The limit per client address.
    pub fn address_rate(&self) -> crate::rate_limit::Rate {
        crate::rate_limit::Rate {
            per_second: self.ip_rate_limit_per_second,
            burst: self.ip_rate_limit_burst,
        }
    }

    /// The mail retry schedule these settings give.
    pub fn mail_retry(&self) -> Vec<std::time::Duration> {
        if self.mail_retry_schedule.is_empty() {
            symbolon_core::limits::MAIL_RETRY_SCHEDULE_SECONDS
                .iter()
                .map(|s| std::time::Duration::from_secs(*s))
                .collect()
        } else {
            self.mail_retry_schedule.clone()
        }
    }
}

/// A database URL with any password replaced by `***`, for logs and `Debug`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("public_url", &self.public_url)
            .field("registration_open", &self.registration_open)
            .field("seed", &self.seed.map(|_| "[set]"))
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field(
                "master_key",
                &self.master_key.as_ref().map(|_| "[redacted]"),
            )
            .field("allow_private_webhooks", &self.allow_private_webhooks)
            .field("webhook_retry_schedule", &self.webhook_retry_schedule)
            .field("event_poll", &self.event_poll)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("body_read_timeout", &self.body_read_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_connections", &self.max_connections)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("drain_delay", &self.drain_delay)
            .field("metrics_listen", &self.metrics_listen)
            .field(
                "registrations_per_ip_per_hour",
                &self.registrations_per_ip_per_hour,
            )
            .field("rate_limit_per_second", &self.rate_limit_per_second)
            .field("rate_limit_burst", &self.rate_limit_burst)
            .field("ip_rate_limit_per_second", &self.ip_rate_limit_per_second)
            .field("ip_rate_limit_burst", &self.ip_rate_limit_burst)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("unpaid_order_ttl", &self.unpaid_order_ttl)
            .field("auto_deliver_after", &self.auto_deliver_after)
            .field("return_window", &self.return_window)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("mail_from", &self.mail_from)
            .field("mail_retry_schedule", &self.mail_retry_schedule)
            .finish()
    }
}

/// One layer: every setting optional.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigLayer {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub public_url: Option<String>,
    pub registration_open: Option<bool>,
    pub seed: Option<u64>,
    pub database_url: Option<String>,
    pub master_key: Option<String>,
    pub allow_private_webhooks: Option<bool>,
    /// e.g. `"5s,5m,30m"`.
    pub webhook_retry_schedule: Option<String>,
    /// e.g. `"200ms"` or `"1s"`.
    pub event_poll: Option<String>,
    /// e.g. `"10s"`.
    pub header_read_timeout: Option<String>,
    /// e.g. `"30s"`.
    pub body_read_timeout: Option<String>,
    /// e.g. `"60s"`.
    pub idle_timeout: Option<String>,
    pub max_connections: Option<usize>,
    /// e.g. `"10s"`; `"0s"` closes connections at once.
    pub shutdown_grace: Option<String>,
    /// e.g. `"5s"`; `"0s"` stops accepting at once.
    pub drain_delay: Option<String>,
    /// e.g. `"127.0.0.1:9090"`; `""` serves `/metrics` on the main listener.
    pub metrics_listen: Option<String>,
    /// 0 = no limit.
    pub registrations_per_ip_per_hour: Option<u32>,
    /// 0 = no limit (either of the two).
    pub rate_limit_per_second: Option<u32>,
    pub rate_limit_burst: Option<u32>,
    pub ip_rate_limit_per_second: Option<u32>,
    pub ip_rate_limit_burst: Option<u32>,
    /// e.g. `"10.0.0.0/8, 192.0.2.7"` or `["10.0.0.0/8", "192.0.2.7"]`.
    pub trusted_proxies: Option<crate::client_ip::AddressList>,
    /// e.g. `"30m"`.
    pub unpaid_order_ttl: Option<String>,
    /// e.g. `"14d"`.
    pub auto_deliver_after: Option<String>,
    /// e.g. `"14d"`.
    pub return_window: Option<String>,
    /// e.g. `"smtp://user:secret@mail.example.org:587?tls=required"`.
    pub smtp_url: Option<String>,
    /// e.g. `"Symbolon <noreply@example.org>"`.
    pub mail_from: Option<String>,
    /// e.g. `"10s,1m,5m"`.
    pub mail_retry_schedule: Option<String>,
}

impl fmt::Debug for ConfigLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigLayer")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("public_url", &self.public_url)
            .field("registration_open", &self.registration_open)
            .field("seed", &self.seed.map(|_| "[set]"))
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field(
                "master_key",
                &self.master_key.as_ref().map(|_| "[redacted]"),
            )
            .field("allow_private_webhooks", &self.allow_private_webhooks)
            .field("webhook_retry_schedule", &self.webhook_retry_schedule)
            .field("event_poll", &self.event_poll)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("body_read_timeout", &self.body_read_timeout)
            .field("idle_timeout", &self.idle_timeout)
            .field("max_connections", &self.max_connections)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("drain_delay", &self.drain_delay)
            .field("metrics_listen", &self.metrics_listen)
            .field(
                "registrations_per_ip_per_hour",
                &self.registrations_per_ip_per_hour,
            )
            .field("rate_limit_per_second", &self.rate_limit_per_second)
            .field("rate_limit_burst", &self.rate_limit_burst)
            .field("ip_rate_limit_per_second", &self.ip_rate_limit_per_second)
            .field("ip_rate_limit_burst", &self.ip_rate_limit_burst)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("unpaid_order_ttl", &self.unpaid_order_ttl)
            .field("auto_deliver_after", &self.auto_deliver_after)
            .field("return_window", &self.return_window)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("mail_from", &self.mail_from)
            .field("mail_retry_schedule", &self.mail_retry_schedule)
            .finish()
    }
}

/// A configuration error, naming the setting and where it came from.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{origin}: {setting}: {message}")]
    Invalid {
        origin: String,
        setting: &'static str,
        message: String,
    },
}

impl ConfigLayer {
    /// Reads a TOML file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let parse = |message: String| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        };
        // An unknown key is named with the nearest setting (serde's own
        // message lists all of them).
        let table: toml::Table = toml::from_str(&text).map_err(|e| parse(e.to_string()))?;
        if let Some(key) = table.keys().find(|k| settings::setting(k).is_none()) {
            return Err(parse(
                settings::CheckError::Unknown {
                    key: key.clone(),
                    suggestion: settings::suggest(key),
                }
                .to_string(),
            ));
        }
        toml::from_str(&text).map_err(|e| parse(e.to_string()))
    }

    /// Reads `SYMBOLON_LISTEN`, `SYMBOLON_DATA_DIR`, `SYMBOLON_PUBLIC_URL`, `SYMBOLON_DATABASE_URL`,
    /// `SYMBOLON_REGISTRATION_OPEN`, `SYMBOLON_SEED`, `SYMBOLON_MASTER_KEY` (and the other
    /// settings' `SYMBOLON_<SETTING>`) from `vars`.
    pub fn from_env(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        let mut layer = Self::default();
        for (k, v) in vars {
            let bad = |setting: &'static str, message: &str| ConfigError::Invalid {
                origin: format!("environment variable {k}"),
                setting,
                message: message.to_string(),
            };
            let whole = |v: &str, setting: &'static str| {
                v.trim()
                    .parse::<u32>()
                    .map_err(|_| bad(setting, "expected a whole number (0 = off)"))
            };
            match k.as_str() {
                "SYMBOLON_LISTEN" => layer.listen = Some(v),
                "SYMBOLON_DATA_DIR" => layer.data_dir = Some(v.into()),
                "SYMBOLON_PUBLIC_URL" => layer.public_url = Some(v),
                "SYMBOLON_DATABASE_URL" => layer.database_url = Some(v),
                "SYMBOLON_MASTER_KEY" => layer.master_key = Some(v),
                "SYMBOLON_REGISTRATION_OPEN" => {
                    layer.registration_open = Some(match v.to_ascii_lowercase().as_str() {
                        "1" | "true" | "yes" | "on" => true,
                        "0" | "false" | "no" | "off" => false,
                        _ => return Err(bad("registration_open", "expected true or false")),
                    })
                }
                "SYMBOLON_ALLOW_PRIVATE_WEBHOOKS" => {
                    layer.allow_private_webhooks = Some(match v.to_ascii_lowercase().as_str() {
                        "1" | "true" | "yes" | "on" => true,
                        "0" | "false" | "no" | "off" => false,
                        _ => return Err(bad("allow_private_webhooks", "expected true or false")),
                    })
                }
                "SYMBOLON_WEBHOOK_RETRY_SCHEDULE" => layer.webhook_retry_schedule = Some(v),
                "SYMBOLON_EVENT_POLL" => layer.event_poll = Some(v),
                "SYMBOLON_HEADER_READ_TIMEOUT" => layer.header_read_timeout = Some(v),
                "SYMBOLON_BODY_READ_TIMEOUT" => layer.body_read_timeout = Some(v),
                "SYMBOLON_IDLE_TIMEOUT" => layer.idle_timeout = Some(v),
                "SYMBOLON_SHUTDOWN_GRACE" => layer.shutdown_grace = Some(v),
                "SYMBOLON_DRAIN_DELAY" => layer.drain_delay = Some(v),
                "SYMBOLON_METRICS_LISTEN" => layer.metrics_listen = Some(v),
                "SYMBOLON_UNPAID_ORDER_TTL" => layer.unpaid_order_ttl = Some(v),
                "SYMBOLON_AUTO_DELIVER_AFTER" => layer.auto_deliver_after = Some(v),
                "SYMBOLON_RETURN_WINDOW" => layer.return_window = Some(v),
                "SYMBOLON_SMTP_URL" => layer.smtp_url = Some(v),
                "SYMBOLON_MAIL_FROM" => layer.mail_from = Some(v),
                "SYMBOLON_MAIL_RETRY_SCHEDULE" => layer.mail_retry_schedule = Some(v),
                "SYMBOLON_MAX_CONNECTIONS" => {
                    layer.max_connections = Some(
                        v.parse()
                            .map_err(|_| bad("max_connections", "expected a whole number"))?,
                    )
                }
                "SYMBOLON_TRUSTED_PROXIES" => {
                    layer.trusted_proxies = Some(crate::client_ip::AddressList::Text(v))
                }
                "SYMBOLON_RATE_LIMIT_PER_SECOND" => {
                    layer.rate_limit_per_second = Some(whole(&v, "rate_limit_per_second")?)
                }
                "SYMBOLON_RATE_LIMIT_BURST" => {
                    layer.rate_limit_burst = Some(whole(&v, "rate_limit_burst")?)
                }
                "SYMBOLON_IP_RATE_LIMIT_PER_SECOND" => {
                    layer.ip_rate_limit_per_second = Some(whole(&v, "ip_rate_limit_per_second")?)
                }
                "SYMBOLON_IP_RATE_LIMIT_BURST" => {
                    layer.ip_rate_limit_burst = Some(whole(&v, "ip_rate_limit_burst")?)
                }
                "SYMBOLON_REGISTRATIONS_PER_IP_PER_HOUR" => {
                    layer.registrations_per_ip_per_hour = Some(v.parse().map_err(|_| {
                        bad("registrations_per_ip_per_hour", "expected a whole number")
                    })?)
                }
                "SYMBOLON_SEED" => {
                    layer.seed = Some(
                        v.parse()
                            .map_err(|_| bad("seed", "expected an unsigned integer"))?,
                    )
                }
                _ => {}
            }
        }
        Ok(layer)
    }
}

impl ServerConfig {
    /// Applies layers in order (later wins) over the defaults.
    pub fn layered(layers: &[(&str, ConfigLayer)]) -> Result<Self, ConfigError> {
        let mut c = Self::default();
        for (origin, l) in layers {
            if let Some(listen) = &l.listen {
                c.listen = listen.parse().map_err(|_| ConfigError::Invalid {
                    origin: origin.to_string(),
                    setting: "listen",
                    message: format!("`{listen}` is not an address like 127.0.0.1:7878"),
                })?;
            }
            if let Some(d) = &l.data_dir {
                c.data_dir = d.clone();
            }
            if let Some(u) = &l.public_url {
                if !(u.starts_with("http://") || u.starts_with("https://")) {
                    return Err(ConfigError::Invalid {
                        origin: origin.to_string(),
                        setting: "public_url",
                        message: "must start with http:// or https://".into(),
                    });
                }
                c.public_url = Some(u.trim_end_matches('/').to_string());
            }
            if let Some(r) = l.registration_open {
                c.registration_open = r;
            }
            if let Some(s) = l.seed {
                c.seed = Some(s);
            }
            if let Some(u) = &l.database_url {
                let known = ["sqlite:", "postgres://", "postgresql://"];
                if !known.iter().any(|k| u.starts_with(k)) {
                    return Err(ConfigError::Invalid {
                        origin: origin.to_string(),
                        setting: "database_url",
                        message: format!(
                            "`{}` must start with sqlite:, postgres:// or postgresql://",
                            redact_url(u)
                        ),
                    });
                }
                c.database_url = Some(u.clone());
            }
            if let Some(k) = &l.master_key {
                symbolon_exchange::MasterKey::parse(k).map_err(|e| ConfigError::Invalid {
                    origin: origin.to_string(),
                    setting: "master_key",
                    message: e.to_string(),
                })?;
                c.master_key = Some(k.clone());
            }
            if let Some(a) = l.allow_private_webhooks {
                c.allow_private_webhooks = a;
            }
            if let Some(text) = &l.webhook_retry_schedule {
                c.webhook_retry_schedule =
                    parse_schedule(text).map_err(|message| ConfigError::Invalid {
                        origin: origin.to_string(),
                        setting: "webhook_retry_schedule",
                        message,
                    })?;
            }
            if let Some(text) = &l.event_poll {
                c.event_poll = parse_event_poll(text).map_err(|message| ConfigError::Invalid {
                    origin: origin.to_string(),
                    setting: "event_poll",
                    message,
                })?;
            }
            let duration = |text: &Option<String>,
                            setting: &'static str,
                            range: (u64, u64),
                            into: &mut std::time::Duration|
             -> Result<(), ConfigError> {
                if let Some(text) = text {
                    *into = parse_duration_within(text, range).map_err(|message| {
                        ConfigError::Invalid {
                            origin: origin.to_string(),
                            setting,
                            message,
                        }
                    })?;
                }
                Ok(())
            };
            duration(
                &l.header_read_timeout,
                "header_read_timeout",
                HEADER_READ_TIMEOUT_RANGE_MILLIS,
                &mut c.header_read_timeout,
            )?;
            duration(
                &l.body_read_timeout,
                "body_read_timeout",
                BODY_READ_TIMEOUT_RANGE_MILLIS,
                &mut c.body_read_timeout,
            )?;
            duration(
                &l.idle_timeout,
                "idle_timeout",
                IDLE_TIMEOUT_RANGE_MILLIS,
                &mut c.idle_timeout,
            )?;
            duration(
                &l.shutdown_grace,
                "shutdown_grace",
                SHUTDOWN_GRACE_RANGE_MILLIS,
                &mut c.shutdown_grace,
            )?;
            duration(
                &l.drain_delay,
                "drain_delay",
                DRAIN_DELAY_RANGE_MILLIS,
                &mut c.drain_delay,
            )?;
            if let Some(m) = &l.metrics_listen {
                let m = m.trim();
                c.metrics_listen = if m.is_empty() {
                    None
                } else {
                    Some(m.parse().map_err(|_| ConfigError::Invalid {
                        origin: origin.to_string(),
                        setting: "metrics_listen",
                        message: format!("`{m}` is not an address like 127.0.0.1:9090"),
                    })?)
                };
            }
            duration(
                &l.unpaid_order_ttl,
                "unpaid_order_ttl",
                UNPAID_ORDER_TTL_RANGE_MILLIS,
                &mut c.unpaid_order_ttl,
            )?;
            duration(
                &l.auto_deliver_after,
                "auto_deliver_after",
                LIFECYCLE_WINDOW_RANGE_MILLIS,
                &mut c.auto_deliver_after,
            )?;
            duration(
                &l.return_window,
                "return_window",
                LIFECYCLE_WINDOW_RANGE_MILLIS,
                &mut c.return_window,
            )?;
            if let Some(u) = &l.smtp_url {
                let u = u.trim();
                if u.is_empty() {
                    // An empty value turns mail off (e.g. to override a file).
                    c.smtp_url = None;
                } else if !(u.starts_with("smtp://") || u.starts_with("smtps://")) {
                    return Err(ConfigError::Invalid {
                        origin: origin.to_string(),
                        setting: "smtp_url",
                        message: format!("`{}` must start with smtp:// or smtps://", redact_url(u)),
                    });
                } else {
                    c.smtp_url = Some(u.to_string());
                }
            }
            if let Some(f) = &l.mail_from {
                if !f.contains('@') {
                    return Err(ConfigError::Invalid {
                        origin: origin.to_string(),
                        setting: "mail_from",
                        message: format!("`{f}` is not an address like Name <name@example.org>"),
                    });
                }
                c.mail_from = Some(f.trim().to_string());
            }
            if let Some(text) = &l.mail_retry_schedule {
                c.mail_retry_schedule =
                    parse_schedule(text).map_err(|message| ConfigError::Invalid {
                        origin: origin.to_string(),
                        setting: "mail_retry_schedule",
                        message,
                    })?;
            }
            if let Some(n) = l.max_connections {
                let (lo, hi) = MAX_CONNECTIONS_RANGE;
                if !(lo..=hi).contains(&n) {
                    return Err(ConfigError::Invalid {
                        origin: origin.to_string(),
                        setting: "max_connections",
                        message: format!("`{n}` must be between {lo} and {hi}"),
                    });
                }
                c.max_connections = n;
            }
            if let Some(n) = l.registrations_per_ip_per_hour {
                if n > MAX_REGISTRATIONS_PER_IP_PER_HOUR {
                    return Err(ConfigError::Invalid {
                        origin: origin.to_string(),
                        setting: "registrations_per_ip_per_hour",
                        message: format!(
                            "`{n}` must be at most {MAX_REGISTRATIONS_PER_IP_PER_HOUR} (0 = no limit)"
                        ),
                    });
                }
                c.registrations_per_ip_per_hour = n;
            }
            let rate = |n: Option<u32>, setting: &'static str, into: &mut u32| {
                if let Some(n) = n {
                    let (lo, hi) = RATE_LIMIT_RANGE;
                    if !(lo..=hi).contains(&n) {
                        return Err(ConfigError::Invalid {
                            origin: origin.to_string(),
                            setting,
                            message: format!("`{n}` must be between {lo} and {hi} (0 = off)"),
                        });
                    }
                    *into = n;
                }
                Ok(())
            };
            rate(
                l.rate_limit_per_second,
                "rate_limit_per_second",
                &mut c.rate_limit_per_second,
            )?;
            rate(
                l.rate_limit_burst,
                "rate_limit_burst",
                &mut c.rate_limit_burst,
            )?;
            rate(
                l.ip_rate_limit_per_second,
                "ip_rate_limit_per_second",
                &mut c.ip_rate_limit_per_second,
            )?;
            rate(
                l.ip_rate_limit_burst,
                "ip_rate_limit_burst",
                &mut c.ip_rate_limit_burst,
            )?;
            if let Some(list) = &l.trusted_proxies {
                c.trusted_proxies = list.parse().map_err(|message| ConfigError::Invalid {
                    origin: origin.to_string(),
                    setting: "trusted_proxies",
                    message,
                })?;
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod settings_tests;
#[cfg(test)]
mod tests;
