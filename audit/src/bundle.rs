//! The offline bundle of one hearing: everything an auditor needs to check the hearing's audit
//! trail without the server (its leaves and payloads, inclusion proofs to one signed
//! checkpoint, the verifier keys, the recordings' digests, optionally a consistency proof
//! from an older tree size).
//!
//! Owns: the JSON shape of API.md (`GET /api/v1/audit/hearings/{id}/bundle`). Building one
//! from storage is `store.rs`'s job; checking one is `verify.rs`'s.

use crate::leaf::RecordingDigest;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The bundle format version.
pub const BUNDLE_VERSION: u32 = 1;

/// Who performed a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub role: String,
    pub id: String,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.id.is_empty() {
            write!(f, "{}", self.role)
        } else {
            write!(f, "{}:{}", self.role, self.id)
        }
    }
}

/// One audit entry of the hearing, with its inclusion proof.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleEntry {
    /// Index of the leaf in the global log (0-based).
    pub seq: u64,
    /// Position in the hearing's chain (0-based, no gaps).
    pub hearing_seq: u64,
    pub step: String,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    /// The leaf bytes (see docs/audit-format.md), lowercase hex.
    pub leaf_hex: String,
    /// The payload the leaf commits to; `null` when erased.
    pub payload: Value,
    /// Version-2 leaves: the 16-byte salt, 32 lowercase hex digits (absent for version 1
    /// and for an erased entry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub salt: Option<String>,
    /// The payload and salt were deleted (retention): only the leaf's inclusion is provable.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub erased: bool,
    /// Inclusion proof of the leaf in the checkpoint's tree, base64 hashes.
    pub proof: Vec<String>,
}

/// A consistency proof between two tree sizes, base64 hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyProof {
    pub from_size: u64,
    pub to_size: u64,
    pub hashes: Vec<String>,
}

/// The offline bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    pub version: u32,
    /// The log's origin (checkpoint first line and key name).
    pub origin: String,
    pub hearing_id: String,
    /// The signed checkpoint (C2SP signed note text) all proofs lead to.
    pub checkpoint: String,
    /// Verifier keys (`name+keyid+base64`) the server publishes. An auditor should pin keys
    /// obtained elsewhere rather than trust these.
    pub keys: Vec<String>,
    /// The key-rotation endorsements (signed notes, `endorse`): how a verifier who pinned an
    /// older key reaches the key that signed `checkpoint`. Absent before the first rotation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endorsements: Vec<String>,
    pub entries: Vec<BundleEntry>,
    pub recordings: Vec<RecordingDigest>,
    /// Present when the bundle was requested with an older tree size to prove against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency: Option<ConsistencyProof>,
}
