//! The log's signing key: `keygen` (a PKCS#8 Ed25519 file, mode 0600), loading it from
//! config, and the development fallback (a key generated in the data dir, announced in the
//! log). Production refuses to start without a configured key.

use std::{io::Write, path::Path};

use anyhow::Context;

use super::AuditConfig;
use super::note::Signer;

/// File name of the development key inside the data dir.
pub const DEV_KEY_FILE: &str = "audit-signing-key.p8";

/// Writes a new key to `out` (never overwriting) and returns its signer.
pub fn keygen(name: &str, out: &Path) -> anyhow::Result<Signer> {
    let der = Signer::generate_pkcs8().map_err(|e| anyhow::anyhow!("{e}"))?;
    let signer = Signer::from_pkcs8(name, &der)
        .map_err(|e| anyhow::anyhow!("invalid key name {name:?}: {e}"))?;
    write_private(out, &der)?;
    Ok(signer)
}

pub(crate) fn write_private(path: &Path, der: &[u8]) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).with_context(|| {
        format!(
            "cannot create key file {} (it must not exist yet)",
            path.display()
        )
    })?;
    f.write_all(der)?;
    f.sync_all()?;
    Ok(())
}

/// The verifier key (`name+keyid+base64`, public) of a key file.
pub fn verifier_of(name: &str, path: &Path) -> anyhow::Result<String> {
    Ok(load(name, path)?.verifier().to_string())
}

fn load(name: &str, path: &Path) -> anyhow::Result<Signer> {
    let der =
        std::fs::read(path).with_context(|| format!("cannot read audit key {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "audit key file is readable by others; chmod 600 it");
        }
    }
    Signer::from_pkcs8(name, &der).map_err(|e| anyhow::anyhow!("audit key {}: {e}", path.display()))
}

/// The signer the server uses: the configured key file; in development without one, a key
/// generated once in the data dir.
pub fn load_signer(
    a: &AuditConfig,
    production: bool,
    data_dir: &std::path::Path,
) -> anyhow::Result<Signer> {
    if !a.key_file.as_os_str().is_empty() {
        return load(&a.origin, &a.key_file);
    }
    if production {
        anyhow::bail!(
            "audit: no signing key configured in production (set audit.key_file or RH_AUDIT__KEY_FILE; create one with `remote-hearing keygen --name {} --out FILE`)",
            a.origin
        );
    }
    let path = data_dir.join(DEV_KEY_FILE);
    if path.exists() {
        return load(&a.origin, &path);
    }
    let signer = keygen(&a.origin, &path)?;
    tracing::warn!(
        path = %path.display(),
        vkey = %signer.verifier(),
        "development mode: generated an audit signing key in the data dir"
    );
    Ok(signer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Mode};

    fn load_signer(c: &Config) -> anyhow::Result<Signer> {
        super::load_signer(&c.audit, c.is_production(), &c.server.data_dir)
    }

    #[test]
    fn production_refuses_without_a_key_and_development_makes_one_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Config::defaults().unwrap();
        c.server.data_dir = dir.path().to_path_buf();
        c.server.mode = Mode::Production;
        let err = load_signer(&c).unwrap_err().to_string();
        assert!(err.contains("keygen"), "{err}");
        c.server.mode = Mode::Development;
        let a = load_signer(&c).unwrap();
        let b = load_signer(&c).unwrap();
        assert_eq!(a.verifier(), b.verifier());
        let path = dir.path().join("prod.key");
        let k = keygen(&c.audit.origin, &path).unwrap();
        c.server.mode = Mode::Production;
        c.audit.key_file = path;
        assert_eq!(load_signer(&c).unwrap().verifier(), k.verifier());
    }
}
