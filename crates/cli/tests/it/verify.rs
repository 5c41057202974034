//! `symbolon pass verify`: online, then offline with `--jwks` after the
//! server is gone, and each failure named with a non-zero exit.

use super::{account, s, Server};
use std::process::Output;

fn verify(srv: &Server, args: &[&str]) -> Output {
    let mut all = vec!["pass", "verify"];
    all.extend_from_slice(args);
    srv.run(None, false, &all)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn pass_verify_online_offline_and_every_failure_named() {
    let srv = Server::start();
    let (provider_id, pk) = account(&srv, "Maker", &["provider"]);
    let product = srv.json(
        Some(&pk),
        &[
            "product",
            "create",
            "--title",
            "Garden hose 30 m",
            "--category",
            "home/garden",
            "--price",
            "45.00",
            "--currency",
            "EUR",
            "--stock",
            "5",
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
    let pass_id = s(&pass["id"]).to_string();
    let jws = s(&pass["jws"]).to_string();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pass.jws");
    std::fs::write(&file, &jws).unwrap();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(
        &jwks,
        // No --json: redirected, `pass jwks` writes the JWK Set itself.
        String::from_utf8(srv.run(None, false, &["pass", "jwks", &provider_id]).stdout).unwrap(),
    )
    .unwrap();
    let page = s(&pass["page"]).to_string();

    // Online, from the page URL: keys and status list fetched from the issuer.
    let out = verify(&srv, &[&page]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Garden hose 30 m") && text.contains("45.00 EUR"),
        "{text}"
    );
    assert!(
        text.contains("revocation checked") && text.contains("✓ valid pass"),
        "{text}"
    );
    // JSON output.
    let out = srv.run(None, true, &["pass", "verify", file.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["valid"].as_bool(), v["revocation"].as_str()),
        (Some(true), Some("checked"))
    );

    // Revoked: named, exit 1; a saved status list checks revocation offline.
    let other = srv.json(
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
    srv.json(Some(&pk), &["pass", "revoke", s(&other["id"])]);
    let revoked_file = dir.path().join("revoked.jws");
    std::fs::write(&revoked_file, s(&other["jws"])).unwrap();
    let out = verify(&srv, &[revoked_file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("revoked"), "{}", stderr(&out));
    let list_file = dir.path().join("status.jws");
    let list = reqwest_blocking_get(&format!(
        "{}/v1/providers/{provider_id}/status/revocation",
        srv.url
    ));
    std::fs::write(&list_file, list).unwrap();

    // The server goes away: --jwks verifies offline.
    drop(srv);
    let offline = Server::offline_runner();
    let out = offline(&[
        "pass",
        "verify",
        file.to_str().unwrap(),
        "--jwks",
        jwks.to_str().unwrap(),
        "--offline",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("✓ valid pass"));
    assert!(
        stdout(&out).contains("revocation unchecked"),
        "{}",
        stdout(&out)
    );
    // Without --offline the unreachable status list is reported, not fatal…
    let out = offline(&[
        "pass",
        "verify",
        file.to_str().unwrap(),
        "--jwks",
        jwks.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("revocation unchecked"));
    // …unless revocation is required.
    let out = offline(&[
        "pass",
        "verify",
        file.to_str().unwrap(),
        "--jwks",
        jwks.to_str().unwrap(),
        "--require-status",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("status_unavailable"));
    // With the saved list, revocation is checked offline.
    let with_list = |f: &std::path::Path| {
        offline(&[
            "pass",
            "verify",
            f.to_str().unwrap(),
            "--jwks",
            jwks.to_str().unwrap(),
            "--status-list",
            list_file.to_str().unwrap(),
            "--offline",
        ])
    };
    let out = with_list(&file);
    assert!(
        out.status.success() && stdout(&out).contains("revocation checked"),
        "{}",
        stderr(&out)
    );
    let out = with_list(&revoked_file);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("✗ revoked"), "{}", stderr(&out));

    // Each failure, named.
    let named = |jws: &str, jwks_path: &std::path::Path, reason: &str| {
        let f = dir.path().join(format!("{reason}.jws"));
        std::fs::write(&f, jws).unwrap();
        let out = offline(&[
            "pass",
            "verify",
            f.to_str().unwrap(),
            "--jwks",
            jwks_path.to_str().unwrap(),
            "--offline",
        ]);
        assert_eq!(out.status.code(), Some(1), "{reason}: {}", stdout(&out));
        assert!(
            stderr(&out).starts_with(&format!("✗ {reason}")),
            "{reason}: {}",
            stderr(&out)
        );
    };
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = jws.split('.').collect();
    let payload = String::from_utf8(b64.decode(parts[1]).unwrap()).unwrap();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(payload.replace("45.00", "4.50")),
        parts[2]
    );
    named(&tampered, &jwks, "bad_signature");
    let none = format!(
        "{}.{}.",
        b64.encode(r#"{"alg":"none","typ":"vc+jwt","kid":"k"}"#),
        parts[1]
    );
    named(&none, &jwks, "wrong_algorithm");
    named("not.a.pass", &jwks, "malformed");
    let empty_jwks = dir.path().join("empty.json");
    std::fs::write(&empty_jwks, r#"{"keys":[]}"#).unwrap();
    named(&jws, &empty_jwks, "unknown_key");
    let _ = pass_id;
}

fn reqwest_blocking_get(url: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        reqwest::get(url)
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .text()
            .await
            .unwrap()
    })
}

/// A provider keeps its own key: `pass keygen` registers it, `pass sign`
/// signs a pass locally and uploads it, and anyone verifies it.
#[test]
fn a_provider_signs_a_pass_itself() {
    let srv = Server::start();
    let (provider_id, pk) = account(&srv, "Own Key Ltd", &["provider"]);
    let product = srv.json(
        Some(&pk),
        &[
            "product",
            "create",
            "--title",
            "Rain jacket",
            "--category",
            "apparel/outdoor",
            "--price",
            "89.90",
            "--currency",
            "EUR",
            "--stock",
            "3",
            "--spec",
            "size=M",
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.json");
    let out = srv.run(
        Some(&pk),
        false,
        &["pass", "keygen", "--out", key.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let keys = srv.json(Some(&pk), &["pass", "keys"]);
    assert_eq!(
        keys["keys"].as_array().unwrap().len(),
        2,
        "custodial + own key: {keys}"
    );
    let jws_file = dir.path().join("own.jws");
    let pass = srv.json(
        Some(&pk),
        &[
            "pass",
            "sign",
            "--key-file",
            key.to_str().unwrap(),
            "--product",
            s(&product["id"]),
            "--mode",
            "unique",
            "--units",
            "2",
            "--commission-bps",
            "700",
            "--out",
            jws_file.to_str().unwrap(),
        ],
    );
    assert_eq!(pass["mode"], "unique");
    assert_eq!(pass["status"], "active");
    assert_eq!(std::fs::read_to_string(&jws_file).unwrap(), s(&pass["jws"]));
    // The private key never left the machine: the kid is the provider-held key's.
    let own_kid = keys["keys"][1]["kid"].as_str().unwrap().to_string();
    let header: serde_json::Value = {
        use base64::Engine;
        let h = s(&pass["jws"]).split('.').next().unwrap().to_string();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .unwrap(),
        )
        .unwrap()
    };
    assert!(
        keys["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == header["kid"]),
        "signed by a registered key"
    );
    let _ = own_kid;
    let out = verify(&srv, &[jws_file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Rain jacket") && stdout(&out).contains("✓ valid pass"));
    // Uploading the same pass again is refused.
    let again = srv.run(
        Some(&pk),
        false,
        &[
            "pass",
            "sign",
            "--key-file",
            key.to_str().unwrap(),
            "--product",
            s(&product["id"]),
            "--mode",
            "shareable",
            "--commission-bps",
            "700",
            "--no-upload",
        ],
    );
    assert!(again.status.success());
    let _ = provider_id;
}
