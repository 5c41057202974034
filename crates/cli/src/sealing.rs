//! Sealed secrets on the parties' machines: the local keystore
//! (`$SYMBOLON_HOME`, default `$XDG_CONFIG_HOME/symbolon` or
//! `~/.config/symbolon`; one directory per account, files mode 0600), and the
//! steps only a party can do — seal, wrap a share to another party, re-wrap,
//! release after payment (by hand or by the provider agent), open.

use anyhow::{bail, Context as _};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
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

fn account_dir(account_id: &str) -> anyhow::Result<PathBuf> {
    Ok(home()?.join("accounts").join(account_id))
}

/// Writes `bytes` to `path` with mode 0600, atomically (a temp file renamed).
pub fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
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
    let path = account_dir(&me.id)?
        .join("seals")
        .join(format!("{pass_id}.json"));
    // Kept before the upload: a seal the exchange has but whose shares are lost could never open.
    write_private(
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
    Ok(sealed.header)
}

fn load_seal(account_id: &str, pass_id: &str) -> anyhow::Result<Option<SealFile>> {
    let path = account_dir(account_id)?
        .join("seals")
        .join(format!("{pass_id}.json"));
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(
            serde_json::from_str(&text).context("a damaged seal file")?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// After a grant: gives the holder its share (share 1), wrapped to its key.
/// `None` when this provider sealed nothing into the pass.
pub async fn give_holder_share(
    c: &Client,
    pass_id: &str,
    holder_id: &str,
) -> anyhow::Result<Option<api::SealedShare>> {
    let me = c.whoami().await?;
    let Some(sf) = load_seal(&me.id, pass_id)? else {
        return Ok(None);
    };
    let keys = c.party_keys(holder_id).await?;
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

/// After an offer of a sealed pass: re-wraps the holder's share to the
/// requester. `None` when the pass is not sealed.
pub async fn share_with_offer(c: &Client, offer: &api::Offer) -> anyhow::Result<Option<String>> {
    match c.pass_seal(&offer.pass.id).await {
        Err(ClientError::Api { code, .. }) if code == "not_sealed" => return Ok(None),
        other => other?,
    };
    let me = c.whoami().await?;
    let (identity, _) = load_keystore(&me.id)?;
    let mine = c.my_shares(&offer.pass.id).await?;
    let Some(share) = mine.items.iter().rev().find(|s| s.kind == "holder") else {
        bail!("the pass is sealed but its provider has not given you a share yet");
    };
    let envelope = seal::unwrap(&identity, &STANDARD.decode(&share.wrapped)?)?;
    let requester = c.offer_requester_keys(&offer.id).await?;
    let wrapped = seal::wrap(&requester.age_recipient, &envelope)?;
    c.with_idempotency_key(&format!("offer-share-{}", offer.id))
        .share_with_offer(
            &offer.id,
            &api::WrappedShares {
                wrapped: vec![STANDARD.encode(wrapped)],
            },
        )
        .await?;
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
    let keys = c.party_keys(&order.requester_id).await?;
    let k = sf.header.k as usize;
    let mut wrapped = Vec::new();
    for s in &sf.shares[1..k] {
        wrapped.push(STANDARD.encode(seal::wrap(&keys.age_recipient, s)?));
    }
    c.with_idempotency_key(&format!("release-{order_id}"))
        .release_shares(order_id, &api::WrappedShares { wrapped })
        .await?;
    Ok(Some(k - 1))
}

/// `provider agent`: follows the provider's events and releases the shares
/// of every paid order of a sealed pass. Resumes after the last event it
/// handled (kept in the keystore), so a restart neither misses nor repeats.
pub async fn agent(c: &Client, once: bool) -> anyhow::Result<()> {
    let me = c.whoami().await?;
    let cursor_path = account_dir(&me.id)?.join("agent.cursor");
    let mut cursor = std::fs::read_to_string(&cursor_path)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let handle = |e: api::Event| async move {
        if e.kind == "order.paid" {
            if let Some(order) = e.data["order_id"].as_str() {
                match release(c, order).await {
                    Ok(Some(n)) => println!("released {n} share(s) for {order}"),
                    Ok(None) => {}
                    Err(err) => eprintln!("cannot release the shares of {order}: {err:#}"),
                }
            }
        }
        e.id
    };
    if once {
        loop {
            let page = c.events(cursor.as_deref(), Some(500)).await?;
            if page.events.is_empty() {
                return Ok(());
            }
            for e in page.events {
                cursor = Some(handle(e).await);
                write_private(&cursor_path, cursor.as_deref().unwrap_or("").as_bytes())?;
            }
        }
    }
    loop {
        let mut stream = match c.event_stream(cursor.as_deref()).await {
            Ok(s) => s,
            Err(ClientError::Transport(e)) => {
                tracing::warn!(error = %e, "event stream unavailable; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        while let Ok(Some(e)) = stream.next().await {
            cursor = Some(handle(e).await);
            write_private(&cursor_path, cursor.as_deref().unwrap_or("").as_bytes())?;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// Where `open` writes.
pub struct OpenTargets<'a> {
    pub out: Option<&'a Path>,
    pub export_identity: Option<&'a Path>,
    pub save_payload: Option<&'a Path>,
}

/// `open`: unwraps the holder's and the provider's shares of an order,
/// rebuilds the identity, checks the signed header, decrypts and
/// decompresses. Nothing is written unless all of it succeeds.
pub async fn open(c: &Client, order_id: &str, to: &OpenTargets<'_>) -> anyhow::Result<Vec<u8>> {
    let me = c.whoami().await?;
    let (identity, _) = load_keystore(&me.id)?;
    let order = c.order(order_id).await?;
    let sealed = c.pass_seal(&order.pass_id).await?;
    let provider = c.party_keys(&order.provider_id).await?;
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
        let mine = (s.kind == "offer" && s.offer_id.is_some() && s.offer_id == order.offer_id)
            || (s.kind == "release" && s.order_id.as_deref() == Some(order_id));
        if mine {
            envelopes.push(seal::unwrap(&identity, &STANDARD.decode(&s.wrapped)?)?);
        }
    }
    let rebuilt = seal::combine(&header, &envelopes)?;
    let secret = seal::open(&rebuilt, &payload)?;
    if let Some(p) = to.export_identity {
        write_private(p, format!("{}\n", rebuilt.secret()).as_bytes())?;
    }
    if let Some(p) = to.save_payload {
        write_private(p, &payload)?;
    }
    if let Some(p) = to.out {
        write_private(p, &secret)?;
    }
    Ok(secret)
}
