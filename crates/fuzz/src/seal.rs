//! Sealed secrets (`symbolon-seal`): the provider-signed header, shares
//! (their age wrapping, their JSON envelope, combining them) and opening.

use crate::fixtures::{self, jwks, key, SECRET};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;
use symbolon_seal::{
    check_payload, combine, decompress_capped, open, sign_header, unwrap, verify_header, wrap,
    Header, SealError, ShareEnvelope, HEADER_TYP, MAX_SECRET_BYTES, MAX_SHARES,
};

/// Target `seal_header`. Mode (first byte, mod 3):
/// * 0: the rest is a signed header (compact JWS), verified;
/// * 1: the rest is JSON claims, signed with the provider's real key as a
///   `pass-seal+jwt` and verified, so the header's own checks are reached;
/// * 2: the rest edits the real header's claims (a JSON object merged over
///   them), signed and verified, then used to combine the real shares.
pub fn seal_header(data: &[u8]) {
    let Some((mode, rest)) = crate::mode(data) else {
        return;
    };
    let keys = jwks();
    let claims = match mode % 3 {
        0 => {
            if let Ok(text) = std::str::from_utf8(rest) {
                if let Ok(h) = verify_header(text, &keys) {
                    header_holds(&h);
                }
            }
            return;
        }
        1 => match serde_json::from_slice::<Value>(rest) {
            Ok(v) => v,
            Err(_) => return,
        },
        _ => {
            let Ok(Value::Object(edits)) = serde_json::from_slice::<Value>(rest) else {
                return;
            };
            let mut claims =
                serde_json::to_value(&fixtures::sealed().sealed.header).expect("serializes");
            for (k, v) in edits {
                claims[k] = v;
            }
            claims
        }
    };
    let jws = symbolon_pass::sign_compact(&claims, &key(), HEADER_TYP, None);
    let Ok(header) = verify_header(&jws, &keys) else {
        return;
    };
    header_holds(&header);
    // Re-serialised, re-signed and re-verified: the same header.
    let again = verify_header(&sign_header(&header, &key()), &keys).expect("a header re-verifies");
    assert_eq!(again, header);
    let real = &fixtures::sealed().sealed;
    let _ = check_payload(&header, &real.payload);
    match combine(&header, &real.shares) {
        Ok(identity) => {
            assert_eq!(identity.recipient(), real.header.recipient);
            assert_eq!(open(&identity, &real.payload).as_deref(), Ok(SECRET));
        }
        Err(e) => assert_ne!(
            header, real.header,
            "the real header and shares failed: {e}"
        ),
    }
}

/// What a header that verified must be.
fn header_holds(h: &Header) {
    assert_eq!(h.v, 1);
    assert_eq!(h.zip, "zstd");
    assert!(2 <= h.k && h.k <= h.n && h.n <= MAX_SHARES, "{h:?}");
}

/// Target `seal_share`. Mode (first byte, mod 4):
/// * 0: the rest is a wrapped share (an age file), unwrapped with a party's
///   identity and combined with the real header;
/// * 1: the rest is a JSON array of share envelopes, combined;
/// * 2: the rest picks real shares and edits them (per byte: which share,
///   and an edit), combined: whatever combines must open to the secret;
/// * 3: the rest is a payload, opened and zstd-decompressed with the cap.
pub fn seal_share(data: &[u8]) {
    let Some((mode, rest)) = crate::mode(data) else {
        return;
    };
    let fx = fixtures::sealed();
    match mode % 4 {
        0 => {
            if let Ok(share) = unwrap(fixtures::party(), rest) {
                // What unwraps re-wraps and unwraps to the same envelope.
                let rewrapped = wrap(fixtures::party().recipient(), &share).expect("wraps");
                assert_eq!(unwrap(fixtures::party(), &rewrapped).as_ref(), Ok(&share));
                let _ = combined(&[share]);
            }
        }
        1 => {
            if let Ok(shares) = serde_json::from_slice::<Vec<ShareEnvelope>>(rest) {
                let _ = combined(&shares);
            }
        }
        2 => {
            let mut shares = Vec::new();
            let mut edited = false;
            for &b in rest.iter().take(32) {
                let mut s = fx.sealed.shares[usize::from(b & 3) % fx.sealed.shares.len()].clone();
                match b >> 2 {
                    0 => {}
                    1 => s.index = s.index.wrapping_add(1),
                    2 => s.seal.push('x'),
                    3 => s.share = STANDARD.encode(b"\x01short"),
                    n => {
                        let mut bytes = STANDARD.decode(&s.share).expect("real shares decode");
                        let at = usize::from(n) % bytes.len();
                        bytes[at] ^= n;
                        s.share = STANDARD.encode(bytes);
                    }
                }
                edited |= b >> 2 != 0;
                shares.push(s);
            }
            let result = combined(&shares);
            let distinct: std::collections::BTreeSet<u8> = shares.iter().map(|s| s.index).collect();
            if !edited && distinct.len() >= usize::from(fx.sealed.header.k) {
                assert!(result.is_ok(), "real shares did not combine: {result:?}");
            }
        }
        _ => {
            if let Ok(out) = decompress_capped(rest, MAX_SECRET_BYTES) {
                assert!(out.len() <= MAX_SECRET_BYTES);
            }
            if let Ok(out) = open(fixtures::party(), rest) {
                assert!(out.len() <= MAX_SECRET_BYTES);
            }
        }
    }
}

/// Combines shares with the real header: whatever combines opens the secret.
fn combined(shares: &[ShareEnvelope]) -> Result<(), SealError> {
    let fx = fixtures::sealed();
    let identity = combine(&fx.sealed.header, shares)?;
    assert_eq!(identity.recipient(), fx.sealed.header.recipient);
    assert_eq!(open(&identity, &fx.sealed.payload).as_deref(), Ok(SECRET));
    Ok(())
}
