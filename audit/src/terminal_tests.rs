//! The terminal entry over the in-memory log: a closed hearing's bundle is complete; an open
//! one, one with its tail cut, or one with an entry after the terminal is incomplete.

use super::*;
use crate::memory::MemoryLog;
use crate::note::Signer;
use crate::store::{bundle_of, current_head, sign_checkpoint};
use crate::verify::{Options, verify_bundle};

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
        payload: json!({"n": n}),
        recordings: vec![],
    }
}

async fn bundle(log: &mut MemoryLog, s: &Signer, hearing: &str) -> Bundle {
    let head = current_head(log).await.unwrap();
    let (cp, _) = sign_checkpoint(log, s, head, 1).await.unwrap();
    let rows = log.hearing_entries(hearing).await.unwrap();
    bundle_of(log, s.name(), hearing, rows, &cp, None, vec![])
        .await
        .unwrap()
}

fn opts(s: &Signer) -> Options {
    Options {
        trusted_keys: vec![s.verifier().clone()],
        ..Options::default()
    }
}

async fn closed_log() -> MemoryLog {
    let mut log = MemoryLog::new();
    for (i, step) in ["opened", "identity", "ruling"].iter().enumerate() {
        append(&mut log, &entry("h", step, i as i64)).await.unwrap();
        append(&mut log, &entry("other", step, i as i64))
            .await
            .unwrap();
    }
    let t = close(&mut log, "h", "completed", at(9)).await.unwrap();
    assert_eq!(t.hearing_seq, 3);
    log
}

#[tokio::test]
async fn a_closed_hearing_is_complete() {
    let s = Signer::from_pkcs8("hearings.test/log", &Signer::generate_pkcs8().unwrap()).unwrap();
    let mut log = closed_log().await;
    let b = bundle(&mut log, &s, "h").await;
    let last = b.entries.last().unwrap();
    assert_eq!(last.step, TERMINAL_STEP);
    assert_eq!(last.payload["entries"], 3);
    assert_eq!(last.payload["outcome"], "completed");
    let r = verify_bundle(&b, &opts(&s));
    assert!(r.ok && r.complete, "{}", r.human());
    assert!(
        r.completeness.starts_with("complete (outcome completed"),
        "{}",
        r.completeness
    );
}

#[tokio::test]
async fn a_cut_tail_an_open_hearing_or_an_entry_after_the_terminal_is_incomplete() {
    let s = Signer::from_pkcs8("hearings.test/log", &Signer::generate_pkcs8().unwrap()).unwrap();
    let mut log = closed_log().await;
    let whole = bundle(&mut log, &s, "h").await;
    for cut in 1..whole.entries.len() {
        let mut b = whole.clone();
        b.entries.truncate(b.entries.len() - cut);
        let r = verify_bundle(&b, &opts(&s));
        // Every remaining entry still verifies: only completeness tells the cut.
        assert!(r.ok, "{}", r.human());
        assert!(!r.complete);
        assert!(r.completeness.starts_with(INCOMPLETE), "{}", r.completeness);
    }
    // The other hearing never closed.
    let open = bundle(&mut log, &s, "other").await;
    let r = verify_bundle(&open, &opts(&s));
    assert!(r.ok && !r.complete, "{}", r.human());
    // A later entry after the terminal: no longer ends with it.
    append(&mut log, &entry("h", "late", 20)).await.unwrap();
    let b = bundle(&mut log, &s, "h").await;
    assert!(!completeness(&b).complete);
    // Closing again re-states it over everything.
    close(&mut log, "h", "completed", at(21)).await.unwrap();
    let b = bundle(&mut log, &s, "h").await;
    let c = completeness(&b);
    assert!(c.complete, "{}", c.detail);
}

#[tokio::test]
async fn a_terminal_entry_that_miscounts_is_incomplete() {
    let s = Signer::from_pkcs8("hearings.test/log", &Signer::generate_pkcs8().unwrap()).unwrap();
    let mut log = MemoryLog::new();
    append(&mut log, &entry("h", "opened", 0)).await.unwrap();
    // A forged terminal entry claiming more entries than the chain has.
    let mut forged = entry("h", TERMINAL_STEP, 1);
    forged.payload = json!({"outcome": "completed", "entries": 5, "head": "00"});
    append(&mut log, &forged).await.unwrap();
    let b = bundle(&mut log, &s, "h").await;
    let c = completeness(&b);
    assert!(!c.complete);
    assert!(c.detail.contains("counts 5 entries"), "{}", c.detail);
}

#[tokio::test]
async fn close_refuses_an_empty_chain_or_outcome() {
    let mut log = MemoryLog::new();
    assert!(close(&mut log, "h", "completed", at(0)).await.is_err());
    append(&mut log, &entry("h", "opened", 0)).await.unwrap();
    assert!(close(&mut log, "h", "", at(1)).await.is_err());
    assert_eq!(current_head(&mut log).await.unwrap().0, 1);
}
