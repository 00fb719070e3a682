//! Rotating the master key (docs/operations.md "Rotating the master key"): every per-hearing
//! key is unwrapped with the old master key and wrapped again under the new one, in one
//! transaction that also moves `storage_master` to the new key (the caller, `cli/storage.rs`,
//! seals the `storage_master_key_rotated` audit entry in the same transaction). The files stay
//! as they are (their keys did not change). A rotation either happened whole or not at all; run
//! again, it finds every row under the new key and changes nothing.

use super::Vault;
use crate::store::Tx;

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MasterRotation {
    pub old_master_id: String,
    pub new_master_id: String,
    /// Hearing keys wrapped again under the new master key now.
    pub rewrapped: u64,
    /// Hearing keys that were already under the new master key (a repeated run).
    pub already: u64,
    /// Whether anything changed (a repeated run of a finished rotation changes nothing).
    #[serde(skip)]
    pub changed: bool,
}

type Row = (String, String, String, String, Option<String>);

/// Re-wraps every hearing key from `old` to `new` inside the caller's transaction `tx` and
/// makes `new` the data directory's master key (`now_ms`). An error (the caller then rolls
/// back: nothing changed) when the data directory is under a third key, when a key does not
/// unwrap under `old`, or when both master keys are the same.
pub async fn rotate_master(
    tx: &mut Tx,
    old: &Vault,
    new: &Vault,
    now_ms: i64,
) -> anyhow::Result<MasterRotation> {
    if old.id() == new.id() {
        anyhow::bail!(
            "the new master key is the one in use ({}): make a new one (`openssl rand -hex 32`)",
            new.id()
        );
    }
    // Takes the write lock first (SQLite) and the row's lock (PostgreSQL).
    sqlx::query("UPDATE storage_master SET since = since WHERE id = 1")
        .execute(&mut **tx)
        .await?;
    let current: Option<String> =
        sqlx::query_scalar("SELECT master_id FROM storage_master WHERE id = 1")
            .fetch_optional(&mut **tx)
            .await?;
    if let Some(c) = current
        .as_deref()
        .filter(|c| *c != old.id() && *c != new.id())
    {
        anyhow::bail!(
            "the data directory is under master key {c}, neither the configured key {} nor the \
             new key {}: nothing changed",
            old.id(),
            new.id()
        );
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT key_id, hearing_id, class, wrapped, master_id FROM hearing_keys ORDER BY key_id",
    )
    .fetch_all(&mut **tx)
    .await?;
    let (mut rewrapped, mut already) = (0u64, 0u64);
    for (key_id, hearing_id, class, wrapped, master) in rows {
        let aad = Vault::aad(&hearing_id, &class, &key_id);
        if master.as_deref() == Some(new.id()) {
            // A repeated run: proves the row opens under the new key, changes nothing.
            new.unwrap_key(&aad, &wrapped)?;
            already += 1;
            continue;
        }
        if master.as_deref().is_some_and(|m| m != old.id()) {
            anyhow::bail!(
                "hearing key {key_id} is wrapped by master key {}, not the configured {}: nothing changed",
                master.unwrap_or_default(),
                old.id()
            );
        }
        let raw = old.unwrap_key(&aad, &wrapped).map_err(|e| {
            anyhow::anyhow!("hearing key {key_id} (hearing {hearing_id}): {e}; nothing changed")
        })?;
        let again = new.wrap(&aad, &raw)?;
        sqlx::query("UPDATE hearing_keys SET wrapped = $1, master_id = $2 WHERE key_id = $3")
            .bind(&again)
            .bind(new.id())
            .bind(&key_id)
            .execute(&mut **tx)
            .await?;
        rewrapped += 1;
    }
    sqlx::query(
        "INSERT INTO storage_master (id, master_id, since) VALUES (1, $1, $2) \
         ON CONFLICT (id) DO UPDATE SET master_id = excluded.master_id, since = excluded.since",
    )
    .bind(new.id())
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(MasterRotation {
        old_master_id: old.id().to_string(),
        new_master_id: new.id().to_string(),
        rewrapped,
        already,
        changed: rewrapped > 0 || current.as_deref() != Some(new.id()),
    })
}
