//! Several server processes recording into one directory (issue 15 §6): crash recovery
//! touches only the segments of a process that is gone. Process A is a real `serve` child
//! (node `node-a`); process B is this test's server (node `node-b`), started on the same
//! recordings directory beside A.

use std::path::Path;

use recordings::{CaptureHeader, CaptureWriter, RtpRecord, segment::MANIFEST};

use crate::cli::Env;
use crate::helpers::TestApp;

/// An unfinished segment of `hearing` recorded by `node`: a few Opus packets, no manifest.
fn cut_segment(root: &Path, hearing: &str, node: &str) -> std::path::PathBuf {
    let dir = recordings::segment_dir_owned(root, hearing, "seg1", node).unwrap();
    let header = CaptureHeader {
        version: 1,
        hearing_id: hearing.into(),
        segment: "seg1".into(),
        participant: "citizen".into(),
        participant_id: "c1".into(),
        kind: "audio".into(),
        codec: "opus".into(),
        clock_rate: 48000,
        payload_type: 111,
        created_at_us: 0,
    };
    let mut w = CaptureWriter::create(&dir.join("citizen-audio-1.rtp"), &header).unwrap();
    for i in 0..5u16 {
        w.write_rtp(&RtpRecord {
            arrival_us: 1_000 + i64::from(i) * 20_000,
            ssrc: 7,
            seq: i,
            ts: u32::from(i) * 960,
            payload_type: 111,
            marker: false,
            payload: vec![0xf8, 0xff, 0xfe],
        })
        .unwrap();
    }
    drop(w); // the buffer reaches the file; the segment stays without a manifest
    dir
}

#[tokio::test]
async fn a_restarting_process_recovers_only_the_segments_of_processes_that_are_gone() {
    let shared = tempfile::tempdir().unwrap();
    let root = shared.path().to_path_buf();
    let env = Env::new().await;
    let dir = root.to_str().unwrap();
    let envs = [
        ("RH_CALL__RECORDINGS_DIR", dir),
        ("RH_SERVER__NODE_ID", "node-a"),
    ];
    let (mut a, _) = env.serve(&envs).await;
    let of_a = cut_segment(&root, "hearing-a", "node-a");
    // B's own segment from its previous run, cut by its crash.
    let of_b = cut_segment(&root, "hearing-b", "node-b");

    let r = root.clone();
    let b = TestApp::builder()
        .config(move |c| {
            c.call.recordings_dir = r;
            c.server.node_id = "node-b".into();
        })
        .spawn()
        .await;
    assert!(
        of_b.join(MANIFEST).exists(),
        "B recovers its own cut segment at start"
    );
    assert!(
        !of_a.join(MANIFEST).exists(),
        "A is alive: its segment is left alone"
    );
    let sealer = remote_hearing::call::sealer::LogSealer;
    let call = &b.state.call;
    assert_eq!(
        remote_hearing::call::sealer::recover_orphans(call, &sealer)
            .await
            .unwrap(),
        0
    );
    assert!(!of_a.join(MANIFEST).exists());

    // A dies without finalising: B's sweep finalises A's segment, cut, and indexes it.
    a.kill().unwrap();
    a.wait().unwrap();
    assert_eq!(
        remote_hearing::call::sealer::recover_orphans(call, &sealer)
            .await
            .unwrap(),
        1
    );
    let m: recordings::Manifest =
        serde_json::from_slice(&std::fs::read(of_a.join(MANIFEST)).unwrap()).unwrap();
    assert!(m.truncated);
    assert_eq!(m.tracks[0].packets, 5);
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT kind, truncated FROM recordings WHERE hearing_id = 'hearing-a'")
            .fetch_all(&b.state.db.read)
            .await
            .unwrap();
    assert!(
        rows.iter().any(|(k, t)| k == "manifest" && *t == 1),
        "{rows:?}"
    );
    assert_eq!(
        remote_hearing::call::sealer::recover_orphans(call, &sealer)
            .await
            .unwrap(),
        0
    );
}
