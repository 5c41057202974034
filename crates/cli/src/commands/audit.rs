//! `symbolon audit verify`: checks a demand's selection entry against the
//! exchange's transparency log — the entry's leaf in the inclusion proof,
//! the checkpoint's signature by the log's key, and consistency proofs
//! from that checkpoint and from the last one this machine saw to the
//! newest. The log's key is pinned on first use (or given with
//! `--log-key`); the newest checkpoint verified is kept
//! (`$SYMBOLON_HOME/logs/<server>.json`), so a log that shrinks (rollback)
//! or rewrites its past (fork) is refused. `--save` keeps everything fetched
//! in one file that `--from-file` verifies again without the network.

use super::*;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use symbolon_api::tlog::SelectionProof;
use symbolon_tlog::LogVerifier;
use symbolon_tlog::{leaf_hash, verify_consistency, verify_inclusion, Checkpoint, Hash};

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Verify a demand's selection entry: its inclusion in the exchange's
    /// transparency log, the checkpoint's signature, and the log's
    /// consistency with the last checkpoint this machine verified (exit 1
    /// naming what failed).
    Verify(VerifyArgs),
}

#[derive(Args, Debug)]
#[command(group(ArgGroup::new("what").required(true).args(["demand", "from_file"])))]
pub struct VerifyArgs {
    /// The demand whose selection to verify (yours, or one you were contacted for).
    #[arg(long)]
    demand: Option<String>,
    /// The log's verifier key (`origin+keyID+base64`), instead of the one
    /// pinned on first use.
    #[arg(long)]
    log_key: Option<String>,
    /// Also write everything fetched to this file, to verify it again offline.
    #[arg(long)]
    save: Option<PathBuf>,
    /// Verify a file written with `--save`, without the network.
    #[arg(long, conflicts_with = "save")]
    from_file: Option<PathBuf>,
}

/// Everything a verification needs, as fetched.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    pub server: String,
    pub log_key: String,
    pub proof: SelectionProof,
    /// The newest checkpoint when fetched.
    pub latest: String,
    /// Consistency from the proof's checkpoint to `latest`.
    pub to_latest: Vec<String>,
    /// The checkpoint this machine had verified before, if any.
    pub previous: Option<String>,
    /// Consistency from `previous` to `latest`.
    pub from_previous: Vec<String>,
}

/// What was verified.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub demand_id: String,
    pub index: u64,
    pub outcome: String,
    pub origin: String,
    pub tree_size: u64,
    pub latest_size: u64,
    pub previous_size: Option<u64>,
    pub entry: serde_json::Value,
}

/// What this machine keeps per server: the pinned key and the newest checkpoint verified.
#[derive(Debug, Serialize, Deserialize)]
struct Pinned {
    log_key: String,
    checkpoint: String,
}

fn state_path(server: &str) -> anyhow::Result<PathBuf> {
    let name: String = server
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    Ok(crate::keystore::home()?
        .join("logs")
        .join(format!("{name}.json")))
}

fn load_pinned(server: &str) -> anyhow::Result<Option<Pinned>> {
    let path = state_path(server)?;
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            Ok(Some(serde_json::from_str(&text).map_err(|e| {
                anyhow!("{} is damaged: {e}", path.display())
            })?))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(anyhow!("cannot read {}: {e}", path.display())),
    }
}

fn hashes(b64: &[String], what: &str) -> anyhow::Result<Vec<Hash>> {
    b64.iter()
        .map(|h| {
            STANDARD
                .decode(h)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| anyhow!("the {what} holds a malformed hash"))
        })
        .collect()
}

fn open(v: &LogVerifier, note: &str, what: &str) -> anyhow::Result<Checkpoint> {
    v.open_checkpoint(note)
        .map_err(|e| anyhow!("the {what} checkpoint does not verify: {e}"))
}

/// Checks a bundle offline; the first failure is the error.
pub fn verify_bundle(b: &Bundle) -> anyhow::Result<Report> {
    let v = LogVerifier::parse(&b.log_key).map_err(|e| anyhow!("the log key: {e}"))?;
    let c1 = open(&v, &b.proof.checkpoint, "proof's")?;
    if c1.size != b.proof.tree_size {
        bail!(
            "the proof claims a tree of {} but its checkpoint has {}",
            b.proof.tree_size,
            c1.size
        );
    }
    let leaf = leaf_hash(b.proof.entry.as_bytes());
    verify_inclusion(
        &leaf,
        b.proof.index,
        c1.size,
        &hashes(&b.proof.inclusion, "inclusion proof")?,
        &c1.root,
    )
    .map_err(|e| {
        anyhow!(
            "entry {} is not in the signed log ({e}): the entry was changed or the proof is wrong",
            b.proof.index
        )
    })?;
    let entry: serde_json::Value =
        serde_json::from_str(&b.proof.entry).map_err(|e| anyhow!("the entry is not JSON: {e}"))?;
    if entry.get("demand_id").and_then(|d| d.as_str()) != Some(b.proof.demand_id.as_str()) {
        bail!("the entry is not the demand {}'s", b.proof.demand_id);
    }
    let latest = open(&v, &b.latest, "newest")?;
    if latest.size < c1.size {
        bail!(
            "rollback: the newest checkpoint has {} entries, fewer than the proof's {}",
            latest.size,
            c1.size
        );
    }
    verify_consistency(
        c1.size,
        latest.size,
        &hashes(&b.to_latest, "consistency proof")?,
        &c1.root,
        &latest.root,
    )
    .map_err(|e| anyhow!("fork: the proof's checkpoint is not a prefix of the newest ({e})"))?;
    let previous_size = match &b.previous {
        None => None,
        Some(p) => {
            let c0 = open(&v, p, "previously verified")?;
            if c0.size > latest.size {
                bail!(
                    "rollback: this machine verified a log of {} entries; the server now shows {}",
                    c0.size,
                    latest.size
                );
            }
            verify_consistency(
                c0.size,
                latest.size,
                &hashes(&b.from_previous, "consistency proof")?,
                &c0.root,
                &latest.root,
            )
            .map_err(|e| {
                anyhow!(
                    "fork: the log of {} entries this machine verified before is not a prefix of the newest ({e})",
                    c0.size
                )
            })?;
            Some(c0.size)
        }
    };
    Ok(Report {
        demand_id: b.proof.demand_id.clone(),
        index: b.proof.index,
        outcome: entry
            .get("outcome")
            .and_then(|o| o.as_str())
            .unwrap_or("")
            .to_string(),
        origin: latest.origin,
        tree_size: c1.size,
        latest_size: latest.size,
        previous_size,
        entry,
    })
}

/// Fetches what verifying a demand's entry needs.
async fn fetch(
    ctx: &Context,
    demand: &str,
    key: Option<String>,
    pinned: Option<&Pinned>,
) -> anyhow::Result<Bundle> {
    let anon = ctx.anon()?;
    let log_key = match (key, pinned) {
        (Some(k), _) => k,
        (None, Some(p)) => p.log_key.clone(),
        (None, None) => anon.log_key().await?.trim().to_string(),
    };
    let v = LogVerifier::parse(&log_key).map_err(|e| anyhow!("the log key: {e}"))?;
    let proof = ctx.authed()?.demand_proof(demand).await?;
    let latest = anon.log_checkpoint().await?;
    let size = |note: &str| v.open_checkpoint(note).map(|c| c.size).ok();
    let latest_size = size(&latest);
    let consistency = |from: Option<u64>| {
        let anon = anon.clone();
        async move {
            Ok::<_, anyhow::Error>(match (from, latest_size) {
                (Some(f), Some(l)) if f <= l => anon.log_consistency(f, l).await?.proof,
                _ => Vec::new(),
            })
        }
    };
    let to_latest = consistency(size(&proof.checkpoint)).await?;
    let previous = pinned.map(|p| p.checkpoint.clone());
    let from_previous = consistency(previous.as_deref().and_then(size)).await?;
    Ok(Bundle {
        server: ctx.server.clone(),
        log_key,
        proof,
        latest,
        to_latest,
        previous,
        from_previous,
    })
}

pub(super) async fn run(cmd: AuditCommand, ctx: &Context) -> anyhow::Result<()> {
    let AuditCommand::Verify(a) = cmd;
    let report = if let Some(path) = &a.from_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow!("cannot read {}: {e}", path.display()))?;
        let bundle: Bundle = serde_json::from_str(&text)
            .map_err(|e| anyhow!("{} is not a saved audit: {e}", path.display()))?;
        // The file names a key, but whoever wrote the file chose it: trust
        // only `--log-key` or the key pinned for that server on this machine.
        let trusted = match &a.log_key {
            Some(k) => k.clone(),
            None => load_pinned(&bundle.server)?
                .map(|p| p.log_key)
                .ok_or_else(|| {
                    anyhow!(
                        "no log key to trust for {}: pass --log-key, or verify one demand online first to pin it",
                        bundle.server
                    )
                })?,
        };
        if trusted != bundle.log_key {
            bail!("the saved audit names another log key than the one trusted ({trusted})");
        }
        verify_bundle(&bundle)?
    } else {
        let demand = a.demand.as_deref().unwrap_or_default();
        let pinned = load_pinned(&ctx.server)?;
        if let (Some(k), Some(p)) = (&a.log_key, &pinned) {
            if *k != p.log_key {
                bail!(
                    "--log-key differs from the key pinned for {} ({}); remove {} to pin another",
                    ctx.server,
                    p.log_key,
                    state_path(&ctx.server)?.display()
                );
            }
        }
        let bundle = fetch(ctx, demand, a.log_key.clone(), pinned.as_ref()).await?;
        if bundle.proof.demand_id != demand {
            bail!("the server answered for another demand");
        }
        let report = verify_bundle(&bundle)?;
        let state = Pinned {
            log_key: bundle.log_key.clone(),
            checkpoint: bundle.latest.clone(),
        };
        crate::keystore::write_private(
            &state_path(&ctx.server)?,
            serde_json::to_string_pretty(&state)?.as_bytes(),
        )?;
        if let Some(path) = &a.save {
            crate::keystore::write_private(
                path,
                serde_json::to_string_pretty(&bundle)?.as_bytes(),
            )?;
        }
        report
    };
    ctx.show(&report, |r| {
        Fields::new()
            .add("demand", &r.demand_id)
            .add("outcome", &r.outcome)
            .add("entry", format!("#{} in {}", r.index, r.origin))
            .add(
                "inclusion",
                format!("verified in the signed tree of {}", r.tree_size),
            )
            .add("newest", format!("{} entries, consistent", r.latest_size))
            .add(
                "before",
                r.previous_size
                    .map_or("none seen (key pinned now)".to_string(), |s| {
                        format!("{s} entries seen here before, consistent")
                    }),
            )
            .print();
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use symbolon_tlog::{LogSigner, Tree};

    const ORIGIN: &str = "exchange.test/selections";

    /// A log of `n` entries `{"demand_id":"dem_i"}` and its signer.
    fn log(n: u64, seed: u8) -> (Tree, LogSigner, Vec<String>) {
        let signer = LogSigner::new(ORIGIN, [seed; 32]).unwrap();
        let mut tree = Tree::new();
        let entries: Vec<String> = (0..n)
            .map(|i| format!("{{\"demand_id\":\"dem_{i}\",\"outcome\":\"contacted\"}}"))
            .collect();
        for e in &entries {
            tree.push(leaf_hash(e.as_bytes()));
        }
        (tree, signer, entries)
    }

    fn note(tree: &Tree, signer: &LogSigner, size: u64) -> String {
        signer
            .sign_checkpoint(&Checkpoint {
                origin: ORIGIN.into(),
                size,
                root: tree.root(size).unwrap(),
            })
            .unwrap()
    }

    fn b64(h: Vec<Hash>) -> Vec<String> {
        h.iter().map(|h| STANDARD.encode(h)).collect()
    }

    /// Entry `index` proven at `size`, newest `latest`, seen before at `previous`.
    fn bundle(
        tree: &Tree,
        signer: &LogSigner,
        entries: &[String],
        index: u64,
        size: u64,
        latest: u64,
        previous: Option<u64>,
    ) -> Bundle {
        Bundle {
            server: "http://exchange.test".into(),
            log_key: signer.verifier_key(),
            proof: SelectionProof {
                demand_id: format!("dem_{index}"),
                index,
                entry: entries[index as usize].clone(),
                tree_size: size,
                inclusion: b64(tree.inclusion(index, size).unwrap()),
                checkpoint: note(tree, signer, size),
            },
            latest: note(tree, signer, latest),
            to_latest: b64(tree.consistency(size, latest).unwrap()),
            previous: previous.map(|p| note(tree, signer, p)),
            from_previous: previous
                .map(|p| b64(tree.consistency(p, latest).unwrap()))
                .unwrap_or_default(),
        }
    }

    #[test]
    fn a_whole_bundle_verifies() {
        let (tree, signer, entries) = log(11, 1);
        let r = verify_bundle(&bundle(&tree, &signer, &entries, 4, 7, 11, Some(5))).unwrap();
        assert_eq!(
            (r.index, r.tree_size, r.latest_size, r.previous_size),
            (4, 7, 11, Some(5))
        );
        assert_eq!(r.outcome, "contacted");
    }

    #[test]
    fn a_changed_entry_fails() {
        let (tree, signer, entries) = log(11, 1);
        let mut b = bundle(&tree, &signer, &entries, 4, 7, 11, None);
        b.proof.entry = b.proof.entry.replace("contacted", "refused");
        let e = verify_bundle(&b).unwrap_err().to_string();
        assert!(e.contains("not in the signed log"), "{e}");
    }

    #[test]
    fn another_key_fails() {
        let (tree, signer, entries) = log(11, 1);
        let mut b = bundle(&tree, &signer, &entries, 4, 7, 11, None);
        b.log_key = LogSigner::new(ORIGIN, [2; 32]).unwrap().verifier_key();
        let e = verify_bundle(&b).unwrap_err().to_string();
        assert!(e.contains("does not verify"), "{e}");
    }

    #[test]
    fn a_rollback_is_refused() {
        let (tree, signer, entries) = log(11, 1);
        // This machine saw 11 entries; the server now shows 7.
        let mut b = bundle(&tree, &signer, &entries, 4, 7, 7, None);
        b.previous = Some(note(&tree, &signer, 11));
        let e = verify_bundle(&b).unwrap_err().to_string();
        assert!(e.starts_with("rollback"), "{e}");
    }

    #[test]
    fn a_fork_is_refused() {
        let (tree, signer, entries) = log(11, 1);
        // The log seen before had another entry 2: same key, other history.
        let mut forked = Tree::new();
        for (i, e) in entries.iter().enumerate() {
            let e = if i == 2 {
                "{\"demand_id\":\"dem_x\"}"
            } else {
                e
            };
            forked.push(leaf_hash(e.as_bytes()));
        }
        let mut b = bundle(&tree, &signer, &entries, 4, 7, 11, Some(5));
        b.previous = Some(note(&forked, &signer, 5));
        let e = verify_bundle(&b).unwrap_err().to_string();
        assert!(e.starts_with("fork"), "{e}");
    }
}
