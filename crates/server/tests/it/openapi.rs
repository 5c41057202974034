//! The committed OpenAPI document matches the code; the server serves it.

use crate::harness::TestServer;
use std::path::PathBuf;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

#[test]
fn committed_openapi_matches_the_code() {
    let generated = symbolon_server::openapi::openapi_json() + "\n";
    let path = committed_path();
    if std::env::var_os("SYMBOLON_UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("write docs/openapi.json");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is out of date; regenerate with `SYMBOLON_UPDATE_OPENAPI=1 cargo test -p symbolon-server openapi`"
    );
    let doc: serde_json::Value = serde_json::from_str(&generated).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/v1/demands",
        "/v1/orders",
        "/v1/passes/{id}/grants",
        "/v1/providers/{id}/jwks.json",
        "/v1/inbox",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
}

#[tokio::test]
async fn serves_openapi_json() {
    let srv = TestServer::start().await;
    let resp = reqwest::get(format!("{}/openapi.json", srv.url))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(v["openapi"], "3.1.0");
    assert!(v["components"]["schemas"]["CreateDemand"].is_object());
    srv.stop().await;
}
