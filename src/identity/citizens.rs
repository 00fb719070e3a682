//! The `citizens` table and its only writer: a citizen found or created by phone (SMS login)
//! or by WeChat openid, and the phone binding — one rule wherever it happens (WeChat's
//! `getPhoneNumber`, or the first booking): a phone binds once; the same phone again is a
//! no-op; a different phone later is `phone_binding_immutable`; a phone another citizen holds
//! is `phone_in_use`.

use sqlx::AnyConnection;

use crate::{error::AppError, ids, store::Db};

/// A citizen as logins see it.
#[derive(Debug, Clone)]
pub struct Citizen {
    pub id: String,
    pub phone: Option<String>,
    pub phone_bound: bool,
}

/// The citizen with `phone`, created on first login.
pub async fn by_phone(db: &Db, phone: &str, now_ms: i64) -> Result<Citizen, sqlx::Error> {
    sqlx::query(
        "INSERT INTO citizens (id, phone, phone_bound, created_at) VALUES ($1, $2, 0, $3) \
         ON CONFLICT (phone) DO NOTHING",
    )
    .bind(ids::new_id())
    .bind(phone)
    .bind(now_ms)
    .execute(&db.write)
    .await?;
    let (id, bound): (String, i64) =
        sqlx::query_as("SELECT id, phone_bound FROM citizens WHERE phone = $1")
            .bind(phone)
            .fetch_one(&db.write)
            .await?;
    Ok(Citizen {
        id,
        phone: Some(phone.to_string()),
        phone_bound: bound != 0,
    })
}

/// The citizen with WeChat `openid`, created on first login.
pub async fn by_openid(
    db: &Db,
    openid: &str,
    unionid: Option<&str>,
    now_ms: i64,
) -> Result<Citizen, sqlx::Error> {
    sqlx::query(
        "INSERT INTO citizens (id, openid, unionid, phone_bound, created_at) VALUES ($1, $2, $3, 0, $4) \
         ON CONFLICT (openid) DO NOTHING",
    )
    .bind(ids::new_id())
    .bind(openid)
    .bind(unionid)
    .bind(now_ms)
    .execute(&db.write)
    .await?;
    let (id, phone, bound): (String, Option<String>, i64) =
        sqlx::query_as("SELECT id, phone, phone_bound FROM citizens WHERE openid = $1")
            .bind(openid)
            .fetch_one(&db.write)
            .await?;
    Ok(Citizen {
        id,
        phone,
        phone_bound: bound != 0,
    })
}

/// Binds `phone` to `citizen` on `conn` (a pooled connection, or the caller's transaction).
pub async fn bind_phone(
    conn: &mut AnyConnection,
    citizen: &str,
    phone: &str,
) -> Result<(), AppError> {
    let done = sqlx::query(
        "UPDATE citizens SET phone = $1, phone_bound = 1 WHERE id = $2 AND (phone_bound = 0 OR phone = $1)",
    )
    .bind(phone)
    .bind(citizen)
    .execute(&mut *conn)
    .await
    .map_err(|e| match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => AppError::conflict(
            "phone_in_use",
            "this phone number is bound to another citizen",
        )
        .with_field("phone"),
        e => AppError::from(e),
    })?;
    if done.rows_affected() == 1 {
        return Ok(());
    }
    let bound: Option<(i64,)> = sqlx::query_as("SELECT phone_bound FROM citizens WHERE id = $1")
        .bind(citizen)
        .fetch_optional(&mut *conn)
        .await?;
    match bound {
        Some(_) => Err(AppError::conflict(
            "phone_binding_immutable",
            "a bound phone number cannot be changed online",
        )),
        None => Err(AppError::not_found()),
    }
}
