//! The optional check of recorded files against their sealed digests (`--recordings DIR`).

use super::Report;
use crate::bundle::Bundle;

/// Hashes each listed recording's file in `dir` (named `<id>` or `<id>.<ext>`).
pub(super) fn check_files(b: &Bundle, dir: &std::path::Path, r: &mut Report) {
    for rec in &b.recordings {
        let name = format!("recording file {}", rec.id);
        let found = std::fs::read_dir(dir).ok().and_then(|entries| {
            entries.filter_map(Result::ok).map(|e| e.path()).find(|p| {
                p.file_stem().and_then(|s| s.to_str()) == Some(rec.id.as_str())
                    || p.file_name().and_then(|s| s.to_str()) == Some(rec.id.as_str())
            })
        });
        let Some(path) = found else {
            r.push(
                name,
                false,
                format!("no file named {} in {}", rec.id, dir.display()),
            );
            continue;
        };
        match sha256_file(&path) {
            Ok((digest, size)) if digest == rec.sha256 && size == rec.bytes => r.push(
                name,
                true,
                format!("{} matches its sealed SHA-256 and size", path.display()),
            ),
            Ok(_) => r.push(
                name,
                false,
                format!("{} differs from its sealed SHA-256 or size", path.display()),
            ),
            Err(e) => r.push(name, false, format!("{}: {e}", path.display())),
        }
    }
}

fn sha256_file(path: &std::path::Path) -> std::io::Result<([u8; 32], u64)> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        ctx.update(&buf[..n]);
    }
    let mut d = [0u8; 32];
    d.copy_from_slice(ctx.finish().as_ref());
    Ok((d, size))
}
