//! Independent implementations agree with ours: `ct-merkle` and `tlog_tiles` verify the tree
//! heads and the inclusion and consistency proofs our database serves, `signed_note` and
//! `tlog_tiles` verify and parse our signed checkpoints, and our verifier accepts a note
//! signed by `signed_note`.

use std::{sync::Arc, time::Duration};

use ct_merkle::{ConsistencyProof, InclusionProof, RootHash, mem_backed_tree::MemoryBackedTree};
use remote_hearing::{
    audit::{
        self, Actor, Audit, NewEntry,
        note::{Checkpoint, Note, Signer, Verifier},
        store,
    },
    config::Config,
    store::Db,
};
use serde_json::json;
use sha2::Sha256;

const ORIGIN: &str = "crosscheck.test/log";
const N: u64 = 37;

#[tokio::test]
async fn independent_crates_verify_our_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::defaults().unwrap();
    config.server.data_dir = dir.path().to_path_buf();
    let db = Db::connect(&config.database, &config.server.data_dir)
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let signer = Signer::from_pkcs8(ORIGIN, &Signer::generate_pkcs8().unwrap()).unwrap();
    let vkey = signer.verifier().to_string();
    let audit = Audit::new(Arc::new(signer), 1, Duration::from_millis(10));
    audit.register_key(&db, 0).await.unwrap();

    let mut theirs = MemoryBackedTree::<Sha256, Vec<u8>>::new();
    let mut cps = Vec::new();
    for i in 0..N {
        let mut tx = db.begin().await.unwrap();
        audit::append(
            &mut tx,
            NewEntry {
                hearing_id: format!("h{}", i % 4),
                step: "statement".into(),
                actor: Actor {
                    role: "citizen".into(),
                    id: format!("c{}", i % 4),
                },
                at: chrono::DateTime::from_timestamp_millis(1_795_000_000_000 + i as i64).unwrap(),
                payload: json!({"text": format!("第{i}条"), "n": i}),
                recordings: vec![],
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        cps.push(audit.sign_checkpoint(&db, i as i64).await.unwrap());
    }
    let mut c = db.read.acquire().await.unwrap();
    let entries = store::entries(&mut c, 0, 1000).await.unwrap();
    for e in &entries {
        theirs.push(e.leaf.clone());
    }

    let their_verifier = signed_note::StandardVerifier::new(&vkey).unwrap();
    let list = signed_note::VerifierList::new(vec![Box::new(their_verifier)]);
    for cp in &cps {
        // signed_note verifies our signature; tlog_tiles parses our checkpoint body.
        let note = signed_note::Note::from_bytes(cp.note.as_bytes()).unwrap();
        let (verified, _) = note.verify(&list).unwrap();
        assert_eq!(verified.len(), 1);
        let body = tlog_tiles::Checkpoint::from_bytes(note.text()).unwrap();
        assert_eq!(body.origin(), ORIGIN);
        assert_eq!(body.size(), cp.size);
        assert_eq!(body.hash().0, cp.root);
    }

    let root_n = RootHash::<Sha256>::new(*theirs.root().as_bytes(), N);
    assert_eq!(
        theirs.root().as_bytes().as_slice(),
        cps.last().unwrap().root.as_slice()
    );
    for e in &entries {
        let ours = store::inclusion_proof(&mut c, e.seq, N).await.unwrap();
        let flat: Vec<u8> = ours.iter().flatten().copied().collect();
        root_n
            .verify_inclusion(&e.leaf, e.seq, &InclusionProof::from_bytes(flat))
            .unwrap();
        let proof: Vec<tlog_tiles::Hash> = ours.iter().map(|h| tlog_tiles::Hash(*h)).collect();
        let leaf = tlog_tiles::record_hash(&e.leaf);
        tlog_tiles::check_record(
            &proof,
            N,
            tlog_tiles::Hash(cps.last().unwrap().root),
            e.seq,
            leaf,
        )
        .unwrap();
    }
    for m in 1..N {
        let ours = store::consistency_proof(&mut c, m, N).await.unwrap();
        let old = RootHash::<Sha256>::new(cps[m as usize - 1].root.into(), m);
        let flat: Vec<u8> = ours.iter().flatten().copied().collect();
        root_n
            .verify_consistency(&old, &ConsistencyProof::try_from_bytes(flat).unwrap())
            .unwrap();
        let proof: Vec<tlog_tiles::Hash> = ours.iter().map(|h| tlog_tiles::Hash(*h)).collect();
        tlog_tiles::check_tree(
            &proof,
            N,
            tlog_tiles::Hash(cps.last().unwrap().root),
            m,
            tlog_tiles::Hash(cps[m as usize - 1].root),
        )
        .unwrap();
    }
}

#[test]
fn our_verifier_accepts_a_note_signed_by_signed_note() {
    let mut rng = rand_core::OsRng;
    let (skey, vkey) = signed_note::generate_key(&mut rng, "other.example/log");
    let signer = signed_note::StandardSigner::new(&skey).unwrap();
    let body = "other.example/log\n5\nAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=\n";
    let mut note = signed_note::Note::new(body.as_bytes(), &[]).unwrap();
    note.add_sigs(&[&signer]).unwrap();
    let text = String::from_utf8(note.to_bytes()).unwrap();
    let v = Verifier::parse(&vkey).unwrap();
    let (cp, _) =
        Checkpoint::open(&text, Some("other.example/log"), std::slice::from_ref(&v)).unwrap();
    assert_eq!(cp.size, 5);
    assert!(Note::open(&text.replace("\n5\n", "\n6\n"), &[v]).is_err());
}
