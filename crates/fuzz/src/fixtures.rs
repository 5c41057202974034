//! Real inputs the harnesses verify against: a provider key and its key set,
//! a signed pass with a revocation entry, the issuer's status list, a sealed
//! secret with its shares. Everything is deterministic except the sealed
//! secret (sealing draws from the OS's randomness), made once per process.

use bech32::{ToBase32, Variant};
use serde_json::Value;
use std::sync::OnceLock;
use symbolon_core::{Money, Timestamp};
use symbolon_pass::status::{encode_list, status_list_credential};
use symbolon_pass::{
    credential, sign_compact, standard_actions, Jwks, PassSubject, PassTerms, ProviderKey,
    StatusEntry, PASS_TYP,
};

pub const PASS_URL: &str = "https://x.example/v1/passes/pas_1";
pub const ISSUER: &str = "https://x.example/v1/providers/acc_p";
pub const LIST_URL: &str = "https://x.example/v1/providers/acc_p/status/revocation";
/// The status-list index of [`pass_jws`].
pub const PASS_INDEX: u32 = 4242;
/// An index the status list marks revoked.
pub const REVOKED_INDEX: u32 = 7;
/// The secret [`sealed`] seals.
pub const SECRET: &[u8] = b"admin password: correct horse battery staple";

/// The provider's signing key.
pub fn key() -> ProviderKey {
    ProviderKey::from_secret_bytes([11; 32])
}

/// Another provider's key.
pub fn other_key() -> ProviderKey {
    ProviderKey::from_secret_bytes([12; 32])
}

/// The provider's published keys.
pub fn jwks() -> Jwks {
    Jwks {
        keys: vec![key().jwk()],
    }
}

/// The moment verifications happen at (inside every fixture's validity).
pub fn now() -> Timestamp {
    Timestamp::from_millis(1_795_000_000_000)
}

/// The claims of a pass with a revocation entry at `index` (made once for
/// [`PASS_INDEX`] and [`REVOKED_INDEX`]).
pub fn pass_claims(index: u32) -> Value {
    static PASS: OnceLock<Value> = OnceLock::new();
    static REVOKED: OnceLock<Value> = OnceLock::new();
    match index {
        PASS_INDEX => PASS.get_or_init(|| make_pass_claims(index)).clone(),
        REVOKED_INDEX => REVOKED.get_or_init(|| make_pass_claims(index)).clone(),
        _ => make_pass_claims(index),
    }
}

fn make_pass_claims(index: u32) -> Value {
    let specs = vec![("RAM".to_string(), "16 GB".to_string())];
    let status = StatusEntry {
        index,
        list_url: LIST_URL.into(),
    };
    let actions = standard_actions(PASS_URL, "https://x.example/p/pas_1", true);
    credential(
        PASS_URL,
        ISSUER,
        "Maker",
        &PassSubject {
            product_id: "prd_1",
            name: "Laptop",
            description: "A laptop",
            category: "electronics/computers",
            specs: &specs,
            price: Money::parse("999.00", "EUR").expect("a valid amount"),
            link: "https://x.example/p/pas_1",
            order_endpoint: "https://x.example/v1/passes/pas_1/orders",
            gtin: Some("09521234543213"),
            actions: &actions,
            status: Some(&status),
        },
        &PassTerms {
            mode: "unique",
            units: Some(3),
            commission_bps: 500,
        },
        now().plus_seconds(-86_400),
        Some(now().plus_seconds(86_400 * 365)),
    )
}

/// The pass, signed (`vc+jwt`).
pub fn pass_jws() -> &'static str {
    static JWS: OnceLock<String> = OnceLock::new();
    JWS.get_or_init(|| sign_compact(&pass_claims(PASS_INDEX), &key(), PASS_TYP, Some("vc")))
}

/// The claims of the issuer's status list, [`REVOKED_INDEX`] revoked.
pub fn status_list_claims() -> Value {
    static CLAIMS: OnceLock<Value> = OnceLock::new();
    CLAIMS
        .get_or_init(|| {
            status_list_credential(
                LIST_URL,
                ISSUER,
                &encode_list(&[REVOKED_INDEX]),
                now().plus_seconds(-60),
                now().plus_seconds(600),
            )
        })
        .clone()
}

/// The issuer's status list credential, signed.
pub fn status_list_jws() -> &'static str {
    static JWS: OnceLock<String> = OnceLock::new();
    JWS.get_or_init(|| sign_compact(&status_list_claims(), &key(), PASS_TYP, Some("vc")))
}

/// A party's age identity (fixed: `AGE-SECRET-KEY-1…` of the scalar 7…7).
pub fn party() -> &'static symbolon_seal::Identity {
    static ID: OnceLock<symbolon_seal::Identity> = OnceLock::new();
    ID.get_or_init(|| {
        let secret = bech32::encode("age-secret-key-", [7u8; 32].to_base32(), Variant::Bech32)
            .expect("a valid HRP")
            .to_uppercase();
        symbolon_seal::Identity::parse(&secret).expect("a valid identity")
    })
}

/// A real sealed secret, 2 of 3, for pass `pas_1`, and its signed header.
pub struct SealFixture {
    pub sealed: symbolon_seal::Sealed,
    pub header_jws: String,
}

/// The process's sealed secret.
pub fn sealed() -> &'static SealFixture {
    static SEALED: OnceLock<SealFixture> = OnceLock::new();
    SEALED.get_or_init(|| {
        let sealed = symbolon_seal::seal("pas_1", SECRET, 2, 3).expect("sealing works");
        let header_jws = symbolon_seal::sign_header(&sealed.header, &key());
        SealFixture { sealed, header_jws }
    })
}
