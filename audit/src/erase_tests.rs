//! Version-2 entries and erasure over the in-memory log: new entries carry a salt, erasing an
//! entry leaves the leaves, proofs and checkpoint unchanged and the bundle verifying (the
//! entry reported as erased), and forged erasures or salts fail.

use super::*;
use crate::bundle::{Actor, Bundle};
use crate::memory::MemoryLog;
use crate::note::Signer;
use crate::store::{NewEntry, append, bundle_of, current_head, sign_checkpoint};
use crate::terminal::close;
use crate::verify::{Options, verify_bundle};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

fn at(n: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(1_795_000_000_000 + n * 1000).unwrap()
}

fn entry(hearing: &str, step: &str, n: i64) -> NewEntry {
    NewEntry {
        hearing_id: hearing.into(),
        step: step.into(),
        actor: Actor {
            role: "officer".into(),
            id: "u1".into(),
        },
        at: at(n),
        payload: json!({"n": n, "name": "张三"}),
        recordings: vec![],
    }
}

async fn bundle(log: &mut MemoryLog, s: &Signer) -> Bundle {
    let head = current_head(log).await.unwrap();
    let (cp, _) = sign_checkpoint(log, s, head, 1).await.unwrap();
    let rows = log.hearing_entries("h").await.unwrap();
    bundle_of(log, s.name(), "h", rows, &cp, None, vec![])
        .await
        .unwrap()
}

fn opts(s: &Signer) -> Options {
    Options {
        trusted_keys: vec![s.verifier().clone()],
        ..Options::default()
    }
}

async fn closed() -> (MemoryLog, Signer) {
    let s = Signer::from_pkcs8("hearings.test/log", &Signer::generate_pkcs8().unwrap()).unwrap();
    let mut log = MemoryLog::new();
    for (i, step) in ["opened", "identity", "ruling"].iter().enumerate() {
        append(&mut log, &entry("h", step, i as i64)).await.unwrap();
        append(&mut log, &entry("other", step, i as i64))
            .await
            .unwrap();
    }
    close(&mut log, "h", "completed", at(9)).await.unwrap();
    (log, s)
}

#[tokio::test]
async fn new_entries_are_version_2_with_a_salt_and_verify() {
    let (mut log, s) = closed().await;
    let b = bundle(&mut log, &s).await;
    for e in &b.entries {
        let leaf = Leaf::decode(&hex::decode(&e.leaf_hex).unwrap()).unwrap();
        assert_eq!(leaf.version, VERSION_2);
        assert_eq!(e.salt.as_ref().map(String::len), Some(32));
        assert!(!e.erased);
    }
    let r = verify_bundle(&b, &opts(&s));
    assert!(r.ok && r.complete, "{}", r.human());
    assert!(r.erased.is_empty());
    let text = serde_json::to_string(&b).unwrap();
    assert!(!text.contains("\"erased\""), "no erased mark unless erased");
}

#[tokio::test]
async fn erasing_keeps_every_proof_and_the_bundle_verifies() {
    let (mut log, s) = closed().await;
    let before = bundle(&mut log, &s).await;
    let head = current_head(&mut log).await.unwrap();
    erase_entry(&mut log, "h", 1).await.unwrap();
    // Idempotent.
    erase_entry(&mut log, "h", 1).await.unwrap();
    let after = bundle(&mut log, &s).await;
    assert_eq!(current_head(&mut log).await.unwrap(), head);
    assert_eq!(after.checkpoint, before.checkpoint);
    for (a, b) in after.entries.iter().zip(&before.entries) {
        assert_eq!((&a.leaf_hex, &a.proof), (&b.leaf_hex, &b.proof));
    }
    let gone = &after.entries[1];
    assert!(gone.erased && gone.salt.is_none() && gone.payload == Value::Null);
    let stored = &log.hearing_entries("h").await.unwrap()[1];
    assert!(stored.erased && stored.salt.is_none() && stored.payload.is_empty());
    let r = verify_bundle(&after, &opts(&s));
    assert!(r.ok && r.complete, "{}", r.human());
    assert_eq!(r.erased, vec![1]);
    assert!(r.human().contains("ERASED: #1"), "{}", r.human());

    // The whole hearing: the rest but the terminal entry; the other hearing is untouched.
    let done = erase_hearing(&mut log, "h").await.unwrap();
    assert_eq!(
        done,
        Erased {
            erased: 2,
            already: 1,
            kept_v1: 0
        }
    );
    let r = verify_bundle(&bundle(&mut log, &s).await, &opts(&s));
    assert!(r.ok && r.complete, "{}", r.human());
    assert_eq!(r.erased, vec![0, 1, 2]);
    assert!(
        log.hearing_entries("other")
            .await
            .unwrap()
            .iter()
            .all(|e| !e.erased)
    );
}

#[tokio::test]
async fn the_terminal_entry_and_unknown_entries_are_not_erased() {
    let (mut log, _) = closed().await;
    assert!(erase_entry(&mut log, "h", 3).await.is_err());
    assert!(erase_entry(&mut log, "h", 7).await.is_err());
    assert!(erase_entry(&mut log, "nobody", 0).await.is_err());
}

#[tokio::test]
async fn forged_erasures_and_salts_fail() {
    let (mut log, s) = closed().await;
    let good = bundle(&mut log, &s).await;
    let fails = |b: &Bundle, why: &str| {
        let r = verify_bundle(b, &opts(&s));
        assert!(!r.ok, "{why}: {}", r.human());
        assert!(r.erased.is_empty(), "{why}");
    };
    let mut b = good.clone();
    b.entries[1].salt = Some("00".repeat(16));
    fails(&b, "wrong salt");
    let mut b = good.clone();
    b.entries[1].salt = None;
    fails(&b, "v2 without salt");
    let mut b = good.clone();
    b.entries[1].payload = json!({"n": 1, "name": "李四"});
    fails(&b, "changed payload");
    let mut b = good.clone();
    b.entries[1].erased = true;
    fails(&b, "erased but still carrying the payload");
    let mut b = good.clone();
    b.entries[1].erased = true;
    b.entries[1].payload = Value::Null;
    b.entries[1].salt = None;
    let r = verify_bundle(&b, &opts(&s));
    assert!(r.ok, "a properly erased entry verifies: {}", r.human());
}
