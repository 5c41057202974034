//! Writes the seed corpora, `fuzz/corpus/<target>/seed-<name>`: real passes,
//! headers, shares, webhooks, demands, amounts, paths and form bodies.
//!
//! `cargo run -p symbolon-fuzz --example seeds` (then minimise with
//! `cargo fuzz cmin -s none <target>` in `fuzz/`). The sealed secret's
//! seeds differ on every run (sealing draws from the OS's randomness).

use std::path::Path;
use symbolon_fuzz::fixtures;
use symbolon_pass::{sign_compact, LICENCE_TYP, TRANSFER_TYP};

fn with(mode: u8, rest: impl AsRef<[u8]>) -> Vec<u8> {
    let mut v = vec![mode];
    v.extend_from_slice(rest.as_ref());
    v
}

fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let key = fixtures::key();
    let pass = fixtures::pass_jws().to_string();
    let claims = fixtures::pass_claims(fixtures::PASS_INDEX);
    let licence = sign_compact(
        &symbolon_pass::licence_claims(
            "lic_1",
            fixtures::PASS_URL,
            fixtures::ISSUER,
            "acc_h",
            "acc_r",
            "off_1",
            fixtures::now(),
        ),
        &key,
        LICENCE_TYP,
        None,
    );
    let statement = serde_json::json!({
        "jti": "trf_1", "iss": fixtures::ISSUER, "iat": 1_795_000_000, "type": "PassUnitTransfer",
        "unit": format!("{}/units/1", fixtures::PASS_URL), "pass": fixtures::PASS_URL, "seq": 1,
        "from": "acc_p", "to": "pty_1", "prev": symbolon_pass::link_hash(&pass),
    });
    let transfer = sign_compact(&statement, &key, TRANSFER_TYP, None);
    let list = fixtures::status_list_claims();
    let encoded = list["credentialSubject"]["encodedList"]
        .as_str()
        .expect("a list")
        .to_string();
    let fx = fixtures::sealed();
    let header = serde_json::to_vec(&fx.sealed.header).expect("serializes");
    let wrapped =
        symbolon_seal::wrap(fixtures::party().recipient(), &fx.sealed.shares[0]).expect("wraps");
    let shares = serde_json::to_vec(&fx.sealed.shares[..2]).expect("serializes");
    let webhook = |sig: &str| {
        format!(
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD\0msg_27UH4WbU6Z5A5EzD8u03UvzRbpk\x001649367553\0{sig}\0{{\"email\":\"test@example.com\",\"username\":\"test_user\"}}"
        )
        .into_bytes()
    };
    let demand_json = br#"{"query":"Sony WH-1000XM5 headphones","category":"electronics/audio","max_price":{"amount":"399.00","currency":"USD"},"holder":{"min_positive_rate":0.8,"min_success_rate":0.5,"min_ratings":3,"fields":["electronics/audio","music"]},"min_holders":2,"max_holders":5,"ttl_seconds":300,"wait":true}"#;
    let demand_form = b"csrf=x&query=Sony+WH-1000XM5+%E8%80%B3%E6%9C%BA&category=electronics%2Faudio&max_price=399&currency=USD&min_positive_rate=80%25&min_success_rate=50&min_ratings=3&fields=electronics%2Faudio%2C+music&min_holders=2&max_holders=5&ttl_seconds=300&wait=on";
    vec![
        ("pass_jws", "pass", with(0, &pass)),
        ("pass_jws", "licence", with(0, &licence)),
        ("pass_jws", "transfer", with(0, &transfer)),
        ("pass_jws", "status-list", with(0, fixtures::status_list_jws())),
        ("pass_jws", "claims", with(1, claims.to_string())),
        ("pass_jws", "transfer-claims", with(1, statement.to_string())),
        ("pass_jws", "edits", with(2, [10, 0, 1, 200, 0, 0xff])),
        ("pass_jws", "encoded-list", with(3, &encoded)),
        ("seal_header", "signed", with(0, &fx.header_jws)),
        ("seal_header", "claims", with(1, &header)),
        ("seal_header", "edits", with(2, br#"{"k":3,"n":3}"#)),
        ("seal_share", "wrapped", with(0, &wrapped)),
        ("seal_share", "envelopes", with(1, &shares)),
        ("seal_share", "picks", with(2, [0, 1, 2, 6, 0x41])),
        ("seal_share", "payload", with(3, &fx.sealed.payload)),
        ("seal_share", "zstd", with(3, zstd_frame())),
        ("webhook_verify", "spec-vector", webhook("v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=")),
        ("webhook_verify", "rotation", webhook("v1,AAAA v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=")),
        ("webhook_verify", "truncated", webhook("v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3")),
        ("money", "usd", b"12.34\0USD\x003".to_vec()),
        ("money", "negative", b"-0.05\0usd\x00-7".to_vec()),
        ("money", "jpy", b"1500\0JPY\x0010000".to_vec()),
        ("money", "clf", b"1.2345\0CLF\0".to_vec()),
        ("money", "limit", b"10000000000000.00\0EUR\x002".to_vec()),
        ("category", "path", b"Electronics / Audio /Headphones".to_vec()),
        ("category", "cjk", "家电/手机".as_bytes().to_vec()),
        ("category", "fields", b"electronics/audio\nmusic\nELECTRONICS/Audio".to_vec()),
        ("demand", "json", with(0, demand_json)),
        ("demand", "form", with(1, demand_form)),
        ("json_extractors", "demand", with(9, demand_json)),
        ("json_extractors", "product", with(2, br#"{"title":"Laptop","description":"A laptop","category":"electronics/computers","specs":{"RAM":"16 GB"},"price":{"amount":"999.00","currency":"USD"},"stock":3,"gtin":"09521234543213"}"#)),
        ("json_extractors", "pass", with(4, br#"{"product_id":"prd_1","mode":"unique","units":2,"commission_bps":500,"valid_until":"2027-01-01T00:00:00Z"}"#)),
        ("json_extractors", "order", with(12, br#"{"offer_id":"off_1","quantity":1,"pay":true}"#)),
        ("json_extractors", "webhook", with(19, br#"{"url":"https://example.com/hook"}"#)),
        ("json_extractors", "unknown-field", with(14, br#"{"positive":true,"extra":1}"#)),
        ("form_extractors", "demand", with(0, demand_form)),
        ("form_extractors", "product", with(1, b"csrf=x&title=Laptop&description=&category=electronics&price=999.00&currency=USD&stock=3&gtin=&spec_key_0=RAM&spec_value_0=16+GB&spec_key_1=&spec_value_1=")),
        ("form_extractors", "pass", with(2, b"csrf=x&product_id=prd_1&mode=unique&units=2&commission_bps=500&valid_until=2027-01-01")),
        ("form_extractors", "cookies", with(3, b"sid=abc; lang=zh-CN; csrf=t=1")),
    ]
}

/// A zstd frame of a short text (what a sealed payload holds inside its age file).
fn zstd_frame() -> Vec<u8> {
    zstd::bulk::compress(b"hello hello hello hello", 19).expect("compresses")
}

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    for (target, name, data) in seeds() {
        if symbolon_fuzz::target(target).is_none() {
            continue;
        }
        let dir = root.join(target);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("seed-{name}")), data)?;
    }
    Ok(())
}
