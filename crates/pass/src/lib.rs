//! Passes: provider-signed W3C Verifiable Credentials 2.0 in compact JWS form
//! (VC-JOSE-COSE, `typ: vc+jwt`, `alg: EdDSA`).
//!
//! * [`ProviderKey`] signs; [`Jwk`]/[`Jwks`] publish the public half.
//! * [`credential`] builds the pass claims; [`sign_compact`] and [`verify_compact`]
//!   are the JWS primitives; [`verify_pass`] adds the validity window.
//! * [`status`]: revocation through a Bitstring Status List credential.
//! * [`transfer`]: a unit's ownership as a hash chain of signed statements.
//!
//! Verification never lets the header choose the algorithm: the key must be an
//! OKP/Ed25519 JWK and the header must say `EdDSA` or `Ed25519` (RFC 9864).

mod credential;
mod jws;
pub mod status;
#[cfg(test)]
mod tests;
pub mod transfer;

pub use credential::{
    actions_json, credential, gs1_digital_link, licence_claims, standard_actions, valid_gtin,
    PassAction, PassSubject, PassTerms,
};
pub use jws::{
    encode_claims, sign_compact, thumbprint_kid, verify_compact, Jwk, Jwks, PassError, ProviderKey,
    Verified,
};
pub use status::{check_status, StatusEntry};
pub use transfer::{link_hash, sign_transfer, verify_chain, Chain, Transfer, TRANSFER_TYP};

use symbolon_core::Timestamp;

/// The JWS `typ` of a pass.
pub const PASS_TYP: &str = "vc+jwt";
/// The JWS `typ` of a licence given to a requester for a shareable pass.
pub const LICENCE_TYP: &str = "pass-licence+jwt";

/// Verifies a pass: signature against `jwks`, `typ`, and `validFrom`/`validUntil` at `now`.
pub fn verify_pass(jws: &str, jwks: &Jwks, now: Timestamp) -> Result<Verified, PassError> {
    let v = verify_compact(jws, jwks, PASS_TYP)?;
    let time = |name: &str| -> Result<Option<Timestamp>, PassError> {
        match v.claims.get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Timestamp::parse_rfc3339(s)
                .map(Some)
                .ok_or_else(|| PassError::Malformed(format!("{name} is not RFC 3339"))),
            Some(_) => Err(PassError::Malformed(format!("{name} is not a string"))),
        }
    };
    if let Some(from) = time("validFrom")? {
        if now < from {
            return Err(PassError::NotYetValid);
        }
    }
    if let Some(until) = time("validUntil")? {
        if now >= until {
            return Err(PassError::Expired);
        }
    }
    Ok(v)
}

/// [`verify_pass`] for a product pass: the credential's `type` must name
/// `ProductPass` (a status list, also `vc+jwt`, is not a pass).
pub fn verify_product_pass(jws: &str, jwks: &Jwks, now: Timestamp) -> Result<Verified, PassError> {
    let v = verify_pass(jws, jwks, now)?;
    let is_pass = v
        .claims
        .get("type")
        .and_then(|t| t.as_array())
        .is_some_and(|t| t.iter().any(|x| x == "ProductPass"));
    if !is_pass {
        return Err(PassError::Malformed("not a ProductPass credential".into()));
    }
    Ok(v)
}

/// Everything a verifier checks, in order: the signature against `jwks`
/// (the algorithm fixed by the key), `typ`, the validity window at `now`, and
/// — given the issuer's status list credential — revocation.
pub fn verify_full(
    jws: &str,
    jwks: &Jwks,
    status_list: Option<&str>,
    now: Timestamp,
) -> Result<Verified, PassError> {
    let v = verify_product_pass(jws, jwks, now)?;
    if let Some(list) = status_list {
        check_status(&v.claims, list, jwks, now)?;
    }
    Ok(v)
}

/// The claims of a compact JWS, decoded without verifying anything (to learn
/// which issuer's keys to fetch). Never trust the result.
pub fn peek_claims(jws: &str) -> Result<serde_json::Value, PassError> {
    peek_part(jws, 1, "payload")
}

/// The protected header of a compact JWS (its `kid`, `alg`), decoded without
/// verifying anything.
pub fn peek_header(jws: &str) -> Result<serde_json::Value, PassError> {
    peek_part(jws, 0, "header")
}

fn peek_part(jws: &str, index: usize, what: &str) -> Result<serde_json::Value, PassError> {
    use base64::Engine;
    let part = jws.trim().split('.').nth(index).ok_or_else(|| {
        PassError::Malformed("a compact JWS has three dot-separated parts".into())
    })?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| PassError::Malformed(format!("{what} is not base64url")))?;
    serde_json::from_slice(&bytes).map_err(|_| PassError::Malformed(format!("{what} is not JSON")))
}
