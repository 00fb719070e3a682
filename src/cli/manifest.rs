//! The backup manifest (`manifest.json`): every file of a backup with its size and SHA-256,
//! written by `backup` and checked by `restore` before anything is copied; plus the file
//! helpers both share (hashing copy, tree listing, safe relative paths).

use std::{
    io::{Read, Write},
    path::{Component, Path, PathBuf},
};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// The manifest's `format`.
pub const FORMAT: &str = "remote-hearing-backup/1";
/// The manifest's file name inside a backup directory.
pub const FILE: &str = "manifest.json";

#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    /// RFC 3339, when the backup started.
    pub created_at: String,
    /// `sqlite` (`database/remote-hearing.db`) or `postgres` (`database/postgres.dump`).
    pub backend: String,
    /// Whether `secrets/` holds private keys (`backup --include-secrets`).
    pub secrets_included: bool,
    pub files: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    /// Relative to the backup directory, `/`-separated.
    pub path: String,
    pub bytes: u64,
    /// Lower-case hex SHA-256 of the file.
    pub sha256: String,
}

/// SHA-256 (hex) and size of a file, streamed.
pub fn sha256_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut f = std::fs::File::open(path)?;
    hash_stream(&mut f, None)
}

/// Copies `from` to `to` (created new, parents made, fsynced) and returns the SHA-256 and
/// size of what was written. `private`: mode 0600.
pub fn copy_hashed(from: &Path, to: &Path, private: bool) -> std::io::Result<(String, u64)> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut src = std::fs::File::open(from)?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if private { 0o600 } else { 0o644 });
    }
    let mut dst = opts.open(to)?;
    let out = hash_stream(&mut src, Some(&mut dst))?;
    dst.sync_all()?;
    Ok(out)
}

fn hash_stream(
    src: &mut impl Read,
    mut dst: Option<&mut std::fs::File>,
) -> std::io::Result<(String, u64)> {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = src.read(&mut buf)?;
        if n == 0 {
            break;
        }
        ctx.update(&buf[..n]);
        if let Some(d) = dst.as_deref_mut() {
            d.write_all(&buf[..n])?;
        }
        total += n as u64;
    }
    Ok((hex::encode(ctx.finish().as_ref()), total))
}

/// Every regular file under `dir` (symbolic links are not followed), as sorted relative paths;
/// a missing `dir` is empty.
pub fn list_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = vec![];
    if dir.exists() {
        walk(dir, Path::new(""), &mut out)?;
    }
    out.sort();
    Ok(out)
}

fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(root.join(rel))? {
        let e = e?;
        let ty = e.file_type()?;
        let r = rel.join(e.file_name());
        if ty.is_dir() {
            walk(root, &r, out)?;
        } else if ty.is_file() {
            out.push(r);
        }
    }
    Ok(())
}

/// `/`-separated text of a relative path.
pub fn rel_text(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// A manifest path as a relative path of plain names only (no `..`, no root), else `None`.
pub fn safe_rel(path: &str) -> Option<PathBuf> {
    let p = PathBuf::from(path);
    let plain = !path.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)));
    plain.then_some(p)
}

/// Whether `dir` is missing or an empty directory.
pub fn is_empty_dir(dir: &Path) -> std::io::Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut it) => Ok(it.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(e),
    }
}

/// Writes the manifest (fsynced) and returns its own SHA-256.
pub fn write(dir: &Path, m: &Manifest) -> anyhow::Result<String> {
    let text = serde_json::to_vec_pretty(m)?;
    let path = dir.join(FILE);
    let mut f =
        std::fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
    f.write_all(&text)?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    Ok(sha256_file(&path)?.0)
}

/// Reads `dir`'s manifest and checks it against the directory: every listed file exists with
/// its size and SHA-256, and no file is there that it does not list. `expect_sha256`: the
/// manifest's own digest, as `backup` printed it. Any difference is an error naming the file.
pub fn verify(dir: &Path, expect_sha256: Option<&str>) -> anyhow::Result<Manifest> {
    let path = dir.join(FILE);
    let text = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    if let Some(want) = expect_sha256 {
        let got = hex::encode(ring::digest::digest(&ring::digest::SHA256, &text).as_ref());
        if !got.eq_ignore_ascii_case(want.trim()) {
            anyhow::bail!("{FILE}: SHA-256 {got} is not the expected {want}");
        }
    }
    let m: Manifest = serde_json::from_slice(&text)
        .with_context(|| format!("{FILE} is not a backup manifest"))?;
    if m.format != FORMAT {
        anyhow::bail!("{FILE}: format {:?} is not {FORMAT:?}", m.format);
    }
    let mut listed = std::collections::BTreeSet::new();
    for e in &m.files {
        let rel = safe_rel(&e.path).ok_or_else(|| {
            anyhow::anyhow!("{FILE}: path {:?} is not a plain relative path", e.path)
        })?;
        if !listed.insert(rel.clone()) {
            anyhow::bail!("{FILE}: {} is listed twice", e.path);
        }
        let (sha, bytes) =
            sha256_file(&dir.join(&rel)).with_context(|| format!("{}: cannot read", e.path))?;
        if bytes != e.bytes {
            anyhow::bail!("{}: {bytes} bytes, the manifest says {}", e.path, e.bytes);
        }
        if sha != e.sha256 {
            anyhow::bail!("{}: SHA-256 differs from the manifest", e.path);
        }
    }
    for f in list_files(dir)? {
        if f != Path::new(FILE) && !listed.contains(&f) {
            anyhow::bail!("{}: not in the manifest", rel_text(&f));
        }
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_are_safe() {
        assert!(safe_rel("recordings/h1/a.rtp").is_some());
        for bad in ["", "/etc/passwd", "../x", "a/../../b", "./a"] {
            assert!(safe_rel(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn verify_catches_a_changed_a_missing_and_an_extra_file() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("recordings")).unwrap();
        std::fs::write(d.join("recordings/a"), b"abc").unwrap();
        let (sha, bytes) = sha256_file(&d.join("recordings/a")).unwrap();
        let m = Manifest {
            format: FORMAT.into(),
            created_at: "2026-12-04T00:00:00Z".into(),
            backend: "sqlite".into(),
            secrets_included: false,
            files: vec![Entry {
                path: "recordings/a".into(),
                bytes,
                sha256: sha,
            }],
        };
        let own = write(d, &m).unwrap();
        verify(d, Some(&own)).unwrap();
        assert!(verify(d, Some("00")).is_err());
        std::fs::write(d.join("extra"), b"x").unwrap();
        assert!(format!("{:#}", verify(d, None).unwrap_err()).contains("extra"));
        std::fs::remove_file(d.join("extra")).unwrap();
        std::fs::write(d.join("recordings/a"), b"abd").unwrap();
        assert!(format!("{:#}", verify(d, None).unwrap_err()).contains("SHA-256"));
        std::fs::remove_file(d.join("recordings/a")).unwrap();
        assert!(verify(d, None).is_err());
    }
}
