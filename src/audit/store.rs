//! The SQL of the audit log, portable across SQLite and PostgreSQL (`$n` placeholders): the
//! server's implementation of the audit crate's [`LogStore`] ([`SqlStore`]), and the log's
//! operations on a connection.
//!
//! Owns the tables `audit_log_state` (one row: tree size and the hashes of its peaks — the
//! serialisation point of appends), `audit_entries`, `audit_nodes` (hashes of complete
//! perfect subtrees, "level/index"), `audit_checkpoints` and `audit_keys`. Appends run in the
//! caller's transaction: the first statement increments the size with `UPDATE … RETURNING`,
//! which takes the write lock on SQLite and the row lock on PostgreSQL, so concurrent appends
//! (and per-hearing chains) are totally ordered until the caller commits.

use super::bundle::Actor;
use super::leaf::{LeafError, decode_lower_hex};
use super::merkle::{Hash, NodeId, ProofError};
use ::audit::payload::salt_from_hex;
use ::audit::{LogError, LogStore, store as log};
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

mod checkpoints;
pub use ::audit::store::{AppendedEntry, NewEntry, StoredCheckpoint, StoredEntry};
pub use checkpoints::{
    StoredKey, best_witnessed_checkpoint, endorsements, ensure_current_key, insert_checkpoint,
    keys, latest_checkpoint,
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
    /// The current key (this verifier key) is not this process's and its file is not in the
    /// key directory: nothing is signed (`rotation`).
    #[error("the audit key was rotated to {0} and this process cannot load it")]
    KeyRetired(String),
}

impl From<LogError> for AuditError {
    fn from(e: LogError) -> Self {
        match e {
            LogError::Leaf(e) => AuditError::Leaf(e),
            LogError::Proof(e) => AuditError::Proof(e),
            LogError::Corrupt(s) => AuditError::Corrupt(s),
            LogError::Invalid(s) => AuditError::Invalid(s),
        }
    }
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

/// The audit log's storage on one connection or transaction (`&mut *tx`).
pub struct SqlStore<'c>(pub &'c mut AnyConnection);

impl LogStore for SqlStore<'_> {
    type Error = AuditError;

    async fn grow(&mut self) -> Result<(u64, Vec<Hash>), AuditError> {
        // Takes the log's lock (write lock on SQLite, row lock on PostgreSQL).
        let row = sqlx::query(
            "UPDATE audit_log_state SET size = size + 1 WHERE id = 1 RETURNING size, frontier",
        )
        .fetch_one(&mut *self.0)
        .await?;
        let size = to_u64(row.try_get::<i64, _>("size")?)?;
        let frontier = frontier_from_text(&row.try_get::<String, _>("frontier")?)?;
        Ok((size.saturating_sub(1), frontier))
    }

    async fn state(&mut self) -> Result<(u64, Vec<Hash>), AuditError> {
        let row = sqlx::query("SELECT size, frontier FROM audit_log_state WHERE id = 1")
            .fetch_one(&mut *self.0)
            .await?;
        let size = to_u64(row.try_get::<i64, _>("size")?)?;
        Ok((
            size,
            frontier_from_text(&row.try_get::<String, _>("frontier")?)?,
        ))
    }

    async fn set_peaks(&mut self, peaks: &[Hash]) -> Result<(), AuditError> {
        sqlx::query("UPDATE audit_log_state SET frontier = $1 WHERE id = 1")
            .bind(frontier_text(peaks))
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    async fn nodes(&mut self, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>, AuditError> {
        fetch_nodes(self.0, ids).await
    }

    async fn put_nodes(&mut self, nodes: &[(NodeId, Hash)]) -> Result<(), AuditError> {
        for (id, h) in nodes {
            sqlx::query("INSERT INTO audit_nodes (level, idx, hash) VALUES ($1, $2, $3)")
                .bind(i64::from(id.level))
                .bind(to_i64(id.index)?)
                .bind(hex::encode(h))
                .execute(&mut *self.0)
                .await?;
        }
        Ok(())
    }

    async fn chain_head(&mut self, hearing_id: &str) -> Result<Option<StoredEntry>, AuditError> {
        let sql = format!(
            "SELECT {ENTRY_COLS} FROM audit_entries WHERE hearing_id = $1 ORDER BY hearing_seq DESC LIMIT 1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(hearing_id)
            .fetch_optional(&mut *self.0)
            .await?;
        row.as_ref().map(entry_from_row).transpose()
    }

    async fn hearing_entries(&mut self, hearing_id: &str) -> Result<Vec<StoredEntry>, AuditError> {
        hearing_entries(self.0, hearing_id).await
    }

    async fn put_entry(&mut self, e: &StoredEntry) -> Result<(), AuditError> {
        sqlx::query(
            "INSERT INTO audit_entries (seq, hearing_id, hearing_seq, step, at, actor_role, actor_id, leaf_hex, leaf_hash, payload, payload_salt) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(to_i64(e.seq)?)
        .bind(&e.hearing_id)
        .bind(to_i64(e.hearing_seq)?)
        .bind(&e.step)
        .bind(e.at_ms)
        .bind(&e.actor.role)
        .bind(&e.actor.id)
        .bind(hex::encode(&e.leaf))
        .bind(&e.leaf_hash)
        .bind(&e.payload)
        .bind(e.salt.map(hex::encode))
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    async fn erase_payload(&mut self, seq: u64) -> Result<(), AuditError> {
        let done = sqlx::query(
            "UPDATE audit_entries SET payload = '', payload_salt = NULL, erased_at = $2 WHERE seq = $1",
        )
        .bind(to_i64(seq)?)
        .bind(chrono::Utc::now().timestamp_millis())
        .execute(&mut *self.0)
        .await?;
        if done.rows_affected() == 0 {
            return Err(AuditError::NotFound);
        }
        Ok(())
    }

    async fn latest_checkpoint(&mut self) -> Result<Option<StoredCheckpoint>, AuditError> {
        latest_checkpoint(self.0).await
    }

    async fn put_checkpoint(&mut self, cp: &StoredCheckpoint) -> Result<(), AuditError> {
        insert_checkpoint(self.0, cp).await
    }
}

/// Appends one entry inside the caller's transaction (`conn` is `&mut *tx`).
pub async fn append(conn: &mut AnyConnection, e: &NewEntry) -> Result<AppendedEntry, AuditError> {
    log::append(&mut SqlStore(conn), e).await
}

/// Erases the payload and salt of every version-2 entry of a hearing but its terminal one,
/// inside the caller's transaction (retention, PIPL Art. 47): the leaves, the tree and every
/// proof stay unchanged, and bundles carry those entries as `erased`. Version-1 entries are
/// kept (counted in the result).
pub async fn erase_hearing(
    conn: &mut AnyConnection,
    hearing_id: &str,
) -> Result<::audit::erase::Erased, AuditError> {
    ::audit::erase::erase_hearing(&mut SqlStore(conn), hearing_id).await
}

/// Erases the payload and salt of one version-2 entry (see [`erase_hearing`]).
pub async fn erase_entry(
    conn: &mut AnyConnection,
    hearing_id: &str,
    hearing_seq: u64,
) -> Result<(), AuditError> {
    ::audit::erase::erase_entry(&mut SqlStore(conn), hearing_id, hearing_seq).await
}

/// The current tree size and head (from the state row: one read).
pub async fn current_head(conn: &mut AnyConnection) -> Result<(u64, Hash), AuditError> {
    log::current_head(&mut SqlStore(conn)).await
}

/// Reads the nodes a plan needs (one query per 200 nodes).
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

/// The head of the tree of `size` leaves (`size` ≤ the current size).
pub async fn root_at(conn: &mut AnyConnection, size: u64) -> Result<Hash, AuditError> {
    log::root_at(&mut SqlStore(conn), size).await
}

/// Inclusion proof of leaf `seq` in the tree of `size` leaves.
pub async fn inclusion_proof(
    conn: &mut AnyConnection,
    seq: u64,
    size: u64,
) -> Result<Vec<Hash>, AuditError> {
    log::inclusion_proof(&mut SqlStore(conn), seq, size).await
}

/// Consistency proof from `size1` to `size2`.
pub async fn consistency_proof(
    conn: &mut AnyConnection,
    size1: u64,
    size2: u64,
) -> Result<Vec<Hash>, AuditError> {
    log::consistency_proof(&mut SqlStore(conn), size1, size2).await
}

const ENTRY_COLS: &str = "seq, hearing_id, hearing_seq, step, at, actor_role, actor_id, leaf_hex, \
     leaf_hash, payload, payload_salt, erased_at";

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
        salt: match r.try_get::<Option<String>, _>("payload_salt")? {
            None => None,
            Some(h) => Some(salt_from_hex(&h).ok_or_else(|| {
                AuditError::Corrupt(format!(
                    "entry {}: payload_salt is not 32 lowercase hex digits",
                    r.try_get::<i64, _>("seq").unwrap_or(-1)
                ))
            })?),
        },
        erased: r.try_get::<Option<i64>, _>("erased_at")?.is_some(),
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
