//! Evidence-grade call recording: raw RTP captures ([`capture`]), playable copies ([`ivf`],
//! [`ogg`], and per participant a WebM for browsers: [`playback`], [`webm`]), segment
//! finalisation with SHA-256 manifests and crash recovery ([`segment`]), and the chunked
//! AES-256-GCM container the server keeps finished files in ([`sealed`]).
//!
//! Pure file I/O (std only, no async, no clock): callers pass arrival times in. It does not know
//! about the audit log; the server seals the returned [`segment::Manifest`].

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod capture;
pub mod ivf;
pub mod ogg;
pub mod owner;
pub mod playback;
pub mod reorder;
pub mod sealed;
mod sealed_fs;
pub mod segment;
pub mod webm;

#[cfg(test)]
mod owner_tests;
#[cfg(test)]
mod segment_tests;
#[cfg(test)]
mod webm_tests;

use std::path::{Component, Path, PathBuf};

pub use capture::{
    CaptureHeader, CaptureReader, CaptureWriter, Record, RtpFields, RtpRecord, SenderReport,
};
pub use owner::{NodeLock, recover_orphans, segment_dir_owned};
pub use segment::{
    FileEntry, Manifest, PlaybackEntry, TrackEntry, finalize_segment, hash_file, recover,
};

/// A safe file-name component: ASCII letters, digits, `-`, `_`, `.`; not starting with `.`.
pub fn safe_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// Creates `<root>/<hearing_id>/<segment>` (both must be safe names) and returns it.
pub fn segment_dir(root: &Path, hearing_id: &str, segment: &str) -> std::io::Result<PathBuf> {
    if !safe_name(hearing_id) || !safe_name(segment) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "unsafe recording path",
        ));
    }
    let dir = root.join(hearing_id).join(segment);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Joins a stored relative path to the recordings root, refusing anything that could escape
/// it (absolute paths, `..`, unsafe names, symlinks pointing out).
pub fn resolve(root: &Path, rel: &str) -> Option<PathBuf> {
    let rel_path = Path::new(rel);
    let mut out = root.to_path_buf();
    for c in rel_path.components() {
        match c {
            Component::Normal(s) if safe_name(s.to_str()?) => out.push(s),
            _ => return None,
        }
    }
    if out == root {
        return None;
    }
    let canon_root = root.canonicalize().ok()?;
    let canon = out.canonicalize().ok()?;
    canon.starts_with(&canon_root).then_some(canon)
}
