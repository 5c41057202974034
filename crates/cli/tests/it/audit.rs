//! `symbolon audit verify`: a demand's selection verified online (the log's
//! key pinned on first use, the checkpoint kept), again with the kept
//! checkpoint, then offline from the saved file after the server is gone;
//! a changed entry fails with a non-zero exit naming why.

use super::{account, command, s, Server};
use std::process::{Output, Stdio};

fn audit(srv_url: &str, home: &std::path::Path, key: Option<&str>, args: &[&str]) -> Output {
    let mut c = command();
    c.env("SYMBOLON_HOME", home).args(["--server", srv_url]);
    if let Some(k) = key {
        c.args(["--key", k]);
    }
    c.args(["audit", "verify"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run the CLI")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn audit_verify_online_then_offline_and_a_changed_entry_fails() {
    let srv = Server::start();
    let (_, pk) = account(&srv, "Maker", &["provider"]);
    let product = srv.json(
        Some(&pk),
        &[
            "product",
            "create",
            "--title",
            "Trail camera 4K",
            "--category",
            "electronics/cameras",
            "--price",
            "120.00",
            "--currency",
            "EUR",
            "--stock",
            "9",
        ],
    );
    let pass = srv.json(
        Some(&pk),
        &[
            "pass",
            "create",
            "--product",
            s(&product["id"]),
            "--mode",
            "shareable",
            "--commission-bps",
            "500",
        ],
    );
    for name in ["Hana", "Hugo"] {
        let (id, _) = account(&srv, name, &["holder"]);
        srv.json(
            Some(&pk),
            &["pass", "grant", s(&pass["id"]), "--holder", &id],
        );
    }
    let (_, rk) = account(&srv, "Rita", &["requester"]);
    let d = srv.json(Some(&rk), &["demand", "create", "trail camera"]);
    let id = s(&d["id"]).to_string();
    let home = tempfile::tempdir().unwrap();
    let saved = home.path().join("audit.json");

    let first = audit(
        &srv.url,
        home.path(),
        Some(&rk),
        &["--demand", &id, "--save", saved.to_str().unwrap()],
    );
    assert!(first.status.success(), "{}", text(&first));
    assert!(
        text(&first).contains("verified in the signed tree of 1"),
        "{}",
        text(&first)
    );
    // Again, now against the checkpoint kept from the first run.
    let d2 = srv.json(Some(&rk), &["demand", "create", "trail camera 4K"]);
    let again = audit(
        &srv.url,
        home.path(),
        Some(&rk),
        &["--json", "--demand", s(&d2["id"])],
    );
    assert!(again.status.success(), "{}", text(&again));
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(report["previous_size"], 1);
    assert_eq!(report["latest_size"], 2);
    assert_eq!(report["entry"]["outcome"], "contacted");

    // Offline, from the saved file.
    drop(srv);
    let offline = audit(
        "http://127.0.0.1:9",
        home.path(),
        None,
        &["--from-file", saved.to_str().unwrap()],
    );
    assert!(offline.status.success(), "{}", text(&offline));
    // On a machine that pinned no key, the file's own key is not trusted.
    let stranger = tempfile::tempdir().unwrap();
    let unpinned = audit(
        "http://127.0.0.1:9",
        stranger.path(),
        None,
        &["--from-file", saved.to_str().unwrap()],
    );
    assert_eq!(unpinned.status.code(), Some(1), "{}", text(&unpinned));
    assert!(
        text(&unpinned).contains("no log key to trust"),
        "{}",
        text(&unpinned)
    );
    // A changed entry does not verify.
    let bundle = std::fs::read_to_string(&saved).unwrap();
    std::fs::write(&saved, bundle.replacen("contacted", "refused", 1)).unwrap();
    let changed = audit(
        "http://127.0.0.1:9",
        home.path(),
        None,
        &["--from-file", saved.to_str().unwrap()],
    );
    assert_eq!(changed.status.code(), Some(1));
    assert!(
        text(&changed).contains("not in the signed log"),
        "{}",
        text(&changed)
    );
}
