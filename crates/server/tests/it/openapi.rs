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

async fn api_key(srv: &TestServer, role: symbolon_api::Role) -> String {
    srv.anon()
        .create_account(&symbolon_api::CreateAccount {
            name: "Contract".into(),
            roles: vec![role],
            login: None,
        })
        .await
        .unwrap()
        .api_key
}

fn document() -> serde_json::Value {
    symbolon_server::openapi::document()
}

/// Every operation of the document: (method, path, operation).
fn operations(doc: &serde_json::Value) -> Vec<(String, String, serde_json::Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((method.clone(), path.clone(), op.clone()));
        }
    }
    out
}

fn error_response(op: &serde_json::Value, status: &str) -> Option<serde_json::Value> {
    let r = op["responses"].get(status)?;
    let body = &r["content"]["application/json"]["schema"]["$ref"];
    (body == "#/components/schemas/ErrorBody").then(|| r.clone())
}

/// The answers every operation can give whatever it does: 401 when it is
/// secured, 429 `rate_limited` with `Retry-After` under /v1, 400/408/413/415/422
/// when it reads a body, 404 on a path naming an object, 409
/// `idempotency_error` on a secured POST, 500 everywhere.
#[test]
fn every_operation_documents_the_generic_answers() {
    let doc = document();
    let ops = operations(&doc);
    assert!(ops.len() >= 74, "{}", ops.len());
    for (method, path, op) in &ops {
        let at = format!("{method} {path}");
        let secured = op.get("security").is_some();
        let has = |s: &str| error_response(op, s).is_some();
        assert!(has("500"), "{at}: 500");
        if secured {
            assert!(has("401"), "{at}: 401");
        }
        if path.starts_with("/v1/") {
            let r = error_response(op, "429").unwrap_or_else(|| panic!("{at}: 429"));
            let text = r["description"].as_str().unwrap();
            assert!(
                symbolon_server::openapi::names_code(text, symbolon_server::openapi::RATE_LIMITED),
                "{at}: {text}"
            );
            assert!(
                r["headers"].get("Retry-After").is_some(),
                "{at}: Retry-After"
            );
        }
        if op.get("requestBody").is_some() {
            for s in ["400", "408", "413", "415", "422"] {
                assert!(has(s), "{at}: {s}");
            }
        }
        if path.contains('{') {
            assert!(has("404"), "{at}: 404");
        }
        if secured && method == "post" {
            let r = error_response(op, "409").unwrap_or_else(|| panic!("{at}: 409"));
            assert!(
                symbolon_server::openapi::names_code(
                    r["description"].as_str().unwrap(),
                    "idempotency_error"
                ),
                "{at}"
            );
        }
    }
}

/// Each error answer names the codes it can carry, and each code it names
/// is answered with that status by the error table.
#[test]
fn every_error_answer_names_its_codes_from_the_error_table() {
    let doc = document();
    for (method, path, op) in operations(&doc) {
        for (status, r) in op["responses"].as_object().unwrap() {
            if status.starts_with('2') {
                continue;
            }
            let text = r["description"].as_str().unwrap_or("");
            let named: Vec<&str> = symbolon_core::ErrorCode::ALL
                .iter()
                .map(|c| c.as_str())
                .chain([symbolon_server::openapi::RATE_LIMITED])
                .filter(|c| symbolon_server::openapi::names_code(text, c))
                .collect();
            assert!(
                !named.is_empty(),
                "{method} {path} {status} names no code: {text:?}"
            );
            for code in named {
                let want = symbolon_core::ErrorCode::ALL
                    .iter()
                    .find(|c| c.as_str() == code)
                    .map_or(429, |c| c.http_status());
                assert_eq!(
                    status,
                    &want.to_string(),
                    "{method} {path}: `{code}` under {status}"
                );
            }
        }
    }
}

/// The schema states the limits of `limits.rs`: a change of one changes the document.
#[test]
fn the_schema_states_the_limits() {
    use symbolon_core::limits::*;
    let doc = document();
    let prop = |schema: &str, field: &str| {
        doc["components"]["schemas"][schema]["properties"][field].clone()
    };
    for (schema, field) in symbolon_server::openapi::constrained() {
        assert!(
            prop(schema, field).is_object(),
            "{schema}.{field} is not in the document"
        );
    }
    assert_eq!(prop("CreateProduct", "title")["maxLength"], MAX_TITLE_CHARS);
    assert_eq!(prop("CreateProduct", "title")["minLength"], 1);
    assert_eq!(
        prop("CreateProduct", "description")["maxLength"],
        MAX_DESCRIPTION_CHARS
    );
    assert_eq!(prop("CreateProduct", "specs")["maxProperties"], MAX_SPECS);
    assert_eq!(prop("CreateProduct", "stock")["maximum"], MAX_STOCK);
    assert_eq!(prop("CreateDemand", "query")["maxLength"], MAX_QUERY_CHARS);
    assert_eq!(
        prop("CreateDemand", "max_holders")["maximum"],
        MAX_MAX_HOLDERS
    );
    assert_eq!(
        prop("CreateDemand", "min_holders")["minimum"],
        MIN_MIN_HOLDERS
    );
    assert_eq!(
        prop("CreateDemand", "ttl_seconds")["maximum"],
        MAX_TTL_SECONDS
    );
    assert_eq!(
        prop("CreateOrder", "quantity")["maximum"],
        MAX_ORDER_QUANTITY
    );
    assert_eq!(
        prop("CreatePass", "commission_bps")["maximum"],
        MAX_COMMISSION_BPS
    );
    assert_eq!(
        prop("HolderProfileUpdate", "fields")["maxItems"],
        MAX_FIELDS
    );
    assert_eq!(prop("Reason", "reason")["maxLength"], MAX_REASON_CHARS);
    assert_eq!(
        prop("CreateWebhook", "url")["maxLength"],
        MAX_WEBHOOK_URL_BYTES
    );
    assert_eq!(prop("UploadPass", "jws")["maxLength"], MAX_PASS_JWS_BYTES);
    // Money: every ISO 4217 code, in branches by fraction digits; prices are more than zero.
    let money = &doc["components"]["schemas"]["Money"];
    assert_eq!(
        money["properties"]["currency"]["enum"]
            .as_array()
            .unwrap()
            .len(),
        symbolon_core::money::ISO_4217.len()
    );
    assert_eq!(money["oneOf"].as_array().unwrap().len(), 4);
    assert_eq!(
        prop("CreateProduct", "price")["$ref"],
        "#/components/schemas/Price"
    );
    // Page sizes, in every list's query.
    for (method, path, op) in operations(&doc) {
        for p in op["parameters"].as_array().into_iter().flatten() {
            if p["in"] == "query" && p["name"] == "limit" {
                let max = if path == "/v1/events" {
                    EVENT_PAGE_MAX
                } else {
                    MAX_PAGE_LIMIT
                };
                assert_eq!(p["schema"]["maximum"], max, "{method} {path}");
                assert_eq!(p["schema"]["minimum"], 1, "{method} {path}");
            }
        }
    }
}

/// Links run from each creating operation to operations that exist and take an `id`.
#[test]
fn links_lead_from_creators_to_operations_taking_the_id() {
    let doc = document();
    let ops = operations(&doc);
    let by_id = |id: &str| {
        ops.iter()
            .find(|(_, _, op)| op["operationId"] == id)
            .map(|(_, p, _)| p.clone())
    };
    let mut links = 0;
    for (from, status, _, targets) in symbolon_server::openapi::LINKS {
        let path = by_id(from).unwrap_or_else(|| panic!("no operation {from}"));
        for target in *targets {
            let tpath =
                by_id(target).unwrap_or_else(|| panic!("{from} links to no operation {target}"));
            assert!(tpath.contains("{id}"), "{target} ({tpath}) takes no id");
        }
        let (_, _, op) = ops
            .iter()
            .find(|(_, p, op)| *p == path && op["operationId"] == *from)
            .unwrap();
        let found = op["responses"][*status]["links"]
            .as_object()
            .unwrap_or_else(|| panic!("{from}: no links"));
        for l in found.values() {
            assert!(l["operationId"].is_string(), "{from}: {l}");
            links += 1;
        }
    }
    assert!(links >= 50, "{links}");
}

/// A replay of `POST /v1/webhooks` whose endpoint was deleted since answers
/// 409 `idempotency_error` (documented), not a 201 naming nothing; any
/// other replay still answers the first answer.
#[tokio::test]
async fn a_replayed_webhook_creation_never_names_a_deleted_endpoint() {
    let srv = TestServer::start().await;
    let key = api_key(&srv, symbolon_api::Role::Holder).await;
    let h = srv.anon().with_key(&key);
    let http = reqwest::Client::new();
    let create = || {
        http.post(format!("{}/v1/webhooks", srv.url))
            .bearer_auth(&key)
            .header("Idempotency-Key", "hook-1")
            .json(&serde_json::json!({"url": "https://93.184.216.34/hook"}))
            .send()
    };
    let first = create().await.unwrap();
    assert_eq!(first.status(), 201);
    let made: serde_json::Value = first.json().await.unwrap();
    let again = create().await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(
        again.json::<serde_json::Value>().await.unwrap()["id"],
        made["id"]
    );
    h.delete_webhook(made["id"].as_str().unwrap())
        .await
        .unwrap();
    let gone = create().await.unwrap();
    assert_eq!(gone.status(), 409);
    let body: serde_json::Value = gone.json().await.unwrap();
    assert_eq!(body["error"]["code"], "idempotency_error");
    assert_eq!(body["error"]["details"]["deleted"], made["id"]);
    assert!(
        h.webhooks().await.unwrap().items.is_empty(),
        "nothing was made again"
    );
    srv.stop().await;
}

/// `45.0` is the integer 45 in JSON and in the schema: fields typed
/// `integer` take it; a fraction is refused with 400.
#[tokio::test]
async fn integer_fields_take_integral_numbers_written_with_a_fraction() {
    let srv = TestServer::start().await;
    let key = api_key(&srv, symbolon_api::Role::Provider).await;
    let http = reqwest::Client::new();
    let send = |stock: serde_json::Value| {
        http.post(format!("{}/v1/products", srv.url))
            .bearer_auth(&key)
            .json(
                &serde_json::json!({"title": "Kettle", "category": "home/kitchen",
                "price": {"amount": "30.00", "currency": "USD"}, "stock": stock}),
            )
            .send()
    };
    let ok = send(serde_json::json!(3.0)).await.unwrap();
    assert_eq!(ok.status(), 201);
    assert_eq!(ok.json::<serde_json::Value>().await.unwrap()["stock"], 3);
    let bad = send(serde_json::json!(3.5)).await.unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        bad.json::<serde_json::Value>().await.unwrap()["error"]["details"]["field"],
        "stock"
    );
    srv.stop().await;
}
