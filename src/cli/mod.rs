//! The command line (API.md, Operations): `serve`, `migrate`, `admin …`, `demo`, `backup`,
//! `restore`, `storage rotate-master-key`. Commands that
//! create something print the new id alone as the last line of standard output.

mod admin;
mod args;
pub mod audit;
mod backup;
pub mod decision;
mod manifest;
mod restore;
mod storage;

pub use admin::create_brigade;
pub use args::StoreArgs;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "remote-hearing",
    version,
    about = "Remote video adjudication of traffic violations"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server.
    Serve {
        #[command(flatten)]
        store: StoreArgs,
        /// Address to listen on (port 0 picks one).
        #[arg(long)]
        listen: Option<String>,
    },
    /// Run the database migrations and exit.
    Migrate {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Administration: brigades and staff accounts.
    Admin {
        #[command(flatten)]
        store: StoreArgs,
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// Create an Ed25519 audit-log signing key (PKCS#8, mode 0600); prints the verifier key.
    Keygen {
        /// The log's origin (key name), e.g. hearings.example.gov.cn/audit.
        #[arg(long)]
        name: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// The audit log: verify a bundle offline, check a database's whole log, export a bundle.
    Audit {
        #[command(subcommand)]
        command: crate::cli::audit::AuditCommand,
    },
    /// The decision document: verify a served file's seal, make a brigade's seal key, set a
    /// brigade's decision facts.
    Decision {
        #[command(subcommand)]
        command: crate::cli::decision::DecisionCommand,
    },
    /// A transparency-log witness (c2sp.org/tlog-witness): `keygen`, `serve`.
    Witness {
        #[command(subcommand)]
        command: crate::witness::WitnessCommand,
    },
    /// The fake system of record (docs/records-api.md), for tests and development.
    RecordsFake {
        /// The seed JSON file (e.g. tests/data/records-fake.json).
        #[arg(long)]
        data: PathBuf,
        /// Address to listen on (port 0 picks one).
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: String,
        /// The shared HMAC secret (records.secret of the server).
        #[arg(long, env = "RH_RECORDS__SECRET", hide_env_values = true)]
        secret: String,
    },
    /// Copy the database (online: SQLite snapshot or pg_dump), the recordings and the public
    /// signing keys into OUT_DIR (new or empty) with manifest.json (SHA-256 of every file).
    Backup {
        #[command(flatten)]
        store: StoreArgs,
        /// Where the backup goes (must be missing or empty).
        out_dir: PathBuf,
        /// Also copy the data dir's generated private keys and secrets into OUT_DIR/secrets/
        /// (docs/operations.md: keep such a backup as secret as the keys).
        #[arg(long)]
        include_secrets: bool,
    },
    /// Restore a backup into --data-dir EMPTY_DIR after checking every file against the
    /// manifest; refuses a non-empty target (exit 2).
    Restore {
        #[command(flatten)]
        store: StoreArgs,
        backup_dir: PathBuf,
        /// The manifest's own SHA-256 as `backup` printed it: checked first.
        #[arg(long)]
        manifest_sha256: Option<String>,
    },
    /// Encryption at rest: rotate the master key that wraps every hearing's data keys.
    Storage {
        #[command(subcommand)]
        command: storage::StorageCommand,
    },
    /// Create (once) a demo brigade, officer, auditor and admin; print their logins.
    Demo {
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub async fn execute(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { store, listen } => {
            let mut config = store.load()?;
            if let Some(l) = listen {
                config.server.listen = l;
            }
            crate::telemetry::init_tracing(
                config.is_production() || config.server.log_format == "json",
            );
            let listener = tokio::net::TcpListener::bind(&config.server.listen)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.server.listen))?;
            crate::run(config, listener, crate::startup::shutdown_signal()).await
        }
        Command::Migrate { store } => {
            let config = store.load()?;
            let db = crate::store::Db::connect(&config.database, &config.server.data_dir).await?;
            db.migrate().await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Admin { store, command } => admin::execute(store.load()?, command).await,
        Command::Demo { store } => admin::demo(store.load()?).await,
        Command::Backup {
            store,
            out_dir,
            include_secrets,
        } => backup::run(&store, &out_dir, include_secrets).await,
        Command::Restore {
            store,
            backup_dir,
            manifest_sha256,
        } => restore::run(&store, &backup_dir, manifest_sha256.as_deref()).await,
        Command::Storage { command } => storage::execute(command).await,
        Command::Keygen { name, out } => crate::cli::audit::keygen(&name, &out),
        Command::Audit { command } => crate::cli::audit::execute(command).await,
        Command::Decision { command } => crate::cli::decision::execute(command).await,
        Command::RecordsFake {
            data,
            listen,
            secret,
        } => {
            crate::records::fake::run(&data, &listen, &secret, crate::startup::shutdown_signal())
                .await
        }
        Command::Witness { command } => {
            crate::witness::execute(command, crate::startup::shutdown_signal()).await
        }
    }
}
