//! Conformance cases of the selection log: entries appended with their
//! selection (or alone, for a refusal) at gapless indices in commit order,
//! even under concurrency and rollbacks; holders' lists; the log's key made
//! once; checkpoints kept.

use super::*;
use crate::tlog::{NewLogEntry, StoredCheckpoint};

fn entry(demand_id: &str, requester: &str, holders: &[&str], at: Timestamp) -> NewLogEntry {
    NewLogEntry {
        demand_id: demand_id.into(),
        requester_id: requester.into(),
        holder_ids: holders.iter().map(|h| h.to_string()).collect(),
        body: format!("{{\"demand_id\":\"{demand_id}\"}}"),
        created_at: at,
    }
}

/// Demands created with their entries, refusals appended alone and
/// activations, all at once from many tasks (some refused by the store and
/// rolled back): the entries are exactly those of the selections that
/// committed, at indices 0..n without a gap; a retried refusal keeps its
/// index; a holder lists the entries naming it, newest first.
pub async fn selection_log_is_gapless_and_matches_the_selections(store: Arc<dyn Store>) {
    let w = World::new(store).await;
    let s = w.store.clone();
    assert_eq!(s.log_size().await.must("size"), 0);
    let mut standing = demand_record("dem_wait", &w.requester, DEADLINE);
    standing.waiting = true;
    s.create_demand(&standing, &[]).await.must("standing");
    let mut set = JoinSet::new();
    for n in 0..24 {
        let (s, h1, h2) = (s.clone(), w.holder1.clone(), w.holder2.clone());
        let requester = w.add_requester().await;
        set.spawn(async move {
            let id = format!("dem_l{n}");
            match n % 4 {
                // A selection that contacts holders.
                0 | 1 => {
                    let d = demand_record(&id, &requester, DEADLINE);
                    let requests = vec![interaction(&format!("int_l{n}"), &id, &h1, 1, DEADLINE)];
                    let e = entry(&id, &requester, &[&h1], t(n));
                    s.create_demand_logged(&d, &requests, Some(&e))
                        .await
                        .must("create with entry");
                    Some(id)
                }
                // A demand the store refuses (its id is taken): no entry.
                2 => {
                    let d = demand_record("dem_wait", &requester, DEADLINE);
                    let e = entry(&id, &requester, &[&h2], t(n));
                    assert!(s.create_demand_logged(&d, &[], Some(&e)).await.is_err());
                    None
                }
                // A refusal: the entry alone, twice at once (a retried
                // request racing the first), then once more.
                _ => {
                    let e = entry(&id, &requester, &[], t(n));
                    let (a, b) = tokio::join!(s.append_log_entry(&e), s.append_log_entry(&e));
                    let first = a.must("refusal");
                    assert_eq!(b.must("at once"), first);
                    assert_eq!(s.append_log_entry(&e).await.must("again"), first);
                    Some(id)
                }
            }
        });
    }
    for n in 0..4 {
        let (s, h2) = (s.clone(), w.holder2.clone());
        let requester = w.requester.clone();
        set.spawn(async move {
            let requests = vec![interaction(
                &format!("int_w{n}"),
                "dem_wait",
                &h2,
                1,
                DEADLINE,
            )];
            let e = entry("dem_wait", &requester, &[&h2], t(30));
            s.activate_demand_logged("dem_wait", &requests, t(30), Some(&e))
                .await
                .must("activate")
                .then(|| "dem_wait".to_string())
        });
    }
    let mut logged: BTreeSet<String> = join_all(set).await.into_iter().flatten().collect();
    assert_eq!(logged.len(), 12 + 6 + 1, "{logged:?}");
    let size = s.log_size().await.must("size");
    assert_eq!(size, logged.len() as i64);
    let mut all = s.log_entries(0, 10).await.must("first page");
    all.extend(s.log_entries(10, 100).await.must("second page"));
    assert_eq!(
        all.iter().map(|e| e.index).collect::<Vec<_>>(),
        (0..size).collect::<Vec<_>>()
    );
    for e in &all {
        assert!(logged.remove(&e.demand_id), "{} logged once", e.demand_id);
        assert_eq!(e.body, format!("{{\"demand_id\":\"{}\"}}", e.demand_id));
        assert_eq!(
            s.log_entry_of_demand(&e.demand_id).await.must("by demand"),
            Some(e.clone())
        );
    }
    assert!(s.log_entry_of_demand("dem_l2").await.must("none").is_none());
    // holder1: the 12 contacting selections; holder2: the activation only.
    let naming = s
        .log_entries_naming(&w.holder1, None, 100)
        .await
        .must("naming");
    assert_eq!(naming.len(), 12);
    assert!(naming.windows(2).all(|p| p[0].index > p[1].index));
    let older = s
        .log_entries_naming(&w.holder1, Some(naming[4].index), 3)
        .await
        .must("page");
    assert_eq!(older, naming[5..8].to_vec());
    let h2: Vec<String> = s
        .log_entries_naming(&w.holder2, None, 100)
        .await
        .must("holder2")
        .into_iter()
        .map(|e| e.demand_id)
        .collect();
    assert_eq!(h2, vec!["dem_wait".to_string()]);
}

/// The log's key is stored once (a second replica gets the first's), and
/// the first checkpoint kept for a size stays.
pub async fn log_key_is_made_once_and_checkpoints_are_kept(store: Arc<dyn Store>) {
    let s = &*store;
    assert_eq!(s.log_key().await.must("no key"), None);
    assert_eq!(s.latest_checkpoint().await.must("none"), None);
    assert_eq!(s.init_log_key(b"first", T0).await.must("init"), b"first");
    assert_eq!(s.init_log_key(b"second", t(1)).await.must("init"), b"first");
    assert_eq!(s.log_key().await.must("key"), Some(b"first".to_vec()));
    let c = |size: i64, note: &str| StoredCheckpoint {
        size,
        root: vec![size as u8; 32],
        note: note.into(),
        created_at: t(size),
    };
    for (size, note) in [(3, "three"), (1, "one"), (3, "three again"), (7, "seven")] {
        s.save_checkpoint(&c(size, note)).await.must("save");
    }
    assert_eq!(s.checkpoint_at(3).await.must("at 3"), Some(c(3, "three")));
    assert_eq!(s.checkpoint_at(2).await.must("at 2"), None);
    assert_eq!(
        s.latest_checkpoint().await.must("latest"),
        Some(c(7, "seven"))
    );
}
