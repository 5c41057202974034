//! Standard Webhooks signatures (spec v1): `whsec_` secrets, the
//! `webhook-signature` header `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`,
//! several space-separated signatures during a secret rotation.
//!
//! [`verify`] is the receiver's side, for our clients and tests. It rejects
//! what some libraries let through: a bare `v1,` or a truncated signature is
//! never compared as a prefix (the full 32-byte MAC is checked in constant
//! time), and timestamps outside the tolerance fail.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The prefix of a symmetric secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// Secret bytes we generate (the spec asks for 24 to 64).
pub const SECRET_BYTES: usize = 32;

/// Why a webhook did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the secret is not `whsec_` + base64")]
    BadSecret,
    #[error("the webhook-timestamp header is not a Unix time in seconds")]
    BadTimestamp,
    #[error("the webhook-timestamp is outside the tolerance")]
    Stale,
    #[error("no signature matches")]
    NoMatch,
}

/// `whsec_` + base64 of the secret bytes.
pub fn encode_secret(bytes: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The secret bytes of `whsec_…` (the prefix is optional, as in the reference libraries).
pub fn decode_secret(secret: &str) -> Result<Vec<u8>, VerifyError> {
    let b64 = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    STANDARD.decode(b64).map_err(|_| VerifyError::BadSecret)
}

fn mac(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut m =
        <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes keys of any length");
    m.update(id.as_bytes());
    m.update(b".");
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// One signature: `v1,<base64>`.
pub fn sign(secret: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = mac(secret, id, timestamp, body).finalize().into_bytes();
    format!("v1,{}", STANDARD.encode(tag))
}

/// Checks the `webhook-signature` header (`signatures`, space-separated) of a
/// message against `secret` (`whsec_…`), with the timestamp at most
/// `tolerance_seconds` from `now_seconds`.
pub fn verify(
    secret: &str,
    id: &str,
    timestamp: &str,
    signatures: &str,
    body: &[u8],
    now_seconds: i64,
    tolerance_seconds: i64,
) -> Result<(), VerifyError> {
    let key = decode_secret(secret)?;
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| VerifyError::BadTimestamp)?;
    if now_seconds.abs_diff(ts) > tolerance_seconds.unsigned_abs() {
        return Err(VerifyError::Stale);
    }
    for sig in signatures.split(' ') {
        let Some(b64) = sig.strip_prefix("v1,") else {
            continue;
        };
        let Ok(tag) = STANDARD.decode(b64) else {
            continue;
        };
        // verify_slice checks the full length and compares in constant time:
        // an empty or truncated tag never matches.
        if mac(&key, id, ts, body).verify_slice(&tag).is_ok() {
            return Ok(());
        }
    }
    Err(VerifyError::NoMatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
    const TS: i64 = 1649367553;
    const BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
    const EXPECTED: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

    #[test]
    fn the_specification_test_vector() {
        let key = decode_secret(SECRET).unwrap();
        assert_eq!(sign(&key, ID, TS, BODY), EXPECTED);
        assert_eq!(
            verify(SECRET, ID, &TS.to_string(), EXPECTED, BODY, TS, 300),
            Ok(())
        );
        // Several signatures (rotation): any one valid suffices.
        let both = format!("v1,AAAA {EXPECTED}");
        assert_eq!(
            verify(SECRET, ID, &TS.to_string(), &both, BODY, TS + 299, 300),
            Ok(())
        );
    }

    #[test]
    fn empty_and_truncated_signatures_fail() {
        let ts = TS.to_string();
        for bad in [
            "v1,".to_string(),
            "v1".to_string(),
            String::new(),
            EXPECTED[..EXPECTED.len() - 4].to_string(),
            EXPECTED[..8].to_string(),
            format!("{}=", &EXPECTED[..EXPECTED.len() - 2]),
            "v1a,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=".to_string(),
        ] {
            assert_eq!(
                verify(SECRET, ID, &ts, &bad, BODY, TS, 300),
                Err(VerifyError::NoMatch),
                "{bad:?}"
            );
        }
        // Every strict prefix of the tag fails.
        let tag = STANDARD.decode(&EXPECTED[3..]).unwrap();
        for n in 0..tag.len() {
            let sig = format!("v1,{}", STANDARD.encode(&tag[..n]));
            assert!(
                verify(SECRET, ID, &ts, &sig, BODY, TS, 300).is_err(),
                "{n} bytes"
            );
        }
    }

    #[test]
    fn tampering_and_time_fail() {
        let ts = TS.to_string();
        assert_eq!(
            verify(SECRET, ID, &ts, EXPECTED, b"{}", TS, 300),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            verify(SECRET, "msg_other", &ts, EXPECTED, BODY, TS, 300),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            verify(SECRET, ID, &ts, EXPECTED, BODY, TS + 301, 300),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            verify(SECRET, ID, &ts, EXPECTED, BODY, TS - 301, 300),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            verify(SECRET, ID, "soon", EXPECTED, BODY, TS, 300),
            Err(VerifyError::BadTimestamp)
        );
        assert_eq!(
            verify("whsec_***", ID, &ts, EXPECTED, BODY, TS, 300),
            Err(VerifyError::BadSecret)
        );
        let other = encode_secret(&[7u8; 32]);
        assert_eq!(
            verify(&other, ID, &ts, EXPECTED, BODY, TS, 300),
            Err(VerifyError::NoMatch)
        );
    }
}
