//! The SQL of the audit log, portable across SQLite and PostgreSQL (`$n` placeholders).
//!
//! Owns the tables `audit_log_state` (one row: tree size and the hashes of its peaks — the
//! serialisation point of appends), `audit_entries`, `audit_nodes` (hashes of complete
//! perfect subtrees, "level/index"), `audit_checkpoints` and `audit_keys`. Appends run in the
//! caller's transaction: the first statement increments the size with `UPDATE … RETURNING`,
//! which takes the write lock on SQLite and the row lock on PostgreSQL, so concurrent appends
//! (and per-hearing chains) are totally ordered until the caller commits.

use super::bundle::Actor;
use super::leaf::{
    Leaf, LeafError, RecordingDigest, canonical_json, decode_lower_hex, payload_digest,
};
use super::merkle::{self, Hash, NodeId, ProofError, ProofPlan};
use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

mod checkpoints;
pub use checkpoints::{
    StoredCheckpoint, StoredKey, ensure_current_key, insert_checkpoint, keys, latest_checkpoint,
};

/// Errors of the audit store.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error("audit entry: {0}")]
    Leaf(#[from] LeafError),
    #[error("proof: {0}")]
    Proof(#[from] ProofError),
    #[error("audit log corrupt: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Invalid(&'static str),
    #[error("not found")]
    NotFound,
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
#[derive(Debug, Clone)]
pub struct StoredEntry {
    pub seq: u64,
    pub hearing_id: String,
    pub hearing_seq: u64,
    pub step: String,
    pub at_ms: i64,
    pub actor: Actor,
    pub leaf: Vec<u8>,
    /// The stored `leaf_hash` column, as text (verify-log checks it against `leaf`).
    pub leaf_hash: String,
    /// Canonical JSON text.
    pub payload: String,
}

pub(crate) fn hash_from_hex(s: &str) -> Result<Hash, AuditError> {
    let v = decode_lower_hex(s).ok_or_else(|| AuditError::Corrupt(format!("bad hash {s:?}")))?;
    Hash::try_from(v.as_slice()).map_err(|_| AuditError::Corrupt(format!("bad hash length {s:?}")))
}

fn frontier_from_text(s: &str) -> Result<Vec<Hash>, AuditError> {
    if !s.len().is_multiple_of(64) {
        return Err(AuditError::Corrupt("frontier length".into()));
    }
    (0..s.len() / 64)
        .map(|i| hash_from_hex(&s[i * 64..(i + 1) * 64]))
        .collect()
}

fn frontier_text(f: &[Hash]) -> String {
    f.iter().map(hex::encode).collect()
}

fn to_i64(v: u64) -> Result<i64, AuditError> {
    i64::try_from(v).map_err(|_| AuditError::Invalid("number out of range"))
}

fn to_u64(v: i64) -> Result<u64, AuditError> {
    u64::try_from(v).map_err(|_| AuditError::Corrupt("negative number".into()))
}

/// Appends one entry inside the caller's transaction (`conn` is `&mut *tx`).
pub async fn append(conn: &mut AnyConnection, e: &NewEntry) -> Result<AppendedEntry, AuditError> {
    let payload = canonical_json(&e.payload)?;
    let payload_sha256 = payload_digest(&e.payload)?;
    // First statement: take the log's lock (write lock on SQLite, row lock on PostgreSQL).
    let row = sqlx::query(
        "UPDATE audit_log_state SET size = size + 1 WHERE id = 1 RETURNING size, frontier",
    )
    .fetch_one(&mut *conn)
    .await?;
    let seq = to_u64(row.try_get::<i64, _>("size")?)? - 1;
    let frontier = frontier_from_text(&row.try_get::<String, _>("frontier")?)?;

    check_peaks(conn, seq, &frontier).await?;

    let head = sqlx::query(
        "SELECT hearing_seq, leaf_hex, leaf_hash FROM audit_entries WHERE hearing_id = $1 ORDER BY hearing_seq DESC LIMIT 1",
    )
    .bind(&e.hearing_id)
    .fetch_optional(&mut *conn)
    .await?;
    let (hearing_seq, prev_leaf_hash) = match head {
        Some(r) => {
            let prev_seq = to_u64(r.try_get::<i64, _>("hearing_seq")?)?;
            let recomputed = decode_lower_hex(&r.try_get::<String, _>("leaf_hex")?)
                .map(|leaf| merkle::leaf_hash(&leaf));
            // Chain onto the hash of the stored leaf, and only when the stored hash agrees:
            // a wrong leaf_hash would otherwise break the hearing's chain for good.
            match recomputed {
                Some(h) if hex::encode(h) == r.try_get::<String, _>("leaf_hash")? => {
                    (prev_seq + 1, h)
                }
                _ => {
                    return Err(AuditError::Corrupt(format!(
                        "hearing {}: the stored leaf_hash of entry #{prev_seq} does not match its leaf; \
                         nothing appended (run `remote-hearing audit verify-log`)",
                        e.hearing_id
                    )));
                }
            }
        }
        None => (0, [0u8; 32]),
    };
    let leaf = Leaf {
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
    let bytes = leaf.encode()?;
    let leaf_hash = merkle::leaf_hash(&bytes);

    let nodes = merkle::append(seq, &frontier, leaf_hash)?;
    for (id, h) in &nodes {
        sqlx::query("INSERT INTO audit_nodes (level, idx, hash) VALUES ($1, $2, $3)")
            .bind(i64::from(id.level))
            .bind(to_i64(id.index)?)
            .bind(hex::encode(h))
            .execute(&mut *conn)
            .await?;
    }
    let merged = (nodes.len() - 1).min(frontier.len());
    let mut next = frontier[..frontier.len() - merged].to_vec();
    if let Some((_, top)) = nodes.last() {
        next.push(*top);
    }
    sqlx::query("UPDATE audit_log_state SET frontier = $1 WHERE id = 1")
        .bind(frontier_text(&next))
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO audit_entries (seq, hearing_id, hearing_seq, step, at, actor_role, actor_id, leaf_hex, leaf_hash, payload) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(to_i64(seq)?)
    .bind(&e.hearing_id)
    .bind(to_i64(hearing_seq)?)
    .bind(&e.step)
    .bind(leaf.at_ms)
    .bind(&e.actor.role)
    .bind(&e.actor.id)
    .bind(hex::encode(&bytes))
    .bind(hex::encode(leaf_hash))
    .bind(payload)
    .execute(&mut *conn)
    .await?;
    Ok(AppendedEntry {
        seq,
        hearing_seq,
        leaf_hash,
    })
}

/// Refuses to grow a tree whose stored peaks (the state row) differ from the stored nodes they
/// copy: every later node would be built on the wrong value.
async fn check_peaks(
    conn: &mut AnyConnection,
    size: u64,
    frontier: &[Hash],
) -> Result<(), AuditError> {
    let ids = merkle::peaks(size);
    let nodes = fetch_nodes(conn, &ids).await?;
    let agree = ids.len() == frontier.len()
        && ids
            .iter()
            .zip(frontier)
            .all(|(id, h)| nodes.get(id) == Some(h));
    if agree {
        Ok(())
    } else {
        Err(AuditError::Corrupt(format!(
            "the stored peaks of the tree of size {size} do not match its stored nodes; \
             nothing appended (run `remote-hearing audit verify-log`)"
        )))
    }
}

/// The current tree size and head (from the state row: one read).
pub async fn current_head(conn: &mut AnyConnection) -> Result<(u64, Hash), AuditError> {
    let row = sqlx::query("SELECT size, frontier FROM audit_log_state WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    let size = to_u64(row.try_get::<i64, _>("size")?)?;
    let frontier = frontier_from_text(&row.try_get::<String, _>("frontier")?)?;
    if frontier.len() != size.count_ones() as usize {
        return Err(AuditError::Corrupt(
            "frontier does not match the size".into(),
        ));
    }
    Ok((size, merkle::root_from_peaks(&frontier)))
}

/// Reads the nodes a plan needs (one query).
pub async fn fetch_nodes(
    conn: &mut AnyConnection,
    ids: &[NodeId],
) -> Result<HashMap<NodeId, Hash>, AuditError> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(200) {
        let cond: Vec<String> = (0..chunk.len())
            .map(|i| format!("(level = ${} AND idx = ${})", 2 * i + 1, 2 * i + 2))
            .collect();
        let sql = format!(
            "SELECT level, idx, hash FROM audit_nodes WHERE {}",
            cond.join(" OR ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(i64::from(id.level)).bind(to_i64(id.index)?);
        }
        for r in q.fetch_all(&mut *conn).await? {
            let level = u8::try_from(r.try_get::<i64, _>("level")?)
                .map_err(|_| AuditError::Corrupt("level".into()))?;
            let id = NodeId::new(level, to_u64(r.try_get::<i64, _>("idx")?)?);
            out.insert(id, hash_from_hex(&r.try_get::<String, _>("hash")?)?);
        }
    }
    Ok(out)
}

async fn run_plan(conn: &mut AnyConnection, plan: &ProofPlan) -> Result<Vec<Hash>, AuditError> {
    let nodes = fetch_nodes(conn, plan.nodes()).await?;
    Ok(plan.assemble_from(&nodes)?)
}

/// The head of the tree of `size` leaves (`size` ≤ the current size).
pub async fn root_at(conn: &mut AnyConnection, size: u64) -> Result<Hash, AuditError> {
    Ok(run_plan(conn, &merkle::root_plan(size))
        .await?
        .pop()
        .unwrap_or_else(merkle::empty_root))
}

/// Inclusion proof of leaf `seq` in the tree of `size` leaves.
pub async fn inclusion_proof(
    conn: &mut AnyConnection,
    seq: u64,
    size: u64,
) -> Result<Vec<Hash>, AuditError> {
    run_plan(conn, &merkle::inclusion_plan(seq, size)?).await
}

/// Consistency proof from `size1` to `size2`.
pub async fn consistency_proof(
    conn: &mut AnyConnection,
    size1: u64,
    size2: u64,
) -> Result<Vec<Hash>, AuditError> {
    run_plan(conn, &merkle::consistency_plan(size1, size2)?).await
}

const ENTRY_COLS: &str =
    "seq, hearing_id, hearing_seq, step, at, actor_role, actor_id, leaf_hex, leaf_hash, payload";

fn entry_from_row(r: &sqlx::any::AnyRow) -> Result<StoredEntry, AuditError> {
    Ok(StoredEntry {
        seq: to_u64(r.try_get("seq")?)?,
        hearing_id: r.try_get("hearing_id")?,
        hearing_seq: to_u64(r.try_get("hearing_seq")?)?,
        step: r.try_get("step")?,
        at_ms: r.try_get("at")?,
        actor: Actor {
            role: r.try_get("actor_role")?,
            id: r.try_get("actor_id")?,
        },
        leaf: decode_lower_hex(&r.try_get::<String, _>("leaf_hex")?).ok_or_else(|| {
            AuditError::Corrupt(format!(
                "entry {}: leaf_hex is not lowercase hex",
                r.try_get::<i64, _>("seq").unwrap_or(-1)
            ))
        })?,
        leaf_hash: r.try_get("leaf_hash")?,
        payload: r.try_get("payload")?,
    })
}

/// Entries by global index, `from` inclusive, at most `limit`.
pub async fn entries(
    conn: &mut AnyConnection,
    from: u64,
    limit: u64,
) -> Result<Vec<StoredEntry>, AuditError> {
    let sql =
        format!("SELECT {ENTRY_COLS} FROM audit_entries WHERE seq >= $1 ORDER BY seq LIMIT $2");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(to_i64(from)?)
        .bind(to_i64(limit)?)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(entry_from_row).collect()
}

/// All entries of a hearing, in chain order.
pub async fn hearing_entries(
    conn: &mut AnyConnection,
    hearing_id: &str,
) -> Result<Vec<StoredEntry>, AuditError> {
    let sql = format!(
        "SELECT {ENTRY_COLS} FROM audit_entries WHERE hearing_id = $1 ORDER BY hearing_seq"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(hearing_id)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(entry_from_row).collect()
}
