//! Bundle verification tests over an in-memory log: the happy path and tampered bundles.

use super::*;
use crate::bundle::{Actor, ConsistencyProof};
use crate::leaf::{RecordingDigest, VERSION_1, payload_digest};
use crate::merkle::{MemoryStore, prove_consistency, prove_inclusion, tree_root};
use crate::note::Signer;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;

const ORIGIN: &str = "hearings.test/log";

struct Row {
    hearing: String,
    hearing_seq: u64,
    leaf: Vec<u8>,
    payload: Value,
}

#[derive(Default)]
struct Log {
    store: MemoryStore,
    rows: Vec<Row>,
    heads: HashMap<String, (u64, [u8; 32])>,
}

impl Log {
    fn append(
        &mut self,
        hearing: &str,
        step: &str,
        payload: Value,
        recordings: Vec<RecordingDigest>,
    ) -> u64 {
        let (hseq, prev) = self
            .heads
            .get(hearing)
            .map(|(s, h)| (s + 1, *h))
            .unwrap_or((0, [0; 32]));
        let leaf = Leaf {
            version: VERSION_1,
            hearing_id: hearing.into(),
            hearing_seq: hseq,
            prev_leaf_hash: prev,
            step: step.into(),
            at_ms: 1_795_000_000_000 + self.rows.len() as i64 * 1000,
            actor_role: "officer".into(),
            actor_id: "u1".into(),
            payload_sha256: payload_digest(&payload).unwrap(),
            recordings,
        };
        let bytes = leaf.encode().unwrap();
        let h = leaf_hash(&bytes);
        self.heads.insert(hearing.into(), (hseq, h));
        self.rows.push(Row {
            hearing: hearing.into(),
            hearing_seq: hseq,
            leaf: bytes,
            payload,
        });
        self.store.push(h)
    }

    fn checkpoint(&self, signer: &Signer, size: u64) -> String {
        let cp = Checkpoint {
            origin: ORIGIN.into(),
            size,
            root: tree_root(&self.store, size).unwrap(),
            extensions: vec![],
        };
        cp.sign(signer).unwrap()
    }

    fn bundle(&self, signer: &Signer, hearing: &str, size: u64, from: Option<u64>) -> Bundle {
        let b64 = |h: &[u8; 32]| STANDARD.encode(h);
        let mut entries = Vec::new();
        let mut recordings = Vec::new();
        for (seq, row) in self.rows.iter().enumerate().take(size as usize) {
            if row.hearing != hearing {
                continue;
            }
            let leaf = Leaf::decode(&row.leaf).unwrap();
            recordings.extend(leaf.recordings.clone());
            entries.push(BundleEntry {
                seq: seq as u64,
                hearing_seq: row.hearing_seq,
                step: leaf.step,
                at: DateTime::<Utc>::from_timestamp_millis(leaf.at_ms).unwrap(),
                actor: Actor {
                    role: leaf.actor_role,
                    id: leaf.actor_id,
                },
                leaf_hex: hex::encode(&row.leaf),
                payload: row.payload.clone(),
                salt: None,
                erased: false,
                proof: prove_inclusion(&self.store, seq as u64, size)
                    .unwrap()
                    .iter()
                    .map(b64)
                    .collect(),
            });
        }
        Bundle {
            version: BUNDLE_VERSION,
            origin: ORIGIN.into(),
            hearing_id: hearing.into(),
            checkpoint: self.checkpoint(signer, size),
            keys: vec![signer.verifier().to_string()],
            endorsements: vec![],
            entries,
            recordings,
            consistency: from.map(|f| ConsistencyProof {
                from_size: f,
                to_size: size,
                hashes: prove_consistency(&self.store, f, size)
                    .unwrap()
                    .iter()
                    .map(b64)
                    .collect(),
            }),
        }
    }
}

fn signer(name: &str) -> Signer {
    Signer::from_pkcs8(name, &Signer::generate_pkcs8().unwrap()).unwrap()
}

/// Two interleaved hearings, A with a sealed recording.
fn log() -> Log {
    let mut l = Log::default();
    let rec = RecordingDigest {
        id: "rec-a".into(),
        sha256: [9; 32],
        bytes: 4096,
    };
    for (i, step) in ["identity", "inquiry", "notice", "notice_ack", "statement"]
        .iter()
        .enumerate()
    {
        l.append("hearing-a", step, json!({"i": i, "text": "说明"}), vec![]);
        l.append("hearing-b", step, json!({"i": i}), vec![]);
    }
    l.append(
        "hearing-a",
        "recording_sealed",
        json!({"files": 1}),
        vec![rec],
    );
    l
}

fn opts(s: &Signer) -> Options {
    Options {
        trusted_keys: vec![s.verifier().clone()],
        older_checkpoint: None,
        recordings_dir: None,
        trust_bundle_keys: false,
    }
}

fn failing(r: &Report) -> Vec<String> {
    r.checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| format!("{}: {}", c.name, c.detail))
        .collect()
}

#[test]
fn a_good_bundle_verifies() {
    let s = signer(ORIGIN);
    let l = log();
    let b = l.bundle(&s, "hearing-a", l.store.size(), None);
    let r = verify_bundle(&b, &opts(&s));
    assert!(r.ok, "{}", r.human());
    assert!(r.checks.len() >= 8);
    let text = serde_json::to_string(&b).unwrap();
    let bundle_keys = Options {
        trust_bundle_keys: true,
        ..Options::default()
    };
    assert!(verify_bundle_text(&text, &bundle_keys).ok);
    assert!(!verify_bundle_text("{}", &bundle_keys).ok);
    // No pinned key and no --trust-bundle-keys: nothing is trusted.
    let r = verify_bundle_text(&text, &Options::default());
    assert!(!r.ok);
    assert!(
        failing(&r)
            .iter()
            .any(|f| f.starts_with("keys: no trusted key")),
        "{}",
        r.human()
    );
}

#[test]
fn older_checkpoint_consistency() {
    let s = signer(ORIGIN);
    let l = log();
    let older = l.checkpoint(&s, 7);
    let mut o = opts(&s);
    o.older_checkpoint = Some(older.clone());
    let b = l.bundle(&s, "hearing-a", l.store.size(), Some(7));
    assert!(
        verify_bundle(&b, &o).ok,
        "{}",
        verify_bundle(&b, &o).human()
    );
    // Without the proof the check cannot pass.
    let b = l.bundle(&s, "hearing-a", l.store.size(), None);
    assert!(!verify_bundle(&b, &o).ok);
    // Same size, same root.
    o.older_checkpoint = Some(l.checkpoint(&s, l.store.size()));
    assert!(verify_bundle(&b, &o).ok);
}

fn assert_detected(name: &str, b: &Bundle, o: &Options) {
    let r = verify_bundle(b, o);
    assert!(!r.ok, "tamper case {name} not detected:\n{}", r.human());
}

#[test]
fn tampering_is_detected() {
    let s = signer(ORIGIN);
    let l = log();
    let size = l.store.size();
    let good = l.bundle(&s, "hearing-a", size, None);
    let o = opts(&s);

    let mut b = good.clone();
    let mut leaf = hex::decode(&b.entries[2].leaf_hex).unwrap();
    let at = leaf.len() - 40;
    leaf[at] ^= 1;
    b.entries[2].leaf_hex = hex::encode(leaf);
    assert_detected("edit a leaf byte", &b, &o);

    let mut b = good.clone();
    b.entries[1].payload = json!({"i": 1, "text": "改"});
    assert_detected("edit a payload", &b, &o);

    // Version-1 leaves have no salt, and their payload cannot be erased.
    let mut b = good.clone();
    b.entries[1].salt = Some("00".repeat(16));
    assert_detected("a salt on a version-1 entry", &b, &o);
    let mut b = good.clone();
    b.entries[1].erased = true;
    b.entries[1].payload = Value::Null;
    assert_detected("a version-1 entry marked erased", &b, &o);

    let mut b = good.clone();
    b.entries.remove(2);
    assert_detected("delete a middle entry", &b, &o);

    let mut b = good.clone();
    let (s1, s2) = (b.entries[1].seq, b.entries[2].seq);
    b.entries[1].seq = s2;
    b.entries[2].seq = s1;
    assert_detected("reorder two", &b, &o);

    let mut b = good.clone();
    let mut forged = b.entries[3].clone();
    forged.payload = json!({"forged": true});
    forged.hearing_seq = 6;
    forged.seq = size;
    b.entries.push(forged);
    assert_detected("insert a forged entry", &b, &o);

    let mut b = good.clone();
    let other = signer(ORIGIN);
    b.checkpoint = l.checkpoint(&other, size);
    b.keys = vec![other.verifier().to_string()];
    assert_detected("re-sign with another key", &b, &o);

    let mut b = good.clone();
    let from_b = l.bundle(&s, "hearing-b", size, None);
    b.entries[1] = from_b.entries[1].clone();
    assert_detected("copy an entry from hearing B into A", &b, &o);

    // Rollback and truncation: the auditor holds a newer checkpoint than the bundle's.
    let old_bundle = l.bundle(&s, "hearing-a", 8, None);
    let mut o2 = opts(&s);
    o2.older_checkpoint = Some(l.checkpoint(&s, size));
    assert_detected("rollback / truncate", &old_bundle, &o2);

    // Fork: a different tree of the same size, signed by the same key.
    let mut fork = Log::default();
    for row in l.rows.iter().take(size as usize - 1) {
        fork.store.push(leaf_hash(&row.leaf));
    }
    fork.store.push([0x42; 32]);
    let mut o3 = opts(&s);
    o3.older_checkpoint = Some(fork.checkpoint(&s, size));
    assert_detected("fork at the same size", &good, &o3);
    let mut o4 = opts(&s);
    o4.older_checkpoint = Some(fork.checkpoint(&s, size - 1));
    let b = l.bundle(&s, "hearing-a", size, Some(size - 1));
    assert!(verify_bundle(&b, &o).ok);
    let mut b2 = b.clone();
    b2.consistency = Some(ConsistencyProof {
        from_size: size - 1,
        to_size: size,
        hashes: prove_consistency(&fork.store, size - 1, size)
            .unwrap()
            .iter()
            .map(|h| STANDARD.encode(h))
            .collect(),
    });
    assert_detected("fork at an older size", &b2, &o4);

    let mut b = good.clone();
    b.recordings[0].bytes += 1;
    assert_detected("recording size", &b, &o);
    let mut b = good.clone();
    b.recordings.clear();
    assert_detected("recording dropped", &b, &o);

    let mut b = good.clone();
    b.entries[0].step = "inquiry".into();
    assert_detected("entry metadata differs from the leaf", &b, &o);
    let failures = failing(&verify_bundle(&b, &o));
    assert_eq!(failures.len(), 1, "{failures:?}");
}

#[test]
fn recorded_files_are_hashed_when_given() {
    let s = signer(ORIGIN);
    let mut l = Log::default();
    let dir = tempfile::tempdir().unwrap();
    let body = b"RTP capture bytes".to_vec();
    std::fs::write(dir.path().join("rec-x.mjr"), &body).unwrap();
    let rec = RecordingDigest {
        id: "rec-x".into(),
        sha256: crate::leaf::sha256(&body),
        bytes: body.len() as u64,
    };
    l.append("h", "identity", json!({}), vec![]);
    l.append("h", "recording_sealed", json!({"files": 1}), vec![rec]);
    let b = l.bundle(&s, "h", l.store.size(), None);
    let mut o = opts(&s);
    o.recordings_dir = Some(dir.path().to_path_buf());
    assert!(
        verify_bundle(&b, &o).ok,
        "{}",
        verify_bundle(&b, &o).human()
    );
    std::fs::write(dir.path().join("rec-x.mjr"), b"RTP capture bytez").unwrap();
    assert_detected("recorded file altered", &b, &o);
    std::fs::remove_file(dir.path().join("rec-x.mjr")).unwrap();
    assert_detected("recorded file missing", &b, &o);
}
