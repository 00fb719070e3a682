//! `remote-hearing keygen` and `remote-hearing audit …`: verify a bundle offline, check a
//! database's whole log, export a hearing's bundle. None of them needs Redis or the server.

use std::path::PathBuf;

use clap::Subcommand;

use super::{
    keys,
    note::Verifier,
    service,
    verify::{Options, Report, verify_bundle_text},
};
use crate::cli::StoreArgs;

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Verify a hearing's offline bundle; exit 0 only when everything verifies.
    Verify {
        /// The bundle (JSON) file.
        bundle: PathBuf,
        /// A pinned verifier key (`name+keyid+base64`); repeatable. Default: the bundle's keys.
        #[arg(long = "key")]
        keys: Vec<String>,
        /// A signed checkpoint kept from earlier: also check consistency with it.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// A directory of recorded files named by recording id: hash them too.
        #[arg(long)]
        recordings: Option<PathBuf>,
        /// A trusted witness's cosignature verifier key (type 0x04); repeatable.
        #[arg(long = "witness")]
        witnesses: Vec<String>,
        /// How many trusted witnesses must have cosigned the checkpoint (default: all).
        #[arg(long, requires = "witnesses")]
        quorum: Option<usize>,
        /// Print `{"ok", "checks": [{"name", "ok", "detail"}]}`.
        #[arg(long)]
        json: bool,
    },
    /// Check the whole log of the database: leaves, payloads, chains, nodes, checkpoints.
    VerifyLog {
        #[command(flatten)]
        store: StoreArgs,
        /// Pinned verifier keys (default: the keys table).
        #[arg(long = "key")]
        keys: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Write a hearing's offline bundle from the database.
    Bundle {
        #[command(flatten)]
        store: StoreArgs,
        hearing_id: String,
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        consistency_from: Option<u64>,
    },
}

fn parse_keys(keys: &[String]) -> anyhow::Result<Vec<Verifier>> {
    keys.iter()
        .map(|k| Verifier::parse(k).map_err(|e| anyhow::anyhow!("--key {k}: {e}")))
        .collect()
}

fn finish(report: &Report, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        print!("{}", report.human());
    }
    if report.ok {
        Ok(())
    } else {
        anyhow::bail!("audit verification failed")
    }
}

/// `remote-hearing keygen --name ORIGIN --out FILE`: prints the verifier key last.
pub fn keygen(name: &str, out: &std::path::Path) -> anyhow::Result<()> {
    let signer = keys::keygen(name, out)?;
    println!(
        "wrote a PKCS#8 Ed25519 key to {} (mode 0600); set audit.key_file to it and audit.origin to {name}",
        out.display()
    );
    println!("{}", signer.verifier());
    Ok(())
}

pub async fn execute(cmd: AuditCommand) -> anyhow::Result<()> {
    match cmd {
        AuditCommand::Verify {
            bundle,
            keys,
            checkpoint,
            recordings,
            witnesses,
            quorum,
            json,
        } => {
            let policy = super::witness_policy::WitnessPolicy::parse(&witnesses, quorum)?;
            let text = std::fs::read_to_string(&bundle)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", bundle.display()))?;
            let older_checkpoint = match checkpoint {
                Some(p) => Some(
                    std::fs::read_to_string(&p)
                        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))?,
                ),
                None => None,
            };
            let opts = Options {
                trusted_keys: parse_keys(&keys)?,
                older_checkpoint,
                recordings_dir: recordings,
            };
            let mut report = verify_bundle_text(&text, &opts);
            if !policy.is_empty() {
                // The bundle's checkpoint (its log signature is among the checks above).
                let note = serde_json::from_str::<super::bundle::Bundle>(&text)
                    .map(|b| b.checkpoint)
                    .unwrap_or_default();
                policy.apply(&note, &mut report);
            }
            finish(&report, json)
        }
        AuditCommand::VerifyLog { store, keys, json } => {
            let db = open_db(&store).await?;
            let report = service::verify_log(&db, &parse_keys(&keys)?).await?;
            finish(&report, json)
        }
        AuditCommand::Bundle {
            store,
            hearing_id,
            out,
            consistency_from,
        } => {
            let config = store.load()?;
            let db = crate::store::Db::connect(&config.database, &config.server.data_dir).await?;
            db.migrate().await?;
            let audit = super::Audit::from_config(&config)?;
            let now = crate::clock::to_ms(crate::clock::Clock::now(&crate::clock::SystemClock));
            audit.register_key(&db, now).await?;
            let b = audit
                .bundle(&db, &hearing_id, consistency_from, now)
                .await?;
            let text = serde_json::to_string_pretty(&b)?;
            match out {
                Some(p) => std::fs::write(&p, text)?,
                None => println!("{text}"),
            }
            Ok(())
        }
    }
}

async fn open_db(store: &StoreArgs) -> anyhow::Result<crate::store::Db> {
    let config = store.load()?;
    let db = crate::store::Db::connect(&config.database, &config.server.data_dir).await?;
    db.migrate().await?;
    Ok(db)
}
