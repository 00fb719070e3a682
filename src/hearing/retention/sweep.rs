//! The retention sweep: what is due by [`RetentionConfig::cutoffs`] and not held goes, one
//! hearing per transaction, each action sealed on the retention chain before anything is
//! deleted. Idempotent: a hearing is marked (`recordings_deleted_at`, `anonymised_at`) in the
//! transaction that seals its entry, and files are removed only after that commit is durable —
//! so a crash leaves at worst files of a marked hearing, which the next sweep removes. Deleting
//! a class first destroys the hearing's key of that class (`store::vault`) in the same
//! transaction (`key_destroyed` in the entry): what is left on disk or in a backup is noise.

use std::path::Path;

use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{RetentionConfig, holds::seal};
use crate::{
    error::ApiResult,
    hearing::Hearing,
    store::vault::{PERSONAL_DATA, RECORDINGS, Vault},
};

/// Hearings taken per class and sweep (the next sweep goes on).
const BATCH: i64 = 200;

/// What one sweep did.
#[derive(Debug, Default, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct Report {
    /// Hearings whose recordings were deleted now.
    pub recordings: u64,
    /// Hearings whose personal data was erased now.
    pub anonymised: u64,
    /// Hearing directories removed from this process's recordings directory.
    pub directories_removed: u64,
    /// Audit entries whose payload was erased now.
    pub entries_erased: u64,
}

/// The sweep's actor on the retention chain.
const SYSTEM: (&str, &str) = ("system", "retention");

/// One sweep at the clock's now.
pub async fn run_once(h: &Hearing, cfg: &RetentionConfig) -> ApiResult<Report> {
    let now = h.clock.now_ms();
    let (rec_before, pd_before) = cfg.cutoffs(now);
    let mut report = Report::default();
    let rule = format!("closed + {} days", cfg.recordings_days);
    for id in due(h, "recordings_deleted_at", rec_before).await? {
        if delete_recordings(h, &id, now, &rule).await? {
            report.recordings += 1;
        }
    }
    let rule = format!("closed + {} days", cfg.personal_data_days);
    for id in due(h, "anonymised_at", pd_before).await? {
        if let Some(erased) = anonymise(h, &id, now, &rule).await? {
            report.anonymised += 1;
            report.entries_erased += erased;
        }
    }
    h.db.durable().await?;
    report.directories_removed = remove_files(h, &h.call.recordings_dir).await?;
    Ok(report)
}

/// Closed hearings before `before` whose `mark` column is still empty and that are not held.
async fn due(h: &Hearing, mark: &str, before: i64) -> ApiResult<Vec<String>> {
    let sql = format!(
        "SELECT id FROM hearings h WHERE closed_at IS NOT NULL AND closed_at < $1 AND {mark} IS NULL \
         AND NOT EXISTS (SELECT 1 FROM hearing_holds k WHERE k.hearing_id = h.id) \
         ORDER BY closed_at LIMIT $2"
    );
    let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(before)
        .bind(BATCH)
        .fetch_all(&h.db.read)
        .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Marks hearing `id` in this transaction unless it is held or marked already.
async fn claim(tx: &mut crate::store::Tx, mark: &str, id: &str, now: i64) -> ApiResult<bool> {
    let sql = format!(
        "UPDATE hearings SET {mark} = $1 WHERE id = $2 AND {mark} IS NULL \
         AND NOT EXISTS (SELECT 1 FROM hearing_holds k WHERE k.hearing_id = $2)"
    );
    let done = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}

async fn delete_recordings(h: &Hearing, id: &str, now: i64, rule: &str) -> ApiResult<bool> {
    let mut tx = h.db.begin().await?;
    if !claim(&mut tx, "recordings_deleted_at", id, now).await? {
        return Ok(false);
    }
    let files: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT rel_path, sha256, bytes FROM recordings WHERE hearing_id = $1 AND deleted_at IS NULL ORDER BY rel_path",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE recordings SET deleted_at = $1 WHERE hearing_id = $2 AND deleted_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    // crypto-shredding: the key goes in the transaction that seals the action, the files
    // after its commit; a copy left anywhere (a backup) no longer decrypts
    let key = Vault::destroy(&mut tx, id, RECORDINGS).await?;
    let listed: Vec<_> = files
        .iter()
        .map(|(path, sha, bytes)| json!({"path": path, "sha256": sha, "bytes": bytes}))
        .collect();
    let payload = json!({
        "hearing_id": id, "action": "recordings_deleted", "class": "recordings",
        "rule": rule, "files": listed, "key_destroyed": key,
    });
    seal(&mut tx, "retention", SYSTEM, now, payload).await?;
    tx.commit().await?;
    Ok(true)
}

/// Erases hearing `id`'s personal data; the number of audit payloads erased, or None when it
/// was held or done already.
async fn anonymise(h: &Hearing, id: &str, now: i64, rule: &str) -> ApiResult<Option<u64>> {
    let mut tx = h.db.begin().await?;
    if !claim(&mut tx, "anonymised_at", id, now).await? {
        return Ok(None);
    }
    for sql in [
        "UPDATE hearings SET phone = '' WHERE id = $1",
        "UPDATE hearing_evidence SET data = '' WHERE hearing_id = $1",
        "UPDATE hearing_participants SET name_enc = '', phone_enc = '', authority_data = NULL WHERE hearing_id = $1",
        "UPDATE hearing_steps SET payload = '{}' WHERE hearing_id = $1",
    ] {
        sqlx::query(sql).bind(id).execute(&mut *tx).await?;
    }
    let key = Vault::destroy(&mut tx, id, PERSONAL_DATA).await?;
    let erased = crate::audit::store::erase_hearing(&mut tx, id)
        .await
        .map_err(crate::error::AppError::from)?;
    // The citizen's identity goes with their last hearing that still keeps personal data.
    let identity = sqlx::query(
        "UPDATE citizens SET real_name_enc = NULL, id_number_enc = NULL, identity_at = NULL \
         WHERE id = (SELECT citizen_id FROM hearings WHERE id = $1) AND NOT EXISTS \
         (SELECT 1 FROM hearings o WHERE o.citizen_id = citizens.id AND o.anonymised_at IS NULL)",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let payload = json!({
        "hearing_id": id, "action": "personal_data_erased", "class": "personal_data",
        "rule": rule, "audit_entries_erased": erased.erased, "audit_entries_kept_v1": erased.kept_v1,
        "citizen_identity_erased": identity.rows_affected() == 1, "key_destroyed": key,
        "kept": ["decision document", "proof of service", "audit leaves and proofs"],
    });
    seal(&mut tx, "retention", SYSTEM, now, payload).await?;
    tx.commit().await?;
    Ok(Some(erased.erased))
}

/// Removes `root/<hearing id>` for every hearing whose recordings are deleted; the number
/// removed. Only names that are hearing ids of such hearings are touched.
async fn remove_files(h: &Hearing, root: &Path) -> ApiResult<u64> {
    let Ok(mut dir) = tokio::fs::read_dir(root).await else {
        return Ok(0);
    };
    let mut names = Vec::new();
    while let Ok(Some(e)) = dir.next_entry().await {
        if let Some(name) = e.file_name().to_str()
            && !name.starts_with('.')
            && e.file_type().await.is_ok_and(|t| t.is_dir())
        {
            names.push(name.to_string());
        }
    }
    let mut removed = 0;
    for chunk in names.chunks(200) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id FROM hearings WHERE recordings_deleted_at IS NOT NULL AND id IN ({})",
            marks.join(", ")
        );
        let mut q = sqlx::query_as::<_, (String,)>(sqlx::AssertSqlSafe(sql));
        for n in chunk {
            q = q.bind(n);
        }
        for (id,) in q.fetch_all(&h.db.read).await? {
            match tokio::fs::remove_dir_all(root.join(&id)).await {
                Ok(()) => removed += 1,
                Err(e) => {
                    tracing::warn!(hearing_id = %id, error = %e, "retention: removing recordings failed")
                }
            }
        }
    }
    Ok(removed)
}

/// Job: a sweep every `interval_s` (none when 0).
pub async fn run_job(
    h: Hearing,
    cfg: RetentionConfig,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    if cfg.interval_s == 0 {
        return;
    }
    let period = std::time::Duration::from_secs(cfg.interval_s);
    while crate::jobs::tick(&mut stop, period).await {
        match run_once(&h, &cfg).await {
            Ok(r) if r != Report::default() => tracing::info!(?r, "retention sweep"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = ?e, "retention sweep failed"),
        }
    }
}
