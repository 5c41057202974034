use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// Why a JWS did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PassError {
    #[error("malformed pass: {0}")]
    Malformed(String),
    #[error("wrong algorithm `{0}`: only EdDSA/Ed25519 is accepted")]
    WrongAlgorithm(String),
    #[error("wrong type `{0}`")]
    WrongType(String),
    #[error("unknown key `{0}`")]
    UnknownKey(String),
    #[error("bad signature")]
    BadSignature,
    #[error("expired")]
    Expired,
    #[error("not yet valid")]
    NotYetValid,
    #[error("revoked by its issuer")]
    Revoked,
    #[error("revocation status unavailable: {0}")]
    StatusUnavailable(String),
    #[error("broken transfer chain: {0}")]
    BrokenChain(String),
}

impl PassError {
    /// A stable, machine-readable name of the reason.
    pub fn reason(&self) -> &'static str {
        match self {
            PassError::Malformed(_) => "malformed",
            PassError::WrongAlgorithm(_) => "wrong_algorithm",
            PassError::WrongType(_) => "wrong_type",
            PassError::UnknownKey(_) => "unknown_key",
            PassError::BadSignature => "bad_signature",
            PassError::Expired => "expired",
            PassError::NotYetValid => "not_yet_valid",
            PassError::Revoked => "revoked",
            PassError::StatusUnavailable(_) => "status_unavailable",
            PassError::BrokenChain(_) => "broken_chain",
        }
    }
}

/// A provider's Ed25519 signing key. `Debug` never shows the secret.
#[derive(Clone)]
pub struct ProviderKey {
    key: SigningKey,
}

impl ProviderKey {
    /// From 32 secret bytes (the caller draws them from a CSPRNG).
    pub fn from_secret_bytes(bytes: [u8; 32]) -> Self {
        Self {
            key: SigningKey::from_bytes(&bytes),
        }
    }
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }
    pub fn public_bytes(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }
    /// The public JWK, with `kid` = [`thumbprint_kid`].
    pub fn jwk(&self) -> Jwk {
        Jwk::from_public_bytes(&self.public_bytes())
    }
    pub fn kid(&self) -> String {
        self.jwk().kid
    }

    #[cfg(test)]
    pub(crate) fn key_for_tests(&self) -> &SigningKey {
        &self.key
    }
}

impl fmt::Debug for ProviderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProviderKey({}, secret: [redacted])", self.kid())
    }
}

/// A public key (RFC 8037 OKP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub kid: String,
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
}

impl Jwk {
    pub fn from_public_bytes(public: &[u8; 32]) -> Self {
        let x = B64.encode(public);
        Self {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            kid: thumbprint_kid(&x),
            x,
            use_: Some("sig".into()),
            alg: Some("EdDSA".into()),
        }
    }

    /// Checks that the key is an OKP/Ed25519 key whose `x` is a curve point.
    pub fn check(&self) -> Result<(), PassError> {
        self.verifying_key().map(|_| ())
    }

    fn verifying_key(&self) -> Result<VerifyingKey, PassError> {
        if self.kty != "OKP" || self.crv != "Ed25519" {
            return Err(PassError::WrongAlgorithm(format!(
                "{}/{}",
                self.kty, self.crv
            )));
        }
        let bytes = B64
            .decode(&self.x)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| PassError::Malformed("JWK x is not 32 base64url bytes".into()))?;
        VerifyingKey::from_bytes(&bytes)
            .map_err(|_| PassError::Malformed("JWK x is not a point".into()))
    }
}

/// A JWK Set (RFC 7517).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// `urn:ietf:params:oauth:jwk-thumbprint:sha-256:<RFC 7638 thumbprint>` of an Ed25519 key given as base64url `x`.
pub fn thumbprint_kid(x: &str) -> String {
    // RFC 7638: required members in lexicographic order, no whitespace.
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    let digest = Sha256::digest(canonical.as_bytes());
    format!(
        "urn:ietf:params:oauth:jwk-thumbprint:sha-256:{}",
        B64.encode(digest)
    )
}

/// The payload segment [`sign_compact`] makes of `claims` (base64url of their compact JSON).
pub fn encode_claims(claims: &serde_json::Value) -> String {
    B64.encode(claims.to_string().as_bytes())
}

/// Signs `claims` as a compact JWS with header `{alg: EdDSA, typ, cty?, kid}`.
pub fn sign_compact(
    claims: &serde_json::Value,
    key: &ProviderKey,
    typ: &str,
    cty: Option<&str>,
) -> String {
    let mut header = serde_json::json!({"alg": "EdDSA", "typ": typ, "kid": key.kid()});
    if let Some(cty) = cty {
        header["cty"] = cty.into();
    }
    let signing_input = format!(
        "{}.{}",
        B64.encode(header.to_string().as_bytes()),
        encode_claims(claims)
    );
    let sig: Signature = key.key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", B64.encode(sig.to_bytes()))
}

/// A verified JWS.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    pub header: serde_json::Value,
    pub claims: serde_json::Value,
    pub kid: String,
}

/// Verifies a compact JWS against a key set and expected `typ`.
pub fn verify_compact(jws: &str, jwks: &Jwks, expected_typ: &str) -> Result<Verified, PassError> {
    let mut parts = jws.trim().split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(PassError::Malformed(
            "a compact JWS has three dot-separated parts".into(),
        ));
    };
    let decode = |part: &str, what: &str| {
        B64.decode(part)
            .map_err(|_| PassError::Malformed(format!("{what} is not base64url")))
    };
    let header: serde_json::Value = serde_json::from_slice(&decode(h, "header")?)
        .map_err(|_| PassError::Malformed("header is not JSON".into()))?;
    let alg = header
        .get("alg")
        .and_then(|v| v.as_str())
        .ok_or_else(|| PassError::Malformed("header has no alg".into()))?;
    if alg != "EdDSA" && alg != "Ed25519" {
        return Err(PassError::WrongAlgorithm(alg.to_string()));
    }
    if header.get("crit").is_some() {
        return Err(PassError::Malformed("unsupported crit header".into()));
    }
    let typ = header
        .get("typ")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    if typ != expected_typ {
        return Err(PassError::WrongType(typ.to_string()));
    }
    let kid = header
        .get("kid")
        .and_then(|v| v.as_str())
        .ok_or_else(|| PassError::Malformed("header has no kid".into()))?
        .to_string();
    let jwk = jwks
        .keys
        .iter()
        .find(|k| k.kid == kid)
        .ok_or_else(|| PassError::UnknownKey(kid.clone()))?;
    let vk = jwk.verifying_key()?;
    let sig_bytes = <[u8; 64]>::try_from(decode(s, "signature")?)
        .map_err(|_| PassError::Malformed("signature is not 64 bytes".into()))?;
    let sig = Signature::from_bytes(&sig_bytes);
    vk.verify_strict(format!("{h}.{p}").as_bytes(), &sig)
        .map_err(|_| PassError::BadSignature)?;
    let claims: serde_json::Value = serde_json::from_slice(&decode(p, "payload")?)
        .map_err(|_| PassError::Malformed("payload is not JSON".into()))?;
    if !claims.is_object() {
        return Err(PassError::Malformed("payload is not a JSON object".into()));
    }
    Ok(Verified {
        header,
        claims,
        kid,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(seed: u8) -> ProviderKey {
        ProviderKey::from_secret_bytes([seed; 32])
    }

    #[test]
    fn sign_then_verify_and_reject_tampering() {
        let k = key(1);
        let jwks = Jwks {
            keys: vec![k.jwk()],
        };
        let claims = serde_json::json!({"hello": "world"});
        let jws = sign_compact(&claims, &k, "vc+jwt", Some("vc"));
        let v = verify_compact(&jws, &jwks, "vc+jwt").unwrap();
        assert_eq!(v.claims, claims);
        assert_eq!(v.header["cty"], "vc");

        // Another key set: unknown key.
        let other = Jwks {
            keys: vec![key(2).jwk()],
        };
        assert!(matches!(
            verify_compact(&jws, &other, "vc+jwt"),
            Err(PassError::UnknownKey(_))
        ));
        // Payload swapped.
        let parts: Vec<&str> = jws.split('.').collect();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            B64.encode(br#"{"hello":"mallory"}"#),
            parts[2]
        );
        assert_eq!(
            verify_compact(&forged, &jwks, "vc+jwt"),
            Err(PassError::BadSignature)
        );
        // alg none.
        let none_header = B64.encode(format!(
            r#"{{"alg":"none","typ":"vc+jwt","kid":"{}"}}"#,
            k.kid()
        ));
        let forged = format!("{none_header}.{}.", parts[1]);
        assert!(matches!(
            verify_compact(&forged, &jwks, "vc+jwt"),
            Err(PassError::WrongAlgorithm(_))
        ));
        // Wrong typ.
        assert!(matches!(
            verify_compact(&jws, &jwks, "other"),
            Err(PassError::WrongType(_))
        ));
        // Garbage.
        assert!(matches!(
            verify_compact("a.b", &jwks, "vc+jwt"),
            Err(PassError::Malformed(_))
        ));
    }

    #[test]
    fn kid_is_rfc7638_thumbprint() {
        // RFC 8037 appendix A.3 example key and its thumbprint.
        let kid = thumbprint_kid("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
        assert_eq!(
            kid,
            "urn:ietf:params:oauth:jwk-thumbprint:sha-256:kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn debug_redacts_secret() {
        let s = format!("{:?}", key(9));
        assert!(s.contains("redacted"));
        assert!(!s.contains("9, 9"));
    }

    proptest! {
        #[test]
        fn any_single_byte_flip_breaks_verification(idx in 0usize..200, bit in 0u8..8) {
            let k = key(3);
            let jwks = Jwks { keys: vec![k.jwk()] };
            let jws = sign_compact(&serde_json::json!({"n": 1, "s": "abcdefghijklmnopqrstuvwxyz"}), &k, "vc+jwt", None);
            let mut bytes = jws.clone().into_bytes();
            let i = idx % bytes.len();
            if bytes[i] == b'.' { return Ok(()); }
            bytes[i] ^= 1 << bit;
            let tampered = String::from_utf8_lossy(&bytes).to_string();
            if tampered != jws {
                let result = verify_compact(&tampered, &jwks, "vc+jwt");
                let same_sig = B64.decode(tampered.split('.').nth(2).unwrap_or("")).ok()
                    == B64.decode(jws.split('.').nth(2).unwrap_or("")).ok();
                let same_input = tampered.rsplit_once('.').map(|x| x.0) == jws.rsplit_once('.').map(|x| x.0);
                prop_assert!(result.is_err() || (same_sig && same_input));
            }
        }
    }
}
