//! The settings table: every setting of `symbolon serve` once — its name
//! (the TOML key; `SYMBOLON_<NAME>` in the environment; `--name-with-dashes`
//! as a flag), its help, its default (rendered from
//! [`ServerConfig::default`], so it cannot drift from the code) and an
//! example. `symbolon config default`, the flags' help, the README's table
//! and `symbolon config check` are all made from it; the tests keep it equal
//! to [`ConfigLayer`]'s fields and to what the environment reads.

use super::{ConfigLayer, ServerConfig};
use std::time::Duration;

/// What kind of value a setting takes (how an environment variable's text
/// becomes its TOML value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A string: an address, a path, a URL, a duration (`"10s"`), a list of durations.
    Text,
    /// `true` or `false` (the environment also takes 1/0, yes/no, on/off).
    Bool,
    /// A whole number.
    Number,
    /// A list: a comma-separated string, or a TOML array of strings.
    List,
}

/// One setting.
pub struct Setting {
    /// The TOML key; the environment variable is `SYMBOLON_` + its upper case.
    pub name: &'static str,
    /// The heading it is listed under.
    pub section: &'static str,
    pub kind: Kind,
    /// One paragraph: what it does, its range.
    pub help: &'static str,
    /// A TOML value that shows the form (`config default` prints it when the
    /// setting has no default).
    pub example: &'static str,
    /// The default as a TOML value, from [`ServerConfig::default`]; `None`:
    /// unset (the help says what that means).
    pub default: fn(&ServerConfig) -> Option<String>,
    /// Settable by a `serve` flag. Secrets never are (a flag shows in `ps`).
    pub flag: bool,
    /// Holds a secret: never printed, never a flag.
    pub secret: bool,
}

impl Setting {
    /// `SYMBOLON_<NAME>`.
    pub fn env(&self) -> String {
        format!("SYMBOLON_{}", self.name.to_ascii_uppercase())
    }

    /// `--name-with-dashes`.
    pub fn flag_name(&self) -> String {
        self.name.replace('_', "-")
    }

    /// The default's TOML text, if the setting has one.
    pub fn default_value(&self) -> Option<String> {
        (self.default)(&ServerConfig::default())
    }
}

fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// `10s`, `5m`, `14d`, `250ms`: the largest unit that divides it.
pub fn show_duration(d: Duration) -> String {
    match d.as_millis() as u64 {
        0 => "0s".to_string(),
        ms if ms % 86_400_000 == 0 => format!("{}d", ms / 86_400_000),
        ms if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
        ms if ms % 60_000 == 0 => format!("{}m", ms / 60_000),
        ms if ms % 1000 == 0 => format!("{}s", ms / 1000),
        ms => format!("{ms}ms"),
    }
}

fn duration(d: Duration) -> Option<String> {
    Some(quoted(&show_duration(d)))
}

fn schedule(delays: &[Duration]) -> Option<String> {
    let parts: Vec<String> = delays.iter().map(|d| show_duration(*d)).collect();
    Some(quoted(&parts.join(",")))
}

const NETWORK: &str = "Network";
const STORAGE: &str = "Storage and keys";
const ACCOUNTS: &str = "Accounts and abuse limits";
const CONNECTIONS: &str = "Connections";
const ORDERS: &str = "Orders";
const EVENTS: &str = "Events and webhooks";
const MAIL: &str = "E-mail";
const MONITORING: &str = "Monitoring";

/// Every setting, in the order `config default` prints them.
pub const SETTINGS: &[Setting] = &[
    Setting {
        name: "listen",
        section: NETWORK,
        kind: Kind::Text,
        help: "The address and port to listen on (`127.0.0.1:0` picks a free port).",
        example: "\"0.0.0.0:7878\"",
        default: |c| Some(quoted(&c.listen.to_string())),
        flag: true,
        secret: false,
    },
    Setting {
        name: "public_url",
        section: NETWORK,
        kind: Kind::Text,
        help: "The base URL clients reach the server at, used in pass links, issuer ids and e-mails; \
               `https://…` also turns on Strict-Transport-Security. Unset: `http://<listen address>`.",
        example: "\"https://exchange.example.org\"",
        default: |c| c.public_url.as_deref().map(quoted),
        flag: true,
        secret: false,
    },
    Setting {
        name: "trusted_proxies",
        section: NETWORK,
        kind: Kind::List,
        help: "Reverse proxies (addresses or networks, at most 64) whose `X-Forwarded-For` names the \
               client; otherwise the client is the TCP peer. Unset: none.",
        example: "\"10.0.0.0/8, 192.0.2.7\"",
        default: |c| {
            (!c.trusted_proxies.is_empty()).then(|| {
                let parts: Vec<String> = c.trusted_proxies.iter().map(|n| n.to_string()).collect();
                quoted(&parts.join(","))
            })
        },
        flag: true,
        secret: false,
    },
    Setting {
        name: "data_dir",
        section: STORAGE,
        kind: Kind::Text,
        help: "The data directory: the SQLite database (unless `database_url` names another), the \
               search index and, unless `master_key` is set, `master.key`. Created mode 0700.",
        example: "\"/var/lib/symbolon\"",
        default: |c| Some(quoted(&c.data_dir.display().to_string())),
        flag: true,
        secret: false,
    },
    Setting {
        name: "database_url",
        section: STORAGE,
        kind: Kind::Text,
        help: "The database: `sqlite://PATH` or `postgres://USER@HOST/DB` (several replicas may \
               share one PostgreSQL database). A password in it is redacted in logs. Unset: SQLite \
               in `data_dir`.",
        example: "\"postgres://symbolon@db.internal/symbolon\"",
        default: |c| c.database_url.as_deref().map(quoted),
        flag: true,
        secret: false,
    },
    Setting {
        name: "master_key",
        section: STORAGE,
        kind: Kind::Text,
        help: "The master key (32 bytes, base64url or hex) sealing providers' signing keys and \
               signing web sessions; replicas must share it. Never a flag. Unset: \
               `<data_dir>/master.key`, created mode 0600 on first start.",
        example: "\"<32 bytes, base64url>\"",
        default: |c| c.master_key.as_ref().map(|_| quoted("[redacted]")),
        flag: false,
        secret: true,
    },
    Setting {
        name: "seed",
        section: STORAGE,
        kind: Kind::Number,
        help: "Seed for ids, so that a test run replays. Never set it in production. Unset: ids \
               come from the operating system's randomness.",
        example: "42",
        default: |c| c.seed.map(|s| s.to_string()),
        flag: false,
        secret: false,
    },
    Setting {
        name: "registration_open",
        section: ACCOUNTS,
        kind: Kind::Bool,
        help: "Whether anyone may open an account.",
        example: "false",
        default: |c| Some(c.registration_open.to_string()),
        flag: true,
        secret: false,
    },
    Setting {
        name: "registrations_per_ip_per_hour",
        section: ACCOUNTS,
        kind: Kind::Number,
        help: "Accounts one client address may register per hour (IPv6: per /64), counted in each \
               replica; behind a proxy all clients share its address unless `trusted_proxies` is \
               set. 0–1000000, 0 = no limit.",
        example: "20",
        default: |c| Some(c.registrations_per_ip_per_hour.to_string()),
        flag: true,
        secret: false,
    },
    Setting {
        name: "rate_limit_per_second",
        section: ACCOUNTS,
        kind: Kind::Number,
        help: "Requests one API key or web session may make per second once its burst is spent, \
               0–1000000 (0 = no limit); past it 429 `rate_limited` with `Retry-After`. Counted \
               in each replica.",
        example: "50",
        default: |c| Some(c.rate_limit_per_second.to_string()),
        flag: true,
        secret: false,
    },
    Setting {
        name: "rate_limit_burst",
        section: ACCOUNTS,
        kind: Kind::Number,
        help: "Requests one API key or web session may make at once, 0–1000000 (0 = no limit).",
        example: "100",
        default: |c| Some(c.rate_limit_burst.to_string()),
        flag: true,
        secret: false,
    },
    Setting {
        name: "ip_rate_limit_per_second",
        section: ACCOUNTS,
        kind: Kind::Number,
        help: "Requests one client address (IPv6: per /64) may make per second, 0–1000000; off (0) \
               by default, as many buyers may share one proxy's address.",
        example: "200",
        default: |c| Some(c.ip_rate_limit_per_second.to_string()),
        flag: true,
        secret: false,
    },
    Setting {
        name: "ip_rate_limit_burst",
        section: ACCOUNTS,
        kind: Kind::Number,
        help: "Requests one client address may make at once, 0–1000000.",
        example: "400",
        default: |c| Some(c.ip_rate_limit_burst.to_string()),
        flag: true,
        secret: false,
    },
    Setting {
        name: "header_read_timeout",
        section: CONNECTIONS,
        kind: Kind::Text,
        help: "A request head must arrive within this of its first byte, else the connection is \
               closed; 100ms–10m.",
        example: "\"5s\"",
        default: |c| duration(c.header_read_timeout),
        flag: true,
        secret: false,
    },
    Setting {
        name: "body_read_timeout",
        section: CONNECTIONS,
        kind: Kind::Text,
        help: "A request body must arrive within this of its head, else 408 and the connection is \
               closed; 100ms–1h.",
        example: "\"10s\"",
        default: |c| duration(c.body_read_timeout),
        flag: true,
        secret: false,
    },
    Setting {
        name: "idle_timeout",
        section: CONNECTIONS,
        kind: Kind::Text,
        help: "A keep-alive connection waiting this long for its next request is closed; \
               100ms–1h. Event streams are never idle.",
        example: "\"30s\"",
        default: |c| duration(c.idle_timeout),
        flag: true,
        secret: false,
    },
    Setting {
        name: "max_connections",
        section: CONNECTIONS,
        kind: Kind::Number,
        help: "Connections served at once; beyond it the server stops accepting until one closes. \
               Keep it below the process's open-file limit; 1–1000000.",
        example: "4096",
        default: |c| Some(c.max_connections.to_string()),
        flag: true,
        secret: false,
    },
    Setting {
        name: "shutdown_grace",
        section: CONNECTIONS,
        kind: Kind::Text,
        help: "On SIGTERM or SIGINT, in-flight requests get this long to finish before every \
               connection is closed; 0s–10m.",
        example: "\"30s\"",
        default: |c| duration(c.shutdown_grace),
        flag: true,
        secret: false,
    },
    Setting {
        name: "drain_delay",
        section: CONNECTIONS,
        kind: Kind::Text,
        help: "On SIGTERM or SIGINT, `/readyz` answers 503 at once and the server keeps serving (and \
               accepting) this long before it stops accepting, so a load balancer stops sending it \
               traffic first; 0s–10m (`0s`: no drain).",
        example: "\"15s\"",
        default: |c| duration(c.drain_delay),
        flag: true,
        secret: false,
    },
    Setting {
        name: "metrics_listen",
        section: MONITORING,
        kind: Kind::Text,
        help: "Serve `/metrics` (Prometheus text format) only on this address, on a listener of its \
               own, and not on the main listener. Unset (or empty): on the main listener.",
        example: "\"127.0.0.1:9090\"",
        default: |c| c.metrics_listen.map(|a| quoted(&a.to_string())),
        flag: true,
        secret: false,
    },
    Setting {
        name: "unpaid_order_ttl",
        section: ORDERS,
        kind: Kind::Text,
        help: "How long an unpaid order may be paid in before it expires (unpaid orders hold no \
               stock); 1m–7d.",
        example: "\"1h\"",
        default: |c| duration(c.unpaid_order_ttl),
        flag: true,
        secret: false,
    },
    Setting {
        name: "auto_deliver_after",
        section: ORDERS,
        kind: Kind::Text,
        help: "A shipped order counts as delivered this long after shipping unless its requester \
               confirmed earlier; 1m–365d.",
        example: "\"21d\"",
        default: |c| duration(c.auto_deliver_after),
        flag: true,
        secret: false,
    },
    Setting {
        name: "return_window",
        section: ORDERS,
        kind: Kind::Text,
        help: "How long after delivery a return may be requested; the provider's and holder's \
               money stays pending until it has passed; 1m–365d.",
        example: "\"30d\"",
        default: |c| duration(c.return_window),
        flag: true,
        secret: false,
    },
    Setting {
        name: "event_poll",
        section: EVENTS,
        kind: Kind::Text,
        help: "How often to look for events committed by other replicas (this replica's own writes \
               go out at once); 10ms–60s.",
        example: "\"1s\"",
        default: |c| duration(c.event_poll),
        flag: true,
        secret: false,
    },
    Setting {
        name: "webhook_retry_schedule",
        section: EVENTS,
        kind: Kind::Text,
        help: "Delays between webhook attempts (the last repeats until the retention ends); at \
               most 32, each at most 7d.",
        example: "\"5s,5m,30m,2h\"",
        default: |c| {
            schedule(&c.webhook_policy().retry_schedule)
        },
        flag: true,
        secret: false,
    },
    Setting {
        name: "allow_private_webhooks",
        section: EVENTS,
        kind: Kind::Bool,
        help: "Let webhooks reach loopback and private addresses (tests, on-premise receivers).",
        example: "true",
        default: |c| Some(c.allow_private_webhooks.to_string()),
        flag: true,
        secret: false,
    },
    Setting {
        name: "smtp_url",
        section: MAIL,
        kind: Kind::Text,
        help: "The SMTP server notifications go through: `smtp://[user:password@]host[:port]` \
               (add `?tls=required` for STARTTLS) or `smtps://…` (TLS from the start). It may \
               hold a password: never a flag, redacted in logs. Unset (or empty): e-mail is off.",
        example: "\"smtp://user:secret@mail.example.org:587?tls=required\"",
        default: |c| c.smtp_url.as_ref().map(|_| quoted("[redacted]")),
        flag: false,
        secret: true,
    },
    Setting {
        name: "mail_from",
        section: MAIL,
        kind: Kind::Text,
        help: "The `From` of notifications. Unset: `Symbolon <noreply@<public host>>`.",
        example: "\"Symbolon <noreply@example.org>\"",
        default: |c| c.mail_from.as_deref().map(quoted),
        flag: true,
        secret: false,
    },
    Setting {
        name: "mail_retry_schedule",
        section: MAIL,
        kind: Kind::Text,
        help: "Delays between attempts to send an e-mail, then it is given up; at most 32, each at \
               most 7d.",
        example: "\"10s,1m,5m\"",
        default: |c| schedule(&c.mail_retry()),
        flag: true,
        secret: false,
    },
];

/// The setting called `name`.
pub fn setting(name: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.name == name)
}

/// A flag's help: the setting's help and its default, for `serve --help`.
///
/// # Panics
/// When `name` is no setting: a programming error the CLI's tests catch.
pub fn flag_help(name: &str) -> String {
    let s = setting(name).unwrap_or_else(|| panic!("no setting {name}"));
    match s.default_value() {
        Some(d) => format!("{} [default: {}]", s.help, d.trim_matches('"')),
        None => s.help.to_string(),
    }
}

/// The closest setting name to a misspelt one, if any is close.
pub fn suggest(name: &str) -> Option<&'static str> {
    SETTINGS
        .iter()
        .map(|s| (strsim::levenshtein(name, s.name), s.name))
        .filter(|(d, n)| *d <= 3.max(n.len() / 4))
        .min()
        .map(|(_, n)| n)
}

/// Wraps `text` into `# `-comment lines of at most 100 columns.
fn comment(text: &str, out: &mut String) {
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() + 1 + word.len() > 100 && line.len() > 1 {
            out.push_str(&line);
            out.push('\n');
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
}

/// `symbolon config default`: a TOML file naming every setting, each
/// commented out at its default (or at an example, for those unset by
/// default), with its help, its environment variable and its flag.
pub fn default_toml() -> String {
    let mut out = String::new();
    out.push_str(
        "# Symbolon server configuration (`symbolon serve --config FILE`).\n\
         # Every setting is shown commented out at its default; uncomment the ones you change.\n\
         # Layers: built-in defaults < this file < SYMBOLON_* environment variables < flags.\n\
         # Durations are strings with a unit: \"250ms\", \"10s\", \"5m\", \"2h\", \"14d\".\n\
         # Check a file with `symbolon config check FILE`; an unknown key is an error.\n",
    );
    let mut section = "";
    for s in SETTINGS {
        if s.section != section {
            section = s.section;
            out.push_str(&format!("\n# ---- {section} ----\n"));
        }
        out.push('\n');
        comment(s.help, &mut out);
        let mut how = format!("Environment: {}", s.env());
        if s.flag {
            how.push_str(&format!("; flag: --{}", s.flag_name()));
        }
        how.push('.');
        comment(&how, &mut out);
        match s.default_value() {
            Some(d) if !s.secret => out.push_str(&format!("#{} = {d}\n", s.name)),
            _ => out.push_str(&format!(
                "#{} = {}   # an example; unset by default\n",
                s.name, s.example
            )),
        }
    }
    out
}

/// The README's settings table (Markdown), between its markers.
pub fn markdown_table() -> String {
    let mut out = String::from(
        "| Setting (TOML) | Environment | Flag | Default | What it does |\n|---|---|---|---|---|\n",
    );
    for s in SETTINGS {
        let flag = if s.flag {
            format!("`--{}`", s.flag_name())
        } else {
            "—".to_string()
        };
        let default = match s.default_value() {
            Some(d) if !s.secret => format!("`{d}`"),
            _ => "unset".to_string(),
        };
        out.push_str(&format!(
            "| `{}` | `{}` | {flag} | {default} | {} |\n",
            s.name,
            s.env(),
            s.help.replace('|', "\\|")
        ));
    }
    out
}

/// What `config check` found wrong with a file: the key and the reason.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("not TOML: {0}")]
    Syntax(String),
    #[error("unknown setting `{key}`{}", match .suggestion { Some(s) => format!(" (did you mean `{s}`?)"), None => String::new() })]
    Unknown {
        key: String,
        suggestion: Option<&'static str>,
    },
    #[error("{0}")]
    Invalid(String),
}

/// Checks a config file's text: TOML, every key a setting, every value of
/// the right type and in range. Returns the configuration it gives over the
/// defaults.
pub fn check(text: &str) -> Result<ServerConfig, CheckError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| CheckError::Syntax(e.to_string()))?;
    if let Some(key) = table.keys().find(|k| setting(k).is_none()) {
        return Err(CheckError::Unknown {
            key: key.clone(),
            suggestion: suggest(key),
        });
    }
    let layer: ConfigLayer =
        toml::from_str(text).map_err(|e| CheckError::Invalid(e.to_string()))?;
    ServerConfig::layered(&[("file", layer)]).map_err(|e| CheckError::Invalid(e.to_string()))
}

/// The `SYMBOLON_*` environment variables that are no setting and none of
/// the other variables the programs read — probably misspelt settings.
pub fn unknown_env(vars: impl IntoIterator<Item = (String, String)>) -> Vec<String> {
    /// Variables the CLI, the client and the tests read that are not settings.
    const OTHERS: &[&str] = &[
        "SYMBOLON_CONFIG",
        "SYMBOLON_LOG",
        "SYMBOLON_SERVER",
        "SYMBOLON_KEY",
        "SYMBOLON_HOME",
        "SYMBOLON_CHROMIUM",
        "SYMBOLON_CHROMEDRIVER",
        "SYMBOLON_AXE",
    ];
    vars.into_iter()
        .map(|(k, _)| k)
        .filter(|k| k.starts_with("SYMBOLON_"))
        .filter(|k| !OTHERS.contains(&k.as_str()))
        .filter(|k| {
            !["SYMBOLON_TEST_", "SYMBOLON_UPDATE_", "SYMBOLON_CRASH_"]
                .iter()
                .any(|p| k.starts_with(p))
        })
        .filter(|k| !SETTINGS.iter().any(|s| s.env() == *k))
        .collect()
}
