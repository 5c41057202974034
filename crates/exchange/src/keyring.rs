//! The server's master key: it seals provider signing keys at rest and signs
//! web sessions. It lives outside the database — `SYMBOLON_MASTER_KEY` or a
//! 0600 file in the data directory — so a copy of the database alone reveals
//! no signing key. Replicas of one exchange must share it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::fmt;

/// Marks a sealed secret: `SK1` ‖ 24-byte nonce ‖ ciphertext with tag.
const SEALED_MAGIC: &[u8; 3] = b"SK1";
/// Marks a sealed blob of any length: NUL `SB1` ‖ 24-byte nonce ‖ ciphertext
/// with tag. The NUL keeps it apart from any text or JSON stored before
/// sealing existed.
const SEALED_BLOB_MAGIC: &[u8; 4] = b"\0SB1";

/// Why a master key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error("the master key must be 32 bytes in base64url (43 characters) or hex (64 characters)")]
    BadMasterKey,
    #[error("cannot read or create the master key file {path}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "a sealed signing key does not open with this master key (another master key sealed it?)"
    )]
    WrongMasterKey,
}

/// 32 secret bytes. `Debug` never shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey([u8; 32]);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A fresh random key.
    pub fn generate() -> Self {
        let mut b = [0u8; 32];
        rand::rng().fill_bytes(&mut b);
        Self(b)
    }

    /// Parses base64url (43 chars, no padding) or hex (64 chars).
    pub fn parse(text: &str) -> Result<Self, KeyringError> {
        let t = text.trim();
        let bytes = if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&t[2 * i..2 * i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|_| KeyringError::BadMasterKey)?
        } else {
            B64.decode(t).map_err(|_| KeyringError::BadMasterKey)?
        };
        Ok(Self(
            <[u8; 32]>::try_from(bytes).map_err(|_| KeyringError::BadMasterKey)?,
        ))
    }

    /// The base64url text form.
    pub fn encode(&self) -> String {
        B64.encode(self.0)
    }

    /// Reads `path`, or creates it (mode 0600) with a new key. Creation is
    /// atomic (write a temp file, then hard-link it into place), so replicas
    /// starting together on one data directory agree on one key.
    pub fn load_or_create(path: &std::path::Path) -> Result<Self, KeyringError> {
        let err = |source| KeyringError::File {
            path: path.display().to_string(),
            source,
        };
        if let Ok(text) = std::fs::read_to_string(path) {
            return Self::parse(&text);
        }
        let key = Self::generate();
        // A random temporary name: replicas starting together (even with the
        // same pid, as in containers) never write the same temporary file.
        let tmp = path.with_extension(format!("tmp-{}", &Self::generate().encode()[..12]));
        {
            use std::io::Write;
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(&tmp).map_err(err)?;
            f.write_all(key.encode().as_bytes()).map_err(err)?;
            f.sync_all().map_err(err)?;
        }
        let linked = std::fs::hard_link(&tmp, path);
        let _ = std::fs::remove_file(&tmp);
        if let Err(e) = linked {
            // Another process linked its key first (AlreadyExists) — fine; anything else is not.
            if !path.exists() {
                return Err(err(e));
            }
        }
        // Whoever won the race, every process uses the key on disk.
        Self::parse(&std::fs::read_to_string(path).map_err(err)?)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }

    /// Seals a signing key's seed, bound to its `kid`.
    pub fn seal(&self, kid: &str, seed: &[u8; 32]) -> Vec<u8> {
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let ct = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: seed,
                    aad: kid.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encryption of 32 bytes cannot fail");
        let mut out = Vec::with_capacity(3 + 24 + ct.len());
        out.extend_from_slice(SEALED_MAGIC);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Opens what [`seal`](Self::seal) made; a 32-byte value is an unsealed
    /// seed from before sealing existed and is returned as is.
    pub fn open(&self, kid: &str, stored: &[u8]) -> Result<[u8; 32], KeyringError> {
        if let Ok(seed) = <[u8; 32]>::try_from(stored) {
            return Ok(seed);
        }
        let rest = stored
            .strip_prefix(SEALED_MAGIC)
            .filter(|r| r.len() > 24)
            .ok_or(KeyringError::WrongMasterKey)?;
        let (nonce, ct) = rest.split_at(24);
        let pt = self
            .cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: kid.as_bytes(),
                },
            )
            .map_err(|_| KeyringError::WrongMasterKey)?;
        <[u8; 32]>::try_from(pt).map_err(|_| KeyringError::WrongMasterKey)
    }

    /// Seals `msg` (any length), bound to `aad`: it opens only with the same
    /// master key and the same `aad`, so it cannot be moved to where another
    /// `aad` applies.
    pub fn seal_blob(&self, aad: &[u8], msg: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let ct = self
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), Payload { msg, aad })
            .expect("XChaCha20-Poly1305 encryption fails only past 256 GiB");
        let mut out = Vec::with_capacity(SEALED_BLOB_MAGIC.len() + 24 + ct.len());
        out.extend_from_slice(SEALED_BLOB_MAGIC);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Whether `stored` is a blob [`seal_blob`](Self::seal_blob) made (as
    /// opposed to plaintext stored before sealing existed).
    pub fn is_sealed_blob(stored: &[u8]) -> bool {
        stored.starts_with(SEALED_BLOB_MAGIC)
    }

    /// Opens what [`seal_blob`](Self::seal_blob) made under the same `aad`.
    pub fn open_blob(&self, aad: &[u8], stored: &[u8]) -> Result<Vec<u8>, KeyringError> {
        let rest = stored
            .strip_prefix(SEALED_BLOB_MAGIC)
            .filter(|r| r.len() >= 24 + 16)
            .ok_or(KeyringError::WrongMasterKey)?;
        let (nonce, ct) = rest.split_at(24);
        self.cipher()
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
            .map_err(|_| KeyringError::WrongMasterKey)
    }

    /// HMAC-SHA-256 under a key derived for `purpose`, base64url.
    pub fn mac(&self, purpose: &str, message: &str) -> String {
        let mut m =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        m.update(purpose.as_bytes());
        m.update(&[0]);
        m.update(message.as_bytes());
        B64.encode(m.finalize().into_bytes())
    }

    /// Constant-time check of [`mac`](Self::mac).
    pub fn verify_mac(&self, purpose: &str, message: &str, tag: &str) -> bool {
        let Ok(tag) = B64.decode(tag) else {
            return false;
        };
        let mut m =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        m.update(purpose.as_bytes());
        m.update(&[0]);
        m.update(message.as_bytes());
        m.verify_slice(&tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_binds_the_kid_and_the_master_key() {
        let m = MasterKey::from_bytes([1; 32]);
        let sealed = m.seal("kid-a", &[9; 32]);
        assert!(!sealed.windows(32).any(|w| w == [9; 32]));
        assert_eq!(m.open("kid-a", &sealed).unwrap(), [9; 32]);
        assert!(m.open("kid-b", &sealed).is_err());
        assert!(MasterKey::from_bytes([2; 32])
            .open("kid-a", &sealed)
            .is_err());
        // Legacy unsealed seeds still open.
        assert_eq!(m.open("kid-a", &[7; 32]).unwrap(), [7; 32]);
        assert!(format!("{m:?}").contains("redacted"));
    }

    #[test]
    fn sealed_blobs_bind_their_aad_and_the_master_key() {
        let m = MasterKey::from_bytes([1; 32]);
        let msg = br#"{"secret":"whsec_abc"}"#;
        let sealed = m.seal_blob(b"row-1", msg);
        assert!(MasterKey::is_sealed_blob(&sealed));
        assert!(!MasterKey::is_sealed_blob(msg));
        assert!(!sealed.windows(5).any(|w| w == b"whsec"));
        assert_eq!(m.open_blob(b"row-1", &sealed).unwrap(), msg);
        assert!(
            m.open_blob(b"row-2", &sealed).is_err(),
            "moved to another row"
        );
        assert!(MasterKey::from_bytes([2; 32])
            .open_blob(b"row-1", &sealed)
            .is_err());
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert!(m.open_blob(b"row-1", &flipped).is_err(), "tampered");
        assert!(m.open_blob(b"row-1", &sealed[..20]).is_err(), "truncated");
        // Empty bodies seal and open too.
        assert_eq!(m.open_blob(b"", &m.seal_blob(b"", b"")).unwrap(), b"");
    }

    #[test]
    fn parse_and_file() {
        let m = MasterKey::generate();
        assert_eq!(MasterKey::parse(&m.encode()).unwrap(), m);
        let hex: String = [0xabu8; 32].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            MasterKey::parse(&hex).unwrap(),
            MasterKey::from_bytes([0xab; 32])
        );
        assert!(MasterKey::parse("short").is_err());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let a = MasterKey::load_or_create(&path).unwrap();
        let b = MasterKey::load_or_create(&path).unwrap();
        assert_eq!(a, b);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn macs_verify_only_unchanged() {
        let m = MasterKey::from_bytes([3; 32]);
        let t = m.mac("session", "acc_1.123");
        assert!(m.verify_mac("session", "acc_1.123", &t));
        assert!(!m.verify_mac("session", "acc_2.123", &t));
        assert!(!m.verify_mac("csrf", "acc_1.123", &t));
        assert!(!m.verify_mac("session", "acc_1.123", "x"));
    }
}
