//! Unit ownership as a hash chain of provider-signed transfer statements.
//!
//! Every sale or hand-over of a unit of a unique pass is a statement
//! (`typ: pass-transfer+jwt`) signed with the issuer's key: `unit` (the unit's
//! id), `pass` (the pass's id), `seq` (1, 2, …), `from`, `to`, and `prev`, the
//! base64url SHA-256 of the previous statement's compact JWS — of the pass's
//! own JWS for the first one. Given the pass, the statements and the issuer's
//! keys, [`verify_chain`] checks the whole history offline and names the
//! current owner. The exchange records statement `seq` under a unique key, so
//! a unit is never transferred twice from the same point.

use crate::{sign_compact, verify_compact, Jwks, PassError, ProviderKey, PASS_TYP};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use symbolon_core::Timestamp;

/// The JWS `typ` of a transfer statement.
pub const TRANSFER_TYP: &str = "pass-transfer+jwt";

/// base64url SHA-256 of a compact JWS, as `prev` links it.
pub fn link_hash(jws: &str) -> String {
    B64.encode(Sha256::digest(jws.trim().as_bytes()))
}

/// One transfer, before signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer<'a> {
    pub id: &'a str,
    pub unit_id: &'a str,
    pub pass_id: &'a str,
    pub issuer_id: &'a str,
    pub seq: u32,
    pub from: &'a str,
    pub to: &'a str,
    /// [`link_hash`] of the previous statement, or of the pass for `seq` 1.
    pub prev: &'a str,
    pub at: Timestamp,
}

/// Signs a transfer statement.
pub fn sign_transfer(t: &Transfer<'_>, key: &ProviderKey) -> String {
    let claims = json!({
        "jti": t.id,
        "iss": t.issuer_id,
        "iat": t.at.seconds(),
        "type": "PassUnitTransfer",
        "unit": t.unit_id,
        "pass": t.pass_id,
        "seq": t.seq,
        "from": t.from,
        "to": t.to,
        "prev": t.prev,
    });
    sign_compact(&claims, key, TRANSFER_TYP, None)
}

/// A verified history.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    pub unit_id: String,
    /// `(from, to)` of each transfer, in order.
    pub hops: Vec<(String, String)>,
    /// The owner after the last transfer (`None` when nothing was transferred).
    pub owner: Option<String>,
}

/// Verifies a unit's history: the pass and every statement signed by keys of
/// `jwks`, statements numbered 1.., each linked by hash to the one before (the
/// first to the pass), about one unit of that pass, each from the previous
/// receiver. Signatures are checked; validity windows are not (history stays
/// verifiable after the pass expires, as long as its keys are known).
pub fn verify_chain(
    pass_jws: &str,
    statements: &[String],
    jwks: &Jwks,
) -> Result<Chain, PassError> {
    let pass = verify_compact(pass_jws, jwks, PASS_TYP)?;
    let pass_id = pass
        .claims
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let issuer = pass.claims.get("iss");
    let broken = |i: usize, m: &str| PassError::BrokenChain(format!("statement {}: {m}", i + 1));
    let mut prev = link_hash(pass_jws);
    let mut hops = Vec::with_capacity(statements.len());
    let mut unit_id: Option<String> = None;
    for (i, jws) in statements.iter().enumerate() {
        let v = verify_compact(jws, jwks, TRANSFER_TYP)?;
        let c = &v.claims;
        let text = |name: &str| {
            c.get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        if c.get("iss") != issuer {
            return Err(broken(i, "signed for another issuer"));
        }
        if text("pass") != pass_id {
            return Err(broken(i, "about another pass"));
        }
        let unit = text("unit");
        if !unit.starts_with(pass_id) {
            return Err(broken(i, "about a unit of another pass"));
        }
        match &unit_id {
            None => unit_id = Some(unit),
            Some(u) if *u != unit => return Err(broken(i, "about another unit")),
            Some(_) => {}
        }
        if c.get("seq").and_then(Value::as_u64) != Some(i as u64 + 1) {
            return Err(broken(i, "out of sequence"));
        }
        if text("prev") != prev {
            return Err(broken(i, "does not link to the statement before it"));
        }
        let (from, to) = (text("from"), text("to"));
        if from.is_empty() || to.is_empty() {
            return Err(broken(i, "has no from or to"));
        }
        if let Some((_, last_to)) = hops.last() {
            if *last_to != from {
                return Err(broken(i, "is not from the unit's owner"));
            }
        }
        hops.push((from, to));
        prev = link_hash(jws);
    }
    Ok(Chain {
        unit_id: unit_id.unwrap_or_default(),
        owner: hops.last().map(|h| h.1.clone()),
        hops,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (ProviderKey, Jwks, String) {
        let key = ProviderKey::from_secret_bytes([7; 32]);
        let jwks = Jwks {
            keys: vec![key.jwk()],
        };
        let pass = sign_compact(
            &json!({"id": "https://x/v1/passes/pas_1", "iss": "https://x/v1/providers/acc_p"}),
            &key,
            PASS_TYP,
            Some("vc"),
        );
        (key, jwks, pass)
    }

    fn chain(key: &ProviderKey, pass: &str, owners: &[&str]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (i, w) in owners.windows(2).enumerate() {
            let prev = out
                .last()
                .map(|s| link_hash(s))
                .unwrap_or_else(|| link_hash(pass));
            out.push(sign_transfer(
                &Transfer {
                    id: &format!("t{i}"),
                    unit_id: "https://x/v1/passes/pas_1/units/1",
                    pass_id: "https://x/v1/passes/pas_1",
                    issuer_id: "https://x/v1/providers/acc_p",
                    seq: i as u32 + 1,
                    from: w[0],
                    to: w[1],
                    prev: &prev,
                    at: Timestamp::from_millis(1000),
                },
                key,
            ));
        }
        out
    }

    #[test]
    fn a_three_hop_chain_verifies_and_names_the_owner() {
        let (key, jwks, pass) = setup();
        let c = chain(&key, &pass, &["a", "b", "c", "d"]);
        let v = verify_chain(&pass, &c, &jwks).unwrap();
        assert_eq!(v.owner.as_deref(), Some("d"));
        assert_eq!(v.hops.len(), 3);
        // Dropping, reordering or splicing statements breaks it.
        assert!(matches!(
            verify_chain(&pass, &c[1..], &jwks),
            Err(PassError::BrokenChain(_))
        ));
        let swapped = vec![c[1].clone(), c[0].clone(), c[2].clone()];
        assert!(matches!(
            verify_chain(&pass, &swapped, &jwks),
            Err(PassError::BrokenChain(_))
        ));
        // A second sale from b (a fork) does not link to the current head.
        let fork = chain(&key, &pass, &["a", "b", "e"]);
        let spliced = vec![c[0].clone(), c[1].clone(), c[2].clone(), fork[1].clone()];
        assert!(matches!(
            verify_chain(&pass, &spliced, &jwks),
            Err(PassError::BrokenChain(_))
        ));
        // Another key: unknown.
        let other = Jwks {
            keys: vec![ProviderKey::from_secret_bytes([8; 32]).jwk()],
        };
        assert!(matches!(
            verify_chain(&pass, &c, &other),
            Err(PassError::UnknownKey(_))
        ));
    }

    #[test]
    fn a_hop_not_from_the_owner_is_refused() {
        let (key, jwks, pass) = setup();
        let mut c = chain(&key, &pass, &["a", "b"]);
        let forged = sign_transfer(
            &Transfer {
                id: "tx",
                unit_id: "https://x/v1/passes/pas_1/units/1",
                pass_id: "https://x/v1/passes/pas_1",
                issuer_id: "https://x/v1/providers/acc_p",
                seq: 2,
                from: "a",
                to: "z",
                prev: &link_hash(&c[0]),
                at: Timestamp::from_millis(1000),
            },
            &key,
        );
        c.push(forged);
        assert!(matches!(
            verify_chain(&pass, &c, &jwks),
            Err(PassError::BrokenChain(_))
        ));
    }
}
