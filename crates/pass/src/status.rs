//! Revocation: W3C Bitstring Status List v1.0.
//!
//! Each pass carries a `BitstringStatusListEntry` (`statusPurpose: revocation`,
//! a random `statusListIndex`, the provider's `statusListCredential` URL). The
//! list is a credential of its own, signed like a pass, whose `encodedList` is
//! the multibase (`u`, base64url) GZIP of a bitstring of [`STATUS_LIST_BITS`]
//! bits; bit `i` (most significant bit of byte `i / 8` first) set means the
//! pass with index `i` is revoked.

use crate::{Jwks, PassError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde_json::{json, Value};
use std::io::{Read, Write};
use symbolon_core::Timestamp;

/// Bits in one status list: the specification's minimum (16 KiB), for herd privacy.
pub const STATUS_LIST_BITS: u32 = 131_072;
/// The largest decoded list a verifier accepts (a decompression-bomb cap).
pub const MAX_STATUS_LIST_BYTES: usize = 1 << 20;

/// Where a pass's revocation bit is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    pub index: u32,
    /// The status list credential's URL.
    pub list_url: String,
}

impl StatusEntry {
    /// The `credentialStatus` member of a pass.
    pub fn to_json(&self) -> Value {
        json!({
            "id": format!("{}#{}", self.list_url, self.index),
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": self.index.to_string(),
            "statusListCredential": self.list_url,
        })
    }

    /// The entry of a pass's claims, if it has one.
    pub fn of(claims: &Value) -> Result<Option<Self>, PassError> {
        let Some(status) = claims.get("credentialStatus") else {
            return Ok(None);
        };
        let bad = |m: &str| PassError::Malformed(format!("credentialStatus: {m}"));
        if status.get("type").and_then(Value::as_str) != Some("BitstringStatusListEntry") {
            return Err(bad("type is not BitstringStatusListEntry"));
        }
        if status.get("statusPurpose").and_then(Value::as_str) != Some("revocation") {
            return Err(bad("statusPurpose is not revocation"));
        }
        let index = status
            .get("statusListIndex")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u32>().ok())
            .filter(|i| *i < STATUS_LIST_BITS)
            .ok_or_else(|| bad("statusListIndex is not an index into the list"))?;
        let list_url = status
            .get("statusListCredential")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("statusListCredential is missing"))?
            .to_string();
        Ok(Some(Self { index, list_url }))
    }
}

/// `encodedList` for a list whose set bits are `revoked`.
pub fn encode_list(revoked: &[u32]) -> String {
    let mut bits = vec![0u8; (STATUS_LIST_BITS / 8) as usize];
    for &i in revoked {
        if i < STATUS_LIST_BITS {
            bits[(i / 8) as usize] |= 0x80 >> (i % 8);
        }
    }
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&bits).expect("writing to a Vec cannot fail");
    let zipped = gz.finish().expect("writing to a Vec cannot fail");
    format!("u{}", B64.encode(zipped))
}

/// The bitstring of an `encodedList`.
pub fn decode_list(encoded: &str) -> Result<Vec<u8>, PassError> {
    let bad = |m: &str| PassError::Malformed(format!("encodedList: {m}"));
    let b64 = encoded
        .strip_prefix('u')
        .ok_or_else(|| bad("not multibase base64url (`u…`)"))?;
    let zipped = B64.decode(b64).map_err(|_| bad("not base64url"))?;
    let mut out = Vec::new();
    GzDecoder::new(&zipped[..])
        .take(MAX_STATUS_LIST_BYTES as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| bad("not GZIP"))?;
    if out.len() > MAX_STATUS_LIST_BYTES {
        return Err(bad("larger than the cap"));
    }
    Ok(out)
}

/// Whether bit `index` is set.
pub fn bit(bits: &[u8], index: u32) -> bool {
    bits.get((index / 8) as usize)
        .is_some_and(|b| b & (0x80 >> (index % 8)) != 0)
}

/// The claims of a status list credential.
pub fn status_list_credential(
    list_url: &str,
    issuer_id: &str,
    encoded_list: &str,
    valid_from: Timestamp,
    valid_until: Timestamp,
) -> Value {
    json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": list_url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_id,
        "iss": issuer_id,
        "iat": valid_from.seconds(),
        "validFrom": valid_from.to_rfc3339(),
        "validUntil": valid_until.to_rfc3339(),
        "credentialSubject": {
            "id": format!("{list_url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded_list,
        },
    })
}

/// Checks a verified pass against its issuer's status list credential
/// (`list_jws`): the list must verify against `jwks`, be current at `now`, be
/// the list the pass names and come from the pass's issuer.
/// [`PassError::Revoked`] when the pass's bit is set.
pub fn check_status(
    pass_claims: &Value,
    list_jws: &str,
    jwks: &Jwks,
    now: Timestamp,
) -> Result<(), PassError> {
    let Some(entry) = StatusEntry::of(pass_claims)? else {
        return Ok(());
    };
    let list = crate::verify_pass(list_jws, jwks, now).map_err(|e| match e {
        PassError::Expired => PassError::StatusUnavailable("the status list is stale".into()),
        other => other,
    })?;
    let c = &list.claims;
    if c.get("id").and_then(Value::as_str) != Some(entry.list_url.as_str()) {
        return Err(PassError::StatusUnavailable(
            "the status list is not the one the pass names".into(),
        ));
    }
    if c.get("iss") != pass_claims.get("iss") {
        return Err(PassError::StatusUnavailable(
            "the status list comes from another issuer".into(),
        ));
    }
    let subject = &c["credentialSubject"];
    if subject.get("statusPurpose").and_then(Value::as_str) != Some("revocation") {
        return Err(PassError::Malformed(
            "status list purpose is not revocation".into(),
        ));
    }
    let encoded = subject
        .get("encodedList")
        .and_then(Value::as_str)
        .ok_or_else(|| PassError::Malformed("status list has no encodedList".into()))?;
    let bits = decode_list(encoded)?;
    if (bits.len() as u64) * 8 < u64::from(STATUS_LIST_BITS) {
        return Err(PassError::Malformed(
            "status list is shorter than 131072 bits".into(),
        ));
    }
    if bit(&bits, entry.index) {
        return Err(PassError::Revoked);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn encoded_lists_round_trip(set in proptest::collection::vec(0u32..STATUS_LIST_BITS, 0..50), probe in 0u32..STATUS_LIST_BITS) {
            let bits = decode_list(&encode_list(&set)).unwrap();
            prop_assert_eq!(bits.len() as u32 * 8, STATUS_LIST_BITS);
            prop_assert_eq!(bit(&bits, probe), set.contains(&probe));
        }
    }

    #[test]
    fn the_first_index_is_the_most_significant_bit() {
        let bits = decode_list(&encode_list(&[0, 9])).unwrap();
        assert_eq!(bits[0], 0x80);
        assert_eq!(bits[1], 0x40);
    }

    #[test]
    fn a_decompression_bomb_is_refused() {
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&vec![0u8; MAX_STATUS_LIST_BYTES + 10])
            .unwrap();
        let encoded = format!("u{}", B64.encode(gz.finish().unwrap()));
        assert!(matches!(
            decode_list(&encoded),
            Err(PassError::Malformed(_))
        ));
        assert!(matches!(decode_list("zabc"), Err(PassError::Malformed(_))));
    }
}
