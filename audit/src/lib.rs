//! The signed audit log's pure parts (docs/audit-format.md): every hearing step and sealed
//! recording is a leaf of one global RFC 6962 Merkle log, chained per hearing, covered by
//! Ed25519-signed C2SP checkpoints, provable to auditors offline.
//!
//! `leaf` (entry bytes), `payload` (what a leaf commits to: v1 plain, v2 salted digest),
//! `erase` (forgetting a v2 entry's payload and salt without touching the log), `merkle` (tree and proof generation), `proof` (verification), `note`
//! (signed notes, checkpoints, keys), `endorse` (key-rotation endorsements and the chain of
//! trusted keys a verifier follows from its pinned key), `bundle` + `verify` (offline bundles and their verdict),
//! `store` (the [`LogStore`] trait: what the log needs from storage, and the log's operations
//! written against it), `memory` (an in-memory store), `terminal` (a closed hearing's last
//! entry and the verifier's completeness verdict), `tiles` (c2sp.org/tlog-tiles paths and
//! entry bundles). No HTTP, database or server state: the
//! server implements [`LogStore`] over SQL.

pub mod bundle;
pub mod endorse;
pub mod erase;
pub mod leaf;
pub mod memory;
pub mod merkle;
pub mod note;
pub mod payload;
pub mod proof;
pub mod store;
pub mod terminal;
pub mod tiles;
pub mod verify;

pub use bundle::Actor;
pub use leaf::RecordingDigest;
pub use store::{AppendedEntry, LogError, LogStore, NewEntry, StoredCheckpoint, StoredEntry};
