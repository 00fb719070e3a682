//! Segment owners: recovery takes this node's earlier segments and those of dead processes, and
//! leaves a live process's segments alone. The "other process" is a real one: util-linux
//! `flock` holding the other node's lock, as that node's server would.

use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use crate::owner::{NodeLock, OWNER, owner_of, recover_orphans, segment_dir_owned};
use crate::segment::{MANIFEST, unfinished_segments};
use crate::segment_tests::write_audio_of;

/// A process holding `node`'s lock under `root` until killed; returns once it holds it.
fn other_process(root: &Path, node: &str) -> Child {
    let lock = root.join(".nodes").join(format!("{node}.lock"));
    std::fs::create_dir_all(lock.parent().unwrap()).unwrap();
    // -o: the lock stays with `flock` itself, not its `sleep`, so killing it releases it
    let mut child = Command::new("flock")
        .arg("-o")
        .arg(&lock)
        .args(["sleep", "60"])
        .spawn()
        .expect("util-linux flock");
    // until the child holds it: our own try fails
    for _ in 0..200 {
        if NodeLock::acquire(root, node, Duration::ZERO).is_err() {
            return child;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the other process never took {node}'s lock");
}

fn segment(root: &Path, hearing: &str, node: &str) -> std::path::PathBuf {
    let dir = segment_dir_owned(root, hearing, "seg1", node).unwrap();
    write_audio_of(&dir, "citizen", 5);
    dir
}

#[test]
fn recovery_leaves_a_live_processs_segments_and_takes_a_dead_ones() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let mut a = other_process(root, "node-a");
    let of_a = segment(root, "h-a", "node-a");
    let mine = segment(root, "h-b", "node-b");
    let me = NodeLock::acquire(root, "node-b", Duration::ZERO).unwrap();

    let done = recover_orphans(root, &me).unwrap();
    assert_eq!(done.len(), 1, "only my earlier run's segment: {done:?}");
    assert_eq!(done[0].0, mine);
    assert!(done[0].1.truncated);
    assert!(
        !of_a.join(MANIFEST).exists(),
        "a live process's segment is left alone"
    );

    a.kill().unwrap();
    a.wait().unwrap();
    let done = recover_orphans(root, &me).unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].0, of_a);
    assert!(done[0].1.truncated && of_a.join(MANIFEST).exists());
    assert!(recover_orphans(root, &me).unwrap().is_empty(), "once");
    // node-a may come back afterwards
    NodeLock::acquire(root, "node-a", Duration::from_secs(1)).unwrap();
}

#[test]
fn tracks_opening_at_once_share_one_segment_directory() {
    let root = tempfile::tempdir().unwrap();
    let dirs: Vec<_> = std::thread::scope(|s| {
        let hs: Vec<_> = (0..8)
            .map(|_| s.spawn(|| segment_dir_owned(root.path(), "h1", "seg1", "n1")))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for d in &dirs {
        assert_eq!(d.as_ref().unwrap(), &root.path().join("h1").join("seg1"));
    }
    // no hidden leftovers but the segment
    let names: Vec<_> = std::fs::read_dir(root.path().join("h1"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("seg1")], "{names:?}");
}

#[test]
fn a_node_id_is_held_by_one_process_at_a_time() {
    let root = tempfile::tempdir().unwrap();
    let first = NodeLock::acquire(root.path(), "n1", Duration::ZERO).unwrap();
    let e = NodeLock::acquire(root.path(), "n1", Duration::from_millis(100)).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);
    drop(first);
    NodeLock::acquire(root.path(), "n1", Duration::ZERO).unwrap();
    assert!(NodeLock::acquire(root.path(), "../x", Duration::ZERO).is_err());
}

#[test]
fn a_segment_appears_with_its_owner_and_legacy_segments_are_still_recovered() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let dir = segment_dir_owned(root, "h1", "seg1", "n1").unwrap();
    assert_eq!(owner_of(&dir).unwrap().as_deref(), Some("n1"));
    // a second call (another track of the same segment) keeps the directory and its owner
    assert_eq!(segment_dir_owned(root, "h1", "seg1", "n2").unwrap(), dir);
    assert_eq!(std::fs::read_to_string(dir.join(OWNER)).unwrap(), "n1");
    // hidden entries (the node locks, a segment being made) are never segments
    std::fs::create_dir_all(root.join("h1").join(".seg2.n1.tmp")).unwrap();
    let _me = NodeLock::acquire(root, "n9", Duration::ZERO).unwrap();
    assert_eq!(unfinished_segments(root).unwrap(), vec![dir.clone()]);
    // a segment made before owners existed
    let legacy = crate::segment_dir(root, "h0", "seg0").unwrap();
    write_audio_of(&legacy, "officer", 3);
    let me = NodeLock::acquire(root, "n3", Duration::ZERO).unwrap();
    let done: Vec<_> = recover_orphans(root, &me)
        .unwrap()
        .into_iter()
        .map(|d| d.0)
        .collect();
    // the legacy one, and n1's: no process holds n1's lock
    assert_eq!(done, vec![legacy, dir]);
}
