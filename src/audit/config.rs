//! `[audit]`: the log's origin and key, checkpoint policy, pinned keys, witnesses (the audit
//! area's own section; `crate::config` re-exports it).

use std::path::PathBuf;

use serde::Deserialize;

/// The signed audit log (src/audit).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AuditConfig {
    /// The log's origin: checkpoint first line and signing key name.
    pub origin: String,
    /// PKCS#8 Ed25519 key file (`remote-hearing keygen`); required in production.
    pub key_file: PathBuf,
    /// Where rotated signing keys live, shared by every process on the data directory
    /// (`audit::rotation`); empty: `<data_dir>/audit-keys`.
    pub key_dir: PathBuf,
    /// Sign a checkpoint once this many entries are unsigned…
    pub checkpoint_every: u64,
    /// …or once the oldest unsigned entry has waited this long.
    pub checkpoint_interval_ms: u64,
    /// Verifier keys `audit verify` trusts when given no `--key`/`--keys` (pinned, never
    /// taken from a bundle).
    pub trusted_keys: Vec<String>,
    /// Witnesses that cosign each checkpoint (`[[audit.witnesses]]`, src/audit/witnessing.rs).
    pub witnesses: Vec<WitnessConfig>,
    /// Timeout of one `add-checkpoint` request to a witness.
    pub witness_timeout_ms: u64,
    /// How many of `witnesses` must cosign a checkpoint for the pages to accept it
    /// (`GET /api/v1/audit/witnesses`); unset: all of them.
    pub witness_quorum: Option<usize>,
    /// A witness that has not cosigned the newest checkpoint for this long raises an alert
    /// (an error log line, `audit_witness_behind_alerts_total{witness}`).
    pub witness_alert_after_s: u64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            origin: "remote-hearing.localhost/audit".into(),
            key_file: PathBuf::new(),
            key_dir: PathBuf::new(),
            checkpoint_every: 256,
            checkpoint_interval_ms: 1000,
            trusted_keys: vec![],
            witnesses: Vec::new(),
            witness_timeout_ms: 10_000,
            witness_quorum: None,
            witness_alert_after_s: 300,
        }
    }
}

/// One `[[audit.witnesses]]` entry.
#[derive(Debug, Clone, Deserialize)]
pub struct WitnessConfig {
    /// The witness's name (must be its key's name).
    pub name: String,
    /// Its cosignature verifier key (type 0x04).
    pub vkey: String,
    /// Its submission prefix (`<url>/add-checkpoint` is posted to).
    pub url: String,
}
