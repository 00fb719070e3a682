//! The `citizens` table and its only writer: a citizen found or created by phone (SMS login)
//! or by WeChat openid, and the phone binding — one rule wherever it happens (WeChat's
//! `getPhoneNumber`, or the first booking): a phone binds once; the same phone again is a
//! no-op; a different phone later is `phone_binding_immutable`; a phone another citizen holds
//! is `phone_in_use`. Also the party's identity (real name and resident ID number), encrypted
//! at rest with the [`DataKey`]: given by the citizen until a hearing has used it in its
//! `identity` step, then `identity_immutable`; read back masked everywhere except [`party`]
//! (the hearing's officer during the hearing, and the decision document).

use serde::Serialize;
use sqlx::AnyConnection;

use super::DataKey;
use crate::{
    domain::{IdNumber, PersonName, PhoneNumber},
    error::AppError,
    ids,
    store::{
        Db,
        batch::{self, Stmt},
    },
};

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

/// The WeChat openid of `citizen`, when they signed in with the mini program.
pub async fn openid_of(db: &Db, citizen: &str) -> Result<Option<String>, sqlx::Error> {
    let v: Option<(Option<String>,)> = sqlx::query_as("SELECT openid FROM citizens WHERE id = $1")
        .bind(citizen)
        .fetch_optional(&db.read)
        .await?;
    Ok(v.and_then(|(o,)| o))
}

/// Binds `phone` to `citizen` on `conn` (a pooled connection, or the caller's transaction).
pub async fn bind_phone(
    conn: &mut AnyConnection,
    citizen: &str,
    phone: &str,
) -> Result<(), AppError> {
    let done = batch::run(conn, &[bind_phone_stmt(citizen, phone)])
        .await
        .map(|rows| rows.first().copied().unwrap_or(0))
        .map_err(|f| f.error);
    bound(conn, citizen, done).await
}

/// The update of [`bind_phone`], for a caller's batch of writes (`store::batch`); its outcome
/// (rows affected, or the error) is then judged by [`bound`].
pub fn bind_phone_stmt(citizen: &str, phone: &str) -> Stmt {
    Stmt::new(
        "UPDATE citizens SET phone = $1, phone_bound = 1 WHERE id = $2 AND (phone_bound = 0 OR phone = $1)",
    )
    .text(phone)
    .text(citizen)
}

/// Whether [`bind_phone_stmt`] bound the phone: a number bound to another citizen is
/// `phone_in_use`, another number already bound `phone_binding_immutable`.
pub async fn bound(
    conn: &mut AnyConnection,
    citizen: &str,
    done: Result<u64, sqlx::Error>,
) -> Result<(), AppError> {
    let rows = done.map_err(|e| match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => AppError::conflict(
            "phone_in_use",
            "this phone number is bound to another citizen",
        )
        .with_field("phone"),
        e => AppError::from(e),
    })?;
    if rows == 1 {
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

/// The associated data of a sealed identity column: its table, column and row.
fn place(column: &str, citizen: &str) -> String {
    format!("citizens.{column}:{citizen}")
}

/// A citizen's identity as the citizen and every view other than [`party`] sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct IdentityView {
    pub name: String,
    /// `3701**********1234`.
    pub id_number_masked: String,
}

/// The party of a hearing, named: for the hearing's officer and the decision document only.
/// `Debug` shows the ID number masked.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Party {
    pub name: String,
    /// The clear ID number (GB 11643-1999).
    pub id_number: String,
    pub id_number_masked: String,
    /// `138****5678`, when a phone is bound.
    pub phone_masked: Option<String>,
}

impl std::fmt::Debug for Party {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Party")
            .field("name", &self.name)
            .field("id_number", &self.id_number_masked)
            .field("phone_masked", &self.phone_masked)
            .finish()
    }
}

/// Gives (or corrects) `citizen`'s identity. Once a hearing has used it, the same identity
/// again is a no-op and a different one is 409 `identity_immutable`.
pub async fn set_identity(
    db: &Db,
    key: &DataKey,
    citizen: &str,
    name: &PersonName,
    id_number: &IdNumber,
    now_ms: i64,
) -> Result<IdentityView, AppError> {
    let seal = |column: &str, plain: &str| {
        key.seal(&place(column, citizen), plain)
            .map_err(AppError::internal)
    };
    let name_enc = seal("real_name", name.as_str())?;
    let id_enc = seal("id_number", id_number.as_str())?;
    let view = IdentityView {
        name: name.as_str().to_string(),
        id_number_masked: id_number.masked(),
    };
    // Used once a hearing of the citizen has recorded its `identity` step.
    let done = sqlx::query(
        "UPDATE citizens SET real_name_enc = $1, id_number_enc = $2, identity_at = $3 \
         WHERE id = $4 AND NOT EXISTS (SELECT 1 FROM hearing_steps s \
         JOIN hearings h ON h.id = s.hearing_id \
         WHERE h.citizen_id = $4 AND s.kind = 'step' AND s.step = 'identity')",
    )
    .bind(name_enc)
    .bind(id_enc)
    .bind(now_ms)
    .bind(citizen)
    .execute(&db.write)
    .await?;
    if done.rows_affected() == 1 {
        tracing::info!(citizen, id_number = %id_number, "citizen identity given");
        return Ok(view);
    }
    let mut conn = db.write.acquire().await?;
    match stored(&mut conn, key, citizen).await? {
        None => Err(AppError::not_found()),
        Some(Some((n, i))) if n == *name && i == *id_number => Ok(view),
        Some(_) => Err(AppError::conflict(
            "identity_immutable",
            "the identity was used by a hearing and cannot be changed online",
        )),
    }
}

/// The stored identity: `None` for no such citizen, `Some(None)` when none was given.
async fn stored(
    conn: &mut AnyConnection,
    key: &DataKey,
    citizen: &str,
) -> Result<Option<Option<(PersonName, IdNumber)>>, AppError> {
    let row: Option<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT real_name_enc, id_number_enc FROM citizens WHERE id = $1")
            .bind(citizen)
            .fetch_optional(&mut *conn)
            .await?;
    let Some(row) = row else { return Ok(None) };
    let (Some(name_enc), Some(id_enc)) = row else {
        return Ok(Some(None));
    };
    let (name, id_number) = open_identity(key, citizen, &name_enc, &id_enc)?;
    Ok(Some(Some((name, id_number))))
}

/// `citizen`'s identity, masked (`None` when none was given or no such citizen).
pub async fn identity(
    db: &Db,
    key: &DataKey,
    citizen: &str,
) -> Result<Option<IdentityView>, AppError> {
    let mut conn = db.read.acquire().await?;
    identity_on(&mut conn, key, citizen).await
}

/// [`identity`] on `conn` (a pooled connection, or the caller's transaction).
pub async fn identity_on(
    conn: &mut AnyConnection,
    key: &DataKey,
    citizen: &str,
) -> Result<Option<IdentityView>, AppError> {
    Ok(stored(conn, key, citizen)
        .await?
        .flatten()
        .map(|(name, id_number)| IdentityView {
            name: name.as_str().to_string(),
            id_number_masked: id_number.masked(),
        }))
}

/// The named party (clear ID number) for the decision document and the hearing's officer;
/// `None` when the citizen gave no identity.
pub async fn party(db: &Db, key: &DataKey, citizen: &str) -> Result<Option<Party>, AppError> {
    let mut conn = db.read.acquire().await?;
    let Some((name, id_number)) = stored(&mut conn, key, citizen).await?.flatten() else {
        return Ok(None);
    };
    let phone: Option<String> = sqlx::query_scalar("SELECT phone FROM citizens WHERE id = $1")
        .bind(citizen)
        .fetch_one(&mut *conn)
        .await?;
    Ok(Some(Party {
        name: name.as_str().to_string(),
        id_number_masked: id_number.masked(),
        id_number: id_number.as_str().to_string(),
        phone_masked: phone
            .as_deref()
            .and_then(|p| PhoneNumber::parse(p).ok())
            .map(|p| p.masked()),
    }))
}

/// [`party`] read on the caller's connection (the decision document is issued inside the
/// `service` transaction, and SQLite has one writing connection): `None` when the citizen gave
/// no identity.
pub async fn party_in(
    conn: &mut AnyConnection,
    key: &DataKey,
    citizen: &str,
) -> Result<Option<Party>, AppError> {
    let row: Option<(Option<String>, Option<String>, Option<String>)> =
        sqlx::query_as("SELECT real_name_enc, id_number_enc, phone FROM citizens WHERE id = $1")
            .bind(citizen)
            .fetch_optional(&mut *conn)
            .await?;
    let Some((Some(name_enc), Some(id_enc), phone)) = row else {
        return Ok(None);
    };
    let (name, id_number) = open_identity(key, citizen, &name_enc, &id_enc)?;
    Ok(Some(Party {
        name: name.as_str().to_string(),
        id_number_masked: id_number.masked(),
        id_number: id_number.as_str().to_string(),
        phone_masked: phone
            .as_deref()
            .and_then(|p| PhoneNumber::parse(p).ok())
            .map(|p| p.masked()),
    }))
}

/// Decrypts and parses a citizen's stored name and ID number (bound to their row and column).
fn open_identity(
    key: &DataKey,
    citizen: &str,
    name_enc: &str,
    id_enc: &str,
) -> Result<(PersonName, IdNumber), AppError> {
    let open = |column: &str, sealed: &str| {
        key.open(&place(column, citizen), sealed)
            .map_err(AppError::internal)
    };
    let name = PersonName::parse(&open("real_name", name_enc)?)
        .map_err(|_| AppError::internal("a stored name does not parse"))?;
    let id_number = IdNumber::parse(&open("id_number", id_enc)?)
        .map_err(|_| AppError::internal("a stored ID number does not parse"))?;
    Ok((name, id_number))
}
