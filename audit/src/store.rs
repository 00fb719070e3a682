//! What the log needs from storage ([`LogStore`]), and the log's operations written once
//! against it: appending an entry (leaf, per-hearing chain, tree nodes, peaks), tree heads,
//! proofs, signing checkpoints and assembling a hearing's bundle.
//!
//! A store holds four things: the state (tree size and the hashes of its peaks — the
//! serialisation point of appends), the entries (leaf bytes and payload, by global index and by
//! hearing), the nodes (hashes of complete perfect subtrees) and the signed checkpoints. It
//! knows nothing of leaves' meaning or of Merkle trees; the functions here do. The server
//! implements it over SQL inside the caller's transaction; [`crate::memory::MemoryLog`] is the
//! in-memory one for tests and tools.

use std::collections::HashMap;
use std::future::Future;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use chrono::{DateTime, Utc};

use crate::bundle::{Actor, BUNDLE_VERSION, Bundle, BundleEntry, ConsistencyProof};
use crate::leaf::{Leaf, LeafError, RecordingDigest, VERSION_2, canonical_json};
use crate::merkle::{self, Hash, NodeId, ProofError, ProofPlan};
use crate::note::{Checkpoint, Signer};
use crate::payload::{Salt, new_salt, salted_digest};

/// Errors of the log's operations (a store wraps them in its own error type).
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("audit entry: {0}")]
    Leaf(#[from] LeafError),
    #[error("proof: {0}")]
    Proof(#[from] ProofError),
    #[error("audit log corrupt: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Invalid(&'static str),
}

/// What a caller appends.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub hearing_id: String,
    pub step: String,
    pub actor: Actor,
    pub at: DateTime<Utc>,
    /// Integers, strings, booleans, null, arrays and objects only (no floats).
    pub payload: serde_json::Value,
    /// Files sealed by this entry (empty for ordinary steps).
    pub recordings: Vec<RecordingDigest>,
}

/// Where the entry landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendedEntry {
    /// Leaf index in the global log.
    pub seq: u64,
    /// Position in the hearing's chain.
    pub hearing_seq: u64,
    /// `SHA-256(0x00 || leaf)`.
    pub leaf_hash: Hash,
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEntry {
    pub seq: u64,
    pub hearing_id: String,
    pub hearing_seq: u64,
    pub step: String,
    pub at_ms: i64,
    pub actor: Actor,
    pub leaf: Vec<u8>,
    /// The stored leaf hash, lowercase hex (checked against `leaf` before chaining onto it).
    pub leaf_hash: String,
    /// Canonical JSON text; empty once erased.
    pub payload: String,
    /// The version-2 salt (`None` for version 1, and once erased).
    pub salt: Option<Salt>,
    /// Payload and salt were deleted ([`crate::erase`]); the leaf stays.
    pub erased: bool,
}

/// A signed checkpoint as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub root: Hash,
    pub note: String,
    /// The signing key's id, lowercase hex.
    pub key_id: String,
    pub created_at_ms: i64,
}

/// The storage the log needs. Every method of one value runs in one transaction (or one
/// connection): [`LogStore::grow`] takes the log's write lock until it ends.
pub trait LogStore: Send {
    /// The store's error; the log's own errors convert into it.
    type Error: From<LogError> + Send;

    /// Takes the log's write lock, adds one to the size; returns the index of the new leaf
    /// (the old size) and the peaks of the old tree.
    fn grow(&mut self) -> impl Future<Output = Result<(u64, Vec<Hash>), Self::Error>> + Send;
    /// The current size and peaks.
    fn state(&mut self) -> impl Future<Output = Result<(u64, Vec<Hash>), Self::Error>> + Send;
    /// Replaces the peaks (after an append).
    fn set_peaks(&mut self, peaks: &[Hash])
    -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// The stored hashes of `ids` (an unknown node is simply absent).
    fn nodes(
        &mut self,
        ids: &[NodeId],
    ) -> impl Future<Output = Result<HashMap<NodeId, Hash>, Self::Error>> + Send;
    /// Stores the hashes of newly completed subtrees.
    fn put_nodes(
        &mut self,
        nodes: &[(NodeId, Hash)],
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// The newest entry of a hearing's chain.
    fn chain_head(
        &mut self,
        hearing_id: &str,
    ) -> impl Future<Output = Result<Option<StoredEntry>, Self::Error>> + Send;
    /// All entries of a hearing, in chain order.
    fn hearing_entries(
        &mut self,
        hearing_id: &str,
    ) -> impl Future<Output = Result<Vec<StoredEntry>, Self::Error>> + Send;
    /// Stores a new entry.
    fn put_entry(
        &mut self,
        e: &StoredEntry,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// Deletes the payload and salt of entry `seq` and marks it erased (the leaf stays).
    fn erase_payload(&mut self, seq: u64) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// The newest checkpoint (largest size, then newest).
    fn latest_checkpoint(
        &mut self,
    ) -> impl Future<Output = Result<Option<StoredCheckpoint>, Self::Error>> + Send;
    /// Stores a signed checkpoint (idempotent per size and key).
    fn put_checkpoint(
        &mut self,
        cp: &StoredCheckpoint,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// Appends one entry: chains it onto its hearing's newest entry, grows the tree, stores the
/// new nodes, peaks and entry. Refuses (nothing stored) when the stored peaks or the chain
/// head disagree with what they copy.
pub async fn append<S: LogStore>(s: &mut S, e: &NewEntry) -> Result<AppendedEntry, S::Error> {
    let payload = canonical_json(&e.payload).map_err(LogError::from)?;
    let salt = new_salt().map_err(LogError::from)?;
    let payload_sha256 = salted_digest(&salt, &payload);
    // First: take the log's lock.
    let (seq, frontier) = s.grow().await?;
    check_peaks(s, seq, &frontier).await?;
    let (hearing_seq, prev_leaf_hash) = match s.chain_head(&e.hearing_id).await? {
        // Chain onto the hash of the stored leaf, and only when the stored hash agrees:
        // a wrong leaf_hash would otherwise break the hearing's chain for good.
        Some(h) if hex::encode(merkle::leaf_hash(&h.leaf)) == h.leaf_hash => {
            (h.hearing_seq + 1, merkle::leaf_hash(&h.leaf))
        }
        Some(h) => {
            return Err(LogError::Corrupt(format!(
                "hearing {}: the stored leaf_hash of entry #{} does not match its leaf; \
                 nothing appended (run `remote-hearing audit verify-log`)",
                e.hearing_id, h.hearing_seq
            ))
            .into());
        }
        None => (0, [0u8; 32]),
    };
    let leaf = Leaf {
        version: VERSION_2,
        hearing_id: e.hearing_id.clone(),
        hearing_seq,
        prev_leaf_hash,
        step: e.step.clone(),
        at_ms: e.at.timestamp_millis(),
        actor_role: e.actor.role.clone(),
        actor_id: e.actor.id.clone(),
        payload_sha256,
        recordings: e.recordings.clone(),
    };
    let bytes = leaf.encode().map_err(LogError::from)?;
    let leaf_hash = merkle::leaf_hash(&bytes);
    let nodes = merkle::append(seq, &frontier, leaf_hash).map_err(LogError::from)?;
    s.put_nodes(&nodes).await?;
    let merged = nodes.len().saturating_sub(1).min(frontier.len());
    let mut next = frontier[..frontier.len() - merged].to_vec();
    if let Some((_, top)) = nodes.last() {
        next.push(*top);
    }
    s.set_peaks(&next).await?;
    s.put_entry(&StoredEntry {
        seq,
        hearing_id: e.hearing_id.clone(),
        hearing_seq,
        step: e.step.clone(),
        at_ms: leaf.at_ms,
        actor: e.actor.clone(),
        leaf: bytes,
        leaf_hash: hex::encode(leaf_hash),
        payload,
        salt: Some(salt),
        erased: false,
    })
    .await?;
    Ok(AppendedEntry {
        seq,
        hearing_seq,
        leaf_hash,
    })
}

/// Refuses to grow a tree whose stored peaks (the state) differ from the stored nodes they
/// copy: every later node would be built on the wrong value.
async fn check_peaks<S: LogStore>(s: &mut S, size: u64, frontier: &[Hash]) -> Result<(), S::Error> {
    let ids = merkle::peaks(size);
    let nodes = s.nodes(&ids).await?;
    let agree = ids.len() == frontier.len()
        && ids
            .iter()
            .zip(frontier)
            .all(|(id, h)| nodes.get(id) == Some(h));
    if agree {
        Ok(())
    } else {
        Err(LogError::Corrupt(format!(
            "the stored peaks of the tree of size {size} do not match its stored nodes; \
             nothing appended (run `remote-hearing audit verify-log`)"
        ))
        .into())
    }
}

/// The current tree size and head (from the state: one read).
pub async fn current_head<S: LogStore>(s: &mut S) -> Result<(u64, Hash), S::Error> {
    let (size, frontier) = s.state().await?;
    if frontier.len() != size.count_ones() as usize {
        return Err(LogError::Corrupt("frontier does not match the size".into()).into());
    }
    Ok((size, merkle::root_from_peaks(&frontier)))
}

async fn run_plan<S: LogStore>(s: &mut S, plan: &ProofPlan) -> Result<Vec<Hash>, S::Error> {
    let nodes = s.nodes(plan.nodes()).await?;
    Ok(plan.assemble_from(&nodes).map_err(LogError::from)?)
}

/// The head of the tree of `size` leaves (`size` ≤ the current size).
pub async fn root_at<S: LogStore>(s: &mut S, size: u64) -> Result<Hash, S::Error> {
    Ok(run_plan(s, &merkle::root_plan(size))
        .await?
        .pop()
        .unwrap_or_else(merkle::empty_root))
}

/// Inclusion proof of leaf `seq` in the tree of `size` leaves.
pub async fn inclusion_proof<S: LogStore>(
    s: &mut S,
    seq: u64,
    size: u64,
) -> Result<Vec<Hash>, S::Error> {
    let plan = merkle::inclusion_plan(seq, size).map_err(LogError::from)?;
    run_plan(s, &plan).await
}

/// Consistency proof from `size1` to `size2`.
pub async fn consistency_proof<S: LogStore>(
    s: &mut S,
    size1: u64,
    size2: u64,
) -> Result<Vec<Hash>, S::Error> {
    let plan = merkle::consistency_plan(size1, size2).map_err(LogError::from)?;
    run_plan(s, &plan).await
}

/// Signs a checkpoint of the tree (`size`, `root`) unless the newest stored one already
/// covers it with the same key; returns the newest checkpoint and whether it is new.
pub async fn sign_checkpoint<S: LogStore>(
    s: &mut S,
    signer: &Signer,
    (size, root): (u64, Hash),
    now_ms: i64,
) -> Result<(StoredCheckpoint, bool), S::Error> {
    let key_id = hex::encode(signer.verifier().key_id);
    if let Some(cp) = s.latest_checkpoint().await?
        && cp.size == size
        && cp.key_id == key_id
    {
        return Ok((cp, false));
    }
    let body = Checkpoint {
        origin: signer.name().to_string(),
        size,
        root,
        extensions: vec![],
    };
    let note = body
        .sign(signer)
        .map_err(|_| LogError::Invalid("cannot sign"))?;
    let cp = StoredCheckpoint {
        size,
        root,
        note,
        key_id,
        created_at_ms: now_ms,
    };
    s.put_checkpoint(&cp).await?;
    Ok((cp, true))
}

/// Assembles the offline bundle of a hearing's `rows` (in chain order) proving to `cp`, with
/// the verifier keys `keys` (the caller adds the rotations' endorsements) and optionally a consistency proof from `consistency_from`.
/// Built leniently: whatever the store holds goes in, the verifier judges it.
pub async fn bundle_of<S: LogStore>(
    s: &mut S,
    origin: &str,
    hearing_id: &str,
    rows: Vec<StoredEntry>,
    cp: &StoredCheckpoint,
    consistency_from: Option<u64>,
    keys: Vec<String>,
) -> Result<Bundle, S::Error> {
    let b64 = |h: &Hash| STANDARD.encode(h);
    let mut entries = Vec::with_capacity(rows.len());
    let mut recordings = Vec::new();
    for r in rows {
        let proof = match inclusion_proof(s, r.seq, cp.size).await {
            Ok(p) => p.iter().map(b64).collect(),
            Err(_) => vec![],
        };
        if let Ok(leaf) = Leaf::decode(&r.leaf) {
            recordings.extend(leaf.recordings);
        }
        entries.push(BundleEntry {
            seq: r.seq,
            hearing_seq: r.hearing_seq,
            step: r.step,
            at: DateTime::from_timestamp_millis(r.at_ms).unwrap_or_default(),
            actor: r.actor,
            leaf_hex: hex::encode(&r.leaf),
            payload: if r.erased {
                serde_json::Value::Null
            } else {
                serde_json::from_str(&r.payload).unwrap_or(serde_json::Value::Null)
            },
            salt: r.salt.filter(|_| !r.erased).map(hex::encode),
            erased: r.erased,
            proof,
        });
    }
    let consistency = match consistency_from {
        Some(from) if from > 0 && from <= cp.size => Some(ConsistencyProof {
            from_size: from,
            to_size: cp.size,
            hashes: consistency_proof(s, from, cp.size)
                .await?
                .iter()
                .map(b64)
                .collect(),
        }),
        Some(_) => {
            return Err(LogError::Invalid(
                "consistency_from must be between 1 and the checkpoint size",
            )
            .into());
        }
        None => None,
    };
    Ok(Bundle {
        version: BUNDLE_VERSION,
        origin: origin.to_string(),
        hearing_id: hearing_id.to_string(),
        checkpoint: cp.note.clone(),
        keys,
        endorsements: vec![],
        entries,
        recordings,
        consistency,
    })
}

#[cfg(test)]
#[path = "store_tests.rs"]
mod tests;
