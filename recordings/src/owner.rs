//! Which process owns a segment, so crash recovery touches only the segments of a process that
//! is gone (several server processes may record into one directory).
//!
//! A process holds a [`NodeLock`] for its lifetime: an exclusive advisory lock (`flock`) on
//! `<root>/.nodes/<node_id>.lock`, released by the kernel when the process ends, however it
//! ends. Each segment directory is created with an `owner` file naming its node
//! ([`segment_dir_owned`]: made in a hidden temporary directory and renamed into place, so no
//! reader ever sees a segment without its owner). [`recover_orphans`] finalises an unfinished
//! segment only when its owner is this process's own node id (a previous run of it crashed) or
//! the owner's lock can be taken (that process is gone); a segment whose owner still holds its
//! lock is left alone. Segments from before owners existed (no `owner` file) are recovered as
//! before. The lock is advisory and local: the directory must not be shared over a network
//! file system whose `flock` is not coherent across hosts (docs/operations.md).

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::segment::{Manifest, finalize_segment, unfinished_segments};

/// The file in a segment directory naming the node that records it.
pub const OWNER: &str = "owner";
const NODES: &str = ".nodes";

/// This process's claim on its node id in a recordings directory; dropping it releases it.
#[derive(Debug)]
pub struct NodeLock {
    _file: File,
    node_id: String,
}

impl NodeLock {
    /// Takes the lock of `node_id` under `root`, waiting up to `wait` for a process that is
    /// finishing a recovery of this node's segments; `WouldBlock` when another live process
    /// runs under the same node id.
    pub fn acquire(root: &Path, node_id: &str, wait: Duration) -> io::Result<NodeLock> {
        if !crate::safe_name(node_id) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "unsafe node id",
            ));
        }
        let file = open_lock(root, node_id)?;
        let until = Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if Instant::now() < until => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(io::Error::new(
                        io::ErrorKind::WouldBlock,
                        format!("another live process records as node {node_id:?}"),
                    ));
                }
                Err(TryLockError::Error(e)) => return Err(e),
            }
        }
        Ok(NodeLock {
            _file: file,
            node_id: node_id.to_owned(),
        })
    }

    pub fn node_id(&self) -> &str {
        &self.node_id
    }
}

fn open_lock(root: &Path, node_id: &str) -> io::Result<File> {
    let dir = root.join(NODES);
    fs::create_dir_all(&dir)?;
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(format!("{node_id}.lock")))
}

/// Creates `<root>/<hearing_id>/<segment>` owned by `node_id` (all safe names) and returns it;
/// an existing directory is returned as it is.
pub fn segment_dir_owned(
    root: &Path,
    hearing_id: &str,
    segment: &str,
    node_id: &str,
) -> io::Result<PathBuf> {
    if !crate::safe_name(hearing_id) || !crate::safe_name(segment) || !crate::safe_name(node_id) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "unsafe recording path",
        ));
    }
    let parent = root.join(hearing_id);
    let dir = parent.join(segment);
    if dir.is_dir() {
        return Ok(dir);
    }
    fs::create_dir_all(&parent)?;
    // Tracks of one segment open at once: each call makes its own hidden directory (a shared
    // name would let one call delete another's), and the first rename wins. The target is never
    // an empty directory (each carries its owner file), so a later rename fails.
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let tmp = parent.join(format!(
        ".{segment}.{node_id}.{}.{n}.tmp",
        std::process::id()
    ));
    fs::create_dir(&tmp)?;
    let mut f = File::create(tmp.join(OWNER))?;
    f.write_all(node_id.as_bytes())?;
    f.sync_all()?;
    match fs::rename(&tmp, &dir) {
        Ok(()) => Ok(dir),
        // another thread of this node made it first
        Err(_) if dir.is_dir() => {
            let _ = fs::remove_dir_all(&tmp);
            Ok(dir)
        }
        Err(e) => Err(e),
    }
}

/// The node named in a segment's `owner` file (`None`: made before owners existed).
pub fn owner_of(dir: &Path) -> io::Result<Option<String>> {
    match fs::read_to_string(dir.join(OWNER)) {
        Ok(s) => Ok(Some(s.trim().to_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Finalises (truncated) the unfinished segments of this node's previous runs and of nodes
/// whose process is gone; leaves those of live processes. Returns the finalised ones.
pub fn recover_orphans(root: &Path, me: &NodeLock) -> io::Result<Vec<(PathBuf, Manifest)>> {
    let mut done = Vec::new();
    for dir in unfinished_segments(root)? {
        let owner = owner_of(&dir)?;
        // held while finalising, so the owner cannot come back and write meanwhile
        let _gone = match owner.as_deref() {
            None => None,
            Some(o) if o == me.node_id => None,
            Some(o) => match gone(root, o)? {
                Some(lock) => Some(lock),
                None => continue,
            },
        };
        done.push((dir.clone(), finalize_segment(&dir, true)?));
    }
    Ok(done)
}

/// The owner's lock when its process is gone; `None` while it lives.
fn gone(root: &Path, node_id: &str) -> io::Result<Option<File>> {
    if !crate::safe_name(node_id) {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "unsafe owner"));
    }
    let file = open_lock(root, node_id)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(e),
    }
}
