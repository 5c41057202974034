//! Checkpoints (C2SP `tlog-checkpoint`) signed as C2SP signed notes with an
//! Ed25519 key, and the verifier key string that names the key.

use crate::merkle::Hash;
use crate::TlogError;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// The signature type byte of Ed25519 in signed notes.
const ED25519: u8 = 0x01;
/// What starts a signature line: an em dash and a space.
const SIG_PREFIX: &str = "\u{2014} ";

/// A log's state: its origin (the log's name), its size and its root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    /// The note's text: `origin\nsize\nbase64(root)\n`.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    /// Reads a checkpoint's text (extension lines after the root are allowed and ignored).
    pub fn parse_body(text: &str) -> Result<Self, TlogError> {
        let bad = TlogError::Malformed("checkpoint");
        let mut lines = text.strip_suffix('\n').ok_or(bad.clone())?.split('\n');
        let origin = lines.next().filter(|o| !o.is_empty()).ok_or(bad.clone())?;
        let size = lines.next().ok_or(bad.clone())?;
        // Decimal without sign or leading zeros.
        if size.is_empty()
            || !size.bytes().all(|b| b.is_ascii_digit())
            || (size.len() > 1 && size.starts_with('0'))
        {
            return Err(bad);
        }
        let size: u64 = size.parse().map_err(|_| bad.clone())?;
        let root: Hash = STANDARD
            .decode(lines.next().ok_or(bad.clone())?)
            .ok()
            .and_then(|r| r.try_into().ok())
            .ok_or(bad)?;
        Ok(Self {
            origin: origin.to_string(),
            size,
            root,
        })
    }
}

/// SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4].
fn key_id(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519]);
    h.update(public);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
}

/// The log's signing key (its seed never shows in `Debug`).
#[derive(Clone)]
pub struct LogSigner {
    name: String,
    key: SigningKey,
}

impl std::fmt::Debug for LogSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogSigner")
            .field("name", &self.name)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl LogSigner {
    /// A signer named `name` (the log's origin: no spaces, no `+`).
    pub fn new(name: &str, seed: [u8; 32]) -> Result<Self, TlogError> {
        if !valid_name(name) {
            return Err(TlogError::Malformed("key name"));
        }
        Ok(Self {
            name: name.to_string(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// `name+hex(key ID)+base64(0x01 ‖ public key)`: what verifiers pin.
    pub fn verifier_key(&self) -> String {
        let public = self.key.verifying_key().to_bytes();
        let mut typed = vec![ED25519];
        typed.extend_from_slice(&public);
        format!(
            "{}+{}+{}",
            self.name,
            hex(&key_id(&self.name, &public)),
            STANDARD.encode(typed)
        )
    }

    /// Signs a note's text (which must end in a newline): the text, a blank
    /// line, and `— name base64(key ID ‖ signature)`.
    pub fn sign_note(&self, text: &str) -> Result<String, TlogError> {
        if !text.ends_with('\n') || text.contains("\n\n") {
            return Err(TlogError::Malformed("note text"));
        }
        let public = self.key.verifying_key().to_bytes();
        let sig = self.key.sign(text.as_bytes()).to_bytes();
        let mut blob = key_id(&self.name, &public).to_vec();
        blob.extend_from_slice(&sig);
        Ok(format!(
            "{text}\n{SIG_PREFIX}{} {}\n",
            self.name,
            STANDARD.encode(blob)
        ))
    }

    /// A checkpoint signed as a note.
    pub fn sign_checkpoint(&self, c: &Checkpoint) -> Result<String, TlogError> {
        self.sign_note(&c.body())
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A log's public key, read from its verifier key string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogVerifier {
    name: String,
    id: [u8; 4],
    key: VerifyingKey,
}

impl LogVerifier {
    /// Reads `name+hex(key ID)+base64(0x01 ‖ public key)`, checking that
    /// the key ID is the key's.
    pub fn parse(vkey: &str) -> Result<Self, TlogError> {
        let bad = TlogError::Malformed("verifier key");
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad);
        };
        if !valid_name(name)
            || id.len() != 8
            || !id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(bad);
        }
        let typed = STANDARD.decode(key).map_err(|_| bad.clone())?;
        let (&ED25519, public) = typed.split_first().ok_or(bad.clone())? else {
            return Err(bad);
        };
        let public: [u8; 32] = public.try_into().map_err(|_| bad.clone())?;
        let computed = key_id(name, &public);
        if hex(&computed) != id {
            return Err(bad);
        }
        Ok(Self {
            name: name.to_string(),
            id: computed,
            key: VerifyingKey::from_bytes(&public).map_err(|_| bad)?,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Checks a signed note and returns its text: at least one signature
    /// line by this key (name and key ID) must verify; lines by other keys
    /// (witnesses) are skipped.
    pub fn open<'a>(&self, note: &'a str) -> Result<&'a str, TlogError> {
        let bad = TlogError::Malformed("signed note");
        if !note.ends_with('\n') {
            return Err(bad);
        }
        let split = note.rfind("\n\n").ok_or(bad.clone())?;
        let (text, sigs) = (&note[..split + 1], &note[split + 2..]);
        let mut verified = false;
        for line in sigs.lines() {
            let rest = line.strip_prefix(SIG_PREFIX).ok_or(bad.clone())?;
            let (name, blob) = rest.split_once(' ').ok_or(bad.clone())?;
            if name != self.name {
                continue;
            }
            let blob = STANDARD.decode(blob).map_err(|_| bad.clone())?;
            if blob.len() != 4 + 64 || blob[..4] != self.id {
                continue;
            }
            let sig = ed25519_dalek::Signature::from_slice(&blob[4..]).map_err(|_| bad.clone())?;
            if self.key.verify_strict(text.as_bytes(), &sig).is_err() {
                return Err(TlogError::Signature);
            }
            verified = true;
        }
        if verified {
            Ok(text)
        } else {
            Err(TlogError::Signature)
        }
    }

    /// Checks a signed checkpoint: the log's signature, and that its origin is the key's name.
    pub fn open_checkpoint(&self, note: &str) -> Result<Checkpoint, TlogError> {
        let c = Checkpoint::parse_body(self.open(note)?)?;
        if c.origin != self.name {
            return Err(TlogError::Malformed("checkpoint origin"));
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example key and note of golang.org/x/mod/sumdb/note.
    const VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const SKEY: &str = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    fn peter() -> LogSigner {
        let typed = STANDARD.decode(SKEY).unwrap();
        assert_eq!(typed[0], ED25519);
        LogSigner::new("PeterNeumann", typed[1..].try_into().unwrap()).unwrap()
    }

    #[test]
    fn signs_the_go_reference_note_byte_for_byte() {
        let s = peter();
        assert_eq!(s.verifier_key(), VKEY);
        assert_eq!(s.sign_note(TEXT).unwrap(), format!("{TEXT}\n{SIG}"));
        let v = LogVerifier::parse(VKEY).unwrap();
        assert_eq!(v.open(&format!("{TEXT}\n{SIG}")).unwrap(), TEXT);
    }

    #[test]
    fn a_changed_note_or_key_does_not_verify() {
        let v = LogVerifier::parse(VKEY).unwrap();
        let tampered = format!("{}\n{SIG}", TEXT.replace("answer", "answers"));
        assert_eq!(v.open(&tampered), Err(TlogError::Signature));
        // Only another key's signature: not signed by this log.
        let other = LogSigner::new("PeterNeumann", [7; 32]).unwrap();
        assert_eq!(
            v.open(&other.sign_note(TEXT).unwrap()),
            Err(TlogError::Signature)
        );
        for bad in [
            "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20a3",
            "PeterNeumann+c74f20a3+!!!!",
        ] {
            assert!(LogVerifier::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn checkpoints_round_trip() {
        let s = LogSigner::new("example.org/log", [3; 32]).unwrap();
        let c = Checkpoint {
            origin: "example.org/log".into(),
            size: 42,
            root: [9; 32],
        };
        let note = s.sign_checkpoint(&c).unwrap();
        assert!(note.starts_with("example.org/log\n42\nCQkJ"), "{note}");
        let v = LogVerifier::parse(&s.verifier_key()).unwrap();
        assert_eq!(v.open_checkpoint(&note).unwrap(), c);
        // A witness's extra signature line is skipped.
        let witness = LogSigner::new("witness.example", [4; 32]).unwrap();
        let cosigned = format!(
            "{note}{}",
            witness
                .sign_note(&c.body())
                .unwrap()
                .rsplit_once("\n\n")
                .unwrap()
                .1
        );
        assert_eq!(v.open_checkpoint(&cosigned).unwrap(), c);
        // Another size under the same signature fails.
        let forged = note.replacen("\n42\n", "\n43\n", 1);
        assert_eq!(v.open_checkpoint(&forged), Err(TlogError::Signature));
        for bad in ["o\n01\nAAAA\n", "o\n-1\nAAAA\n", "o\n1\n", "o\n1\nAAAA"] {
            assert!(Checkpoint::parse_body(bad).is_err(), "{bad:?}");
        }
    }
}
