//! The layering, ranges and redaction of every setting.

use super::*;

#[test]
fn layers_apply_in_order() {
    let file: ConfigLayer =
        toml::from_str("listen = \"127.0.0.1:1\"\ndata_dir = \"/file\"\nregistration_open = false")
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
    let env = ConfigLayer::from_env([("SYMBOLON_MASTER_KEY".to_string(), key.clone())]).unwrap();
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
            ConfigLayer::from_env([("SYMBOLON_EVENT_POLL".to_string(), text.to_string())]).unwrap();
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
fn connection_timeouts_are_one_duration_within_their_ranges() {
    use std::time::Duration;
    let d = ServerConfig::default();
    assert_eq!(
        (
            d.header_read_timeout,
            d.body_read_timeout,
            d.idle_timeout,
            d.shutdown_grace
        ),
        (
            Duration::from_secs(10),
            Duration::from_secs(30),
            Duration::from_secs(60),
            Duration::from_secs(10)
        )
    );
    type Get = fn(&ServerConfig) -> Duration;
    let cases: [(&str, &str, (u64, u64), Get); 5] = [
        (
            "SYMBOLON_DRAIN_DELAY",
            "drain_delay",
            DRAIN_DELAY_RANGE_MILLIS,
            |c| c.drain_delay,
        ),
        (
            "SYMBOLON_HEADER_READ_TIMEOUT",
            "header_read_timeout",
            HEADER_READ_TIMEOUT_RANGE_MILLIS,
            |c| c.header_read_timeout,
        ),
        (
            "SYMBOLON_BODY_READ_TIMEOUT",
            "body_read_timeout",
            BODY_READ_TIMEOUT_RANGE_MILLIS,
            |c| c.body_read_timeout,
        ),
        (
            "SYMBOLON_IDLE_TIMEOUT",
            "idle_timeout",
            IDLE_TIMEOUT_RANGE_MILLIS,
            |c| c.idle_timeout,
        ),
        (
            "SYMBOLON_SHUTDOWN_GRACE",
            "shutdown_grace",
            SHUTDOWN_GRACE_RANGE_MILLIS,
            |c| c.shutdown_grace,
        ),
    ];
    for (var, setting, (lo, hi), get) in cases {
        let at = |text: String| {
            let env = ConfigLayer::from_env([(var.to_string(), text)]).unwrap();
            ServerConfig::layered(&[("env", env)]).map(|c| get(&c))
        };
        assert_eq!(at(format!("{lo}ms")).unwrap(), Duration::from_millis(lo));
        assert_eq!(at(format!("{hi}ms")).unwrap(), Duration::from_millis(hi));
        let mut bad = vec![format!("{}ms", hi + 1), "1s,2s".into(), "soon".into()];
        if lo > 0 {
            bad.push(format!("{}ms", lo - 1));
        }
        for b in bad {
            let e = at(b.clone()).unwrap_err().to_string();
            assert!(e.starts_with(&format!("env: {setting}:")), "{b}: {e}");
        }
    }
    // The file layer, under the environment, under flags.
    let file: ConfigLayer =
        toml::from_str("idle_timeout = \"5s\"\nshutdown_grace = \"0s\"").unwrap();
    let env =
        ConfigLayer::from_env([("SYMBOLON_IDLE_TIMEOUT".to_string(), "7s".to_string())]).unwrap();
    let flags = ConfigLayer {
        header_read_timeout: Some("2s".into()),
        ..Default::default()
    };
    let c = ServerConfig::layered(&[("file", file), ("env", env), ("flags", flags)]).unwrap();
    assert_eq!(c.idle_timeout, Duration::from_secs(7));
    assert_eq!(c.shutdown_grace, Duration::ZERO);
    assert_eq!(c.header_read_timeout, Duration::from_secs(2));
}

#[test]
fn connection_and_registration_caps_are_checked_at_their_edges() {
    let at = |var: &str, text: &str| {
        ConfigLayer::from_env([(var.to_string(), text.to_string())])
            .and_then(|env| ServerConfig::layered(&[("env", env)]))
    };
    let d = ServerConfig::default();
    assert_eq!(d.max_connections, symbolon_core::limits::MAX_CONNECTIONS);
    assert_eq!(d.registrations_per_ip_per_hour, 0, "off by default");
    let (lo, hi) = MAX_CONNECTIONS_RANGE;
    let mc = |t: &str| at("SYMBOLON_MAX_CONNECTIONS", t).map(|c| c.max_connections);
    assert_eq!(mc(&lo.to_string()).unwrap(), lo);
    assert_eq!(mc(&hi.to_string()).unwrap(), hi);
    for bad in [(lo - 1).to_string(), (hi + 1).to_string(), "many".into()] {
        let e = mc(&bad).unwrap_err().to_string();
        assert!(e.contains("max_connections"), "{bad}: {e}");
    }
    let r = |t: &str| {
        at("SYMBOLON_REGISTRATIONS_PER_IP_PER_HOUR", t).map(|c| c.registrations_per_ip_per_hour)
    };
    assert_eq!(r("0").unwrap(), 0);
    let max = MAX_REGISTRATIONS_PER_IP_PER_HOUR;
    assert_eq!(r(&max.to_string()).unwrap(), max);
    for bad in [(u64::from(max) + 1).to_string(), "-1".into(), "lots".into()] {
        let e = r(&bad).unwrap_err().to_string();
        assert!(e.contains("registrations_per_ip_per_hour"), "{bad}: {e}");
    }
    let file: ConfigLayer =
        toml::from_str("max_connections = 3\nregistrations_per_ip_per_hour = 5").unwrap();
    let c = ServerConfig::layered(&[("file", file)]).unwrap();
    assert_eq!((c.max_connections, c.registrations_per_ip_per_hour), (3, 5));
    let flags = ConfigLayer {
        max_connections: Some(0),
        ..Default::default()
    };
    let e = ServerConfig::layered(&[("flags", flags)]).unwrap_err();
    assert!(e.to_string().starts_with("flags: max_connections:"), "{e}");
}

#[test]
fn unpaid_order_ttl_is_one_duration_within_its_range() {
    let at = |text: &str| {
        let env =
            ConfigLayer::from_env([("SYMBOLON_UNPAID_ORDER_TTL".to_string(), text.to_string())])
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

#[test]
fn smtp_is_off_by_default_layered_checked_and_redacted() {
    let d = ServerConfig::layered(&[]).unwrap();
    assert_eq!(d.smtp_url, None, "mail is off unless configured");
    assert_eq!(
        d.mail_retry().first(),
        Some(&std::time::Duration::from_secs(10))
    );
    let file: ConfigLayer = toml::from_str(
        "smtp_url = \"smtp://file@h:25\"\nmail_from = \"S <s@example.org>\"\nmail_retry_schedule = \"1s,2s\"",
    )
    .unwrap();
    let env = ConfigLayer::from_env([(
        "SYMBOLON_SMTP_URL".to_string(),
        "smtp://mailer:hunter2@mail.example.org:587?tls=required".to_string(),
    )])
    .unwrap();
    assert!(!format!("{env:?}").contains("hunter2"));
    let flags = ConfigLayer {
        mail_retry_schedule: Some("200ms".into()),
        ..Default::default()
    };
    let c = ServerConfig::layered(&[("file", file), ("env", env), ("flags", flags)]).unwrap();
    assert_eq!(
        c.smtp_url.as_deref(),
        Some("smtp://mailer:hunter2@mail.example.org:587?tls=required")
    );
    assert_eq!(c.mail_from.as_deref(), Some("S <s@example.org>"));
    assert_eq!(c.mail_retry(), vec![std::time::Duration::from_millis(200)]);
    let dbg = format!("{c:?}");
    assert!(
        !dbg.contains("hunter2") && dbg.contains("smtp://mailer:***@mail.example.org"),
        "{dbg}"
    );
    for bad in ["http://x", "mail.example.org"] {
        let l = ConfigLayer {
            smtp_url: Some(bad.into()),
            ..Default::default()
        };
        let e = ServerConfig::layered(&[("flags", l)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("smtp_url"), "{e}");
    }
    let off = ConfigLayer::from_env([("SYMBOLON_SMTP_URL".to_string(), String::new())]).unwrap();
    let c = ServerConfig::layered(&[("env", off)]).unwrap();
    assert_eq!(c.smtp_url, None, "an empty URL turns mail off");
}

#[test]
fn rate_limits_and_trusted_proxies_at_their_edges() {
    let at = |var: &str, text: &str| {
        ConfigLayer::from_env([(var.to_string(), text.to_string())])
            .and_then(|env| ServerConfig::layered(&[("env", env)]))
    };
    let d = ServerConfig::default();
    assert_eq!((d.rate_limit_per_second, d.rate_limit_burst), (100, 200));
    assert_eq!(
        (d.ip_rate_limit_per_second, d.ip_rate_limit_burst),
        (0, 200)
    );
    assert!(d.trusted_proxies.is_empty());
    let (lo, hi) = RATE_LIMIT_RANGE;
    assert_eq!((lo, hi), (0, 1_000_000));
    for (var, setting) in [
        ("SYMBOLON_RATE_LIMIT_PER_SECOND", "rate_limit_per_second"),
        ("SYMBOLON_RATE_LIMIT_BURST", "rate_limit_burst"),
        (
            "SYMBOLON_IP_RATE_LIMIT_PER_SECOND",
            "ip_rate_limit_per_second",
        ),
        ("SYMBOLON_IP_RATE_LIMIT_BURST", "ip_rate_limit_burst"),
    ] {
        let get = |c: ServerConfig| match setting {
            "rate_limit_per_second" => c.rate_limit_per_second,
            "rate_limit_burst" => c.rate_limit_burst,
            "ip_rate_limit_per_second" => c.ip_rate_limit_per_second,
            _ => c.ip_rate_limit_burst,
        };
        assert_eq!(get(at(var, "0").unwrap()), 0, "{var}: 0 = off");
        assert_eq!(get(at(var, &hi.to_string()).unwrap()), hi, "{var}");
        for bad in [(u64::from(hi) + 1).to_string(), "-1".into(), "fast".into()] {
            let e = at(var, &bad).unwrap_err().to_string();
            assert!(e.contains(setting), "{var}={bad}: {e}");
        }
    }
    // Off means no limiter.
    let off = at("SYMBOLON_RATE_LIMIT_BURST", "0").unwrap();
    assert_eq!(off.credential_rate().burst, 0);
    // The TOML file: numbers, and the proxies as a string or an array.
    let file: ConfigLayer = toml::from_str(
        "rate_limit_per_second = 5\nrate_limit_burst = 10\nip_rate_limit_per_second = 2\n\
         trusted_proxies = [\"10.0.0.0/8\", \"::1\"]",
    )
    .unwrap();
    let c = ServerConfig::layered(&[("file", file)]).unwrap();
    assert_eq!(
        (
            c.rate_limit_per_second,
            c.rate_limit_burst,
            c.ip_rate_limit_per_second
        ),
        (5, 10, 2)
    );
    let shown: Vec<String> = c.trusted_proxies.iter().map(|n| n.to_string()).collect();
    assert_eq!(shown, ["10.0.0.0/8", "::1/128"]);
    let file: ConfigLayer = toml::from_str("trusted_proxies = \"192.0.2.7, 10.1.0.0/16\"").unwrap();
    assert_eq!(
        ServerConfig::layered(&[("file", file)])
            .unwrap()
            .trusted_proxies
            .len(),
        2
    );
    let proxies = |t: &str| at("SYMBOLON_TRUSTED_PROXIES", t).map(|c| c.trusted_proxies.len());
    assert_eq!(proxies("").unwrap(), 0, "empty: none trusted");
    assert_eq!(proxies("10.0.0.1 10.0.0.2").unwrap(), 2);
    let max = symbolon_core::limits::MAX_TRUSTED_PROXIES;
    assert_eq!(proxies(&vec!["10.0.0.1"; max].join(",")).unwrap(), max);
    for bad in [
        vec!["10.0.0.1"; max + 1].join(","),
        "10.0.0.0/33".into(),
        "proxy.internal".into(),
    ] {
        let e = proxies(&bad).unwrap_err().to_string();
        assert!(e.contains("trusted_proxies"), "{bad}: {e}");
    }
    // Flags: the origin named.
    let flags = ConfigLayer {
        rate_limit_burst: Some(hi + 1),
        ..Default::default()
    };
    let e = ServerConfig::layered(&[("flags", flags)]).unwrap_err();
    assert!(e.to_string().starts_with("flags: rate_limit_burst:"), "{e}");
}

#[test]
fn metrics_listen_moves_metrics_off_the_main_listener_and_an_empty_value_brings_it_back() {
    let d = ServerConfig::default();
    assert_eq!(d.metrics_listen, None, "on the main listener by default");
    assert_eq!(
        d.drain_delay.as_millis() as u64,
        symbolon_core::limits::DRAIN_DELAY_MILLIS
    );
    let file: ConfigLayer = toml::from_str("metrics_listen = \"127.0.0.1:9090\"").unwrap();
    let c = ServerConfig::layered(&[("file", file.clone())]).unwrap();
    assert_eq!(c.metrics_listen, Some("127.0.0.1:9090".parse().unwrap()));
    // The environment overrides the file; an empty value turns it off again.
    let env =
        ConfigLayer::from_env([("SYMBOLON_METRICS_LISTEN".to_string(), String::new())]).unwrap();
    let c = ServerConfig::layered(&[("file", file), ("env", env)]).unwrap();
    assert_eq!(c.metrics_listen, None);
    let env = ConfigLayer::from_env([(
        "SYMBOLON_METRICS_LISTEN".to_string(),
        "localhost".to_string(),
    )])
    .unwrap();
    let e = ServerConfig::layered(&[("env", env)])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("env: metrics_listen:"), "{e}");
}
