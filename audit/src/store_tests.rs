//! The log's operations over the in-memory store: appends chain and grow the tree exactly
//! like the reference tree, a corrupt store refuses appends, and a bundle built from the
//! store verifies.

use super::*;
use crate::memory::MemoryLog;
use crate::merkle::MemoryStore;
use crate::verify::{Options, verify_bundle};
use serde_json::json;

fn signer() -> Signer {
    Signer::from_pkcs8("hearings.test/log", &Signer::generate_pkcs8().unwrap()).unwrap()
}

fn entry(hearing: &str, step: &str, n: i64) -> NewEntry {
    NewEntry {
        hearing_id: hearing.into(),
        step: step.into(),
        actor: Actor {
            role: "officer".into(),
            id: "u1".into(),
        },
        at: DateTime::from_timestamp_millis(1_795_000_000_000 + n * 1000).unwrap(),
        payload: json!({"n": n}),
        recordings: vec![],
    }
}

#[tokio::test]
async fn appends_chain_per_hearing_and_match_the_reference_tree() {
    let mut log = MemoryLog::new();
    let mut reference = MemoryStore::new();
    for i in 0..37 {
        let hearing = if i % 3 == 0 { "h-a" } else { "h-b" };
        let a = append(&mut log, &entry(hearing, "step", i)).await.unwrap();
        assert_eq!(a.seq, i as u64);
        reference.push(a.leaf_hash);
        let (size, root) = current_head(&mut log).await.unwrap();
        assert_eq!((size, root), (reference.size(), reference.root()));
        assert_eq!(root_at(&mut log, size).await.unwrap(), root);
    }
    let a = log.hearing_entries("h-a").await.unwrap();
    assert_eq!(a.len(), 13);
    for (i, e) in a.iter().enumerate() {
        let leaf = Leaf::decode(&e.leaf).unwrap();
        assert_eq!(leaf.hearing_seq, i as u64);
        let prev = if i == 0 {
            [0; 32]
        } else {
            merkle::leaf_hash(&a[i - 1].leaf)
        };
        assert_eq!(leaf.prev_leaf_hash, prev);
    }
    let p = inclusion_proof(&mut log, 5, 37).await.unwrap();
    assert_eq!(p, merkle::prove_inclusion(&reference, 5, 37).unwrap());
    let c = consistency_proof(&mut log, 10, 37).await.unwrap();
    assert_eq!(c, merkle::prove_consistency(&reference, 10, 37).unwrap());
}

#[tokio::test]
async fn a_wrong_stored_leaf_hash_refuses_the_next_append() {
    let mut log = MemoryLog::new();
    append(&mut log, &entry("h", "opened", 0)).await.unwrap();
    log.entries[0].leaf_hash = "00".repeat(32);
    let err = append(&mut log, &entry("h", "ruling", 1))
        .await
        .unwrap_err();
    assert!(matches!(err, LogError::Corrupt(_)), "{err}");
}

#[tokio::test]
async fn floats_are_refused_before_anything_is_stored() {
    let mut log = MemoryLog::new();
    let mut e = entry("h", "opened", 0);
    e.payload = json!({"x": 1.5});
    assert!(matches!(append(&mut log, &e).await, Err(LogError::Leaf(_))));
    assert_eq!(current_head(&mut log).await.unwrap().0, 0);
}

#[tokio::test]
async fn checkpoints_are_signed_once_per_size_and_bundles_verify() {
    let s = signer();
    let mut log = MemoryLog::new();
    for i in 0..5 {
        append(
            &mut log,
            &entry(if i % 2 == 0 { "h" } else { "g" }, "step", i),
        )
        .await
        .unwrap();
    }
    let head = current_head(&mut log).await.unwrap();
    let (cp, new) = sign_checkpoint(&mut log, &s, head, 1).await.unwrap();
    assert!(new);
    let (again, new) = sign_checkpoint(&mut log, &s, head, 2).await.unwrap();
    assert!(!new);
    assert_eq!(again, cp);
    let rows = log.hearing_entries("h").await.unwrap();
    let keys = vec![s.verifier().to_string()];
    let b = bundle_of(&mut log, s.name(), "h", rows, &cp, Some(2), keys)
        .await
        .unwrap();
    let opts = Options {
        trusted_keys: vec![s.verifier().clone()],
        ..Options::default()
    };
    let r = verify_bundle(&b, &opts);
    assert!(r.ok, "{}", r.human());
    assert_eq!(b.consistency.as_ref().map(|c| c.from_size), Some(2));
}
