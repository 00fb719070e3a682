//! The `access_log` table: [`insert`] (called only by `log::record`, in the transaction of the
//! read's `access` audit entry) and [`list`] (the auditors' search, newest first).

use crate::{
    error::ApiResult,
    store::{Db, Tx},
};

/// One staff read.
#[derive(Debug, Clone)]
pub struct Access {
    pub at_ms: i64,
    pub actor_role: String,
    pub actor_id: String,
    /// `read_hearing`, `read_recording`, `read_evidence`, `read_bundle`, … (`api::ACTIONS`).
    pub action: &'static str,
    /// `kind:id`, e.g. `recording:0193…`.
    pub object: String,
    pub hearing_id: Option<String>,
    pub ip: String,
}

/// Inserts the row of a read whose audit entry is `audit_seq`, in the caller's transaction.
pub async fn insert(tx: &mut Tx, a: &Access, audit_seq: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO access_log (id, at, actor_role, actor_id, action, object, hearing_id, ip, audit_seq) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(a.at_ms)
    .bind(&a.actor_role)
    .bind(&a.actor_id)
    .bind(a.action)
    .bind(&a.object)
    .bind(a.hearing_id.clone())
    .bind(&a.ip)
    .bind(audit_seq)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A stored read.
#[derive(Debug, Clone)]
pub struct Row {
    pub at_ms: i64,
    pub actor_role: String,
    pub actor_id: String,
    pub action: String,
    pub object: String,
    pub ip: String,
}

/// Reads of `hearing_id` and/or by `actor` (staff id), newest first, at most `limit`.
pub async fn list(
    db: &Db,
    hearing_id: Option<&str>,
    actor: Option<&str>,
    limit: i64,
) -> ApiResult<Vec<Row>> {
    let mut sql = String::from(
        "SELECT at, actor_role, actor_id, action, object, ip FROM access_log WHERE 1 = 1",
    );
    let mut n = 0;
    if hearing_id.is_some() {
        n += 1;
        sql.push_str(&format!(" AND hearing_id = ${n}"));
    }
    if actor.is_some() {
        n += 1;
        sql.push_str(&format!(" AND actor_id = ${n}"));
    }
    sql.push_str(&format!(
        " ORDER BY at DESC, audit_seq DESC LIMIT ${}",
        n + 1
    ));
    let mut q = sqlx::query_as::<_, (i64, String, String, String, String, String)>(
        sqlx::AssertSqlSafe(sql),
    );
    for v in [hearing_id, actor].into_iter().flatten() {
        q = q.bind(v.to_string());
    }
    let rows = q.bind(limit).fetch_all(&db.read).await?;
    Ok(rows
        .into_iter()
        .map(|(at_ms, actor_role, actor_id, action, object, ip)| Row {
            at_ms,
            actor_role,
            actor_id,
            action,
            object,
            ip,
        })
        .collect())
}
