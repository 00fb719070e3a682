//! The signed audit log (ARCHITECTURE.md flow 6, docs/audit-format.md): every hearing step
//! and sealed recording is a leaf of one global RFC 6962 Merkle log, chained per hearing,
//! covered by Ed25519-signed C2SP checkpoints, provable to auditors offline.
//!
//! Owns the `audit_*` tables, the log's signing key, checkpoints, proofs and bundles. It does
//! not decide what a step means: callers (hearings, recordings) hand it an entry inside their
//! own transaction with [`append`].
//!
//! The pure parts live in the workspace crate `audit/` (re-exported here under their old
//! paths): `leaf` (entry bytes), `merkle` (tree and proof generation), `proof`
//! (verification), `note` (signed notes, checkpoints, keys), `bundle` + `verify` (offline
//! bundles), and the `LogStore` trait with the log's operations. Here, with storage: `store`
//! (the SQL `LogStore`), `service` (signing, bundles, whole-log check), `checkpointer` (job),
//! `keys`, `routes`, `verify_log` (the whole stored log against its leaves), `tiles`
//! (the log in the c2sp.org/tlog-tiles read format, over the pure `audit::tiles`). Its
//! command line (`remote-hearing audit …`, `keygen`) is `cli::audit`: it loads the whole
//! configuration, so it sits with the other commands.

pub use ::audit::{
    bundle, endorse, erase, leaf, memory, merkle, note, payload, proof, terminal, verify,
};

mod admin;
mod config;
pub use config::AuditConfig;
pub mod checkpointer;
pub mod cosign;
pub mod keys;
pub mod monitor;
pub mod rotation;
mod routes;
pub mod service;
pub mod store;
pub mod tiles;
pub mod usage;
mod verify_log;
pub mod witness_client;
pub mod witness_policy;
pub mod witnessing;

use std::{sync::Arc, time::Duration};

pub use bundle::Actor;
pub use leaf::RecordingDigest;
pub use routes::router;
pub use service::Audit;
pub use store::{AppendedEntry, AuditError, NewEntry};

use crate::{error::AppError, store::Tx};

/// Appends `entry` to the log inside the caller's transaction `tx`: it becomes visible, and
/// is covered by the next checkpoint, only when the caller commits. Appends are serialised
/// (one global order, gapless per-hearing chains) on SQLite and PostgreSQL alike.
///
/// The payload may hold objects, arrays, strings, integers, booleans and null (no floats).
#[tracing::instrument(skip_all, err, fields(hearing_id = %entry.hearing_id, step = %entry.step))]
pub async fn append(tx: &mut Tx, entry: NewEntry) -> Result<AppendedEntry, AppError> {
    let appended = store::append(tx, &entry).await.map_err(|e| match e {
        AuditError::Leaf(e) => AppError::internal(anyhow::anyhow!("audit entry rejected: {e}")),
        other => AppError::from(other),
    })?;
    metrics::counter!("audit_appends_total").increment(1);
    Ok(appended)
}

/// Appends an entry with no recordings on `chain` (a chain that is not a hearing's: `admin`,
/// `retention`) by `actor` (role, id) at `at_ms`, inside the caller's transaction.
pub async fn append_on(
    tx: &mut Tx,
    chain: &str,
    step: &str,
    (role, id): (&str, &str),
    at_ms: i64,
    payload: serde_json::Value,
) -> Result<AppendedEntry, AppError> {
    let entry = NewEntry {
        hearing_id: chain.to_string(),
        step: step.to_string(),
        actor: Actor {
            role: role.to_string(),
            id: id.to_string(),
        },
        at: crate::clock::from_ms(at_ms),
        payload,
        recordings: Vec::new(),
    };
    append(tx, entry).await
}

/// Appends the terminal entry of a closed hearing (`audit::terminal`: outcome, number of
/// entries, leaf hash of the chain's head) inside the caller's transaction `tx`.
#[tracing::instrument(skip_all, err, fields(hearing_id = %hearing_id))]
pub async fn close(
    tx: &mut Tx,
    hearing_id: &str,
    outcome: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<AppendedEntry, AppError> {
    let appended = terminal::close(&mut store::SqlStore(tx), hearing_id, outcome, at)
        .await
        .map_err(|e| AppError::internal(anyhow::anyhow!("audit terminal entry: {e}")))?;
    metrics::counter!("audit_appends_total").increment(1);
    Ok(appended)
}

impl Audit {
    /// The signer and policy from config (see `keys::load_signer`).
    pub fn from_config(
        a: &AuditConfig,
        production: bool,
        data_dir: &std::path::Path,
    ) -> anyhow::Result<Audit> {
        let signer = Arc::new(keys::load_signer(a, production, data_dir)?);
        let dir = match a.key_dir.as_os_str().is_empty() {
            true => data_dir.join("audit-keys"),
            false => a.key_dir.clone(),
        };
        let mut audit = Audit::new(
            signer,
            a.checkpoint_every.max(1),
            Duration::from_millis(a.checkpoint_interval_ms.max(1)),
        );
        audit.keyring = Arc::new(rotation::Keyring::new(audit.signer.clone(), Some(dir)));
        Ok(audit)
    }
}
