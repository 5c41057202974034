//! Sealed secrets on the parties' machines: the steps only a party can do —
//! seal, wrap a share to another party, re-wrap, release after payment (by
//! hand or by the provider agent), tell a buyer how to open, open. Keys and
//! pinned counterparties live in the local keystore (`keystore.rs`).

use crate::keystore::{
    account_dir, identities, load_keystore, private_temp, seal_path, trusted, unwrap_any,
};
use anyhow::{bail, Context as _};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::path::Path;
use symbolon_client::api;
use symbolon_client::{Client, ClientError};
use symbolon_seal as seal;

/// What `seal` keeps: the shares the provider's side hands out.
#[derive(Serialize, Deserialize)]
struct SealFile {
    header: seal::Header,
    shares: Vec<seal::ShareEnvelope>,
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

/// Whether a holder's share can go along with a grant, from this machine.
pub enum HolderShare {
    /// The pass carries no sealed secret.
    NotSealed,
    /// This machine keeps the seal's shares and the holder has keys: the
    /// share can be wrapped and sent.
    Ready(Box<ReadyShare>),
    /// The pass is sealed but the share cannot go from here now.
    Blocked(Blocked),
}

/// Why a holder's share cannot go now, and what to do first, for people.
pub struct Blocked {
    pub why: String,
    /// The step that lets the share go (before granting again or `share send`).
    pub fix: String,
}

/// The fix when this machine lacks the seal's shares.
const FROM_THE_SEALING_MACHINE: &str =
    "run this on the machine that sealed the pass (or with its SYMBOLON_HOME)";

/// A holder's share, ready to wrap to its key.
pub struct ReadyShare {
    pass_id: String,
    holder_id: String,
    recipient: String,
    envelope: seal::ShareEnvelope,
}

/// The seal id a signed header names (read, not verified: only compared
/// with the provider's own seal file).
fn header_seal_id(jws: &str) -> Option<String> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims = URL_SAFE_NO_PAD.decode(jws.split('.').nth(1)?).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&claims).ok()?;
    v["seal"].as_str().map(str::to_string)
}

/// Checks, before a grant, that this machine can give `holder_id` its share
/// of `pass_id`'s sealed secret: the seal file `symbolon seal` kept, for the
/// seal the exchange holds, and the holder's registered (and trusted) keys.
pub async fn holder_share(
    c: &Client,
    pass_id: &str,
    holder_id: &str,
) -> anyhow::Result<HolderShare> {
    let sealed = match c.pass_seal(pass_id).await {
        Ok(s) => s,
        Err(e) if e.code() == Some("not_sealed") => return Ok(HolderShare::NotSealed),
        Err(e) => return Err(e.into()),
    };
    let me = c.whoami().await?;
    if c.pass(pass_id).await?.provider_id != me.id {
        bail!("pass {pass_id} is another provider's: only its provider grants it and sends its shares");
    }
    let path = seal_path(&me.id, pass_id)?;
    let Some(sf) = load_seal(&me.id, pass_id)? else {
        let keystore = account_dir(&me.id)?.join("keys.json");
        let here = if keystore.exists() {
            "this keystore has keys for the account but not the seal's shares".to_string()
        } else {
            format!(
                "this machine has no keystore for the account at all ({} is missing)",
                keystore.display()
            )
        };
        return Ok(HolderShare::Blocked(Blocked {
            why: format!(
                "this machine cannot give the holder its share: the seal's shares are kept only where \
                 `symbolon seal` ran, in {}, and {here}",
                path.display()
            ),
            fix: FROM_THE_SEALING_MACHINE.to_string(),
        }));
    };
    if header_seal_id(&sealed.header).as_deref() != Some(sf.header.seal.as_str()) {
        return Ok(HolderShare::Blocked(Blocked {
            why: format!(
                "the seal file {} belongs to another seal than the one the exchange holds for the pass, \
                 so this machine has no share of it to give",
                path.display()
            ),
            fix: FROM_THE_SEALING_MACHINE.to_string(),
        }));
    }
    let keys = match c.party_keys(holder_id).await {
        Ok(k) => match trusted(&me.id, k) {
            Ok(k) => k,
            Err(e) => {
                return Ok(HolderShare::Blocked(Blocked {
                    why: format!("{e:#}"),
                    fix: format!(
                        "check the holder's new fingerprint with it and run `symbolon keys trust {holder_id}`"
                    ),
                }))
            }
        },
        Err(e) if e.code() == Some("party_keys_missing") => {
            return Ok(HolderShare::Blocked(Blocked {
                why: format!(
                    "holder {holder_id} has not registered keys yet, so its share cannot be wrapped to it"
                ),
                fix: "ask the holder to run `symbolon keys init`".to_string(),
            }))
        }
        Err(e) => return Err(e.into()),
    };
    Ok(HolderShare::Ready(Box::new(ReadyShare {
        pass_id: pass_id.to_string(),
        holder_id: holder_id.to_string(),
        recipient: keys.age_recipient,
        envelope: sf.shares[0].clone(),
    })))
}

/// Wraps the holder's share (share 1) to its key and sends it.
pub async fn send_holder_share(c: &Client, r: &ReadyShare) -> anyhow::Result<api::SealedShare> {
    let wrapped = seal::wrap(&r.recipient, &r.envelope)?;
    Ok(c.share_to_holder(
        &r.pass_id,
        &api::ShareToHolder {
            holder_id: r.holder_id.clone(),
            wrapped: STANDARD.encode(wrapped),
        },
    )
    .await?)
}

/// `pass grant`: grants the pass and, when it is sealed, sends the holder
/// its share in the same step. If the share cannot go from this machine (no
/// seal file here, the holder without keys), nothing is granted unless
/// `without_share`: a holder silently left without its share could never
/// pass the secret on. Progress notes go to stderr.
pub async fn grant(
    c: &Client,
    pass_id: &str,
    req: &api::CreateGrant,
    without_share: bool,
) -> anyhow::Result<api::Holding> {
    let holder = req.holder_id.as_str();
    let later = format!("symbolon share send --pass {pass_id} --holder {holder}");
    let share = holder_share(c, pass_id, holder).await?;
    if let (HolderShare::Blocked(b), false) = (&share, without_share) {
        bail!(
            "not granted: pass {pass_id} carries a sealed secret, but {}.\n  \
             A grant without the share would leave {holder} unable to pass the secret on to buyers.\n  \
             Either {} and grant again, or grant now with --without-share and, once that is done, send \
             the share from the machine that sealed the pass:\n    {later}",
            b.why,
            b.fix
        );
    }
    let h = c.grant(pass_id, req).await?;
    match share {
        HolderShare::NotSealed => {}
        HolderShare::Ready(r) if !without_share => match send_holder_share(c, &r).await {
            Ok(s) => eprintln!(
                "sealed pass: the holder's share was wrapped to its key ({})",
                s.id
            ),
            Err(e) => eprintln!(
                "warning: granted, but the holder's share of the sealed pass was not sent: {e:#}\n  \
                 send it with: {later}"
            ),
        },
        HolderShare::Ready(_) | HolderShare::Blocked(_) => eprintln!(
            "granted without the holder's share of the sealed secret (--without-share); send it from \
             the machine that sealed the pass: {later}"
        ),
    }
    Ok(h)
}

/// `share send`: gives a holder its share of a sealed pass. `None` when the
/// pass carries no sealed secret.
pub async fn give_holder_share(
    c: &Client,
    pass_id: &str,
    holder_id: &str,
) -> anyhow::Result<Option<api::SealedShare>> {
    match holder_share(c, pass_id, holder_id).await? {
        HolderShare::NotSealed => Ok(None),
        HolderShare::Ready(r) => Ok(Some(send_holder_share(c, &r).await?)),
        HolderShare::Blocked(b) => bail!(
            "cannot send the share of {pass_id}: {}\n  First {}, then send it again.",
            b.why,
            b.fix
        ),
    }
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

/// What a release did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Released {
    /// This many shares went to the buyer now.
    Now(usize),
    /// The exchange already had them (an earlier run, or another agent).
    Before,
}

/// Releases the provider's side's shares (2..=k) for a paid order. `None`
/// when this provider sealed nothing into the order's pass on this machine.
pub async fn release(c: &Client, order_id: &str) -> anyhow::Result<Option<Released>> {
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
        Err(e) if already_sent(&e) => Ok(Some(Released::Before)),
        Err(e) => Err(e.into()),
        Ok(_) => Ok(Some(Released::Now(k - 1))),
    }
}

/// Where a buyer stands when `buyer_note` speaks.
pub enum BuyerStep<'a> {
    /// An offer was just accepted; no order yet.
    Accepted { offer_id: &'a str },
    /// An order was just placed (and maybe paid).
    Ordered(&'a api::Order),
}

/// Where this account's keys are, for a buyer.
enum BuyerKeys {
    /// Registered, and this machine has them.
    Here,
    /// Registered from another machine (fingerprint).
    Elsewhere(String),
    /// None registered.
    None,
}

/// For a buyer who accepted an offer of, or ordered, a sealed pass: that
/// there is a secret, and the steps to open it — `keys init` first when the
/// account has no keys. `None` when the pass carries no sealed secret (or
/// the exchange cannot say: the note is advice, never a reason to fail).
pub async fn buyer_note(c: &Client, pass_id: &str, step: BuyerStep<'_>) -> Option<String> {
    match c.pass_seal(pass_id).await {
        Ok(_) => {}
        Err(_) => return None,
    }
    let me = c.whoami().await.ok()?;
    let local = load_keystore(&me.id).ok();
    let keys = match c.party_keys(&me.id).await {
        Ok(r) => match &local {
            Some((id, _)) if id.recipient() == r.age_recipient => BuyerKeys::Here,
            _ => BuyerKeys::Elsewhere(r.fingerprint),
        },
        Err(e) if e.code() == Some("party_keys_missing") => BuyerKeys::None,
        Err(_) => return None,
    };
    let (order, offer) = match step {
        BuyerStep::Accepted { offer_id } => (None, offer_id),
        BuyerStep::Ordered(o) => match o.offer_id.as_deref() {
            Some(offer) => (Some(o), offer),
            None => {
                return Some(
                    "this pass carries a sealed secret (a password, a licence key…), but this order was \
                     placed straight from the pass, so it cannot open it: the secret opens only with the \
                     holder's share, which comes with a holder's offer (a demand, then `symbolon accept`)."
                        .to_string(),
                )
            }
        },
    };
    let open = format!(
        "symbolon open --order {}",
        order.map(|o| o.id.as_str()).unwrap_or("ORDER")
    );
    // What the buyer does before the provider can release its share.
    let pay = match order {
        None => Some(format!(
            "order and pay: symbolon order create --offer {offer} --pay"
        )),
        Some(o) if o.status == "placed" => Some(format!("pay: symbolon order pay {}", o.id)),
        Some(_) => None,
    };
    let release =
        "the provider releases its share once the order is paid and your keys are registered";
    let mut note = "this pass carries a sealed secret (a password, a licence key…) that only you can open, \
                    with your own keys and two shares: the holder's, which comes with its offer, and the \
                    provider's, released after payment."
        .to_string();
    match keys {
        BuyerKeys::None => {
            note.push_str("\n  You have no keys yet. To open it:");
            let mut steps =
                vec!["symbolon keys init   (on the machine where you will open it)".to_string()];
            steps.push(match &pay {
                Some(p) => format!("{p} — {release}"),
                None => release.to_string(),
            });
            steps.push(open.clone());
            for (n, s) in steps.iter().enumerate() {
                note.push_str(&format!("\n    {}. {s}", n + 1));
            }
            note.push_str(&format!(
                "\n  The holder could not send you its share before your keys existed: if `open` says \
                 it is missing, ask the holder to run `symbolon share offer {offer} --pass {pass_id}`."
            ));
        }
        BuyerKeys::Elsewhere(fingerprint) => {
            note.push_str(&format!(
                "\n  Your keys (fingerprint {fingerprint}) are registered from another machine: open it \
                 there, or with a copy of its SYMBOLON_HOME ({open}); `symbolon keys init` here would refuse \
                 to replace them."
            ));
            if let Some(p) = &pay {
                note.push_str(&format!("\n  Next: {p}."));
            }
        }
        BuyerKeys::Here => {
            note.push_str(&match &pay {
                Some(p) => {
                    format!("\n  Next: {p}; once the provider has released its share: {open}")
                }
                None => format!("\n  Once the provider has released its share: {open}"),
            });
        }
    }
    Some(note)
}

/// Which of an order's shares reached the buyer, and which opened here.
#[derive(Default)]
struct Arrived {
    holder_sent: bool,
    holder_opened: bool,
    provider_sent: bool,
    /// The indices of the provider's shares that opened.
    provider_opened: std::collections::BTreeSet<u8>,
}

/// Why `open` cannot rebuild the secret yet: whose share is missing, and
/// what to do about it. `no_keystore` is the keystore path when this
/// machine has none for the account.
fn missing_shares(
    order: &api::Order,
    seen: &Arrived,
    need: usize,
    no_keystore: Option<&Path>,
) -> String {
    let have = usize::from(seen.holder_opened) + seen.provider_opened.len();
    let mut out = format!(
        "cannot open the secret of {}: {have} share(s), {need} needed",
        order.id
    );
    let mut line = |s: String| {
        out.push_str("\n  - ");
        out.push_str(&s);
    };
    if let Some(path) = no_keystore {
        line(format!(
            "this machine has no keys for {} ({} is missing), so no share opens here: open it on the \
             machine where you ran `symbolon keys init` (if you never did, run it now — the shares below \
             must then reach your new keys)",
            order.requester_id,
            path.display()
        ));
    }
    let unreadable = "it came, but none of your keys on this machine opens it: it was wrapped to keys \
                      of yours that are elsewhere (another machine, or replaced by `keys init --force`); \
                      open it where those keys are";
    let holder = order.holder_id.as_deref().unwrap_or("the holder");
    if !seen.holder_opened {
        line(match (&order.offer_id, seen.holder_sent) {
            (None, _) => "the holder's share is missing: the order was placed straight from the pass, \
                          and only a holder's offer carries the holder's share"
                .to_string(),
            (Some(offer), false) => format!(
                "the holder's share is missing: holder {holder} has not sent it with offer {offer} (it \
                 goes only to a buyer with registered keys). Ask the holder to run: symbolon share offer \
                 {offer} --pass {}",
                order.pass_id
            ),
            (Some(_), true) => format!("the holder's share: {unreadable}"),
        });
    }
    if seen.provider_opened.len() + 1 < need {
        line(match (order.status.as_str(), seen.provider_sent) {
            ("placed", _) => format!(
                "the provider's share is missing: it is released once the order is paid \
                 (symbolon order pay {})",
                order.id
            ),
            (_, false) => format!(
                "the provider's share is missing: provider {} has not released it yet. Its `symbolon \
                 provider agent` releases it after payment, retrying while your keys are not registered; \
                 or the provider runs: symbolon provider release {}. Try again later",
                order.provider_id, order.id
            ),
            (_, true) => format!("the provider's share: {unreadable}"),
        });
    }
    out
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
/// unless all of it succeeds. A missing share is named — whose it is, and
/// what its sender or the buyer does about it.
pub async fn open(c: &Client, order_id: &str, to: &OpenTargets<'_>) -> anyhow::Result<Vec<u8>> {
    let me = c.whoami().await?;
    let keystore = account_dir(&me.id)?.join("keys.json");
    // Without a keystore no share opens here; `missing_shares` says so.
    let ids = if keystore.exists() {
        identities(&me.id)?
    } else {
        Vec::new()
    };
    let order = c.order(order_id).await?;
    let sealed = match c.pass_seal(&order.pass_id).await {
        Err(e) if e.code() == Some("not_sealed") => bail!(
            "the pass of order {order_id} ({}) carries no sealed secret: there is nothing to open",
            order.pass_id
        ),
        other => other?,
    };
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
    let mut seen = Arrived::default();
    for s in &shares.items {
        let from_holder = s.kind == "offer" && s.offer_id.is_some() && s.offer_id == order.offer_id;
        let from_provider = s.kind == "release" && s.order_id.as_deref() == Some(order_id);
        if !(from_holder || from_provider) {
            continue;
        }
        if from_holder {
            seen.holder_sent = true;
        } else {
            seen.provider_sent = true;
        }
        // A share that does not unwrap, or claims an index its sender may not
        // give, is left out rather than trusted.
        let Ok(w) = STANDARD.decode(&s.wrapped) else {
            continue;
        };
        match unwrap_any(&ids, &w) {
            Ok(e) if from_holder && e.index == 1 => {
                seen.holder_opened = true;
                envelopes.push(e);
            }
            Ok(e) if from_provider && e.index >= 2 => {
                seen.provider_opened.insert(e.index);
                envelopes.push(e);
            }
            _ => {}
        }
    }
    if !seen.holder_opened || seen.provider_opened.len() + 1 < header.k as usize {
        bail!(missing_shares(
            &order,
            &seen,
            header.k as usize,
            (!keystore.exists()).then_some(keystore.as_path())
        ));
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
