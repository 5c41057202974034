//! Secrets at rest: stored idempotent answers are sealed under the master key
//! (a webhook's `whsec_` secret is not in the database, yet a replay still
//! shows it to the key holder), and the data directory and SQLite files are
//! the owner's alone.

use crate::harness::*;
use crate::on_both_backends;
use std::sync::Arc;
use symbolon_client::api::*;
use symbolon_core::SystemClock;

async fn create_webhook(
    srv: &TestServer,
    api_key: &str,
    idem: &str,
) -> (u16, Option<String>, serde_json::Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/v1/webhooks", srv.url))
        .bearer_auth(api_key)
        .header("Idempotency-Key", idem)
        .json(&serde_json::json!({"url": "http://127.0.0.1:9/hook"}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let replayed = r
        .headers()
        .get("idempotent-replayed")
        .map(|v| v.to_str().unwrap().to_string());
    (status, replayed, r.json().await.unwrap())
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The stored answer to `POST /v1/webhooks` holds no `whsec_` secret, read
/// straight from the database; replaying the key still answers 201 with the same body. A body
/// stored before sealing (plaintext) still replays; a sealed body moved to
/// another key's row does not open (500, logged) — it is never served.
async fn stored_answers_are_sealed_and_still_replay(backend: Backend) {
    let srv = TestServer::configured(backend, Arc::new(SystemClock), |c| {
        c.allow_private_webhooks = true;
    })
    .await;
    let (account_id, holder) = srv.account("Hana", &[Role::Holder]).await;
    let key = holder.api_key().unwrap().to_string();
    let (s1, r1, first) = create_webhook(&srv, &key, "hook-1").await;
    assert_eq!((s1, r1), (201, None));
    let secret = first["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    // The stored answer commits with its write group, not before the
    // response (on SQLite it is unacked: the request's own work was the
    // durable write): wait for it to be visible to another connection.
    let mut bodies = Vec::new();
    for _ in 0..100 {
        bodies = srv
            .blobs_sql("SELECT body FROM idempotency_keys WHERE body IS NOT NULL")
            .await;
        if !bodies.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(bodies.len(), 1);
    for b in &bodies {
        assert!(!contains(b, b"whsec_"), "a webhook secret at rest");
        assert!(!contains(b, secret.as_bytes()));
        assert!(!contains(b, b"\"id\""), "the body is not JSON at rest");
    }
    let (s2, r2, again) = create_webhook(&srv, &key, "hook-1").await;
    assert_eq!((s2, r2.as_deref()), (201, Some("true")));
    assert_eq!(again, first, "the same answer, secret included");
    assert_eq!(holder.webhooks().await.unwrap().items.len(), 1);

    // A row stored before sealing existed: replayed as it was.
    let legacy = serde_json::to_vec(&first).unwrap();
    let set = match backend {
        Backend::Sqlite => format!("X'{}'", hex(&legacy)),
        Backend::Postgres => format!("decode('{}', 'hex')", hex(&legacy)),
    };
    assert_eq!(
        srv.exec_sql(&format!(
            "UPDATE idempotency_keys SET body = {set} WHERE key = 'hook-1'"
        ))
        .await,
        1
    );
    let (s3, r3, old) = create_webhook(&srv, &key, "hook-1").await;
    assert_eq!((s3, r3.as_deref()), (201, Some("true")));
    assert_eq!(old, first);

    // A sealed body copied under another key (same request, so the same
    // fingerprint) is bound to its own row: it does not open there.
    let (s4, _, _) = create_webhook(&srv, &key, "hook-2").await;
    assert_eq!(s4, 201);
    assert_eq!(
        srv.exec_sql(&format!(
            "UPDATE idempotency_keys SET body = (SELECT body FROM idempotency_keys WHERE key = 'hook-2'), \
             fingerprint = (SELECT fingerprint FROM idempotency_keys WHERE key = 'hook-2') \
             WHERE account_id = '{account_id}' AND key = 'hook-1'"
        ))
        .await,
        1
    );
    let (s5, r5, moved) = create_webhook(&srv, &key, "hook-1").await;
    assert_eq!((s5, r5), (500, None), "{moved}");
    assert_eq!(moved["error"]["code"], "internal");
    assert!(!moved.to_string().contains("whsec_"));
    srv.stop().await;
}

on_both_backends!(stored_answers_are_sealed_and_still_replay);

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// A data directory the server creates is 0700 (parents it creates too), and
/// after a write `symbolon.db`, `-wal`, `-shm` and `master.key` are 0600.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_data_dir_and_its_database_are_the_owners_alone() {
    let srv = TestServer::configured(Backend::Sqlite, Arc::new(SystemClock), |c| {
        c.data_dir = c.data_dir.join("made/by-the-server");
    })
    .await;
    srv.account("Hana", &[Role::Holder]).await;
    let dir = srv.config().data_dir.clone();
    assert_eq!(mode(&dir), 0o700, "{}", dir.display());
    assert_eq!(mode(dir.parent().unwrap()), 0o700);
    for f in [
        "symbolon.db",
        "symbolon.db-wal",
        "symbolon.db-shm",
        "master.key",
    ] {
        assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
    }
    srv.stop().await;
}

/// An operator's existing directory keeps its mode (the server only warns),
/// but a database and WAL files left 0644 by an earlier version become 0600.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_world_readable_database_is_tightened() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("operators");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o750)).unwrap();
    // First start: a database written.
    let srv = TestServer::start_at(&dir, Arc::new(SystemClock)).await;
    srv.account("Hana", &[Role::Holder]).await;
    srv.stop().await;
    for f in ["symbolon.db", "symbolon.db-wal", "symbolon.db-shm"] {
        let p = dir.join(f);
        if p.exists() {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    assert_eq!(mode(&dir.join("symbolon.db")), 0o644);
    let srv = TestServer::start_at(&dir, Arc::new(SystemClock)).await;
    srv.account("Hugo", &[Role::Holder]).await;
    for f in ["symbolon.db", "symbolon.db-wal", "symbolon.db-shm"] {
        assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
    }
    assert_eq!(
        mode(&dir),
        0o750,
        "the operator's directory is left as it was"
    );
    srv.stop().await;
}
