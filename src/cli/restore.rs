//! `remote-hearing restore --data-dir EMPTY_DIR BACKUP_DIR`: checks every file of a backup
//! against its manifest first (nothing is written when one differs), then puts the database
//! (the SQLite file, or `pg_restore` into an empty PostgreSQL database), the recordings and,
//! when the backup has them, the secrets into a data dir that must be missing or empty.

use std::path::Path;

use anyhow::Context;

use super::{
    args::StoreArgs,
    backup::{self, POSTGRES_FILE, SQLITE_FILE},
    manifest,
};
use crate::audit::usage::UsageError;

pub async fn run(
    store: &StoreArgs,
    backup_dir: &Path,
    manifest_sha256: Option<&str>,
) -> anyhow::Result<()> {
    let Some(data) = store.data_dir.clone() else {
        return Err(UsageError("restore: --data-dir EMPTY_DIR is required".into()).into());
    };
    let config = store.load()?;
    let rec = backup::recordings_dir(&config);
    for dir in [&data, &rec] {
        if !manifest::is_empty_dir(dir)? {
            return Err(UsageError(format!(
                "restore: {} is not empty; restore only into a new or empty directory",
                dir.display()
            ))
            .into());
        }
    }
    let url = crate::store::database_url(&config.database, &data);
    let to_postgres = url.starts_with("postgres");
    let m = manifest::verify(backup_dir, manifest_sha256).with_context(|| {
        format!(
            "backup {} does not match its manifest; nothing restored",
            backup_dir.display()
        )
    })?;
    match (m.backend.as_str(), to_postgres) {
        ("sqlite", false) | ("postgres", true) => {}
        (b, _) => {
            return Err(UsageError(format!(
                "restore: the backup holds a {b} database but the configured database is {}",
                if to_postgres { "PostgreSQL" } else { "SQLite" }
            ))
            .into());
        }
    }
    if to_postgres {
        postgres_is_empty(&url).await?;
    }
    std::fs::create_dir_all(&data).with_context(|| format!("cannot create {}", data.display()))?;
    let mut restored = 0usize;
    for e in &m.files {
        // `verify` accepted every path as plain and relative.
        let Some(rel) = manifest::safe_rel(&e.path) else {
            continue;
        };
        let to = if e.path == SQLITE_FILE {
            data.join("remote-hearing.db")
        } else if let Ok(r) = rel.strip_prefix("recordings") {
            rec.join(r)
        } else if let Ok(r) = rel.strip_prefix("secrets") {
            data.join(r)
        } else {
            // POSTGRES_FILE is restored below; keys/ are the public halves, for the operator.
            continue;
        };
        let private = rel.starts_with("secrets");
        let (sha, _) = manifest::copy_hashed(&backup_dir.join(&rel), &to, private)
            .with_context(|| format!("cannot restore {}", e.path))?;
        if sha != e.sha256 {
            anyhow::bail!(
                "{} changed while it was restored; {} is incomplete, empty it and restore again",
                e.path,
                data.display()
            );
        }
        restored += 1;
    }
    if to_postgres {
        pg_restore(&url, &backup_dir.join(POSTGRES_FILE)).await?;
        restored += 1;
    }
    println!(
        "restored {restored} files from a backup of {} ({}) into {}",
        m.created_at,
        m.backend,
        data.display()
    );
    if !m.secrets_included {
        println!(
            "no secrets in this backup: configure the production keys (or, in development, new ones are generated and data sealed with the old identity key stays unreadable)"
        );
    }
    Ok(())
}

/// Refuses a PostgreSQL database that already has tables of ours.
async fn postgres_is_empty(url: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let shown = crate::store::redact_url(url);
    let mut conn = sqlx::AnyConnection::connect(url)
        .await
        .with_context(|| format!("cannot connect to {shown}"))?;
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_one(&mut conn)
    .await?;
    conn.close().await?;
    if n > 0 {
        return Err(UsageError(format!(
            "restore: the database {shown} is not empty; restore only into a new database"
        ))
        .into());
    }
    Ok(())
}

async fn pg_restore(url: &str, dump: &Path) -> anyhow::Result<()> {
    let (dbname, pass) = backup::pg_target(url)?;
    let mut cmd = tokio::process::Command::new("pg_restore");
    cmd.arg("--no-owner")
        .arg("--exit-on-error")
        .arg("--single-transaction")
        .arg("--dbname")
        .arg(&dbname)
        .arg(dump);
    if let Some(p) = pass {
        cmd.env("PGPASSWORD", p);
    }
    let out = cmd
        .output()
        .await
        .context("cannot run pg_restore (Debian: apt-get install postgresql-client)")?;
    if !out.status.success() {
        anyhow::bail!(
            "pg_restore failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}
