//! The `selftests` table (migration `…915001_selftests`): results of the citizen's self-test per
//! booking.

use crate::{error::AppError, store::Db};

/// One stored result.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SelfTestRow {
    pub id: String,
    pub booking_id: String,
    pub citizen_id: String,
    pub at: i64,
    pub score: String,
    pub advice: String,
    pub report: String,
}

pub async fn insert(db: &Db, row: &SelfTestRow) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO selftests (id, booking_id, citizen_id, at, score, advice, report) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&row.id)
    .bind(&row.booking_id)
    .bind(&row.citizen_id)
    .bind(row.at)
    .bind(&row.score)
    .bind(&row.advice)
    .bind(&row.report)
    .execute(&db.write)
    .await?;
    Ok(())
}

/// The newest `limit` results of a booking, newest first.
pub async fn latest(db: &Db, booking_id: &str, limit: i64) -> Result<Vec<SelfTestRow>, AppError> {
    Ok(sqlx::query_as(
        "SELECT id, booking_id, citizen_id, at, score, advice, report FROM selftests \
         WHERE booking_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
    )
    .bind(booking_id)
    .bind(limit)
    .fetch_all(&db.read)
    .await?)
}
