//! Interoperability: a third-party JOSE library (Python's joserfc, installed
//! by `.ci/run`) verifies a pass against the JWKS the server publishes, and
//! rejects a tampered pass. Without Python or joserfc the test says so and
//! passes — except under `CI`, where it fails.

use crate::harness::*;
use std::process::Command;
use symbolon_client::api::*;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/interop/verify_pass.py");

fn joserfc_available() -> bool {
    Command::new("python3")
        .args(["-c", "import joserfc"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn run(jwks: &std::path::Path, jws: &str, dir: &std::path::Path) -> (bool, String) {
    let file = dir.join("pass.jws");
    std::fs::write(&file, jws).unwrap();
    let out = Command::new("python3")
        .arg(SCRIPT)
        .arg(jwks)
        .arg(&file)
        .output()
        .expect("python3");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test]
async fn joserfc_verifies_our_passes_and_rejects_tampered_ones() {
    if !joserfc_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the interop test: pip install joserfc"
        );
        eprintln!(
            "interop test skipped: python3 with joserfc is not installed (pip install joserfc)"
        );
        return;
    }
    let srv = TestServer::start().await;
    let (provider_id, provider) = srv.account("Maker", &[Role::Provider]).await;
    let prod = provider
        .create_product(&product("Tent 2P", "outdoor/tents", "199.00", 4))
        .await
        .unwrap();
    let pass = provider
        .create_pass(&shareable(&prod.id, 300))
        .await
        .unwrap();
    // Rotate so that the JWKS holds two keys and the verifier must pick by kid.
    provider.rotate_key().await.unwrap();
    let second = provider
        .create_pass(&shareable(&prod.id, 300))
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    let published = srv.anon().jwks(&provider_id).await.unwrap();
    assert_eq!(published["keys"].as_array().unwrap().len(), 2);
    std::fs::write(&jwks, published.to_string()).unwrap();

    for p in [&pass, &second] {
        let (ok, out) = run(&jwks, &p.jws, dir.path());
        assert!(ok, "joserfc rejected a genuine pass: {out}");
        assert!(out.contains(&p.url) && out.contains("Tent 2P"), "{out}");
    }
    // Tampered: the price changed under the same signature.
    let parts: Vec<&str> = pass.jws.split('.').collect();
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = String::from_utf8(b64.decode(parts[1]).unwrap()).unwrap();
    let cheaper = payload.replace("\"199.00\"", "\"1.00\"");
    assert_ne!(cheaper, payload);
    let tampered = format!("{}.{}.{}", parts[0], b64.encode(cheaper), parts[2]);
    let (ok, out) = run(&jwks, &tampered, dir.path());
    assert!(!ok, "joserfc accepted a tampered pass: {out}");
    assert!(out.contains("rejected"), "{out}");
    // Another issuer's keys: rejected.
    let (other_id, _) = srv.account("Other", &[Role::Provider]).await;
    std::fs::write(&jwks, srv.anon().jwks(&other_id).await.unwrap().to_string()).unwrap();
    let (ok, out) = run(&jwks, &pass.jws, dir.path());
    assert!(
        !ok,
        "joserfc accepted a pass against another issuer's keys: {out}"
    );
}
