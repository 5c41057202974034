//! Architecture invariants, checked.

use std::path::PathBuf;

const HTTP_CRATES: &[&str] = &[
    "axum",
    "axum-core",
    "hyper",
    "tower",
    "tower-http",
    "reqwest",
];

fn manifests() -> Vec<(String, toml::Value)> {
    let crates = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&crates).unwrap() {
        let path = entry.unwrap().path().join("Cargo.toml");
        if let Ok(text) = std::fs::read_to_string(&path) {
            let v: toml::Value = toml::from_str(&text).unwrap();
            let name = v["package"]["name"].as_str().unwrap().to_string();
            out.push((name, v));
        }
    }
    assert!(
        out.len() >= 9,
        "expected the workspace crates, found {}",
        out.len()
    );
    out
}

fn deps(v: &toml::Value, table: &str) -> Vec<String> {
    v.get(table)
        .and_then(|t| t.as_table())
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

/// Only `symbolon-server` depends on axum.
#[test]
fn only_the_server_knows_axum() {
    for (name, v) in manifests() {
        for table in ["dependencies", "dev-dependencies", "build-dependencies"] {
            if deps(&v, table)
                .iter()
                .any(|d| d == "axum" || d == "axum-core")
            {
                assert_eq!(name, "symbolon-server", "{name} depends on axum ({table})");
            }
        }
    }
}

/// Domain, pass, matching, store and service crates have no HTTP dependency at all.
#[test]
fn domain_crates_have_no_http_dependency() {
    let pure = [
        "symbolon-core",
        "symbolon-pass",
        "symbolon-seal",
        "symbolon-match",
        "symbolon-store-postgres",
        "symbolon-store",
        "symbolon-store-sqlite",
        "symbolon-exchange",
        "symbolon-api",
    ];
    for (name, v) in manifests() {
        if !pure.contains(&name.as_str()) {
            continue;
        }
        for d in deps(&v, "dependencies") {
            assert!(!HTTP_CRATES.contains(&d.as_str()), "{name} depends on {d}");
            assert!(
                d != "symbolon-server" && d != "symbolon-client",
                "{name} depends on {d}"
            );
        }
    }
}

/// The core has no IO crates.
#[test]
fn core_does_no_io() {
    for (name, v) in manifests() {
        if name == "symbolon-core" || name == "symbolon-pass" || name == "symbolon-match" {
            for d in deps(&v, "dependencies") {
                assert!(
                    !["tokio", "sqlx", "reqwest", "std-fs"].contains(&d.as_str()),
                    "{name} depends on {d}"
                );
            }
        }
    }
}
