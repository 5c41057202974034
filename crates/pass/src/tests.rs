//! Every reason a pass fails verification, each on its own, through [`verify_full`].

use crate::status::{encode_list, status_list_credential};
use crate::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ed25519_dalek::Signer;
use serde_json::json;
use symbolon_core::{Money, Timestamp};

const LIST: &str = "https://x/v1/providers/acc_p/status/revocation";
const ISS: &str = "https://x/v1/providers/acc_p";

fn key() -> ProviderKey {
    ProviderKey::from_secret_bytes([11; 32])
}

fn jwks() -> Jwks {
    Jwks {
        keys: vec![key().jwk()],
    }
}

fn claims(index: u32) -> serde_json::Value {
    let specs = vec![("RAM".to_string(), "16 GB".to_string())];
    let status = StatusEntry {
        index,
        list_url: LIST.into(),
    };
    credential(
        "https://x/v1/passes/pas_1",
        ISS,
        "Maker",
        &PassSubject {
            product_id: "prd_1",
            name: "Laptop",
            description: "",
            category: "electronics",
            specs: &specs,
            price: Money::parse("10.00", "EUR").unwrap(),
            link: "https://x/p/pas_1",
            order_endpoint: "https://x/v1/passes/pas_1/orders",
            gtin: None,
            actions: &[],
            status: Some(&status),
        },
        &PassTerms {
            mode: "shareable",
            units: None,
            commission_bps: 100,
        },
        Timestamp::from_millis(1_000_000),
        Some(Timestamp::from_millis(9_000_000)),
    )
}

fn now() -> Timestamp {
    Timestamp::from_millis(5_000_000)
}

fn list(revoked: &[u32]) -> String {
    let c = status_list_credential(
        LIST,
        ISS,
        &encode_list(revoked),
        now(),
        now().plus_seconds(600),
    );
    sign_compact(&c, &key(), PASS_TYP, Some("vc"))
}

/// Signs with a header of our choosing (the signature is genuine).
fn sign_with_header(header: serde_json::Value, claims: &serde_json::Value) -> String {
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let sig = key().key_for_tests().sign(input.as_bytes());
    format!("{input}.{}", B64.encode(sig.to_bytes()))
}

#[test]
fn a_good_pass_verifies_with_either_algorithm_name() {
    let jws = sign_compact(&claims(3), &key(), PASS_TYP, Some("vc"));
    let v = verify_full(&jws, &jwks(), Some(&list(&[4])), now()).unwrap();
    assert_eq!(v.claims["credentialSubject"]["name"], "Laptop");
    assert_eq!(v.header["alg"], "EdDSA");
    // RFC 9864's fully specified name is accepted too.
    let h = json!({"alg": "Ed25519", "typ": "vc+jwt", "cty": "vc", "kid": key().kid()});
    assert!(verify_full(&sign_with_header(h, &claims(3)), &jwks(), None, now()).is_ok());
}

#[test]
fn bad_signature() {
    let jws = sign_compact(&claims(3), &key(), PASS_TYP, Some("vc"));
    let (input, _) = jws.rsplit_once('.').unwrap();
    let other = ProviderKey::from_secret_bytes([12; 32]);
    let forged_sig = sign_compact(&claims(3), &other, PASS_TYP, Some("vc"));
    let forged = format!("{input}.{}", forged_sig.rsplit_once('.').unwrap().1);
    assert_eq!(
        verify_full(&forged, &jwks(), None, now())
            .unwrap_err()
            .reason(),
        "bad_signature"
    );
    // A changed price under the original signature.
    let mut c = claims(3);
    c["credentialSubject"]["price"]["amount"] = "0.01".into();
    let parts: Vec<&str> = jws.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], B64.encode(c.to_string()), parts[2]);
    assert_eq!(
        verify_full(&tampered, &jwks(), None, now()).unwrap_err(),
        PassError::BadSignature
    );
}

#[test]
fn unknown_key() {
    let other = ProviderKey::from_secret_bytes([12; 32]);
    let jws = sign_compact(&claims(3), &other, PASS_TYP, Some("vc"));
    assert_eq!(
        verify_full(&jws, &jwks(), None, now())
            .unwrap_err()
            .reason(),
        "unknown_key"
    );
}

#[test]
fn expired_and_not_yet_valid() {
    let jws = sign_compact(&claims(3), &key(), PASS_TYP, Some("vc"));
    let late = Timestamp::from_millis(9_000_000);
    assert_eq!(
        verify_full(&jws, &jwks(), None, late).unwrap_err().reason(),
        "expired"
    );
    let early = Timestamp::from_millis(999_999);
    assert_eq!(
        verify_full(&jws, &jwks(), None, early)
            .unwrap_err()
            .reason(),
        "not_yet_valid"
    );
}

#[test]
fn revoked() {
    let jws = sign_compact(&claims(3), &key(), PASS_TYP, Some("vc"));
    assert_eq!(
        verify_full(&jws, &jwks(), Some(&list(&[3])), now()).unwrap_err(),
        PassError::Revoked
    );
    // A list from someone else, or a stale one, is not trusted.
    let other = ProviderKey::from_secret_bytes([12; 32]);
    let c = status_list_credential(LIST, ISS, &encode_list(&[]), now(), now().plus_seconds(600));
    let foreign = sign_compact(&c, &other, PASS_TYP, Some("vc"));
    assert_eq!(
        verify_full(&jws, &jwks(), Some(&foreign), now())
            .unwrap_err()
            .reason(),
        "unknown_key"
    );
    let stale = Timestamp::from_millis(now().millis() + 601_000);
    assert_eq!(
        verify_full(&jws, &jwks(), Some(&list(&[])), stale)
            .unwrap_err()
            .reason(),
        "status_unavailable"
    );
    let c = status_list_credential(
        "https://elsewhere/list",
        ISS,
        &encode_list(&[]),
        now(),
        now().plus_seconds(600),
    );
    let wrong_list = sign_compact(&c, &key(), PASS_TYP, Some("vc"));
    assert_eq!(
        verify_full(&jws, &jwks(), Some(&wrong_list), now())
            .unwrap_err()
            .reason(),
        "status_unavailable"
    );
}

#[test]
fn wrong_algorithm() {
    for alg in ["none", "HS256", "RS256", "ES256", ""] {
        let h = json!({"alg": alg, "typ": "vc+jwt", "kid": key().kid()});
        let jws = sign_with_header(h, &claims(3));
        assert_eq!(
            verify_full(&jws, &jwks(), None, now())
                .unwrap_err()
                .reason(),
            "wrong_algorithm",
            "alg {alg}"
        );
    }
    // The key decides: an EdDSA header over a key that is not OKP/Ed25519 fails.
    let mut not_ed = key().jwk();
    not_ed.crv = "X25519".into();
    let jws = sign_compact(&claims(3), &key(), PASS_TYP, Some("vc"));
    let set = Jwks { keys: vec![not_ed] };
    assert_eq!(
        verify_full(&jws, &set, None, now()).unwrap_err().reason(),
        "wrong_algorithm"
    );
}

#[test]
fn malformed() {
    for bad in [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "!!.??.##",
        "e30.e30.",
        "bm90IGpzb24.e30.AA",
    ] {
        assert_eq!(
            verify_full(bad, &jwks(), None, now()).unwrap_err().reason(),
            "malformed",
            "{bad:?}"
        );
    }
    // A signed payload that is not a JSON object.
    let h = json!({"alg": "EdDSA", "typ": "vc+jwt", "kid": key().kid()});
    let jws = sign_with_header(h, &json!([1, 2]));
    assert_eq!(
        verify_full(&jws, &jwks(), None, now())
            .unwrap_err()
            .reason(),
        "malformed"
    );
    // validFrom that is not a time.
    let mut c = claims(3);
    c["validFrom"] = "yesterday".into();
    let jws = sign_compact(&c, &key(), PASS_TYP, Some("vc"));
    assert_eq!(
        verify_full(&jws, &jwks(), None, now())
            .unwrap_err()
            .reason(),
        "malformed"
    );
}

#[test]
fn a_status_list_is_not_a_pass() {
    assert_eq!(
        verify_full(&list(&[]), &jwks(), None, now())
            .unwrap_err()
            .reason(),
        "malformed"
    );
}

#[test]
fn peek_reads_claims_without_trusting_them() {
    let jws = sign_compact(&claims(3), &key(), PASS_TYP, Some("vc"));
    assert_eq!(peek_claims(&jws).unwrap()["iss"], ISS);
    assert!(peek_claims("nope").is_err());
}
