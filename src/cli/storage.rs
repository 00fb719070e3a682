//! `remote-hearing storage …`: the encryption at rest's master key. `rotate-master-key --new
//! FILE` re-wraps every per-hearing key under the key in FILE (src/store/vault_rotate.rs);
//! the old key comes from the configuration (`storage.master_key_file`, or the development
//! key in the data dir). One transaction re-wraps the keys and seals
//! `storage_master_key_rotated` on the audit chain `admin`. Needs neither Redis nor the
//! server; stop the servers first.

use std::path::PathBuf;

use clap::Subcommand;

use super::args::StoreArgs;
use crate::store::vault::{Vault, rotate_master};

#[derive(Subcommand, Debug)]
pub enum StorageCommand {
    /// Wrap every hearing's data keys under a new master key, in one transaction (the files
    /// are untouched); then point storage.master_key_file at the new file and start the servers.
    RotateMasterKey {
        #[command(flatten)]
        store: StoreArgs,
        /// The new master key: 32 bytes as 64 hex characters or base64 (`openssl rand -hex 32`).
        #[arg(long)]
        new: PathBuf,
    },
}

pub async fn execute(cmd: StorageCommand) -> anyhow::Result<()> {
    match cmd {
        StorageCommand::RotateMasterKey { store, new } => {
            let config = store.load()?;
            let old = Vault::from_config(
                &config.storage,
                config.is_production(),
                &config.server.data_dir,
            )?;
            let next = Vault::from_file(&new)?;
            warn_if_readable(&new);
            let db = crate::store::Db::connect(&config.database, &config.server.data_dir).await?;
            db.migrate().await?;
            let now = crate::clock::to_ms(crate::clock::Clock::now(&crate::clock::SystemClock));
            let mut tx = db.begin().await?;
            let r = rotate_master(&mut tx, &old, &next, now).await?;
            if r.changed {
                let payload = serde_json::to_value(&r)?;
                crate::audit::append_on(
                    &mut tx,
                    "admin",
                    "storage_master_key_rotated",
                    ("admin", "cli"),
                    now,
                    payload,
                )
                .await
                .map_err(|e| anyhow::anyhow!("sealing the rotation in the audit log: {e:?}"))?;
            }
            tx.commit().await?;
            db.durable().await?;
            println!(
                "re-wrapped {} hearing keys from master key {} to {} ({} were under it already)",
                r.rewrapped, r.old_master_id, r.new_master_id, r.already
            );
            println!(
                "now set storage.master_key_file (RH_STORAGE__MASTER_KEY_FILE) to {} and restart \
                 every server process; a process still holding key {} refuses to start",
                new.display(),
                r.old_master_id
            );
            println!("{}", r.new_master_id);
            Ok(())
        }
    }
}

fn warn_if_readable(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::metadata(path)
            && m.permissions().mode() & 0o077 != 0
        {
            eprintln!(
                "warning: {} is readable by others; chmod 600 it",
                path.display()
            );
        }
    }
}
