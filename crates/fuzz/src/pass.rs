//! The pass parser and verifier (`symbolon-pass`): compact JWS, the VC
//! claims a verifier reads (validity, type, revocation entry), the status
//! list and unit transfer chains.

use crate::fixtures::{self, jwks, key, now};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::Value;
use symbolon_pass::status::{bit, decode_list, MAX_STATUS_LIST_BYTES};
use symbolon_pass::{
    check_status, peek_claims, peek_header, sign_compact, verify_chain, verify_compact,
    verify_full, PassError, StatusEntry, LICENCE_TYP, PASS_TYP, TRANSFER_TYP,
};

/// Target `pass_jws`. Mode (first byte, mod 4):
/// * 0: the rest is a compact JWS, verified as a pass, a licence, a status
///   list and a transfer statement;
/// * 1: the rest is JSON claims, signed with the provider's real key and
///   verified — the signature is genuine, so every check after it is reached;
/// * 2: the rest edits the real pass (pairs of position, XOR byte), which
///   must then fail to verify unless signing input and signature survive;
/// * 3: the rest is the status list's `encodedList`, signed into a list.
pub fn pass_jws(data: &[u8]) {
    let Some((mode, rest)) = crate::mode(data) else {
        return;
    };
    match mode % 4 {
        0 => {
            if let Ok(text) = std::str::from_utf8(rest) {
                verify_any(text);
            }
        }
        1 => signed_claims(rest),
        2 => mutated(rest),
        _ => {
            if let Ok(text) = std::str::from_utf8(rest) {
                encoded_list(text);
            }
        }
    }
}

/// Every verifier on an arbitrary string: errors, never panics; what
/// verifies carries a genuine signature by the provider's key.
fn verify_any(jws: &str) {
    let keys = jwks();
    for typ in [PASS_TYP, LICENCE_TYP, TRANSFER_TYP] {
        if let Ok(v) = verify_compact(jws, &keys, typ) {
            assert_eq!(v.kid, key().kid());
            assert!(v.claims.is_object());
            assert_eq!(peek_claims(jws).ok().as_ref(), Some(&v.claims));
            assert_eq!(peek_header(jws).ok().as_ref(), Some(&v.header));
        }
    }
    if let Ok(v) = verify_full(jws, &keys, Some(fixtures::status_list_jws()), now()) {
        full_pass_holds(&v.claims);
    }
    let _ = peek_claims(jws);
    let _ = peek_header(jws);
    let _ = verify_chain(fixtures::pass_jws(), &[jws.to_string()], &keys);
    let _ = verify_chain(jws, &[], &keys);
    let _ = check_status(
        &fixtures::pass_claims(fixtures::PASS_INDEX),
        jws,
        &keys,
        now(),
    );
}

/// What a pass that passed `verify_full` must be.
fn full_pass_holds(claims: &Value) {
    let types = claims["type"].as_array().expect("a pass has a type array");
    assert!(types.iter().any(|t| t == "ProductPass"));
    match StatusEntry::of(claims) {
        Ok(Some(entry)) => assert_ne!(
            entry.index,
            fixtures::REVOKED_INDEX,
            "a revoked pass verified"
        ),
        Ok(None) => {}
        Err(e) => panic!("a verified pass has a malformed status entry: {e}"),
    }
}

/// Whether `v` holds a number that is not an integer.
fn has_float(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.is_f64(),
        Value::Array(a) => a.iter().any(has_float),
        Value::Object(o) => o.values().any(has_float),
        _ => false,
    }
}

/// Equal, but for floats within a relative 1e-12.
fn nearly_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
                _ => false,
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| nearly_equal(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| nearly_equal(v, w)))
        }
        _ => a == b,
    }
}

/// Claims of the input's choosing, genuinely signed.
fn signed_claims(rest: &[u8]) {
    let Ok(claims) = serde_json::from_slice::<Value>(rest) else {
        return;
    };
    let keys = jwks();
    let jws = sign_compact(&claims, &key(), PASS_TYP, Some("vc"));
    // Sign, then verify: the claims come back as signed (objects only).
    match verify_compact(&jws, &keys, PASS_TYP) {
        // serde_json reads a float back to a double near the one it wrote,
        // not always the same (no `float_roundtrip`): floats compare within a
        // few units in the last place. Pass claims hold no floats (money is
        // integers or strings).
        Ok(v) if has_float(&claims) => {
            assert!(nearly_equal(&v.claims, &claims), "{} != {claims}", v.claims)
        }
        Ok(v) => assert_eq!(v.claims, claims),
        Err(e) => assert!(
            !claims.is_object() && matches!(e, PassError::Malformed(_)),
            "{e}"
        ),
    }
    // Another key set never verifies it.
    let strangers = symbolon_pass::Jwks {
        keys: vec![fixtures::other_key().jwk()],
    };
    assert!(verify_compact(&jws, &strangers, PASS_TYP).is_err());
    if let Ok(v) = verify_full(&jws, &keys, Some(fixtures::status_list_jws()), now()) {
        full_pass_holds(&v.claims);
    }
    let _ = check_status(&claims, fixtures::status_list_jws(), &keys, now());
    // As the issuer's status list, checked for the real pass.
    let _ = check_status(
        &fixtures::pass_claims(fixtures::PASS_INDEX),
        &jws,
        &keys,
        now(),
    );
    // As a transfer statement of the real pass.
    let statement = sign_compact(&claims, &key(), TRANSFER_TYP, None);
    if let Ok(chain) = verify_chain(fixtures::pass_jws(), &[statement], &keys) {
        assert_eq!(chain.hops.len(), 1);
        assert_eq!(chain.owner.as_deref(), Some(chain.hops[0].1.as_str()));
    }
}

/// The real pass with the input's edits: accepted only when the signing
/// input and the signature bytes are unchanged.
fn mutated(rest: &[u8]) {
    let original = fixtures::pass_jws();
    let mut bytes = original.as_bytes().to_vec();
    for edit in rest.chunks_exact(3) {
        let at = usize::from(u16::from_le_bytes([edit[0], edit[1]])) % (bytes.len() + 1);
        match edit[2] {
            0 => bytes.truncate(at),
            0xff => bytes.insert(at, b'A'),
            x if at < bytes.len() => bytes[at] ^= x,
            _ => {}
        }
    }
    let Ok(text) = String::from_utf8(bytes) else {
        return;
    };
    let keys = jwks();
    if let Ok(v) = verify_compact(&text, &keys, PASS_TYP) {
        let parts = |s: &str| -> Option<(String, Vec<u8>)> {
            let (input, sig) = s.trim().rsplit_once('.')?;
            Some((input.to_string(), B64.decode(sig).ok()?))
        };
        assert_eq!(
            parts(&text),
            parts(original),
            "a mutated pass verified: {text}"
        );
        assert_eq!(v.claims, fixtures::pass_claims(fixtures::PASS_INDEX));
    }
    let _ = verify_full(&text, &keys, Some(fixtures::status_list_jws()), now());
}

/// An arbitrary `encodedList`: decoded within the cap, and as a signed
/// list checked for the real pass and for a revoked one.
fn encoded_list(encoded: &str) {
    if let Ok(bits) = decode_list(encoded) {
        assert!(bits.len() <= MAX_STATUS_LIST_BYTES);
        let _ = bit(&bits, fixtures::PASS_INDEX);
        let _ = bit(&bits, u32::MAX);
    }
    let mut claims = fixtures::status_list_claims();
    claims["credentialSubject"]["encodedList"] = encoded.into();
    let list = sign_compact(&claims, &key(), PASS_TYP, Some("vc"));
    let keys = jwks();
    for index in [fixtures::PASS_INDEX, fixtures::REVOKED_INDEX] {
        let pass = fixtures::pass_claims(index);
        if check_status(&pass, &list, &keys, now()).is_ok() {
            let bits = decode_list(encoded).expect("a list that answered decodes");
            assert!(!bit(&bits, index), "a revoked pass passed its status check");
        }
    }
}
