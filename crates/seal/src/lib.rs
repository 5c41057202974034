//! Sealed secrets: a pass's payload (a device password, a licence key) that
//! opens only with the holder's share and the provider's share; the exchange,
//! which relays everything, never can.
//!
//! * **Seal** (the provider, on its own machine): compress the secret with
//!   zstd; draw a random 32-byte X25519 scalar — an age identity — and
//!   encrypt the compressed secret as a standard age v1 file to its recipient;
//!   split the scalar k-of-n with Shamir's scheme over GF(256) (`blahaj`, the
//!   fork of `sharks` carrying the RUSTSEC-2024-0398 fix); sign a header
//!   binding the pass, the seal id, k, n, the identity's recipient and the
//!   payload's SHA-256 with the provider's Ed25519 key.
//! * **Wrap**: each share travels as an age file encrypted to one party's
//!   X25519 key (`age1…`), naming its seal, pass and index.
//! * **Open** (the requester): unwrap k shares, rebuild the identity, check it
//!   is the one the header names, check the payload's hash, decrypt, and
//!   decompress with a hard cap. The rebuilt identity is a standard
//!   `AGE-SECRET-KEY-1…`, so `age -d -i identity payload.age | zstd -d` opens
//!   it too.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bech32::{ToBase32, Variant};
use blahaj::{Share, Sharks};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::str::FromStr;

/// The largest secret (and the most a payload may decompress to).
pub const MAX_SECRET_BYTES: usize = 64 * 1024;
/// The largest sealed payload (an age file) the exchange stores.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;
/// The largest wrapped share accepted.
pub const MAX_WRAPPED_SHARE_BYTES: usize = 4 * 1024;
/// The most shares a seal may have.
pub const MAX_SHARES: u8 = 16;
/// The JWS `typ` of a seal header.
pub const HEADER_TYP: &str = "pass-seal+jwt";
/// zstd level for secrets (small inputs: the strongest level costs nothing).
const ZSTD_LEVEL: i32 = 19;

/// What can go wrong, each with a plain reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error("the secret is empty or larger than {MAX_SECRET_BYTES} bytes")]
    SecretSize,
    #[error("threshold {k} of {n} shares: need 2 ≤ k ≤ n ≤ {MAX_SHARES}")]
    Threshold { k: u8, n: u8 },
    #[error("not an age identity or recipient: {0}")]
    BadKey(String),
    #[error("cannot unwrap the share: {0}")]
    Unwrap(String),
    #[error("the share is for another seal or pass ({0})")]
    ForeignShare(String),
    #[error("{have} share(s), {need} needed")]
    NotEnoughShares { have: usize, need: usize },
    #[error("the shares do not rebuild the sealed identity (a wrong or tampered share)")]
    WrongShares,
    #[error("the payload does not match the signed header (tampered)")]
    PayloadTampered,
    #[error("the header does not verify: {0}")]
    BadHeader(String),
    #[error("cannot decrypt the payload: {0}")]
    Decrypt(String),
    #[error("the payload decompresses beyond {MAX_SECRET_BYTES} bytes (refused)")]
    TooLarge,
    #[error("the payload is not zstd data: {0}")]
    Decompress(String),
    #[error("the payload is larger than {MAX_PAYLOAD_BYTES} bytes")]
    PayloadSize,
}

/// An X25519 identity in age's format and its recipient.
#[derive(Clone)]
pub struct Identity {
    secret: String,
    recipient: String,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Identity({}, secret: [redacted])", self.recipient)
    }
}

impl Identity {
    /// A fresh identity from the OS's randomness.
    pub fn generate() -> Self {
        let mut scalar = [0u8; 32];
        rand::rng().fill_bytes(&mut scalar);
        Self::from_scalar(&scalar)
    }

    fn from_scalar(scalar: &[u8; 32]) -> Self {
        let secret = bech32::encode("age-secret-key-", scalar.to_base32(), Variant::Bech32)
            .expect("a valid HRP")
            .to_uppercase();
        let id = age::x25519::Identity::from_str(&secret).expect("a valid age identity");
        Self {
            recipient: id.to_public().to_string(),
            secret,
        }
    }

    /// Parses `AGE-SECRET-KEY-1…`.
    pub fn parse(secret: &str) -> Result<Self, SealError> {
        let id = age::x25519::Identity::from_str(secret.trim())
            .map_err(|e| SealError::BadKey(e.to_string()))?;
        Ok(Self {
            recipient: id.to_public().to_string(),
            secret: secret.trim().to_string(),
        })
    }

    /// `AGE-SECRET-KEY-1…` (handle with care).
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// `age1…`.
    pub fn recipient(&self) -> &str {
        &self.recipient
    }

    fn age(&self) -> age::x25519::Identity {
        age::x25519::Identity::from_str(&self.secret).expect("checked at construction")
    }
}

/// Checks an `age1…` recipient.
pub fn parse_recipient(recipient: &str) -> Result<age::x25519::Recipient, SealError> {
    age::x25519::Recipient::from_str(recipient.trim()).map_err(|e| SealError::BadKey(e.to_string()))
}

/// A short fingerprint of a recipient for out-of-band checks: SHA-256, 16
/// bytes, hex in groups of four.
pub fn fingerprint(recipient: &str) -> String {
    let d = Sha256::digest(recipient.trim().as_bytes());
    d[..16]
        .chunks(2)
        .map(|c| format!("{:02x}{:02x}", c[0], c[1]))
        .collect::<Vec<_>>()
        .join(":")
}

/// What the provider signs (JWS `typ` [`HEADER_TYP`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub v: u8,
    /// The seal's id (random; shares name it).
    pub seal: String,
    pub pass: String,
    pub k: u8,
    pub n: u8,
    /// The age recipient of the identity the shares rebuild.
    pub recipient: String,
    /// base64url SHA-256 of the payload (the age file).
    pub payload_sha256: String,
    pub payload_bytes: u64,
    /// `zstd`.
    pub zip: String,
}

/// A share as it travels inside its age wrapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareEnvelope {
    pub v: u8,
    pub seal: String,
    pub pass: String,
    /// The share's x coordinate (1..=n).
    pub index: u8,
    /// The share bytes (x ‖ y), base64.
    pub share: String,
}

/// The result of sealing.
pub struct Sealed {
    pub header: Header,
    /// The age v1 file.
    pub payload: Vec<u8>,
    /// Shares 1..=n, in order.
    pub shares: Vec<ShareEnvelope>,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Sealed({:?}, {} shares: [redacted])",
            self.header,
            self.shares.len()
        )
    }
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Seals `secret` for `pass`, k-of-n.
pub fn seal(pass: &str, secret: &[u8], k: u8, n: u8) -> Result<Sealed, SealError> {
    if secret.is_empty() || secret.len() > MAX_SECRET_BYTES {
        return Err(SealError::SecretSize);
    }
    if k < 2 || k > n || n > MAX_SHARES {
        return Err(SealError::Threshold { k, n });
    }
    let compressed = zstd::bulk::compress(secret, ZSTD_LEVEL)
        .map_err(|e| SealError::Decompress(e.to_string()))?;
    let mut scalar = [0u8; 32];
    rand::rng().fill_bytes(&mut scalar);
    let identity = Identity::from_scalar(&scalar);
    let payload = age::encrypt(&identity.age().to_public(), &compressed)
        .map_err(|e| SealError::Decrypt(e.to_string()))?;
    let mut sid = [0u8; 16];
    rand::rng().fill_bytes(&mut sid);
    let seal_id = format!("seal_{}", b64url(&sid));
    let shares = Sharks(k)
        .dealer(&scalar)
        .take(n as usize)
        .map(|s| ShareEnvelope {
            v: 1,
            seal: seal_id.clone(),
            pass: pass.to_string(),
            index: s.x.0,
            share: STANDARD.encode(Vec::from(&s)),
        })
        .collect();
    scalar.iter_mut().for_each(|b| *b = 0);
    Ok(Sealed {
        header: Header {
            v: 1,
            seal: seal_id,
            pass: pass.to_string(),
            k,
            n,
            recipient: identity.recipient().to_string(),
            payload_sha256: b64url(&Sha256::digest(&payload)),
            payload_bytes: payload.len() as u64,
            zip: "zstd".into(),
        },
        payload,
        shares,
    })
}

/// Signs a header with the provider's key.
pub fn sign_header(header: &Header, key: &symbolon_pass::ProviderKey) -> String {
    let claims = serde_json::to_value(header).expect("a header serializes");
    symbolon_pass::sign_compact(&claims, key, HEADER_TYP, None)
}

/// Verifies a signed header against the provider's keys and returns it.
pub fn verify_header(jws: &str, keys: &symbolon_pass::Jwks) -> Result<Header, SealError> {
    let v = symbolon_pass::verify_compact(jws, keys, HEADER_TYP)
        .map_err(|e| SealError::BadHeader(e.to_string()))?;
    let header: Header =
        serde_json::from_value(v.claims).map_err(|e| SealError::BadHeader(e.to_string()))?;
    if header.v != 1
        || header.zip != "zstd"
        || header.k < 2
        || header.k > header.n
        || header.n > MAX_SHARES
    {
        return Err(SealError::BadHeader(
            "unsupported version, compression or threshold".into(),
        ));
    }
    Ok(header)
}

/// Checks that `payload` is the one the header signs.
pub fn check_payload(header: &Header, payload: &[u8]) -> Result<(), SealError> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(SealError::PayloadSize);
    }
    if payload.len() as u64 != header.payload_bytes
        || b64url(&Sha256::digest(payload)) != header.payload_sha256
    {
        return Err(SealError::PayloadTampered);
    }
    Ok(())
}

/// Wraps a share to a party's age recipient.
pub fn wrap(recipient: &str, share: &ShareEnvelope) -> Result<Vec<u8>, SealError> {
    let r = parse_recipient(recipient)?;
    let json = serde_json::to_vec(share).expect("a share serializes");
    age::encrypt(&r, &json).map_err(|e| SealError::Unwrap(e.to_string()))
}

/// Unwraps a share with the party's identity.
pub fn unwrap(identity: &Identity, wrapped: &[u8]) -> Result<ShareEnvelope, SealError> {
    if wrapped.len() > MAX_WRAPPED_SHARE_BYTES {
        return Err(SealError::Unwrap("too large".into()));
    }
    let json =
        age::decrypt(&identity.age(), wrapped).map_err(|e| SealError::Unwrap(e.to_string()))?;
    serde_json::from_slice(&json).map_err(|e| SealError::Unwrap(e.to_string()))
}

/// Rebuilds the sealed identity from shares of `header`'s seal; fails unless
/// they give exactly the identity the header names.
pub fn combine(header: &Header, shares: &[ShareEnvelope]) -> Result<Identity, SealError> {
    let mut parsed = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for s in shares {
        if s.seal != header.seal || s.pass != header.pass {
            return Err(SealError::ForeignShare(format!(
                "share {} of {}",
                s.index, s.seal
            )));
        }
        if s.index == 0 || s.index > header.n {
            return Err(SealError::WrongShares);
        }
        if !seen.insert(s.index) {
            continue;
        }
        let bytes = STANDARD
            .decode(&s.share)
            .map_err(|_| SealError::WrongShares)?;
        if bytes.len() != 33 || bytes[0] != s.index {
            return Err(SealError::WrongShares);
        }
        parsed.push(Share::try_from(bytes.as_slice()).map_err(|_| SealError::WrongShares)?);
    }
    if parsed.len() < header.k as usize {
        return Err(SealError::NotEnoughShares {
            have: parsed.len(),
            need: header.k as usize,
        });
    }
    let mut scalar: [u8; 32] = Sharks(header.k)
        .recover(&parsed)
        .map_err(|_| SealError::WrongShares)?
        .try_into()
        .map_err(|_| SealError::WrongShares)?;
    let identity = Identity::from_scalar(&scalar);
    scalar.iter_mut().for_each(|b| *b = 0);
    if identity.recipient() != header.recipient {
        return Err(SealError::WrongShares);
    }
    Ok(identity)
}

/// Decrypts and decompresses a payload, refusing to produce more than
/// [`MAX_SECRET_BYTES`] (a decompression bomb stops there, nothing returned).
pub fn open(identity: &Identity, payload: &[u8]) -> Result<Vec<u8>, SealError> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(SealError::PayloadSize);
    }
    let compressed =
        age::decrypt(&identity.age(), payload).map_err(|e| SealError::Decrypt(e.to_string()))?;
    decompress_capped(&compressed, MAX_SECRET_BYTES)
}

/// zstd-decompresses at most `cap` bytes; more is an error.
pub fn decompress_capped(compressed: &[u8], cap: usize) -> Result<Vec<u8>, SealError> {
    let decoder = zstd::stream::read::Decoder::new(compressed)
        .map_err(|e| SealError::Decompress(e.to_string()))?;
    let mut out = Vec::new();
    decoder
        .take(cap as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| SealError::Decompress(e.to_string()))?;
    if out.len() > cap {
        return Err(SealError::TooLarge);
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
