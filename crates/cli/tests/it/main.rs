//! End-to-end: a real `symbolon serve` and the whole story driven through the CLI.

mod after_sale;
mod audit;
mod backup;
mod config;
mod connections;
mod crash;
mod demo;
mod demo_web;
mod load;
mod manage;
mod readme;
mod replicas;
mod sealed;
mod sealed_traps;
mod units;
mod verify;
mod web_keys;

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_symbolon");

/// Environment variables that would change what the binary does.
const ENV: &[&str] = &[
    "SYMBOLON_SERVER",
    "SYMBOLON_KEY",
    "SYMBOLON_CONFIG",
    "SYMBOLON_LISTEN",
    "SYMBOLON_DATA_DIR",
    "SYMBOLON_PUBLIC_URL",
    "SYMBOLON_REGISTRATION_OPEN",
    "SYMBOLON_SEED",
];

fn command() -> Command {
    let mut c = Command::new(BIN);
    for k in ENV {
        c.env_remove(k);
    }
    c
}

/// Starts `symbolon serve` on a free port with `--data-dir dir` and any extra flags;
/// returns the process and the URL from its `listening on …` line.
fn spawn_serve(dir: &std::path::Path, extra: &[&str]) -> (Child, String) {
    let mut child = command()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read the first line");
    match line.trim().strip_prefix("listening on ") {
        Some(url) => (child, url.to_string()),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("unexpected first line from the server: {line:?}");
        }
    }
}

/// A running server; killed when dropped.
struct Server {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let (child, url) = spawn_serve(dir.path(), &[]);
        Self {
            child,
            url,
            _dir: dir,
        }
    }

    /// Runs the CLI against this server.
    fn run(&self, key: Option<&str>, json: bool, args: &[&str]) -> Output {
        let mut c = command();
        c.args(["--server", &self.url]);
        if let Some(k) = key {
            c.args(["--key", k]);
        }
        if json {
            c.arg("--json");
        }
        c.args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run the CLI")
    }

    /// Runs the CLI with `--json`, asserts success and parses stdout.
    fn json(&self, key: Option<&str>, args: &[&str]) -> Value {
        let out = self.run(key, true, args);
        assert!(
            out.status.success(),
            "`symbolon {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "`symbolon {}` printed no JSON ({e}): {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    /// Runs the CLI in table mode, asserts success and returns stdout.
    fn text(&self, key: Option<&str>, args: &[&str]) -> String {
        let out = self.run(key, false, args);
        assert!(
            out.status.success(),
            "`symbolon {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }
}

impl Server {
    /// Runs the CLI with no server at all (for offline commands).
    fn offline_runner() -> impl Fn(&[&str]) -> Output {
        |args: &[&str]| {
            command()
                .args(["--server", "http://127.0.0.1:9"])
                .args(args)
                .stdin(Stdio::null())
                .output()
                .expect("run the CLI")
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `requester profile` with an address and the sandbox card that pays.
const REQUESTER_PROFILE: &[&str] = &[
    "requester",
    "profile",
    "--name",
    "Rita R",
    "--line1",
    "1 Main St",
    "--city",
    "Springfield",
    "--postal-code",
    "12345",
    "--country",
    "US",
    "--card",
    "4242424242424242",
];

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

/// Creates an account; returns (id, api_key).
fn account(srv: &Server, name: &str, roles: &[&str]) -> (String, String) {
    let mut args = vec!["account", "create", "--name", name];
    for r in roles {
        args.extend(["--role", r]);
    }
    let a = srv.json(None, &args);
    (s(&a["id"]).to_string(), s(&a["api_key"]).to_string())
}

#[test]
fn the_whole_story_through_the_cli() {
    let srv = Server::start();

    // Provider: account, product, shareable pass with a 10% commission.
    let (provider_id, pk) = account(&srv, "Acme Audio", &["provider"]);
    let me = srv.json(Some(&pk), &["account", "show"]);
    assert_eq!(me["id"], provider_id.as_str());
    assert_eq!(me["roles"], serde_json::json!(["provider"]));

    let product = srv.json(
        Some(&pk),
        &[
            "product",
            "create",
            "--title",
            "Sony WH-1000XM5 headphones",
            "--description",
            "Noise cancelling",
            "--category",
            "electronics/audio/headphones",
            "--price",
            "120.00",
            "--currency",
            "USD",
            "--stock",
            "10",
            "--spec",
            "color=black",
        ],
    );
    let product_id = s(&product["id"]).to_string();
    assert_eq!(
        product["price"],
        serde_json::json!({"amount": "120.00", "currency": "USD"})
    );
    assert_eq!(product["specs"]["color"], "black");
    assert_eq!(
        srv.json(Some(&pk), &["product", "show", &product_id])["title"],
        "Sony WH-1000XM5 headphones"
    );

    let pass = srv.json(
        Some(&pk),
        &[
            "pass",
            "create",
            "--product",
            &product_id,
            "--mode",
            "shareable",
            "--commission-bps",
            "1000",
        ],
    );
    let pass_id = s(&pass["id"]).to_string();
    assert_eq!(pass["mode"], "shareable");
    assert_eq!(pass["commission_bps"], 1000);
    assert_eq!(
        srv.json(None, &["pass", "show", &pass_id])["jws"],
        pass["jws"]
    );
    let jwks = srv.json(None, &["pass", "jwks", &provider_id]);
    assert!(!jwks["keys"].as_array().expect("keys").is_empty());

    // Two holders with profiles, each granted the pass.
    let mut holders = Vec::new();
    for name in ["Hana", "Hugo"] {
        let (id, key) = account(&srv, name, &["holder"]);
        let profile = srv.json(
            Some(&key),
            &["holder", "profile", "--field", "electronics/audio"],
        );
        assert_eq!(profile["fields"], serde_json::json!(["electronics/audio"]));
        let holding = srv.json(Some(&pk), &["pass", "grant", &pass_id, "--holder", &id]);
        assert_eq!(holding["holder_id"], id.as_str());
        let wallet = srv.json(Some(&key), &["wallet"]);
        assert_eq!(wallet["items"][0]["pass"]["id"], pass_id.as_str());
        holders.push((id, key));
    }

    // Requester with an address and a sandbox card.
    let (requester_id, rk) = account(&srv, "Rita", &["requester"]);
    let profile = srv.json(Some(&rk), REQUESTER_PROFILE);
    assert_eq!(profile["payment_method"]["last4"], "4242");
    assert_eq!(
        srv.json(Some(&rk), &["requester", "show"])["ship_to"]["city"],
        "Springfield"
    );

    // A demand contacts both holders.
    let demand = srv.json(
        Some(&rk),
        &[
            "demand",
            "create",
            "noise cancelling headphones",
            "--max-price",
            "150.00",
            "--currency",
            "USD",
        ],
    );
    let demand_id = s(&demand["id"]).to_string();
    let contacted = demand["contacted"].as_array().expect("contacted");
    assert_eq!(contacted.len(), 2, "{demand}");
    for (id, _) in &holders {
        assert!(
            contacted.iter().any(|c| c["holder_id"] == id.as_str()),
            "{id} not contacted: {demand}"
        );
    }

    // Each holder finds the request in the inbox and offers the pass.
    let mut offers = Vec::new();
    for (id, key) in &holders {
        let inbox = srv.json(Some(key), &["inbox"]);
        let item = inbox["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["demand_id"] == demand_id.as_str())
            .unwrap_or_else(|| panic!("no interaction in {id}'s inbox: {inbox}"))
            .clone();
        assert_eq!(item["status"], "pending");
        assert_eq!(item["matched_pass_ids"], serde_json::json!([pass_id]));
        let offer = srv.json(
            Some(key),
            &[
                "offer",
                s(&item["id"]),
                "--pass",
                &pass_id,
                "--note",
                "in stock",
            ],
        );
        assert_eq!(offer["status"], "offered");
        offers.push(s(&offer["id"]).to_string());
    }
    let shown = srv.json(Some(&rk), &["demand", "show", &demand_id]);
    assert_eq!(shown["offers"].as_array().expect("offers").len(), 2);
    // The table compares the offers as a buyer would: rank, reputation with
    // its counts, validity, why — and the offer ids whole.
    let table = String::from_utf8(
        srv.run(Some(&rk), false, &["demand", "show", &demand_id])
            .stdout,
    )
    .expect("utf-8");
    for needle in [
        "Rank",
        "Reputation",
        "Valid until",
        "no ratings yet",
        "success 100.0% of 1 request",
        "relevance",
    ] {
        assert!(table.contains(needle), "{needle} missing:\n{table}");
    }
    for id in &offers {
        assert!(table.contains(id.as_str()), "{id} cut:\n{table}");
    }

    // Accept the first holder's offer, order and pay in one click.
    let (holder_id, hk) = &holders[0];
    let accepted = srv.json(Some(&rk), &["accept", &offers[0]]);
    assert_eq!(accepted["status"], "accepted");
    assert!(accepted["licence"].is_string(), "{accepted}");
    let order = srv.json(
        Some(&rk),
        &["order", "create", "--offer", &offers[0], "--pay"],
    );
    let order_id = s(&order["id"]).to_string();
    assert_eq!(order["status"], "paid");
    assert_eq!(
        order["total"],
        serde_json::json!({"amount": "120.00", "currency": "USD"})
    );
    assert_eq!(
        order["commission"],
        serde_json::json!({"amount": "12.00", "currency": "USD"})
    );
    assert_eq!(order["holder_id"], holder_id.as_str());
    assert_eq!(order["requester_id"], requester_id.as_str());

    // Balances are exact.
    assert_eq!(
        srv.json(Some(&rk), &["balance"])["balances"],
        serde_json::json!({"USD": "-120.00"})
    );
    assert_eq!(
        srv.json(Some(&pk), &["balance"])["balances"],
        serde_json::json!({"USD": "108.00"})
    );
    assert_eq!(
        srv.json(Some(hk), &["balance"])["balances"],
        serde_json::json!({"USD": "12.00"})
    );
    assert_eq!(
        srv.json(Some(&holders[1].1), &["balance"])["balances"],
        serde_json::json!({})
    );

    // The provider ships; the requester rates; the holder's reputation shows it.
    let listed = srv.json(Some(&pk), &["order", "list", "--role", "provider"]);
    assert_eq!(listed["items"][0]["id"], order_id.as_str());
    assert_eq!(
        srv.json(Some(&pk), &["order", "ship", &order_id])["status"],
        "shipped"
    );
    assert_eq!(
        srv.json(Some(&rk), &["order", "show", &order_id])["status"],
        "shipped"
    );
    // A buyer rates once the order arrived.
    assert_eq!(
        srv.json(Some(&rk), &["order", "delivered", &order_id])["status"],
        "delivered"
    );
    let rating = srv.json(
        Some(&rk),
        &["rate", &offers[0], "--positive", "--comment", "fast"],
    );
    assert_eq!(rating["positive"], true);
    let rep = srv.json(None, &["holder", "show", holder_id]);
    assert_eq!(rep["positive_rate"], 1.0);
    assert_eq!(rep["ratings"], 1);

    // Table mode is readable.
    let table = srv.text(Some(&pk), &["order", "list", "--role", "provider"]);
    assert!(
        table.contains(&order_id) && table.contains("120.00 USD") && table.contains("delivered"),
        "{table}"
    );
    let balance = srv.text(Some(&pk), &["balance"]);
    assert!(
        balance.contains("USD") && balance.contains("108.00"),
        "{balance}"
    );
    let rep = srv.text(None, &["holder", "show", holder_id]);
    assert!(
        rep.contains("positive rate:") && rep.contains("100.0% (1 rating)"),
        "{rep}"
    );
    let created = srv.text(
        None,
        &["account", "create", "--name", "Tab", "--role", "requester"],
    );
    assert!(created.contains("export SYMBOLON_KEY="), "{created}");

    // An API error exits non-zero, with the code on stderr and nothing on stdout.
    let out = srv.run(
        Some(&rk),
        true,
        &["demand", "create", "headphones", "--min-holders", "1"],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error: invalid_field:") && err.contains("min_holders"),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    // A missing key is named before any request.
    let out = srv.run(None, false, &["balance"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--key") && err.contains("SYMBOLON_KEY"),
        "{err}"
    );
}

/// SIGTERM and SIGINT stop the server gracefully (exit 0), and a restart on the
/// same data dir serves the same accounts.
#[cfg(unix)]
#[test]
fn signals_stop_the_server_gracefully_and_data_survives() {
    let dir = tempfile::tempdir().expect("temp dir");
    let start = || spawn_serve(dir.path(), &[]);
    let stop = |child: &mut Child, signal: &str| {
        let status = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let exit = child.wait().expect("wait");
        assert!(exit.success(), "server exited with {exit:?} after {signal}");
    };

    let (mut child, url) = start();
    let out = command()
        .args([
            "--server", &url, "--json", "account", "create", "--name", "Keeper", "--role", "holder",
        ])
        .output()
        .expect("account create");
    assert!(out.status.success());
    let created: Value = serde_json::from_slice(&out.stdout).expect("json");
    let key = created["api_key"].as_str().expect("api_key").to_string();
    stop(&mut child, "-TERM");

    let (mut child, url) = start();
    let out = command()
        .args(["--server", &url, "--key", &key, "--json", "account", "show"])
        .output()
        .expect("account show");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let me: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(me["id"], created["id"]);
    stop(&mut child, "-INT");
}

#[test]
fn events_and_webhooks_through_the_cli() {
    let srv = Server::start();
    let (_, hk) = account(&srv, "Hana", &["holder"]);
    let page = srv.json(Some(&hk), &["events"]);
    assert_eq!(page["events"], serde_json::json!([]));
    assert_eq!(page["next_after"], "evt_0");
    let bad = srv.run(Some(&hk), false, &["events", "--after", "yesterday"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid_field"));

    let w = srv.json(
        Some(&hk),
        // A public literal address: a name must resolve at registration, and
        // the test machine may have no DNS.
        &["webhook", "add", "https://93.184.216.34/symbolon"],
    );
    let id = s(&w["id"]).to_string();
    assert!(s(&w["secret"]).starts_with("whsec_"));
    assert_eq!(w["status"], "active");
    let list = srv.text(Some(&hk), &["webhook", "list"]);
    assert!(
        list.contains(&id) && list.contains("93.184.216.34"),
        "{list}"
    );
    let rotated = srv.json(Some(&hk), &["webhook", "rotate", &id]);
    assert_ne!(rotated["secret"], w["secret"]);
    assert_eq!(
        srv.json(Some(&hk), &["webhook", "show", &id])["secret"],
        Value::Null
    );
    assert_eq!(
        srv.json(Some(&hk), &["webhook", "replay", &id])["queued"],
        0
    );
    assert_eq!(
        srv.json(Some(&hk), &["webhook", "attempts", &id])["items"],
        serde_json::json!([])
    );
    let private = srv.run(
        Some(&hk),
        false,
        &["webhook", "add", "http://127.0.0.1:8080/x"],
    );
    assert!(!private.status.success());
    assert!(String::from_utf8_lossy(&private.stderr).contains("private"));
    srv.text(Some(&hk), &["webhook", "rm", &id]);
    assert_eq!(
        srv.json(Some(&hk), &["webhook", "list"])["items"],
        serde_json::json!([])
    );
}

/// `symbolon bench delivery` measures every event it asked for, on SQLite and
/// (when a test PostgreSQL is set) on two PostgreSQL replicas, with nothing
/// lost or seen twice on a stream.
#[test]
fn bench_delivery_counts_every_event() {
    let mut args = vec![
        "--json".to_string(),
        "bench".into(),
        "delivery".into(),
        "--demands".into(),
        "4".into(),
        "--burst".into(),
        "9".into(),
        "--concurrency".into(),
        "3".into(),
        "--holders".into(),
        "3".into(),
    ];
    let pg = std::env::var("SYMBOLON_TEST_POSTGRES_URL").ok();
    if let Some(url) = &pg {
        args.extend(["--postgres-url".into(), url.clone()]);
    }
    let out = command().args(&args).output().expect("run the bench");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let runs = r["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1 + usize::from(pg.is_some()), "{r}");
    for run in runs {
        assert_eq!(run["post"]["count"], 4, "{run}");
        assert_eq!(run["stream"]["count"], 12, "{run}");
        assert_eq!(run["webhook"]["count"], 12, "{run}");
        assert_eq!(run["page_poll"]["count"], 4, "{run}");
        let b = &run["burst"];
        assert_eq!(b["events"], 27, "{run}");
        assert_eq!(b["stream_duplicates"], 0, "{run}");
        assert!(
            b["stream_events_per_second"].as_f64().unwrap_or(0.0) > 0.0,
            "{run}"
        );
        assert!(
            b["webhook_events_per_second"].as_f64().unwrap_or(0.0) > 0.0,
            "{run}"
        );
        let p = &run["stream"];
        assert!(p["p50_ms"].as_f64() <= p["p99_ms"].as_f64(), "{run}");
        match run["backend"].as_str() {
            Some("postgres") => assert_eq!(run["stream_other_replica"]["count"], 12, "{run}"),
            _ => assert_eq!(run["stream_other_replica"], Value::Null, "{run}"),
        }
    }
    // Bad arguments are refused before anything starts.
    let bad = command()
        .args(["bench", "delivery", "--holders", "1"])
        .output()
        .expect("run the bench");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--holders"));
}
