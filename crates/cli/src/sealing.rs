//! Sealed secrets on the parties' machines: the local keystore
//! (`$SYMBOLON_HOME`, default `$XDG_CONFIG_HOME/symbolon` or
//! `~/.config/symbolon`; one directory per account, files mode 0600), and the
//! steps only a party can do — seal, wrap a share to another party, re-wrap,
//! release after payment (by hand or by the provider agent), open.

use anyhow::{bail, Context as _};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use symbolon_client::api;
use symbolon_client::{Client, ClientError};
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

/// What `seal` keeps: the shares the provider's side hands out.
#[derive(Serialize, Deserialize)]
struct SealFile {
    header: seal::Header,
    shares: Vec<seal::ShareEnvelope>,
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

fn account_dir(account_id: &str) -> anyhow::Result<PathBuf> {
    Ok(home()?.join("accounts").join(component(account_id)?))
}

fn seal_path(account_id: &str, pass_id: &str) -> anyhow::Result<PathBuf> {
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
fn private_temp(path: &Path, bytes: &[u8]) -> anyhow::Result<tempfile::NamedTempFile> {
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

fn load_keystore(account_id: &str) -> anyhow::Result<(seal::Identity, symbolon_pass::ProviderKey)> {
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
fn identities(account_id: &str) -> anyhow::Result<Vec<seal::Identity>> {
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

fn unwrap_any(
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
fn trusted(me: &str, keys: api::PartyKeys) -> anyhow::Result<api::PartyKeys> {
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

/// `keys init`: generates (or, without `force`, reuses) the keystore and
/// registers the public keys.
pub async fn keys_init(c: &Client, force: bool) -> anyhow::Result<api::PartyKeys> {
    let me = c.whoami().await?;
    let path = account_dir(&me.id)?.join("keys.json");
    let (identity, key) = if path.exists() && !force {
        load_keystore(&me.id)?
    } else {
        if path.exists() {
            // Archived, not deleted: shares wrapped to the old key still open.
            let stamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let archive = account_dir(&me.id)?
                .join("archive")
                .join(format!("keys.{stamp}.json"));
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
    };
    Ok(c.set_party_keys(&public_keys(&identity, &key)).await?)
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

/// `seal`: seals a secret into a pass (on this machine), uploads the payload
/// and signed header, keeps the shares in the keystore.
pub async fn seal_pass(
    c: &Client,
    pass_id: &str,
    secret_file: &Path,
    k: u8,
    n: u8,
) -> anyhow::Result<seal::Header> {
    let me = c.whoami().await?;
    let (_, key) = load_keystore(&me.id)?;
    let meta = std::fs::metadata(secret_file)
        .with_context(|| format!("cannot read {}", secret_file.display()))?;
    if meta.len() > seal::MAX_SECRET_BYTES as u64 {
        bail!("the secret is larger than {} bytes", seal::MAX_SECRET_BYTES);
    }
    // Never replace the shares of a seal the exchange already has.
    match c.pass_seal(pass_id).await {
        Ok(_) => bail!("already_sealed: pass {pass_id} already carries a sealed secret"),
        Err(ClientError::Api { code, .. }) if code == "not_sealed" => {}
        Err(e) => return Err(e.into()),
    }
    let secret = std::fs::read(secret_file)?;
    let sealed = seal::seal(pass_id, &secret, k, n)?;
    let header = seal::sign_header(&sealed.header, &key);
    // The shares are on disk before the upload (a seal the exchange has but
    // whose shares are lost could never open), beside the final file until
    // the upload succeeds, so a racing or failed run never replaces the
    // shares of the seal the exchange keeps.
    let path = seal_path(&me.id, pass_id)?;
    let pending = private_temp(
        &path,
        serde_json::to_string_pretty(&SealFile {
            header: sealed.header.clone(),
            shares: sealed.shares.clone(),
        })?
        .as_bytes(),
    )?;
    c.put_seal(
        pass_id,
        &api::PassSeal {
            header,
            payload: STANDARD.encode(&sealed.payload),
        },
    )
    .await?;
    pending
        .persist(&path)
        .with_context(|| format!("sealed, but cannot keep the shares in {}", path.display()))?;
    Ok(sealed.header)
}

fn load_seal(account_id: &str, pass_id: &str) -> anyhow::Result<Option<SealFile>> {
    let path = seal_path(account_id, pass_id)?;
    let sf: SealFile = match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).context("a damaged seal file")?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if sf.shares.len() < sf.header.k as usize || sf.header.k < 2 {
        bail!(
            "the seal file {} is damaged (too few shares)",
            path.display()
        );
    }
    Ok(Some(sf))
}

fn already_sent(e: &ClientError) -> bool {
    e.code() == Some("shares_already_sent")
}

/// Gives a holder its share (share 1), wrapped to its key. `None` when this
/// provider sealed nothing into the pass.
pub async fn give_holder_share(
    c: &Client,
    pass_id: &str,
    holder_id: &str,
) -> anyhow::Result<Option<api::SealedShare>> {
    let me = c.whoami().await?;
    let Some(sf) = load_seal(&me.id, pass_id)? else {
        return Ok(None);
    };
    let keys = trusted(&me.id, c.party_keys(holder_id).await?)?;
    let wrapped = seal::wrap(&keys.age_recipient, &sf.shares[0])?;
    let share = c
        .share_to_holder(
            pass_id,
            &api::ShareToHolder {
                holder_id: holder_id.to_string(),
                wrapped: STANDARD.encode(wrapped),
            },
        )
        .await?;
    Ok(Some(share))
}

/// Sends the requester of an offer of a sealed pass the holder's share,
/// re-wrapped to the requester's key. `None` when the pass is not sealed.
pub async fn share_with_offer(
    c: &Client,
    offer_id: &str,
    pass_id: &str,
) -> anyhow::Result<Option<String>> {
    match c.pass_seal(pass_id).await {
        Err(ClientError::Api { code, .. }) if code == "not_sealed" => return Ok(None),
        other => other?,
    };
    let me = c.whoami().await?;
    let ids = identities(&me.id)?;
    let mine = c.my_shares(pass_id).await?;
    // Newest first; a share wrapped to a key this account no longer has is skipped.
    let envelope = mine
        .items
        .iter()
        .filter(|s| s.kind == "holder")
        .filter_map(|s| STANDARD.decode(&s.wrapped).ok())
        .find_map(|w| unwrap_any(&ids, &w).ok())
        .filter(|e| e.index == 1 && e.pass == pass_id);
    let Some(envelope) = envelope else {
        bail!("the pass is sealed but its provider has not given you a share you can read yet");
    };
    let requester = trusted(&me.id, c.offer_requester_keys(offer_id).await?)?;
    let wrapped = seal::wrap(&requester.age_recipient, &envelope)?;
    match c
        .share_with_offer(
            offer_id,
            &api::WrappedShares {
                wrapped: vec![STANDARD.encode(wrapped)],
            },
        )
        .await
    {
        Err(e) if already_sent(&e) => {}
        other => {
            other?;
        }
    }
    Ok(Some(requester.fingerprint))
}

/// Releases the provider's side's shares (2..=k) for a paid order. `None`
/// when this provider sealed nothing into the order's pass.
pub async fn release(c: &Client, order_id: &str) -> anyhow::Result<Option<usize>> {
    let order = c.order(order_id).await?;
    let me = c.whoami().await?;
    let Some(sf) = load_seal(&me.id, &order.pass_id)? else {
        return Ok(None);
    };
    if order.status == "placed" {
        bail!("order {order_id} is not paid yet");
    }
    let keys = trusted(&me.id, c.party_keys(&order.requester_id).await?)?;
    let k = sf.header.k as usize;
    let mut wrapped = Vec::new();
    for s in &sf.shares[1..k] {
        wrapped.push(STANDARD.encode(seal::wrap(&keys.age_recipient, s)?));
    }
    match c
        .release_shares(order_id, &api::WrappedShares { wrapped })
        .await
    {
        Err(e) if already_sent(&e) => {}
        other => {
            other?;
        }
    }
    Ok(Some(k - 1))
}

/// Opens the account's event stream after `after`, waiting out network
/// errors (the server restarting); other errors end it.
pub async fn follow(
    c: &Client,
    after: Option<&str>,
) -> anyhow::Result<symbolon_client::EventStream> {
    loop {
        match c.event_stream(after).await {
            Ok(s) => return Ok(s),
            Err(ClientError::Transport(e)) => {
                tracing::warn!(error = %e, "event stream unavailable; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// `provider agent`: follows the provider's events and releases the shares
/// of every paid order of a sealed pass. It resumes after the last event it
/// handled (kept in the keystore), and keeps orders whose release failed (a
/// requester without keys yet, the exchange down) to try again later.
pub async fn agent(c: &Client, once: bool) -> anyhow::Result<()> {
    let me = c.whoami().await?;
    let dir = account_dir(&me.id)?;
    let cursor_path = dir.join("agent.cursor");
    let pending_path = dir.join("agent.pending");
    let mut cursor = std::fs::read_to_string(&cursor_path)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let mut pending: Vec<String> = std::fs::read_to_string(&pending_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let mut last_retry = std::time::Instant::now();
    loop {
        let events: Vec<api::Event> = if once {
            c.events(cursor.as_deref(), Some(500)).await?.events
        } else {
            let mut stream = follow(c, cursor.as_deref()).await?;
            // One event at a time (or none within 30 s, to retry what failed).
            match tokio::time::timeout(std::time::Duration::from_secs(30), stream.next()).await {
                Ok(Ok(Some(e))) => vec![e],
                Ok(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    vec![]
                }
                Err(_) => vec![],
            }
        };
        let idle = events.is_empty();
        for e in events {
            if e.kind == "order.paid" {
                if let Some(order) = e.data["order_id"].as_str() {
                    pending.push(order.to_string());
                }
            }
            cursor = Some(e.id);
        }
        if !pending.is_empty() && (!idle || once || last_retry.elapsed().as_secs() >= 30) {
            let mut still = Vec::new();
            for order in std::mem::take(&mut pending) {
                match release(c, &order).await {
                    Ok(Some(n)) => println!("released {n} share(s) for {order}"),
                    Ok(None) => {}
                    Err(err) => {
                        eprintln!("cannot release the shares of {order} yet: {err:#}");
                        still.push(order);
                    }
                }
            }
            pending = still;
            last_retry = std::time::Instant::now();
        }
        write_private(&pending_path, serde_json::to_string(&pending)?.as_bytes())?;
        if let Some(c) = &cursor {
            write_private(&cursor_path, c.as_bytes())?;
        }
        if once && idle {
            return Ok(());
        }
    }
}

/// Where `open` writes.
pub struct OpenTargets<'a> {
    pub out: Option<&'a Path>,
    pub export_identity: Option<&'a Path>,
    pub save_payload: Option<&'a Path>,
}

/// `open`: unwraps the holder's share (index 1, sent with the order's offer)
/// and the provider's (released for this order), rebuilds the identity,
/// checks the signed header, decrypts and decompresses. Nothing is written
/// unless all of it succeeds.
pub async fn open(c: &Client, order_id: &str, to: &OpenTargets<'_>) -> anyhow::Result<Vec<u8>> {
    let me = c.whoami().await?;
    let ids = identities(&me.id)?;
    let order = c.order(order_id).await?;
    let sealed = c.pass_seal(&order.pass_id).await?;
    let provider = trusted(&me.id, c.party_keys(&order.provider_id).await?)?;
    let jwk: symbolon_pass::Jwk = serde_json::from_value(provider.signing_jwk)?;
    let header = seal::verify_header(&sealed.header, &symbolon_pass::Jwks { keys: vec![jwk] })?;
    if header.pass != order.pass_id {
        bail!("the seal's header names another pass");
    }
    let payload = STANDARD.decode(&sealed.payload)?;
    seal::check_payload(&header, &payload)?;
    let shares = c.my_shares(&order.pass_id).await?;
    let mut envelopes = Vec::new();
    for s in &shares.items {
        let from_holder = s.kind == "offer" && s.offer_id.is_some() && s.offer_id == order.offer_id;
        let from_provider = s.kind == "release" && s.order_id.as_deref() == Some(order_id);
        if !(from_holder || from_provider) {
            continue;
        }
        // A share that does not unwrap, or claims an index its sender may not
        // give, is left out rather than trusted.
        let Ok(Some(w)) = STANDARD.decode(&s.wrapped).map(Some) else {
            continue;
        };
        match unwrap_any(&ids, &w) {
            Ok(e) if from_holder && e.index == 1 => envelopes.push(e),
            Ok(e) if from_provider && e.index >= 2 => envelopes.push(e),
            _ => {}
        }
    }
    let rebuilt = seal::combine(&header, &envelopes)?;
    let secret = seal::open(&rebuilt, &payload)?;
    // All or nothing: every target is written beside its place, then renamed.
    let mut staged = Vec::new();
    let identity_text = format!("{}\n", rebuilt.secret());
    for (target, bytes) in [
        (to.export_identity, identity_text.as_bytes()),
        (to.save_payload, payload.as_slice()),
        (to.out, secret.as_slice()),
    ] {
        if let Some(p) = target {
            staged.push((private_temp(p, bytes)?, p));
        }
    }
    for (tmp, p) in staged {
        tmp.persist(p)
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    Ok(secret)
}
