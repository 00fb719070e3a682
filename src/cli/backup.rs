//! `remote-hearing backup --data-dir DATA OUT_DIR`: an online copy of what a data dir holds —
//! the database (SQLite `VACUUM INTO`, a consistent snapshot taken while the server runs, or
//! `pg_dump` when the database URL is PostgreSQL; evidence, decisions and the audit log live in
//! it), the recordings, the public halves of the signing keys — and `manifest.json` with the
//! SHA-256 of every file. Private keys only with `--include-secrets` (docs/operations.md).

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{
    args::StoreArgs,
    manifest::{self, Entry, Manifest},
};
use crate::{audit::usage::UsageError, config::Config};

/// The database snapshot inside a backup, per backend.
pub const SQLITE_FILE: &str = "database/remote-hearing.db";
pub const POSTGRES_FILE: &str = "database/postgres.dump";

/// The secret files development mode generates in the data dir (copied only with
/// `--include-secrets`, into `secrets/` under the same names).
pub const DEV_SECRETS: [&str; 5] = [
    "identity-data.key",
    "storage-master.key",
    "sms-code.key",
    "call-token.key",
    crate::audit::keys::DEV_KEY_FILE,
];

/// The recordings directory a config uses (`call.recordings_dir`, else `DATA_DIR/recordings`).
pub fn recordings_dir(config: &Config) -> PathBuf {
    if config.call.recordings_dir.as_os_str().is_empty() {
        config.server.data_dir.join("recordings")
    } else {
        config.call.recordings_dir.clone()
    }
}

/// The brigades' seal keys directory (`decision.keys_dir`, else `DATA_DIR/decision-keys`).
pub fn decision_keys_dir(config: &Config) -> PathBuf {
    if config.decision.keys_dir.as_os_str().is_empty() {
        config.server.data_dir.join("decision-keys")
    } else {
        config.decision.keys_dir.clone()
    }
}

pub async fn run(store: &StoreArgs, out: &Path, include_secrets: bool) -> anyhow::Result<()> {
    let config = store.load()?;
    if !manifest::is_empty_dir(out)? {
        return Err(UsageError(format!(
            "backup: {} is not empty; give a new or empty directory",
            out.display()
        ))
        .into());
    }
    std::fs::create_dir_all(out.join("database"))
        .with_context(|| format!("cannot create {}", out.display()))?;
    let created_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let url = crate::store::database_url(&config.database, &config.server.data_dir);
    // The database first: every recording it indexes is finished on disk before the copy below.
    let backend = if url.starts_with("postgres") {
        pg_dump(&url, &out.join(POSTGRES_FILE)).await?;
        "postgres"
    } else {
        sqlite_snapshot(&config.server.data_dir, &out.join(SQLITE_FILE)).await?;
        "sqlite"
    };
    let mut files = vec![];
    let db_file = if backend == "postgres" {
        POSTGRES_FILE
    } else {
        SQLITE_FILE
    };
    files.push(entry(out, db_file)?);
    let rec = recordings_dir(&config);
    for rel in manifest::list_files(&rec)? {
        let to = format!("recordings/{}", manifest::rel_text(&rel));
        files.push(copy(&rec.join(&rel), out, &to, false)?);
    }
    files.extend(public_keys(&config, out)?);
    if include_secrets {
        files.extend(secrets(&config, out)?);
    }
    let m = Manifest {
        format: manifest::FORMAT.into(),
        created_at,
        backend: backend.into(),
        secrets_included: include_secrets,
        files,
    };
    let own = manifest::write(out, &m)?;
    let bytes: u64 = m.files.iter().map(|f| f.bytes).sum();
    println!(
        "backed up {} files ({bytes} bytes, {backend}) into {}",
        m.files.len(),
        out.display()
    );
    if include_secrets {
        eprintln!(
            "warning: --include-secrets: {}/secrets holds private keys; keep this backup as secret as the keys themselves",
            out.display()
        );
    }
    println!("manifest sha256 {own}");
    Ok(())
}

fn entry(out: &Path, rel: &str) -> anyhow::Result<Entry> {
    let (sha256, bytes) =
        manifest::sha256_file(&out.join(rel)).with_context(|| format!("cannot read {rel}"))?;
    Ok(Entry {
        path: rel.into(),
        bytes,
        sha256,
    })
}

fn copy(from: &Path, out: &Path, rel: &str, private: bool) -> anyhow::Result<Entry> {
    let (sha256, bytes) = manifest::copy_hashed(from, &out.join(rel), private)
        .with_context(|| format!("cannot copy {}", from.display()))?;
    Ok(Entry {
        path: rel.into(),
        bytes,
        sha256,
    })
}

fn write_text(out: &Path, rel: &str, text: &str) -> anyhow::Result<Entry> {
    let path = out.join(rel);
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    entry(out, rel)
}

/// A consistent copy of the live SQLite file: `VACUUM INTO` reads one snapshot (WAL included)
/// while writers go on, and writes a compact file without a WAL.
async fn sqlite_snapshot(data_dir: &Path, to: &Path) -> anyhow::Result<()> {
    use sqlx::Connection;
    let file = data_dir.join("remote-hearing.db");
    if !file.exists() {
        anyhow::bail!("no database at {}", file.display());
    }
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=rw", file.display());
    let mut conn = sqlx::AnyConnection::connect(&url)
        .await
        .with_context(|| format!("cannot open {}", file.display()))?;
    let target = to
        .to_str()
        .ok_or_else(|| anyhow::anyhow!("{} is not UTF-8", to.display()))?;
    sqlx::query("VACUUM INTO $1")
        .bind(target.to_string())
        .execute(&mut conn)
        .await
        .context("VACUUM INTO (the SQLite snapshot)")?;
    conn.close().await?;
    std::fs::File::open(to)?.sync_all()?;
    Ok(())
}

/// A URL's password moved to `PGPASSWORD`, so that it never shows in the process list.
pub fn pg_target(url: &str) -> anyhow::Result<(String, Option<String>)> {
    let mut u = url::Url::parse(url).context("the database URL does not parse")?;
    let pass = u.password().map(str::to_string);
    let _ = u.set_password(None);
    Ok((u.to_string(), pass))
}

/// `pg_dump --format=custom`: one consistent snapshot of the whole database.
async fn pg_dump(url: &str, to: &Path) -> anyhow::Result<()> {
    let (dbname, pass) = pg_target(url)?;
    let mut cmd = tokio::process::Command::new("pg_dump");
    cmd.arg("--format=custom")
        .arg("--no-owner")
        .arg("--file")
        .arg(to)
        .arg("--dbname")
        .arg(&dbname);
    if let Some(p) = pass {
        cmd.env("PGPASSWORD", p);
    }
    let out = cmd
        .output()
        .await
        .context("cannot run pg_dump (Debian: apt-get install postgresql-client)")?;
    if !out.status.success() {
        anyhow::bail!(
            "pg_dump failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// `keys/audit.vkey` (the log's verifier key) and `keys/decision/<brigade>.vkey` (each seal
/// key's): public halves only, read from the key files.
fn public_keys(config: &Config, out: &Path) -> anyhow::Result<Vec<Entry>> {
    let mut files = vec![];
    let audit_key = if config.audit.key_file.as_os_str().is_empty() {
        config
            .server
            .data_dir
            .join(crate::audit::keys::DEV_KEY_FILE)
    } else {
        config.audit.key_file.clone()
    };
    if audit_key.exists() {
        let v = crate::audit::keys::verifier_of(&config.audit.origin, &audit_key)?;
        files.push(write_text(out, "keys/audit.vkey", &format!("{v}\n"))?);
    }
    let dir = decision_keys_dir(config);
    for rel in manifest::list_files(&dir)? {
        let Some(brigade) = seal_key_brigade(&rel) else {
            continue;
        };
        let signer = crate::hearing::decision::seal::load(&dir.join(&rel), &brigade, false)
            .map_err(|e| anyhow::anyhow!("{}: {e}", rel.display()))?;
        let rel = format!("keys/decision/{brigade}.vkey");
        files.push(write_text(out, &rel, &format!("{}\n", signer.verifier()))?);
    }
    Ok(files)
}

/// `<brigade>.p8` directly in the keys directory.
fn seal_key_brigade(rel: &Path) -> Option<String> {
    if rel.components().count() != 1 || rel.extension()? != "p8" {
        return None;
    }
    Some(rel.file_stem()?.to_str()?.to_string())
}

/// The development secrets of the data dir, its `decision-keys/` and `audit-keys/`, into
/// `secrets/`.
fn secrets(config: &Config, out: &Path) -> anyhow::Result<Vec<Entry>> {
    let data = &config.server.data_dir;
    let mut files = vec![];
    for name in DEV_SECRETS {
        let from = data.join(name);
        if from.exists() {
            files.push(copy(&from, out, &format!("secrets/{name}"), true)?);
        }
    }
    // The brigades' seal keys, and the log's rotated signing keys (`audit::rotation`).
    for dir in ["decision-keys", "audit-keys"] {
        let keys = data.join(dir);
        for rel in manifest::list_files(&keys)? {
            if seal_key_brigade(&rel).is_some() {
                let to = format!("secrets/{dir}/{}", manifest::rel_text(&rel));
                files.push(copy(&keys.join(&rel), out, &to, true)?);
            }
        }
    }
    Ok(files)
}
