//! Development secrets, generated once into the data dir (mode 0600) when the configuration
//! leaves a secret empty outside production, and the parsing of 32-byte keys from config.

use std::{io::Write, path::Path};

use ring::rand::SecureRandom;

/// Reads `DATA_DIR/name`, creating it with 32 random bytes (hex) when missing.
pub fn dev_secret(data_dir: &Path, name: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::create_dir_all(data_dir)?;
    let path = data_dir.join(name);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok(existing.trim().as_bytes().to_vec());
    }
    let mut raw = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut raw)
        .map_err(|_| anyhow::anyhow!("rng failed"))?;
    let text = hex::encode(raw);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(&path) {
        Ok(mut f) => {
            f.write_all(text.as_bytes())?;
            tracing::warn!(path = %path.display(), "development mode: generated a secret");
            Ok(text.into_bytes())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok(std::fs::read_to_string(&path)?.trim().as_bytes().to_vec())
        }
        Err(e) => Err(e.into()),
    }
}

/// A 32-byte (AES-256) key written as 64 hex characters or as base64; `what` names the setting
/// in the errors.
pub fn key_32(text: &str, what: &str) -> anyhow::Result<[u8; 32]> {
    use base64::Engine as _;
    let t = text.trim();
    let raw = if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(t)?
    } else {
        base64::engine::general_purpose::STANDARD
            .decode(t)
            .map_err(|_| anyhow::anyhow!("{what} is neither hex nor base64"))?
    };
    raw.try_into()
        .map_err(|_| anyhow::anyhow!("{what} must be 32 bytes (AES-256)"))
}
