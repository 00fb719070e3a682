//! `remote-hearing keygen` and `remote-hearing audit …`: verify a bundle offline, check a
//! database's whole log, export a hearing's bundle. None of them needs Redis or the server.

use std::path::PathBuf;

use clap::Subcommand;

use super::args::StoreArgs;
use crate::audit::{
    keys,
    note::Verifier,
    service,
    verify::{Options, Report, verify_bundle_text},
};

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Verify a hearing's offline bundle; exit 0 only when everything verifies.
    Verify {
        /// The bundle (JSON) file.
        bundle: PathBuf,
        /// A pinned verifier key (`name+keyid+base64`); repeatable.
        #[arg(long = "key")]
        keys: Vec<String>,
        /// A file of pinned verifier keys, one per line (`#` comments and blank lines skipped).
        #[arg(long = "keys")]
        keys_file: Option<PathBuf>,
        /// With no pinned key (`--key`, `--keys`, config `audit.trusted_keys`), trust the keys
        /// inside the bundle: checks only that the bundle is self-consistent (prints a warning).
        #[arg(long)]
        trust_bundle_keys: bool,
        /// Also fail (exit 1) when the bundle does not end with the hearing's terminal entry.
        #[arg(long)]
        require_complete: bool,
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
        /// Print `{"ok", "complete", "completeness", "checks": [{"name", "ok", "detail"}]}`.
        #[arg(long)]
        json: bool,
        /// `--config FILE` for `audit.trusted_keys`.
        #[command(flatten)]
        store: StoreArgs,
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
    /// Follow a log's signed checkpoints (tlog-tiles prefix URL) and check each is consistent
    /// with the last seen; exit 3 on a fork, 2 on a bad key or signature.
    Monitor(crate::audit::monitor::MonitorArgs),
}

fn parse_keys(keys: &[String]) -> anyhow::Result<Vec<Verifier>> {
    keys.iter()
        .map(|k| Verifier::parse(k).map_err(|e| anyhow::anyhow!("--key {k}: {e}")))
        .collect()
}

pub use crate::audit::usage::UsageError;

/// Most keys a key file or the config may pin.
const MAX_KEYS: usize = 64;

/// The pinned keys: `--key` and `--keys FILE`, or else the config's `audit.trusted_keys`.
fn pinned_keys(
    keys: &[String],
    file: Option<&std::path::Path>,
    store: &StoreArgs,
) -> anyhow::Result<Vec<Verifier>> {
    let mut texts: Vec<(String, String)> = keys
        .iter()
        .map(|k| (format!("--key {k}"), k.clone()))
        .collect();
    if let Some(p) = file {
        let meta =
            std::fs::metadata(p).map_err(|e| UsageError(format!("--keys {}: {e}", p.display())))?;
        if meta.len() > 64 * 1024 {
            return Err(UsageError(format!("--keys {}: over 64 KiB", p.display())).into());
        }
        let text = std::fs::read_to_string(p)
            .map_err(|e| UsageError(format!("--keys {}: {e}", p.display())))?;
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if !line.is_empty() && !line.starts_with('#') {
                texts.push((
                    format!("--keys {}:{}", p.display(), i + 1),
                    line.to_string(),
                ));
            }
        }
    }
    if texts.is_empty() {
        let config = store.load()?;
        texts = config
            .audit
            .trusted_keys
            .iter()
            .map(|k| (format!("audit.trusted_keys {k}"), k.clone()))
            .collect();
    }
    if texts.len() > MAX_KEYS {
        return Err(UsageError(format!("at most {MAX_KEYS} trusted keys")).into());
    }
    texts
        .iter()
        .map(|(from, k)| Verifier::parse(k).map_err(|e| UsageError(format!("{from}: {e}")).into()))
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
            keys_file,
            trust_bundle_keys,
            require_complete,
            checkpoint,
            recordings,
            witnesses,
            quorum,
            json,
            store,
        } => {
            let trusted_keys = pinned_keys(&keys, keys_file.as_deref(), &store)?;
            if trusted_keys.is_empty() && !trust_bundle_keys {
                return Err(UsageError(
                    "audit verify: no trusted key; pin the log's key with --key VKEY, --keys FILE \
                     or audit.trusted_keys in the config (or accept the bundle's own keys with \
                     --trust-bundle-keys)"
                        .into(),
                )
                .into());
            }
            if trusted_keys.is_empty() {
                eprintln!(
                    "warning: --trust-bundle-keys: trusting the keys inside the bundle; this checks \
                     only that the bundle is self-consistent, not who signed it"
                );
            }
            let policy = crate::audit::witness_policy::WitnessPolicy::parse(&witnesses, quorum)?;
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
                trusted_keys,
                trust_bundle_keys,
                older_checkpoint,
                recordings_dir: recordings,
            };
            let mut report = verify_bundle_text(&text, &opts);
            if !policy.is_empty() {
                // The bundle's checkpoint (its log signature is among the checks above).
                let note = serde_json::from_str::<crate::audit::bundle::Bundle>(&text)
                    .map(|b| b.checkpoint)
                    .unwrap_or_default();
                policy.apply(&note, &mut report);
            }
            finish(&report, json)?;
            if require_complete && !report.complete {
                anyhow::bail!("{}", report.completeness);
            }
            Ok(())
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
            let audit = crate::audit::Audit::from_config(
                &config.audit,
                config.is_production(),
                &config.server.data_dir,
            )?;
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
        AuditCommand::Monitor(args) => crate::audit::monitor::run(args).await,
    }
}

async fn open_db(store: &StoreArgs) -> anyhow::Result<crate::store::Db> {
    let config = store.load()?;
    let db = crate::store::Db::connect(&config.database, &config.server.data_dir).await?;
    db.migrate().await?;
    Ok(db)
}
