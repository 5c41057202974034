//! The local keystore of sealed secrets (`$SYMBOLON_HOME`, default
//! `$XDG_CONFIG_HOME/symbolon` or `~/.config/symbolon`; one directory per
//! account, files mode 0600): the account's age identity and signing key,
//! the counterparties' keys it pinned on first use, and the `keys` commands.

use anyhow::{bail, Context as _};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use symbolon_client::api;
use symbolon_client::Client;
use symbolon_seal as seal;

/// What `keys init` keeps for an account.
#[derive(Serialize, Deserialize)]
struct Keystore {
    account_id: String,
    /// `AGE-SECRET-KEY-1…`.
    age_identity: String,
    /// The Ed25519 seed that signs seal headers, base64.
    signing_seed: String,
}

pub fn home() -> anyhow::Result<PathBuf> {
    if let Some(h) = std::env::var_os("SYMBOLON_HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(h));
    }
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|h| !h.is_empty()) {
        return Ok(PathBuf::from(x).join("symbolon"));
    }
    match std::env::var_os("HOME") {
        Some(h) => Ok(PathBuf::from(h).join(".config").join("symbolon")),
        None => bail!("set SYMBOLON_HOME (no home directory found)"),
    }
}

/// Ids become file names: only `[A-Za-z0-9_-]`.
fn component(id: &str) -> anyhow::Result<&str> {
    if id.is_empty()
        || id.len() > 128
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        bail!("`{id}` is not an id");
    }
    Ok(id)
}

pub(crate) fn account_dir(account_id: &str) -> anyhow::Result<PathBuf> {
    Ok(home()?.join("accounts").join(component(account_id)?))
}

pub(crate) fn seal_path(account_id: &str, pass_id: &str) -> anyhow::Result<PathBuf> {
    Ok(account_dir(account_id)?
        .join("seals")
        .join(format!("{}.json", component(pass_id)?)))
}

/// Writes `bytes` to `path` with mode 0600, atomically (a temp file renamed).
pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = private_temp(path, bytes)?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// A temp file beside `path` (mode 0600, in a 0700 directory when we create
/// it) holding `bytes`, synced; persist it to publish.
pub(crate) fn private_temp(path: &Path, bytes: &[u8]) -> anyhow::Result<tempfile::NamedTempFile> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.exists() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    Ok(tmp)
}

pub(crate) fn load_keystore(
    account_id: &str,
) -> anyhow::Result<(seal::Identity, symbolon_pass::ProviderKey)> {
    let path = account_dir(account_id)?.join("keys.json");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "no keys for {account_id} in {} — run `symbolon keys init`",
            path.display()
        )
    })?;
    let ks: Keystore = serde_json::from_str(&text).context("the keystore is damaged")?;
    let identity = seal::Identity::parse(&ks.age_identity)?;
    let seed: [u8; 32] = STANDARD
        .decode(&ks.signing_seed)
        .ok()
        .and_then(|b| b.try_into().ok())
        .context("the keystore's signing key is damaged")?;
    Ok((
        identity,
        symbolon_pass::ProviderKey::from_secret_bytes(seed),
    ))
}

/// Every identity of the account: the current one first, then archived ones
/// (`keys init --force` keeps the old keys, so shares wrapped to them still open).
pub(crate) fn identities(account_id: &str) -> anyhow::Result<Vec<seal::Identity>> {
    let (current, _) = load_keystore(account_id)?;
    let mut all = vec![current];
    let dir = account_dir(account_id)?.join("archive");
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            if let Ok(text) = std::fs::read_to_string(e.path()) {
                if let Ok(ks) = serde_json::from_str::<Keystore>(&text) {
                    if let Ok(id) = seal::Identity::parse(&ks.age_identity) {
                        all.push(id);
                    }
                }
            }
        }
    }
    Ok(all)
}

pub(crate) fn unwrap_any(
    ids: &[seal::Identity],
    wrapped: &[u8],
) -> Result<seal::ShareEnvelope, seal::SealError> {
    let mut last = seal::SealError::Unwrap("no identity".into());
    for id in ids {
        match seal::unwrap(id, wrapped) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Counterparties' keys as first seen (trust on first use): the exchange
/// distributes keys, so a key that changes later is refused until the user
/// checks its fingerprint with its owner and runs `symbolon keys trust`.
#[derive(Serialize, Deserialize, Default)]
struct KnownKeys {
    keys: BTreeMap<String, Known>,
}

#[derive(Serialize, Deserialize, Clone, PartialEq)]
struct Known {
    age_recipient: String,
    signing_kid: String,
}

fn known(k: &api::PartyKeys) -> Known {
    Known {
        age_recipient: k.age_recipient.clone(),
        signing_kid: k.signing_jwk["kid"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    }
}

/// The account's book of counterparties' keys, and where it is kept.
fn known_book(me: &str) -> anyhow::Result<(PathBuf, KnownKeys)> {
    let path = account_dir(me)?.join("known_keys.json");
    let book = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    Ok((path, book))
}

/// The keys of `keys.account_id`, checked against what this account saw before.
pub(crate) fn trusted(me: &str, keys: api::PartyKeys) -> anyhow::Result<api::PartyKeys> {
    let (path, mut book) = known_book(me)?;
    let seen = known(&keys);
    match book.keys.get(&keys.account_id) {
        Some(k) if *k == seen => Ok(keys),
        Some(k) => bail!(
            "the exchange now gives other keys for {} (fingerprint {} before, {} now); check the new \
             fingerprint with its owner, then run `symbolon keys trust {}`",
            keys.account_id,
            seal::fingerprint(&k.age_recipient),
            keys.fingerprint,
            keys.account_id
        ),
        None => {
            book.keys.insert(keys.account_id.clone(), seen);
            write_private(&path, serde_json::to_string_pretty(&book)?.as_bytes())?;
            Ok(keys)
        }
    }
}

/// `keys trust ACCOUNT`: accepts an account's current keys (after checking its fingerprint).
pub async fn trust(c: &Client, account: &str) -> anyhow::Result<api::PartyKeys> {
    let me = c.whoami().await?;
    let keys = c.party_keys(account).await?;
    let (path, mut book) = known_book(&me.id)?;
    book.keys.insert(keys.account_id.clone(), known(&keys));
    write_private(&path, serde_json::to_string_pretty(&book)?.as_bytes())?;
    Ok(keys)
}

fn public_keys(identity: &seal::Identity, key: &symbolon_pass::ProviderKey) -> api::SetPartyKeys {
    api::SetPartyKeys {
        age_recipient: identity.recipient().to_string(),
        signing_jwk: serde_json::to_value(key.jwk()).expect("a JWK serializes"),
    }
}

/// What `keys init` did.
pub struct KeysInit {
    pub keys: api::PartyKeys,
    /// The fingerprint of the registered keys that `--force` replaced.
    pub replaced: Option<String>,
}

/// What `keys init --force` breaks, for the account `account`.
fn what_force_breaks(account: &str) -> String {
    format!(
        "`symbolon keys init --force` makes new keys and registers them in place of the old ones. That breaks:\n  \
         - every share already wrapped to the old keys: it opens only where the old keystore is. The shares of \
         orders you bought cannot be sent again; a holder's share must be sent again by its provider \
         (`symbolon share send`);\n  \
         - the secrets you sealed as a provider: their headers are signed with the old key, so buyers can no \
         longer open them;\n  \
         - your counterparties pinned your old keys: they refuse the new ones until each checks the new \
         fingerprint with you and runs `symbolon keys trust {account}`."
    )
}

/// `keys init`: generates the keystore (or reuses this machine's) and
/// registers the public keys. Without `force` it never replaces keys the
/// exchange already has for the account with others: not from a machine
/// without the keystore, nor from one whose keys were replaced elsewhere.
pub async fn keys_init(c: &Client, force: bool) -> anyhow::Result<KeysInit> {
    let me = c.whoami().await?;
    let dir = account_dir(&me.id)?;
    let path = dir.join("keys.json");
    let registered = match c.party_keys(&me.id).await {
        Ok(k) => Some(k),
        Err(e) if e.code() == Some("party_keys_missing") => None,
        Err(e) => return Err(e.into()),
    };
    let local = if path.exists() {
        Some(load_keystore(&me.id)?)
    } else {
        None
    };
    if !force {
        match (&local, &registered) {
            (None, Some(r)) => bail!(
                "this account ({}) already has keys registered on the exchange (fingerprint {}), but this \
                 machine has no keystore for it ({} is missing). Nothing was changed.\n  \
                 Use the machine that has the keys, or copy its keystore directory here ({}), or point \
                 SYMBOLON_HOME at a copy.\n  {}",
                me.id,
                r.fingerprint,
                path.display(),
                dir.display(),
                what_force_breaks(&me.id)
            ),
            (Some((identity, key)), Some(r)) if known(r) != known_local(identity, key) => bail!(
                "the exchange has other keys for this account ({}; fingerprint {}) than this machine's \
                 keystore ({}, in {}): they were registered from another machine since. Nothing was changed.\n  \
                 Use that machine, or copy its keystore directory here ({}).\n  {}",
                me.id,
                r.fingerprint,
                seal::fingerprint(identity.recipient()),
                path.display(),
                dir.display(),
                what_force_breaks(&me.id)
            ),
            _ => {}
        }
    }
    let (identity, key) = match local {
        Some(l) if !force => l,
        _ => {
            if path.exists() {
                // Archived, not deleted: shares wrapped to the old key still open here.
                let stamp = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0);
                let archive = dir.join("archive").join(format!("keys.{stamp}.json"));
                write_private(&archive, &std::fs::read(&path)?)?;
            }
            let identity = seal::Identity::generate();
            let mut seed = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut seed);
            let ks = Keystore {
                account_id: me.id.clone(),
                age_identity: identity.secret().to_string(),
                signing_seed: STANDARD.encode(seed),
            };
            write_private(&path, serde_json::to_string_pretty(&ks)?.as_bytes())?;
            (
                identity,
                symbolon_pass::ProviderKey::from_secret_bytes(seed),
            )
        }
    };
    let keys = c.set_party_keys(&public_keys(&identity, &key)).await?;
    let replaced = registered
        .filter(|r| known(r) != known(&keys))
        .map(|r| r.fingerprint);
    Ok(KeysInit { keys, replaced })
}

/// This machine's keys as a counterparty would pin them.
fn known_local(identity: &seal::Identity, key: &symbolon_pass::ProviderKey) -> Known {
    let public = public_keys(identity, key);
    Known {
        age_recipient: public.age_recipient,
        signing_kid: public.signing_jwk["kid"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    }
}

/// What `keys init --force` replaced, for the user: who must act now.
pub fn replaced_note(account: &str, old_fingerprint: &str) -> String {
    format!(
        "replaced the keys registered for {account} (fingerprint {old_fingerprint} before): shares wrapped to \
         the old keys open only where the old keystore is, and counterparties that pinned them must run \
         `symbolon keys trust {account}` after checking the new fingerprint with you"
    )
}

/// `keys show`: the local recipient and fingerprint, and whether the exchange has the same.
pub async fn keys_show(c: &Client) -> anyhow::Result<(String, String, bool)> {
    let me = c.whoami().await?;
    let (identity, _) = load_keystore(&me.id)?;
    let registered = c
        .party_keys(&me.id)
        .await
        .map(|k| k.age_recipient == identity.recipient())
        .unwrap_or(false);
    Ok((
        identity.recipient().to_string(),
        seal::fingerprint(identity.recipient()),
        registered,
    ))
}
