//! The SQL of the auditors' hearing search: [`search`] (filters, newest slot first, keyset
//! paging on `(slot_start, id)`), [`one`] (a hearing's row) and [`actors`] (who wrote its audit
//! entries, with the staff's names and badges). Portable across SQLite and PostgreSQL.

use sqlx::{AnyPool, Row, any::AnyRow};

use super::cursor::Cursor;

/// The filters, already validated and normalised by the handler.
#[derive(Debug, Default, Clone)]
pub struct Filters {
    /// Brigade-local date `YYYY-MM-DD` of the booked slot.
    pub date: Option<String>,
    pub brigade_id: Option<String>,
    /// The officer's badge, name or id (exact).
    pub officer: Option<String>,
    pub status: Option<String>,
    /// Normalised (upper case) plate.
    pub plate: Option<String>,
    pub decision_no: Option<String>,
}

/// One hearing as the search lists it.
#[derive(Debug, Clone)]
pub struct Item {
    pub id: String,
    pub status: String,
    pub outcome: Option<String>,
    pub slot_start: i64,
    pub slot_end: i64,
    pub opened_at: i64,
    pub closed_at: Option<i64>,
    pub brigade_id: String,
    pub brigade_name: String,
    pub timezone: String,
    pub officer_id: String,
    pub officer_name: String,
    pub officer_badge: String,
    pub plate: Option<String>,
    pub slot_date: Option<String>,
    pub decision_no: Option<String>,
    pub phone: String,
}

const SELECT: &str = "SELECT h.id, h.status, h.outcome, h.slot_start, h.slot_end, h.opened_at, \
    h.closed_at, h.brigade_id, br.name AS brigade_name, br.timezone, h.officer_id, \
    s.name AS officer_name, s.badge AS officer_badge, b.plate, b.slot_date, d.decision_no, h.phone \
    FROM hearings h \
    JOIN brigades br ON br.id = h.brigade_id \
    JOIN staff s ON s.id = h.officer_id \
    LEFT JOIN bookings b ON b.id = h.booking_id \
    LEFT JOIN hearing_decisions d ON d.hearing_id = h.id";

fn item_from(r: &AnyRow) -> Result<Item, sqlx::Error> {
    Ok(Item {
        id: r.try_get("id")?,
        status: r.try_get("status")?,
        outcome: r.try_get("outcome")?,
        slot_start: r.try_get("slot_start")?,
        slot_end: r.try_get("slot_end")?,
        opened_at: r.try_get("opened_at")?,
        closed_at: r.try_get("closed_at")?,
        brigade_id: r.try_get("brigade_id")?,
        brigade_name: r.try_get("brigade_name")?,
        timezone: r.try_get("timezone")?,
        officer_id: r.try_get("officer_id")?,
        officer_name: r.try_get("officer_name")?,
        officer_badge: r.try_get("officer_badge")?,
        plate: r.try_get("plate")?,
        slot_date: r.try_get("slot_date")?,
        decision_no: r.try_get("decision_no")?,
        phone: r.try_get("phone")?,
    })
}

/// The brigade's local day `date` (YYYY-MM-DD) as `[from, to)` in ms, a day either side so a
/// slot stored with any offset is kept (the exact day is `b.slot_date`); `None` when unknown.
async fn local_day(
    pool: &AnyPool,
    brigade: &str,
    date: &str,
) -> Result<Option<(i64, i64)>, sqlx::Error> {
    let tz: Option<String> = sqlx::query_scalar("SELECT timezone FROM brigades WHERE id = $1")
        .bind(brigade)
        .fetch_optional(pool)
        .await?;
    let (Some(tz), Ok(day)) = (tz, chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")) else {
        return Ok(None);
    };
    let Ok(tz) = tz.parse::<chrono_tz::Tz>() else {
        return Ok(None);
    };
    use chrono::TimeZone;
    let start = |d: chrono::NaiveDate| {
        tz.from_local_datetime(&d.and_time(chrono::NaiveTime::MIN))
            .earliest()
            .map(|t| t.timestamp_millis())
    };
    let (Some(from), Some(to)) = (start(day), day.succ_opt().and_then(start)) else {
        return Ok(None);
    };
    const DAY: i64 = 86_400_000;
    Ok(Some((from - DAY, to + DAY)))
}

/// The staff ids an officer filter names (badge, name or id; a name may be several people's).
async fn officer_ids(pool: &AnyPool, v: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM staff WHERE badge = $1 OR name = $2 OR id = $3 LIMIT 50")
        .bind(v)
        .bind(v)
        .bind(v)
        .fetch_all(pool)
        .await
}

/// At most `limit` hearings matching `f` after `after`, newest slot first (ties by id,
/// descending), and whether more follow.
pub async fn search(
    pool: &AnyPool,
    f: &Filters,
    after: Option<&Cursor>,
    limit: i64,
) -> Result<(Vec<Item>, bool), sqlx::Error> {
    let mut sql = format!("{SELECT} WHERE 1 = 1");
    let mut binds: Vec<Bind> = vec![];
    let mut n = 0;
    let mut next = |binds: &mut Vec<Bind>, v: Bind| {
        binds.push(v);
        n += 1;
        n
    };
    if let Some(v) = &f.date {
        let i = next(&mut binds, Bind::Text(v.clone()));
        sql.push_str(&format!(" AND b.slot_date = ${i}"));
    }
    if let Some(v) = &f.brigade_id {
        let i = next(&mut binds, Bind::Text(v.clone()));
        sql.push_str(&format!(" AND h.brigade_id = ${i}"));
        // With the date: the brigade's local day as a slot range, so the plan walks only that
        // day of `hearings_audit_brigade` instead of all the brigade's hearings.
        if let Some((from, to)) = match &f.date {
            Some(d) => local_day(pool, v, d).await?,
            None => None,
        } {
            let a = next(&mut binds, Bind::Int(from));
            let b = next(&mut binds, Bind::Int(to));
            sql.push_str(&format!(
                " AND h.slot_start >= ${a} AND h.slot_start < ${b}"
            ));
        }
    }
    if let Some(v) = &f.officer {
        // Resolved first: `h.officer_id = ?` walks `hearings_audit_officer` in order and stops
        // after a page (a subquery made the plan read and sort all the officer's hearings).
        let ids = officer_ids(pool, v).await?;
        if ids.is_empty() {
            return Ok((vec![], false));
        }
        let marks: Vec<String> = ids
            .into_iter()
            .map(|id| format!("${}", next(&mut binds, Bind::Text(id))))
            .collect();
        sql.push_str(&format!(" AND h.officer_id IN ({})", marks.join(", ")));
    }
    if let Some(v) = &f.status {
        let i = next(&mut binds, Bind::Text(v.clone()));
        sql.push_str(&format!(" AND h.status = ${i}"));
    }
    if let Some(v) = &f.plate {
        let i = next(&mut binds, Bind::Text(v.clone()));
        sql.push_str(&format!(" AND b.plate = ${i}"));
    }
    if let Some(v) = &f.decision_no {
        let i = next(&mut binds, Bind::Text(v.clone()));
        sql.push_str(&format!(" AND d.decision_no = ${i}"));
    }
    if let Some(c) = after {
        let a = next(&mut binds, Bind::Int(c.slot_start));
        let b = next(&mut binds, Bind::Int(c.slot_start));
        let i = next(&mut binds, Bind::Text(c.id.clone()));
        sql.push_str(&format!(
            " AND (h.slot_start < ${a} OR (h.slot_start = ${b} AND h.id < ${i}))"
        ));
    }
    let l = next(&mut binds, Bind::Int(limit + 1));
    sql.push_str(&format!(
        " ORDER BY h.slot_start DESC, h.id DESC LIMIT ${l}"
    ));
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in binds {
        q = match b {
            Bind::Text(s) => q.bind(s),
            Bind::Int(i) => q.bind(i),
        };
    }
    let rows = q.fetch_all(pool).await?;
    let mut items = rows.iter().map(item_from).collect::<Result<Vec<_>, _>>()?;
    let more = items.len() as i64 > limit;
    items.truncate(usize::try_from(limit).unwrap_or(0));
    Ok((items, more))
}

enum Bind {
    Text(String),
    Int(i64),
}

/// One hearing's row, or `None`.
pub async fn one(pool: &AnyPool, id: &str) -> Result<Option<Item>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE h.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(item_from).transpose()
}

/// Who wrote a hearing's audit entries: `(role, id, staff name, staff badge)`; the name and
/// badge only for staff ids (a citizen's id finds no staff row).
pub async fn actors(
    pool: &AnyPool,
    hearing_id: &str,
) -> Result<Vec<(String, String, Option<String>, Option<String>)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT DISTINCT e.actor_role, e.actor_id, s.name, s.badge FROM audit_entries e \
         LEFT JOIN staff s ON s.id = e.actor_id AND e.actor_role <> 'citizen' \
         WHERE e.hearing_id = $1 ORDER BY e.actor_role, e.actor_id",
    )
    .bind(hearing_id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
        .collect()
}
