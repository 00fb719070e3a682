//! The log in the tlog-tiles read format, read by an independent reader: `tlog_tiles` (the
//! Rust port of Go's sumdb/tlog) plans the tile paths and authenticates the tiles against the
//! checkpoint, `signed_note` verifies the checkpoint, `ct-merkle` recomputes the root from the
//! entry bundles; all downloaded over HTTP from a running server holding 100,037 entries.

use std::collections::HashMap;
use std::time::Instant;

use ct_merkle::{RootHash, mem_backed_tree::MemoryBackedTree};
use remote_hearing::{
    audit::{Actor, NewEntry, store},
    identity::Role,
};
use serde_json::json;
use sha2::Sha256;
use tlog_tiles::{Tile, TileHashReader, TileReader};

use crate::helpers::TestApp;

const SIZE: u64 = 100_037;
/// Sizes signed on the way (the partial tiles of each must stay readable).
const SIGNED: [u64; 3] = [256, 70_000, SIZE];

async fn append_until(app: &TestApp, to: u64) {
    let mut c = app.state.db.read.acquire().await.unwrap();
    let (mut at, _) = store::current_head(&mut c).await.unwrap();
    drop(c);
    while at < to {
        let mut tx = app.state.db.begin().await.unwrap();
        let end = to.min(at + 5_000);
        for i in at..end {
            let e = NewEntry {
                hearing_id: format!("h{}", i % 97),
                step: "statement".into(),
                actor: Actor {
                    role: "system".into(),
                    id: String::new(),
                },
                at: chrono::DateTime::from_timestamp_millis(1_795_000_000_000 + i as i64).unwrap(),
                payload: json!({"n": i}),
                recordings: vec![],
            };
            store::append(&mut tx, &e).await.unwrap();
        }
        tx.commit().await.unwrap();
        at = end;
    }
}

/// The spec's URL of a `tlog_tiles` tile (its own paths carry the height: `tile/8/…`).
fn url_of(t: &Tile) -> String {
    let p = t.path();
    let p = p.strip_prefix("tile/8/").unwrap();
    let p = p
        .strip_prefix("data/")
        .map_or(p.to_string(), |r| format!("entries/{r}"));
    format!("/audit/log/tile/{p}")
}

struct Downloaded(HashMap<Tile, Vec<u8>>);

impl TileReader for Downloaded {
    fn height(&self) -> u8 {
        8
    }
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        tiles
            .iter()
            .map(|t| self.0.get(t).cloned().ok_or(tlog_tiles::Error::InvalidTile))
            .collect()
    }
    fn save_tiles(&self, _: &[Tile], _: &[Vec<u8>]) {}
}

async fn get_bytes(app: &TestApp, path: &str, token: Option<&str>) -> Vec<u8> {
    let r = app.get(path, token).await;
    assert_eq!(r.status(), 200, "{path}");
    assert_eq!(r.headers()["content-type"], "application/octet-stream");
    let cache = r.headers()["cache-control"].to_str().unwrap().to_string();
    assert_eq!(
        cache.contains("immutable"),
        !path.contains(".p/"),
        "{path}: {cache}"
    );
    r.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn independent_reader_recomputes_the_root_from_tiles() {
    let app = TestApp::builder()
        .config(|c| {
            c.audit.checkpoint_every = u64::MAX / 2;
            c.audit.checkpoint_interval_ms = 3_600_000;
        })
        .spawn()
        .await;
    let badge = "AUD-TILES";
    app.create_staff(Role::Auditor, badge, None).await;
    let auditor = app.login_staff(badge).await;
    let t0 = Instant::now();
    for s in SIGNED {
        append_until(&app, s).await;
        let cp = app
            .state
            .audit
            .sign_checkpoint(&app.state.db, s as i64)
            .await
            .unwrap();
        assert_eq!(cp.size, s);
    }
    eprintln!("appended {SIZE} entries in {:?}", t0.elapsed());

    // The checkpoint, verified with the published key by `signed_note`.
    let r = app.get("/audit/log/checkpoint", None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/plain; charset=utf-8");
    let text = r.text().await.unwrap();
    let keys: serde_json::Value = app.get_json("/api/v1/audit/keys", None).await;
    let vkey = keys[0]["vkey"].as_str().unwrap();
    let verifier = signed_note::StandardVerifier::new(vkey).unwrap();
    let list = signed_note::VerifierList::new(vec![Box::new(verifier)]);
    let note = signed_note::Note::from_bytes(text.as_bytes()).unwrap();
    note.verify(&list).unwrap();
    let cp = tlog_tiles::Checkpoint::from_bytes(note.text()).unwrap();
    assert_eq!(cp.size(), SIZE);

    // Download the whole log: every full and partial tile of every level, every bundle.
    let t1 = Instant::now();
    let mut tiles = HashMap::new();
    let mut bytes = 0usize;
    let mut level = 0u8;
    while cp.size() >> (8 * u32::from(level)) > 0 {
        let count = cp.size() >> (8 * u32::from(level));
        for n in 0..count.div_ceil(256) {
            let w = (count - n * 256).min(256) as u32;
            let t = Tile::new(8, level, n, w, false);
            let data = get_bytes(&app, &url_of(&t), None).await;
            assert_eq!(data.len(), 32 * w as usize, "{}", url_of(&t));
            bytes += data.len();
            tiles.insert(t, data);
        }
        level += 1;
    }
    let mut leaves = Vec::new();
    for n in 0..cp.size().div_ceil(256) {
        let w = (cp.size() - n * 256).min(256) as u32;
        let t = Tile::new(8, 0, n, w, true);
        let data = get_bytes(&app, &url_of(&t), Some(&auditor)).await;
        bytes += data.len();
        let mut rest = data.as_slice();
        let hashes = &tiles[&Tile::new(8, 0, n, w, false)];
        for i in 0..w as usize {
            let len = u16::from_be_bytes([rest[0], rest[1]]) as usize;
            let leaf = &rest[2..2 + len];
            assert_eq!(
                tlog_tiles::record_hash(leaf).0,
                hashes[32 * i..32 * (i + 1)]
            );
            leaves.push(leaf.to_vec());
            rest = &rest[2 + len..];
        }
        assert!(rest.is_empty(), "bundle {n}: trailing bytes");
    }
    let read_time = t1.elapsed();
    eprintln!(
        "downloaded {} hash tiles + {} entry bundles ({bytes} bytes) in {read_time:?}",
        tiles.len(),
        cp.size().div_ceil(256)
    );
    assert_eq!(leaves.len() as u64, SIZE);

    // tlog_tiles authenticates the tiles it needs against the checkpoint and returns the root.
    let reader = Downloaded(tiles);
    let thr = TileHashReader::new(cp.size(), *cp.hash(), &reader);
    assert_eq!(tlog_tiles::tree_hash(cp.size(), &thr).unwrap(), *cp.hash());
    // ct-merkle recomputes it from the leaves of the bundles.
    let mut theirs = MemoryBackedTree::<Sha256, Vec<u8>>::new();
    for l in leaves {
        theirs.push(l);
    }
    let root: RootHash<Sha256> = theirs.root();
    assert_eq!(root.as_bytes().as_slice(), cp.hash().0.as_slice());

    edge_cases(&app, &auditor).await;
}

async fn status(app: &TestApp, path: &str, token: Option<&str>) -> u16 {
    app.get(path, token).await.status().as_u16()
}

async fn edge_cases(app: &TestApp, auditor: &str) {
    // The partial tiles of earlier checkpoints (70,000: the spec's example) stay readable,
    // and are prefixes of the full tiles.
    for (p, full, w) in [
        ("0/273.p/112", "0/273", 112),
        ("1/001.p/17", "", 0),
        ("1/000.p/1", "", 0),
    ] {
        let data = get_bytes(app, &format!("/audit/log/tile/{p}"), None).await;
        if !full.is_empty() {
            let f = get_bytes(app, &format!("/audit/log/tile/{full}"), None).await;
            assert_eq!(data, f[..32 * w]);
        }
    }
    let e = get_bytes(app, "/audit/log/tile/entries/273.p/112", Some(auditor)).await;
    assert!(!e.is_empty());
    // Not checkpointed: a partial tile of a size never signed, a full tile beyond the
    // checkpoint (even once the log holds it).
    for p in [
        "0/273.p/113",
        "0/390.p/196",
        "0/000.p/5",
        "2/000.p/2",
        "entries/390.p/5",
    ] {
        assert_eq!(
            status(app, &format!("/audit/log/tile/{p}"), Some(auditor)).await,
            404,
            "{p}"
        );
    }
    append_until(app, SIZE + 300).await;
    for p in [
        "0/390",
        "0/391",
        "entries/390",
        "1/001",
        "2/000",
        "7/000.p/1",
        "63/000",
    ] {
        assert_eq!(
            status(app, &format!("/audit/log/tile/{p}"), Some(auditor)).await,
            404,
            "{p}"
        );
    }
    // Malformed: 400.
    for p in [
        "0/5",
        "00/000",
        "64/000",
        "0/000.p/0",
        "0/000.p/256",
        "0/000.p/07",
        "0/x000/001",
        "0/001/002",
        "x/000",
        "0/000.p/1/2",
        "entries/x",
    ] {
        assert_eq!(
            status(app, &format!("/audit/log/tile/{p}"), Some(auditor)).await,
            400,
            "{p}"
        );
    }
    // Entry bundles name hearings and actors: auditors and admins only.
    assert_eq!(status(app, "/audit/log/tile/entries/000", None).await, 401);
    let (_, _, officer) = app.login_officer().await;
    assert_eq!(
        status(app, "/audit/log/tile/entries/000", Some(&officer)).await,
        403
    );
    assert_eq!(
        status(app, "/audit/log/tile/0/000", Some(&officer)).await,
        200
    );
}
