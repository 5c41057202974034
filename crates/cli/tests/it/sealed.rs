//! Sealed secrets end to end, through the real binary and CLI, each party
//! with its own keystore (`SYMBOLON_HOME`): the provider seals a device's
//! admin password into a pass and grants it; a holder offers it; the
//! requester pays; the provider agent releases its share; the requester opens
//! the secret. With only the holder's share, or only the provider's, opening
//! fails. Debian's `age -d` and `zstd -d` open the exported identity and
//! payload too. Finally the whole database and the server's log contain
//! neither the secret, nor a share, nor the rebuilt identity.

use super::{command, REQUESTER_PROFILE};
use base64::Engine as _;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

pub(crate) const SECRET: &str = "router admin password: Tr0ub4dor&3-horse-battery";

pub(crate) struct Node {
    child: Child,
    pub(crate) url: String,
    data: tempfile::TempDir,
    log: PathBuf,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn start() -> Node {
    let data = tempfile::tempdir().unwrap();
    let log = data.path().join("server.log");
    let mut child = command()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .env("SYMBOLON_LOG", "debug,sqlx=debug")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    Node {
        child,
        url,
        data,
        log,
    }
}

/// One party: its API key and its own keystore directory.
pub(crate) struct Party {
    pub(crate) id: String,
    pub(crate) key: String,
    pub(crate) home: tempfile::TempDir,
}

impl Party {
    /// Starts this party's `provider agent` (with `extra` flags), its stdout piped.
    pub(crate) fn agent(&self, node: &Node, extra: &[&str], stderr: Stdio) -> Child {
        command()
            .env("SYMBOLON_HOME", self.home.path())
            .args([
                "--server", &node.url, "--key", &self.key, "provider", "agent",
            ])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start the provider agent")
    }
}

pub(crate) fn cli(
    node: &Node,
    home: &Path,
    key: Option<&str>,
    json: bool,
    args: &[&str],
) -> Output {
    let mut c = command();
    c.env("SYMBOLON_HOME", home).args(["--server", &node.url]);
    if let Some(k) = key {
        c.args(["--key", k]);
    }
    if json {
        c.arg("--json");
    }
    c.args(args).stdin(Stdio::null()).output().unwrap()
}

pub(crate) fn ok(out: Output, what: &str) -> Value {
    assert!(
        out.status.success(),
        "`{what}` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

pub(crate) fn party(node: &Node, name: &str, role: &str) -> Party {
    let p = party_without_keys(node, name, role);
    let keys = ok(p.run(node, &["keys", "init"]), "keys init");
    assert!(keys["age_recipient"].as_str().unwrap().starts_with("age1"));
    p
}

/// An account whose machine has run no `keys init` yet.
pub(crate) fn party_without_keys(node: &Node, name: &str, role: &str) -> Party {
    let home = tempfile::tempdir().unwrap();
    let a = ok(
        cli(
            node,
            home.path(),
            None,
            true,
            &["account", "create", "--name", name, "--role", role],
        ),
        "account create",
    );
    Party {
        id: a["id"].as_str().unwrap().into(),
        key: a["api_key"].as_str().unwrap().into(),
        home,
    }
}

impl Party {
    pub(crate) fn run(&self, node: &Node, args: &[&str]) -> Output {
        cli(node, self.home.path(), Some(&self.key), true, args)
    }
    pub(crate) fn json(&self, node: &Node, args: &[&str]) -> Value {
        ok(self.run(node, args), &args.join(" "))
    }
}

fn tool(name: &str) -> bool {
    std::process::Command::new(name)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[test]
fn a_sealed_secret_opens_only_with_both_shares_and_the_exchange_never_sees_it() {
    let node = start();
    let provider = party(&node, "Router Co", "provider");
    let h1 = party(&node, "Hana", "holder");
    let h2 = party(&node, "Hugo", "holder");
    let r1 = party(&node, "Rita", "requester");
    let r2 = party(&node, "Rolf", "requester");

    // The provider's keystore is private.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let ks = provider
            .home
            .path()
            .join("accounts")
            .join(&provider.id)
            .join("keys.json");
        assert_eq!(
            std::fs::metadata(&ks).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let shown = provider.json(&node, &["keys", "show"]);
    assert_eq!(shown["registered"], true);
    assert_eq!(shown["fingerprint"].as_str().unwrap().len(), 39);

    let product = provider.json(
        &node,
        &[
            "product",
            "create",
            "--title",
            "Mesh Wi-Fi router AX3000",
            "--category",
            "electronics/network",
            "--price",
            "89.00",
            "--currency",
            "USD",
            "--stock",
            "20",
        ],
    );
    let pass = provider.json(
        &node,
        &[
            "pass",
            "create",
            "--product",
            product["id"].as_str().unwrap(),
            "--mode",
            "shareable",
            "--commission-bps",
            "800",
        ],
    );
    let pass_id = pass["id"].as_str().unwrap().to_string();
    let secret_file = provider.home.path().join("admin-password.txt");
    std::fs::write(&secret_file, SECRET).unwrap();
    let sealed = provider.json(
        &node,
        &[
            "seal",
            "--pass",
            &pass_id,
            "--secret-file",
            secret_file.to_str().unwrap(),
        ],
    );
    assert_eq!(
        (sealed["k"].as_u64(), sealed["n"].as_u64()),
        (Some(2), Some(2))
    );
    // Sealed once.
    let again = provider.run(
        &node,
        &[
            "seal",
            "--pass",
            &pass_id,
            "--secret-file",
            secret_file.to_str().unwrap(),
        ],
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already_sealed"));

    for h in [&h1, &h2] {
        h.json(&node, &["holder", "profile", "--field", "electronics"]);
        let g = provider.run(&node, &["pass", "grant", &pass_id, "--holder", &h.id]);
        ok(g, "grant");
    }
    for r in [&r1, &r2] {
        r.json(&node, REQUESTER_PROFILE);
    }

    // The provider agent follows the provider's events from now on.
    let mut agent = provider.agent(&node, &[], Stdio::null());
    let (tx, released) = std::sync::mpsc::channel::<String>();
    let agent_out = agent.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(agent_out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });

    // Rita: the holder's offer carries its share; before payment, one share is not enough.
    let demand = r1.json(&node, &["demand", "create", "mesh router"]);
    let demand_id = demand["id"].as_str().unwrap().to_string();
    let offer_of = |h: &Party, demand_id: &str| -> String {
        let inbox = h.json(&node, &["inbox"]);
        let item = inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["demand_id"] == demand_id)
            .unwrap()
            .clone();
        let out = h.run(
            &node,
            &["offer", item["id"].as_str().unwrap(), "--pass", &pass_id],
        );
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        let offer = ok(out, "offer");
        assert!(
            stderr.contains("your share went to the requester"),
            "{stderr}"
        );
        offer["id"].as_str().unwrap().to_string()
    };
    let offer1 = offer_of(&h1, &demand_id);
    r1.json(&node, &["accept", &offer1]);
    let order = r1.json(&node, &["order", "create", "--offer", &offer1]);
    let order1 = order["id"].as_str().unwrap().to_string();
    assert_eq!(order["status"], "placed");
    let out_file = r1.home.path().join("secret.txt");
    let early = r1.run(
        &node,
        &[
            "open",
            "--order",
            &order1,
            "--out",
            out_file.to_str().unwrap(),
        ],
    );
    assert!(!early.status.success());
    assert!(
        String::from_utf8_lossy(&early.stderr).contains("1 share(s), 2 needed"),
        "{}",
        String::from_utf8_lossy(&early.stderr)
    );
    assert!(!out_file.exists(), "no partial output");

    // Payment: the agent releases the provider's share.
    r1.json(&node, &["order", "pay", &order1]);
    let wait_release = |order: &str| {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = released
                .recv_timeout(left)
                .expect("the agent releases the share");
            if line.contains(order) {
                assert!(line.starts_with("released 1 share(s)"), "{line}");
                return;
            }
        }
    };
    wait_release(&order1);
    let identity_file = r1.home.path().join("identity.txt");
    let payload_file = r1.home.path().join("payload.age");
    let opened = r1.run(
        &node,
        &[
            "open",
            "--order",
            &order1,
            "--out",
            out_file.to_str().unwrap(),
            "--export-identity",
            identity_file.to_str().unwrap(),
            "--save-payload",
            payload_file.to_str().unwrap(),
        ],
    );
    ok(opened, "open");
    assert_eq!(std::fs::read_to_string(&out_file).unwrap(), SECRET);
    let to_stdout = r1.run(&node, &["open", "--order", &order1]);
    assert_eq!(String::from_utf8_lossy(&to_stdout.stdout), SECRET);

    // Rolf: his holder offers without sending its share (straight through the
    // API); the provider's share alone is not enough.
    let demand2 = r2.json(&node, &["demand", "create", "mesh router"]);
    let d2 = demand2["id"].as_str().unwrap().to_string();
    let inbox = h2.json(&node, &["inbox"]);
    let item = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["demand_id"] == d2.as_str())
        .unwrap()
        .clone();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let offer2 = rt.block_on(async {
        let c = symbolon_client::Client::new(&node.url)
            .unwrap()
            .with_key(&h2.key);
        c.offer(
            item["id"].as_str().unwrap(),
            &symbolon_client::api::CreateOffer {
                pass_id: pass_id.clone(),
                note: None,
            },
        )
        .await
        .unwrap()
        .id
    });
    r2.json(&node, &["accept", &offer2]);
    let order2 = r2.json(&node, &["order", "create", "--offer", &offer2, "--pay"]);
    let order2 = order2["id"].as_str().unwrap().to_string();
    wait_release(&order2);
    let only_provider = r2.run(&node, &["open", "--order", &order2]);
    assert!(!only_provider.status.success());
    assert!(String::from_utf8_lossy(&only_provider.stderr).contains("1 share(s), 2 needed"));
    assert!(only_provider.stdout.is_empty(), "no partial plaintext");
    // Another requester cannot use Rita's order.
    let foreign = r2.run(&node, &["open", "--order", &order1]);
    assert!(!foreign.status.success());
    assert!(String::from_utf8_lossy(&foreign.stderr).contains("forbidden"));
    #[cfg(unix)]
    for f in [&out_file, &identity_file, &payload_file] {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(f).unwrap().permissions().mode() & 0o777,
            0o600,
            "{f:?}"
        );
    }
    // Keys are trusted on first use: a holder whose keys change is refused
    // until the provider accepts the new ones.
    h2.json(&node, &["keys", "init", "--force"]);
    let changed = provider.run(
        &node,
        &["share", "send", "--pass", &pass_id, "--holder", &h2.id],
    );
    assert!(!changed.status.success());
    assert!(
        String::from_utf8_lossy(&changed.stderr).contains("other keys"),
        "{}",
        String::from_utf8_lossy(&changed.stderr)
    );
    provider.json(&node, &["keys", "trust", &h2.id]);
    let resent = provider.run(
        &node,
        &["share", "send", "--pass", &pass_id, "--holder", &h2.id],
    );
    assert!(
        resent.status.success(),
        "{}",
        String::from_utf8_lossy(&resent.stderr)
    );
    let _ = agent.kill();
    let _ = agent.wait();

    // Interop: the standard tools open what we exported.
    if tool("age") && tool("zstd") {
        let age = std::process::Command::new("age")
            .arg("-d")
            .arg("-i")
            .arg(&identity_file)
            .arg(&payload_file)
            .output()
            .unwrap();
        assert!(
            age.status.success(),
            "{}",
            String::from_utf8_lossy(&age.stderr)
        );
        let mut zstd = std::process::Command::new("zstd")
            .args(["-d", "-c"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        zstd.stdin.take().unwrap().write_all(&age.stdout).unwrap();
        let plain = zstd.wait_with_output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&plain.stdout),
            SECRET,
            "age -d | zstd -d"
        );
        eprintln!("interop: Debian's age -d and zstd -d opened the payload");
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the age interop test: apt-get install age zstd"
        );
        eprintln!("age interop test skipped: the age and zstd tools are not installed");
    }

    // The exchange never held anything that opens the secret.
    let identity = std::fs::read_to_string(&identity_file)
        .unwrap()
        .trim()
        .to_string();
    let seal_file: Value = serde_json::from_str(
        &std::fs::read_to_string(
            provider
                .home
                .path()
                .join("accounts")
                .join(&provider.id)
                .join("seals")
                .join(format!("{pass_id}.json")),
        )
        .unwrap(),
    )
    .unwrap();
    let mut needles: Vec<(String, Vec<u8>)> = vec![
        ("the secret".into(), SECRET.as_bytes().to_vec()),
        ("the identity".into(), identity.as_bytes().to_vec()),
        (
            "the identity (lowercase)".into(),
            identity.to_lowercase().into_bytes(),
        ),
    ];
    for s in seal_file["shares"].as_array().unwrap() {
        let b64 = s["share"].as_str().unwrap();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        needles.push((
            format!("share {} (base64)", s["index"]),
            b64.as_bytes().to_vec(),
        ));
        needles.push((format!("share {} (bytes)", s["index"]), raw[1..].to_vec()));
    }
    let dump = dump_database(&node.data.path().join("symbolon.db"));
    let log = std::fs::read(&node.log).unwrap();
    assert!(
        dump.len() > 10_000,
        "the dump has the data ({} bytes)",
        dump.len()
    );
    // Positive controls: what the exchange does store is found by the same scan.
    let stored_share = rt_block(async {
        let c = symbolon_client::Client::new(&node.url)
            .unwrap()
            .with_key(&r1.key);
        let items = c.my_shares(&pass_id).await.unwrap().items;
        base64::engine::general_purpose::STANDARD
            .decode(&items[0].wrapped)
            .unwrap()
    });
    let sealed_payload = std::fs::read(&payload_file).unwrap();
    for (what, present) in [
        ("a wrapped share", &stored_share),
        ("the sealed payload", &sealed_payload),
    ] {
        assert!(
            dump.windows(present.len()).any(|w| w == present.as_slice()),
            "{what} is in the dump"
        );
    }
    assert!(
        log.len() > 1_000,
        "the log has the requests ({} bytes)",
        log.len()
    );
    for (what, needle) in &needles {
        for (where_, hay) in [("database", &dump), ("log", &log)] {
            assert!(
                !hay.windows(needle.len()).any(|w| w == needle.as_slice()),
                "{what} found in the {where_}"
            );
        }
    }
}

fn rt_block<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Runtime::new().unwrap().block_on(f)
}

/// Every row of every table, as bytes (text as is, blobs raw, numbers as text).
fn dump_database(path: &Path) -> Vec<u8> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sqlx::{Connection, Row, ValueRef};
        let mut conn =
            sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=ro", path.display()))
                .await
                .unwrap();
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                .fetch_all(&mut conn)
                .await
                .unwrap();
        let mut out = Vec::new();
        for t in tables {
            let rows = sqlx::query(&format!("SELECT * FROM \"{t}\""))
                .fetch_all(&mut conn)
                .await
                .unwrap();
            for row in rows {
                for (i, _) in row.columns().iter().enumerate() {
                    if row.try_get_raw(i).map(|v| v.is_null()).unwrap_or(true) {
                        continue;
                    }
                    if let Ok(b) = row.try_get::<Vec<u8>, _>(i) {
                        out.extend(b);
                    } else if let Ok(s) = row.try_get::<String, _>(i) {
                        out.extend(s.into_bytes());
                    } else if let Ok(n) = row.try_get::<i64, _>(i) {
                        out.extend(n.to_string().into_bytes());
                    }
                    out.push(b'\n');
                }
            }
        }
        out
    })
}
