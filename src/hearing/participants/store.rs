//! The SQL of `hearing_participants`: insert, read (by hearing, by id, locked in a
//! transaction), the join/admit/leave stamps and the agent's authority document. Name and phone
//! are stored sealed (the caller seals and opens them with the identity data key).

use sqlx::{AnyPool, FromRow};

use crate::store::Tx;

/// A stored participant (name and phone sealed).
#[derive(Debug, Clone, FromRow)]
pub struct ParticipantRow {
    pub id: String,
    pub hearing_id: String,
    pub role: String,
    pub kind: Option<String>,
    pub language: Option<String>,
    pub name_enc: String,
    pub phone_enc: String,
    pub phone_masked: String,
    pub added_by: String,
    pub added_at: i64,
    pub joined_at: Option<i64>,
    pub admitted_at: Option<i64>,
    pub left_at: Option<i64>,
    pub authority_sha256: Option<String>,
}

macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, hearing_id, role, kind, language, name_enc, phone_enc, phone_masked, \
             added_by, added_at, joined_at, admitted_at, left_at, authority_sha256 \
             FROM hearing_participants ",
            $rest
        )
    };
}

pub async fn insert(tx: &mut Tx, p: &ParticipantRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO hearing_participants (id, hearing_id, role, kind, language, name_enc, \
         phone_enc, phone_masked, added_by, added_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&p.id)
    .bind(&p.hearing_id)
    .bind(&p.role)
    .bind(&p.kind)
    .bind(&p.language)
    .bind(&p.name_enc)
    .bind(&p.phone_enc)
    .bind(&p.phone_masked)
    .bind(&p.added_by)
    .bind(p.added_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A hearing's participants, in the order they were added.
pub async fn of_hearing(
    pool: &AnyPool,
    hearing_id: &str,
) -> Result<Vec<ParticipantRow>, sqlx::Error> {
    sqlx::query_as(select!("WHERE hearing_id = $1 ORDER BY added_at, id"))
        .bind(hearing_id)
        .fetch_all(pool)
        .await
}

/// The same, read in a transaction (the decision document).
pub async fn of_hearing_tx(
    tx: &mut Tx,
    hearing_id: &str,
) -> Result<Vec<ParticipantRow>, sqlx::Error> {
    sqlx::query_as(select!("WHERE hearing_id = $1 ORDER BY added_at, id"))
        .bind(hearing_id)
        .fetch_all(&mut **tx)
        .await
}

pub async fn get(pool: &AnyPool, id: &str) -> Result<Option<ParticipantRow>, sqlx::Error> {
    sqlx::query_as(select!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await
}

/// The participant, read in the transaction that holds the hearing's lock.
pub async fn get_tx(tx: &mut Tx, id: &str) -> Result<Option<ParticipantRow>, sqlx::Error> {
    sqlx::query_as(select!("WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

/// How many participants of `role` the hearing has (and of all roles).
pub async fn count(tx: &mut Tx, hearing_id: &str, role: &str) -> Result<(i64, i64), sqlx::Error> {
    let of_role: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM hearing_participants WHERE hearing_id = $1 AND role = $2",
    )
    .bind(hearing_id)
    .bind(role)
    .fetch_one(&mut **tx)
    .await?;
    let all: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM hearing_participants WHERE hearing_id = $1")
            .bind(hearing_id)
            .fetch_one(&mut **tx)
            .await?;
    Ok((of_role, all))
}

/// Sets one of the stamps `joined_at`, `admitted_at`, `left_at` (a fixed column name).
pub async fn stamp(tx: &mut Tx, id: &str, column: Stamp, at: i64) -> Result<(), sqlx::Error> {
    let sql = match column {
        Stamp::Joined => {
            "UPDATE hearing_participants SET joined_at = $1, left_at = NULL WHERE id = $2"
        }
        Stamp::Admitted => "UPDATE hearing_participants SET admitted_at = $1 WHERE id = $2",
        Stamp::Left => {
            "UPDATE hearing_participants SET left_at = $1, admitted_at = NULL WHERE id = $2"
        }
    };
    sqlx::query(sql)
        .bind(at)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Copy)]
pub enum Stamp {
    Joined,
    Admitted,
    Left,
}

/// Stores an agent's authority document (replacing an earlier one).
pub async fn set_authority(
    tx: &mut Tx,
    id: &str,
    content_type: &str,
    data_b64: &str,
    sha256: &str,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE hearing_participants SET authority_type = $1, authority_data = $2, \
         authority_sha256 = $3, authority_at = $4 WHERE id = $5",
    )
    .bind(content_type)
    .bind(data_b64)
    .bind(sha256)
    .bind(at)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
