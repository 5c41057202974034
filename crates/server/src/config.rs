//! Server configuration, layered: built-in defaults < TOML file < `SYMBOLON_*`
//! environment variables < command-line flags.

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
    /// How long an unpaid order may be paid in before it expires.
    pub unpaid_order_ttl: std::time::Duration,
}

/// The shortest and longest [`ServerConfig::event_poll`] accepted.
pub const EVENT_POLL_RANGE_MILLIS: (u64, u64) = (10, 60_000);

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
            unpaid_order_ttl: std::time::Duration::from_secs(
                symbolon_core::limits::DEFAULT_UNPAID_ORDER_TTL_SECONDS,
            ),
        }
    }
}

/// Parses `200ms,5s,5m,2h` into durations.
pub fn parse_schedule(text: &str) -> Result<Vec<std::time::Duration>, String> {
    use std::time::Duration;
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let split = part
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| format!("`{part}` needs a unit (ms, s, m or h)"))?;
        let (n, unit) = part.split_at(split);
        let n: u64 = n
            .parse()
            .map_err(|_| format!("`{part}` is not a number with a unit"))?;
        let too_long = || format!("`{part}` is longer than a week");
        let ms = match unit {
            "ms" => Some(n),
            "s" => n.checked_mul(1000),
            "m" => n.checked_mul(60_000),
            "h" => n.checked_mul(3_600_000),
            _ => return Err(format!("`{part}`: the unit must be ms, s, m or h")),
        }
        .filter(|ms| *ms <= 7 * 24 * 3_600_000)
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
    parse_duration_within(text, EVENT_POLL_RANGE_MILLIS, "200ms")
}

/// Parses one duration (`200ms`, `5s`, `30m`, `2h`) within `(lo, hi)` milliseconds.
fn parse_duration_within(
    text: &str,
    (lo, hi): (u64, u64),
    example: &str,
) -> Result<std::time::Duration, String> {
    let show = |ms: u64| match ms {
        ms if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
        ms if ms % 60_000 == 0 => format!("{}m", ms / 60_000),
        ms if ms % 1000 == 0 => format!("{}s", ms / 1000),
        ms => format!("{ms}ms"),
    };
    match parse_schedule(text)?.as_slice() {
        [d] if (lo..=hi).contains(&(d.as_millis() as u64)) => Ok(*d),
        [_] => Err(format!(
            "`{text}` must be between {} and {}",
            show(lo),
            show(hi)
        )),
        _ => Err(format!("`{text}` must be one duration, e.g. {example}")),
    }
}

/// The shortest and longest [`ServerConfig::unpaid_order_ttl`] accepted (ms).
pub const UNPAID_ORDER_TTL_RANGE_MILLIS: (u64, u64) = (
    symbolon_core::limits::MIN_UNPAID_ORDER_TTL_SECONDS * 1000,
    symbolon_core::limits::MAX_UNPAID_ORDER_TTL_SECONDS * 1000,
);

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
            .field("unpaid_order_ttl", &self.unpaid_order_ttl)
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
    /// e.g. `"30m"`.
    pub unpaid_order_ttl: Option<String>,
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
            .field("unpaid_order_ttl", &self.unpaid_order_ttl)
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
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    /// Reads `SYMBOLON_LISTEN`, `SYMBOLON_DATA_DIR`, `SYMBOLON_PUBLIC_URL`, `SYMBOLON_DATABASE_URL`,
    /// `SYMBOLON_REGISTRATION_OPEN`, `SYMBOLON_SEED`, `SYMBOLON_MASTER_KEY` from `vars`.
    pub fn from_env(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        let mut layer = Self::default();
        for (k, v) in vars {
            let bad = |setting: &'static str, message: &str| ConfigError::Invalid {
                origin: format!("environment variable {k}"),
                setting,
                message: message.to_string(),
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
                "SYMBOLON_UNPAID_ORDER_TTL" => layer.unpaid_order_ttl = Some(v),
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
            if let Some(text) = &l.unpaid_order_ttl {
                c.unpaid_order_ttl =
                    parse_duration_within(text, UNPAID_ORDER_TTL_RANGE_MILLIS, "30m").map_err(
                        |message| ConfigError::Invalid {
                            origin: origin.to_string(),
                            setting: "unpaid_order_ttl",
                            message,
                        },
                    )?;
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order() {
        let file: ConfigLayer = toml::from_str(
            "listen = \"127.0.0.1:1\"\ndata_dir = \"/file\"\nregistration_open = false",
        )
        .unwrap();
        let env = ConfigLayer::from_env([
            ("SYMBOLON_DATA_DIR".to_string(), "/env".to_string()),
            ("PATH".into(), "x".into()),
        ])
        .unwrap();
        let flags = ConfigLayer {
            listen: Some("127.0.0.1:3".into()),
            ..Default::default()
        };
        let c = ServerConfig::layered(&[("file", file), ("env", env), ("flags", flags)]).unwrap();
        assert_eq!(c.listen.port(), 3);
        assert_eq!(c.data_dir, PathBuf::from("/env"));
        assert!(!c.registration_open);
        let d = ServerConfig::layered(&[]).unwrap();
        assert_eq!(d.listen.to_string(), DEFAULT_LISTEN);
        assert!(d.registration_open);
    }

    #[test]
    fn database_url_is_layered_checked_and_redacted() {
        let env = ConfigLayer::from_env([(
            "SYMBOLON_DATABASE_URL".to_string(),
            "postgres://u:secret@h/db".to_string(),
        )])
        .unwrap();
        let c = ServerConfig::layered(&[("env", env)]).unwrap();
        assert_eq!(c.database_url.as_deref(), Some("postgres://u:secret@h/db"));
        let dbg = format!("{c:?}");
        assert!(
            !dbg.contains("secret") && dbg.contains("postgres://u:***@h/db"),
            "{dbg}"
        );
        let bad = ConfigLayer {
            database_url: Some("mysql://x".into()),
            ..Default::default()
        };
        assert!(ServerConfig::layered(&[("flags", bad)])
            .unwrap_err()
            .to_string()
            .contains("database_url"));
        assert_eq!(redact_url("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
    }

    #[test]
    fn master_key_is_checked_and_redacted() {
        let key = symbolon_exchange::MasterKey::generate().encode();
        let env =
            ConfigLayer::from_env([("SYMBOLON_MASTER_KEY".to_string(), key.clone())]).unwrap();
        assert!(!format!("{env:?}").contains(&key));
        let c = ServerConfig::layered(&[("env", env)]).unwrap();
        assert_eq!(c.master_key.as_deref(), Some(key.as_str()));
        assert!(!format!("{c:?}").contains(&key));
        let bad = ConfigLayer {
            master_key: Some("too-short".into()),
            ..Default::default()
        };
        let e = ServerConfig::layered(&[("flags", bad)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("master_key") && !e.contains("too-short"), "{e}");
    }

    #[test]
    fn bad_values_name_the_setting() {
        let e = ConfigLayer::from_env([(
            "SYMBOLON_REGISTRATION_OPEN".to_string(),
            "maybe".to_string(),
        )])
        .unwrap_err();
        assert!(e.to_string().contains("registration_open"));
        let e = ServerConfig::layered(&[(
            "flags",
            ConfigLayer {
                listen: Some("nope".into()),
                ..Default::default()
            },
        )])
        .unwrap_err();
        assert!(e.to_string().contains("listen"));
        assert!(toml::from_str::<ConfigLayer>("unknown = 1").is_err());
    }

    #[test]
    fn event_poll_is_one_duration_within_its_range() {
        let at = |text: &str| {
            let env =
                ConfigLayer::from_env([("SYMBOLON_EVENT_POLL".to_string(), text.to_string())])
                    .unwrap();
            ServerConfig::layered(&[("env", env)]).map(|c| c.event_poll)
        };
        assert_eq!(
            ServerConfig::default().event_poll.as_millis() as u64,
            symbolon_core::limits::EVENT_POLL_MILLIS
        );
        let (lo, hi) = EVENT_POLL_RANGE_MILLIS;
        assert_eq!(at(&format!("{lo}ms")).unwrap().as_millis() as u64, lo);
        assert_eq!(at(&format!("{hi}ms")).unwrap().as_millis() as u64, hi);
        for bad in [
            format!("{}ms", lo - 1),
            format!("{}ms", hi + 1),
            "1s,2s".into(),
            "".into(),
            "fast".into(),
        ] {
            let e = at(&bad).unwrap_err().to_string();
            assert!(e.starts_with("env: event_poll:"), "{bad}: {e}");
        }
    }

    #[test]
    fn unpaid_order_ttl_is_one_duration_within_its_range() {
        let at = |text: &str| {
            let env = ConfigLayer::from_env([(
                "SYMBOLON_UNPAID_ORDER_TTL".to_string(),
                text.to_string(),
            )])
            .unwrap();
            ServerConfig::layered(&[("env", env)]).map(|c| c.unpaid_order_ttl)
        };
        assert_eq!(
            ServerConfig::default().unpaid_order_ttl.as_secs(),
            symbolon_core::limits::DEFAULT_UNPAID_ORDER_TTL_SECONDS
        );
        let (lo, hi) = UNPAID_ORDER_TTL_RANGE_MILLIS;
        assert_eq!(at(&format!("{lo}ms")).unwrap().as_millis() as u64, lo);
        assert_eq!(at(&format!("{hi}ms")).unwrap().as_millis() as u64, hi);
        assert_eq!(at("30m").unwrap().as_secs(), 1800);
        for bad in [
            format!("{}ms", lo - 1),
            format!("{}ms", hi + 1),
            "soon".into(),
        ] {
            let e = at(&bad).unwrap_err().to_string();
            assert!(e.starts_with("env: unpaid_order_ttl:"), "{bad}: {e}");
        }
        let file: ConfigLayer = toml::from_str("unpaid_order_ttl = \"2h\"").unwrap();
        let flags = ConfigLayer {
            unpaid_order_ttl: Some("45m".into()),
            ..Default::default()
        };
        let c = ServerConfig::layered(&[("file", file.clone())]).unwrap();
        assert_eq!(c.unpaid_order_ttl.as_secs(), 7200);
        let c = ServerConfig::layered(&[("file", file), ("flags", flags)]).unwrap();
        assert_eq!(c.unpaid_order_ttl.as_secs(), 2700);
    }
}
