//! The selection log over HTTP (issue 22, item 6): a demand's selection —
//! its contacted holders, or its refusal — has an entry whose inclusion
//! proof verifies against a checkpoint signed by the log's published key;
//! only its requester and the holders it names may fetch it; consistency
//! proofs link checkpoints; and an entry changed in the database no longer
//! verifies (nor will a fresh replica sign over it).

use crate::harness::*;
use crate::on_both_backends;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use symbolon_client::api::tlog::SelectionProof;
use symbolon_client::api::*;
use symbolon_client::Client;
use symbolon_tlog::{leaf_hash, verify_consistency, verify_inclusion, Hash, LogVerifier};

on_both_backends!(selections_are_logged_and_their_proofs_verify_for_their_parties_only);

fn hashes(b64: &[String]) -> Vec<Hash> {
    b64.iter()
        .map(|h| STANDARD.decode(h).unwrap().try_into().unwrap())
        .collect()
}

/// Verifies a proof as a client would: the checkpoint's signature by the
/// published key, then the entry's inclusion in it.
fn verify(key: &LogVerifier, p: &SelectionProof) -> Result<serde_json::Value, String> {
    let c = key
        .open_checkpoint(&p.checkpoint)
        .map_err(|e| e.to_string())?;
    assert_eq!(c.size, p.tree_size);
    verify_inclusion(
        &leaf_hash(p.entry.as_bytes()),
        p.index,
        c.size,
        &hashes(&p.inclusion),
        &c.root,
    )
    .map_err(|e| e.to_string())?;
    Ok(serde_json::from_str(&p.entry).unwrap())
}

async fn selections_are_logged_and_their_proofs_verify_for_their_parties_only(backend: Backend) {
    let srv = TestServer::on(backend).await;
    let (_, provider) = srv.account("Maker", &[Role::Provider]).await;
    let p = provider
        .create_product(&product(
            "Trail camera 4K",
            "electronics/cameras",
            "120.00",
            20,
        ))
        .await
        .unwrap();
    let pass = provider
        .create_pass(&shareable(&p.id, 1_000))
        .await
        .unwrap();
    let mut holders: Vec<(String, Client)> = Vec::new();
    for i in 0..3 {
        let (id, h) = srv.account(&format!("Holder {i}"), &[Role::Holder]).await;
        provider.grant(&pass.id, &grant(&id)).await.unwrap();
        holders.push((id, h));
    }
    let (_, outsider) = srv.account("Outsider", &[Role::Holder]).await;
    let (_, r) = srv.account("Buyer", &[Role::Requester]).await;
    let (_, other) = srv.account("Other buyer", &[Role::Requester]).await;
    let key = LogVerifier::parse(srv.anon().log_key().await.unwrap().trim()).unwrap();

    // A demand that contacts holders: its entry names them with their score parts.
    let d = r.create_demand(&demand("trail camera")).await.unwrap();
    assert_eq!(d.contacted.len(), 3);
    let proof = r.demand_proof(&d.id).await.unwrap();
    let entry = verify(&key, &proof).expect("the requester's proof verifies");
    assert_eq!(entry["demand_id"], d.id);
    assert_eq!(entry["outcome"], "contacted");
    assert_eq!(entry["format"], "symbolon/selection/v1");
    let named: Vec<&str> = entry["contacted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["holder_id"].as_str().unwrap())
        .collect();
    let contacted: Vec<&str> = d.contacted.iter().map(|c| c.holder_id.as_str()).collect();
    assert_eq!(named, contacted);
    assert!(entry["contacted"][0]["score"].is_number());

    // Only its parties may fetch it.
    assert_api_err(other.demand_proof(&d.id).await, 403, "forbidden");
    assert_api_err(outsider.demand_proof(&d.id).await, 403, "forbidden");
    assert_api_err(r.demand_proof("dem_nope").await, 404, "not_found");
    let (h0, holder) = &holders[0];
    let seen = verify(&key, &holder.demand_proof(&d.id).await.unwrap()).unwrap();
    assert_eq!(seen["demand_id"], d.id);
    let mine = holder.holder_selections(None, None).await.unwrap();
    assert_eq!(mine.entries.len(), 1);
    assert_eq!(mine.entries[0].demand_id, d.id);
    assert_eq!(mine.entries[0].entry, proof.entry);
    assert!(contacted.contains(&h0.as_str()));
    assert!(outsider
        .holder_selections(None, None)
        .await
        .unwrap()
        .entries
        .is_empty());
    assert_api_err(r.holder_selections(None, None).await, 403, "forbidden");

    // A refusal is logged too, under the id its error names.
    let mut strict = demand("trail camera");
    strict.min_holders = Some(5);
    let details = assert_api_err(r.create_demand(&strict).await, 422, "insufficient_holders")
        .expect("details");
    let refused_id = details["demand_id"]
        .as_str()
        .expect("demand_id")
        .to_string();
    let refused = verify(&key, &r.demand_proof(&refused_id).await.unwrap()).unwrap();
    assert_eq!(refused["outcome"], "refused");
    assert_eq!(refused["refusal"]["qualified"], 3);
    assert!(refused["eliminations"]["holders_with_supply"].is_number());
    assert!(refused.get("contacted").is_none());

    // Checkpoints grow consistently.
    let first = key
        .open_checkpoint(&srv.anon().log_checkpoint().await.unwrap())
        .unwrap();
    let d2 = r.create_demand(&demand("trail camera 4K")).await.unwrap();
    let second = key
        .open_checkpoint(&srv.anon().log_checkpoint().await.unwrap())
        .unwrap();
    assert_eq!((first.size, second.size), (2, 3));
    let c = srv
        .anon()
        .log_consistency(first.size, second.size)
        .await
        .unwrap();
    verify_consistency(
        first.size,
        second.size,
        &hashes(&c.proof),
        &first.root,
        &second.root,
    )
    .expect("consistent");
    assert_api_err(srv.anon().log_consistency(3, 2).await, 422, "invalid_value");
    assert_api_err(srv.anon().log_consistency(1, 9).await, 422, "invalid_value");

    // An entry changed in the database no longer verifies.
    let changed = srv
        .exec_sql(&format!(
            "UPDATE selection_log SET body = REPLACE(body, '\"contacted\"', '\"refused\"') WHERE demand_id = '{}'",
            d.id
        ))
        .await;
    assert_eq!(changed, 1);
    let tampered = r.demand_proof(&d.id).await.unwrap();
    assert_ne!(tampered.entry, proof.entry);
    let err = verify(&key, &tampered).expect_err("a changed entry must not verify");
    assert!(err.contains("root"), "{err}");
    // The untouched ones still do.
    verify(&key, &r.demand_proof(&d2.id).await.unwrap()).unwrap();
    // A replica reading the log afresh will not sign a checkpoint over it.
    let srv = srv.restart().await;
    let (status, _) = srv
        .anon()
        .raw(
            reqwest::Method::GET,
            "/.well-known/symbolon/checkpoint",
            None,
        )
        .await
        .unwrap();
    assert_eq!(status.as_u16(), 500);
}
