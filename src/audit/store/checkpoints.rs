//! The SQL of checkpoints (`audit_checkpoints`) and verifier keys (`audit_keys`).

use sqlx::{AnyConnection, Row};

use super::{AuditError, StoredCheckpoint, current_head, hash_from_hex, to_i64, to_u64};

/// A verifier key and the tree sizes it signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub vkey: String,
    pub from_size: u64,
    pub to_size: Option<u64>,
}

/// A checkpoint row (`size, root, note, key_id, created_at`).
fn checkpoint_of(r: &sqlx::any::AnyRow) -> Result<StoredCheckpoint, AuditError> {
    Ok(StoredCheckpoint {
        size: to_u64(r.try_get("size")?)?,
        root: hash_from_hex(&r.try_get::<String, _>("root")?)?,
        note: r.try_get("note")?,
        key_id: r.try_get("key_id")?,
        created_at_ms: r.try_get("created_at")?,
    })
}

/// The newest checkpoint (largest size, then newest).
pub async fn latest_checkpoint(
    conn: &mut AnyConnection,
) -> Result<Option<StoredCheckpoint>, AuditError> {
    let row = sqlx::query(
        "SELECT size, root, note, key_id, created_at FROM audit_checkpoints ORDER BY size DESC, created_at DESC LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(checkpoint_of).transpose()
}

/// The checkpoint of at least `min_size` entries with the most stored witness cosignatures
/// (then the largest): what a citizen's proof file proves to. None when no checkpoint that
/// large has been cosigned yet.
pub async fn best_witnessed_checkpoint(
    conn: &mut AnyConnection,
    min_size: u64,
) -> Result<Option<StoredCheckpoint>, AuditError> {
    let row = sqlx::query(
        "SELECT c.size, c.root, c.note, c.key_id, c.created_at, COUNT(*) AS n \
         FROM audit_checkpoints c JOIN audit_cosignatures w ON w.size = c.size AND w.root = c.root \
         WHERE c.size >= $1 GROUP BY c.size, c.root, c.note, c.key_id, c.created_at \
         ORDER BY n DESC, c.size DESC, c.created_at DESC LIMIT 1",
    )
    .bind(to_i64(min_size)?)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(checkpoint_of).transpose()
}

/// Stores a signed checkpoint (idempotent per size and key).
pub async fn insert_checkpoint(
    conn: &mut AnyConnection,
    cp: &StoredCheckpoint,
) -> Result<(), AuditError> {
    sqlx::query(
        "INSERT INTO audit_checkpoints (size, root, note, key_id, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (size, key_id) DO NOTHING",
    )
    .bind(to_i64(cp.size)?)
    .bind(hex::encode(cp.root))
    .bind(&cp.note)
    .bind(&cp.key_id)
    .bind(cp.created_at_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// All verifier keys, oldest first.
pub async fn keys(conn: &mut AnyConnection) -> Result<Vec<StoredKey>, AuditError> {
    let rows = sqlx::query(
        "SELECT vkey, from_size, to_size FROM audit_keys ORDER BY from_size, created_at",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(StoredKey {
                vkey: r.try_get("vkey")?,
                from_size: to_u64(r.try_get("from_size")?)?,
                to_size: r
                    .try_get::<Option<i64>, _>("to_size")?
                    .map(to_u64)
                    .transpose()?,
            })
        })
        .collect()
}

/// The key-rotation endorsements (signed notes), oldest rotation first.
pub async fn endorsements(conn: &mut AnyConnection) -> Result<Vec<String>, AuditError> {
    Ok(sqlx::query_scalar(
        "SELECT endorsement FROM audit_keys WHERE endorsement IS NOT NULL ORDER BY from_size, created_at",
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// Makes `vkey` the current signing key: closes the range of any other open key at the
/// largest size it signed, and opens one for `vkey` from the current tree size.
pub async fn ensure_current_key(
    conn: &mut AnyConnection,
    vkey: &str,
    now_ms: i64,
) -> Result<(), AuditError> {
    let current: Option<String> =
        sqlx::query_scalar("SELECT vkey FROM audit_keys WHERE to_size IS NULL")
            .fetch_optional(&mut *conn)
            .await?;
    if current.as_deref() == Some(vkey) {
        return Ok(());
    }
    let (size, _) = current_head(conn).await?;
    if let Some(old) = current {
        let old_id = old.split('+').nth(1).unwrap_or_default().to_string();
        let signed: Option<i64> =
            sqlx::query_scalar("SELECT MAX(size) FROM audit_checkpoints WHERE key_id = $1")
                .bind(&old_id)
                .fetch_one(&mut *conn)
                .await?;
        sqlx::query("UPDATE audit_keys SET to_size = $1 WHERE vkey = $2")
            .bind(signed.unwrap_or(0))
            .bind(&old)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query(
        "INSERT INTO audit_keys (vkey, from_size, to_size, created_at) VALUES ($1, $2, NULL, $3) \
         ON CONFLICT (vkey) DO UPDATE SET to_size = NULL",
    )
    .bind(vkey)
    .bind(to_i64(size)?)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
