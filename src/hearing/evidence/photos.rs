//! Evidence photos of the violations at the notice (issue 16): for a booking made from the
//! system of record, before the `notice` step's transaction the server fetches each photo of
//! each booked record from the platform once ([`prefetch`]: only for the hearing's officer, only
//! photos not stored yet) and keeps it in `notice_photos`; the notice's entry then seals every
//! photo's SHA-256 ([`sealed`]). The hearing's officer, its citizen and auditors read them back
//! ([`read`]); anyone else gets 404. Stored sealed with the hearing's `case_file` key
//! (`store::vault`, kept with the case file). A platform that is down at the notice refuses the step
//! (503 `records_unavailable`) before anything of the step is written.

use base64::Engine;
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use super::super::{Hearing, access::Caller, error::HearingError, machine::Party, ports, store};
use crate::{
    error::AppError,
    records::model::Subject,
    store::{
        Db, Tx,
        vault::{CASE_FILE, Vault},
    },
};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A sealed photo, as the notice's entry and the hearing view name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PhotoRef {
    pub record_no: String,
    /// The photo's place in the record's list, from 0.
    pub index: i64,
    pub content_type: String,
    pub sha256: String,
}

/// Fetches and stores the photos of the hearing's records that are not stored yet (the
/// hearing's officer only; nothing for a booking on typed facts).
pub async fn prefetch(state: &Hearing, caller: &Caller, id: &str) -> Result<(), HearingError> {
    let Some(h) = store::get(&state.db.read, id).await? else {
        return Ok(());
    };
    if caller.party_for(&h).ok() != Some(Party::Officer) || h.closed_at.is_some() {
        return Ok(());
    }
    let Some(b) = ports::booking(state, &h.booking_id).await? else {
        return Ok(());
    };
    if b.facts_source != "records" {
        return Ok(());
    }
    let booked: Vec<crate::booking::model::ViolationView> =
        serde_json::from_str(&b.violations).map_err(|e| HearingError::internal("violations", e))?;
    let party = crate::identity::citizens::party(&state.db, &state.identity_key, &h.citizen_id)
        .await?
        .ok_or_else(|| HearingError::broken("a records booking without the party's identity"))?;
    let adapter = &state.records.adapter;
    let subject = Subject::Driver {
        id_number: party.id_number,
    };
    let facts = adapter.violations(&subject).await.map_err(AppError::from)?;
    for v in &booked {
        let Some(rec) = facts.violations.iter().find(|f| f.record_no == v.record_no) else {
            tracing::warn!(hearing = %id, record = %v.record_no,
                "the platform no longer lists a booked record; no photos for it");
            continue;
        };
        for (i, url) in rec.photos.iter().enumerate() {
            let idx = i64::try_from(i).unwrap_or(i64::MAX);
            if stored(&state.db, id, &v.record_no, idx).await? {
                continue;
            }
            let p = adapter.photo(url).await.map_err(AppError::from)?;
            let sha256 = hex::encode(ring::digest::digest(&ring::digest::SHA256, &p.bytes));
            // sealed at rest with the hearing's case-file key; the digest is of the photo
            let key = state
                .call
                .vault
                .key_for(&state.db, id, CASE_FILE, state.clock.now_ms())
                .await
                .map_err(|e| HearingError::internal("the hearing's case-file key", e))?;
            let body = recordings::sealed::seal_bytes(&key, &p.bytes)
                .map_err(|e| HearingError::internal("sealing a photo", e))?;
            sqlx::query(
                "INSERT INTO notice_photos (hearing_id, record_no, idx, content_type, sha256, \
                 body, fetched_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (hearing_id, record_no, idx) DO NOTHING",
            )
            .bind(id)
            .bind(&v.record_no)
            .bind(idx)
            .bind(p.content_type)
            .bind(sha256)
            .bind(B64.encode(&body))
            .bind(state.clock.now_ms())
            .execute(&state.db.write)
            .await?;
        }
    }
    Ok(())
}

async fn stored(db: &Db, id: &str, record: &str, idx: i64) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM notice_photos WHERE hearing_id = $1 AND record_no = $2 AND idx = $3",
    )
    .bind(id)
    .bind(record)
    .bind(idx)
    .fetch_one(&db.read)
    .await?;
    Ok(n > 0)
}

/// The hearing's stored photos, in the notice's transaction (sealed into its entry).
pub async fn sealed(tx: &mut Tx, id: &str) -> Result<Vec<PhotoRef>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT record_no, idx, content_type, sha256 FROM notice_photos WHERE hearing_id = $1 \
         ORDER BY record_no, idx",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PhotoRef {
                record_no: r.try_get("record_no")?,
                index: r.try_get("idx")?,
                content_type: r.try_get("content_type")?,
                sha256: r.try_get("sha256")?,
            })
        })
        .collect()
}

/// One stored photo for a caller who may read the hearing: (content type, bytes, SHA-256),
/// decrypted (a photo stored before encryption passes through).
pub async fn read(
    db: &Db,
    vault: &Vault,
    caller: &Caller,
    id: &str,
    record: &str,
    idx: i64,
) -> Result<(String, Vec<u8>, String), AppError> {
    super::super::access::readable(db, caller, id).await?;
    let row = sqlx::query(
        "SELECT content_type, sha256, body FROM notice_photos WHERE hearing_id = $1 \
         AND record_no = $2 AND idx = $3",
    )
    .bind(id)
    .bind(record)
    .bind(idx)
    .fetch_optional(&db.read)
    .await?
    .ok_or_else(AppError::not_found)?;
    let body: String = row.try_get("body")?;
    let stored = B64.decode(body).map_err(AppError::internal)?;
    let bytes = vault.open_blob(&db.read, id, stored).await?;
    Ok((row.try_get("content_type")?, bytes, row.try_get("sha256")?))
}
