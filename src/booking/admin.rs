//! Brigade administration (schedule, seats, closed dates): the admin API under
//! `/api/v1/admin/brigades` and the function the `admin create-brigade` CLI calls.

use axum::{
    extract::{FromRef, State},
    http::StatusCode,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    Booking,
    schedule::{DayHours, WeeklyHours, parse_weekdays},
    store::{self, BrigadeRow},
};
use crate::{
    error::{ApiResult, AppError},
    http::{Json, Path},
    identity::auth::AdminAuth,
    ids,
};

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Booking: FromRef<S>,
    crate::identity::Identity: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(get, update))
        .routes(routes!(close_date, reopen_date))
}

/// A brigade's settings. Absent fields keep their value (update) or take the default (create).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct BrigadeSettings {
    pub name: Option<String>,
    pub address: Option<String>,
    pub timezone: Option<String>,
    pub seats: Option<i64>,
    pub slot_minutes: Option<i64>,
    /// Same hours every open weekday, e.g. `09:00-12:00,13:30-17:30`.
    pub hours: Option<String>,
    /// e.g. `mon-fri`.
    pub weekdays: Option<String>,
    /// Per-weekday hours, e.g. `mon-thu=09:00-12:00,13:30-17:30;fri=09:00-12:00` (overrides
    /// `hours`/`weekdays`; an empty string clears it).
    pub week_hours: Option<String>,
    /// Closed dates (holidays) to add.
    #[schema(value_type = Option<Vec<String>>)]
    pub closed_dates: Option<Vec<NaiveDate>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BrigadeAdminView {
    pub id: String,
    pub name: String,
    pub address: String,
    pub timezone: String,
    pub seats: i64,
    pub slot_minutes: i64,
    pub hours: String,
    pub weekdays: String,
    /// The effective schedule, one `day=hours` rule per open weekday.
    pub week_hours: String,
    pub closed_dates: Vec<String>,
}

fn invalid(field: &str, e: impl std::fmt::Display) -> AppError {
    AppError::unprocessable(field, e.to_string())
}

/// Applies `s` on top of `b` and checks the result.
fn apply(mut b: BrigadeRow, s: &BrigadeSettings) -> ApiResult<BrigadeRow> {
    if let Some(n) = &s.name {
        b.name = n.trim().to_string();
    }
    if b.name.is_empty() || b.name.chars().count() > 100 {
        return Err(invalid("name", "1 to 100 characters"));
    }
    if let Some(a) = &s.address {
        b.address = a.trim().to_string();
    }
    if b.address.chars().count() > 200 {
        return Err(invalid("address", "at most 200 characters"));
    }
    if let Some(t) = &s.timezone {
        b.timezone = t.trim().to_string();
    }
    b.timezone.parse::<chrono_tz::Tz>().map_err(|_| {
        invalid(
            "timezone",
            format!("{} is not a known time zone", b.timezone),
        )
    })?;
    b.seats_per_slot = s.seats.unwrap_or(b.seats_per_slot);
    if !(1..=1000).contains(&b.seats_per_slot) {
        return Err(invalid("seats", "between 1 and 1000"));
    }
    b.slot_minutes = s.slot_minutes.unwrap_or(b.slot_minutes);
    if !(5..=240).contains(&b.slot_minutes) {
        return Err(invalid("slot_minutes", "between 5 and 240"));
    }
    if let Some(h) = &s.hours {
        b.hours = DayHours::parse(h)
            .map_err(|e| invalid("hours", e))?
            .to_string();
    }
    if let Some(w) = &s.weekdays {
        parse_weekdays(w).map_err(|e| invalid("weekdays", e))?;
        b.weekdays = w.trim().to_ascii_lowercase();
    }
    if let Some(w) = &s.week_hours {
        b.week_hours = match w.trim() {
            "" => String::new(),
            w => WeeklyHours::parse(w)
                .map_err(|e| invalid("week_hours", e))?
                .to_string(),
        };
    }
    WeeklyHours::uniform(&b.hours, &b.weekdays).map_err(|e| invalid("hours", e))?;
    Ok(b)
}

async fn add_closed(state: &Booking, brigade: &str, dates: &[NaiveDate]) -> ApiResult<()> {
    for d in dates {
        sqlx::query("INSERT INTO brigade_closed_dates (brigade_id, date) VALUES ($1, $2) ON CONFLICT (brigade_id, date) DO NOTHING")
            .bind(brigade)
            .bind(d.to_string())
            .execute(&state.db.write)
            .await?;
    }
    Ok(())
}

/// Creates a brigade; returns its id. The CLI's `admin create-brigade` calls this.
pub async fn create_brigade<S>(state: &S, s: &BrigadeSettings) -> ApiResult<String>
where
    Booking: FromRef<S>,
{
    let state = &Booking::from_ref(state);
    let base = BrigadeRow {
        id: ids::new_id(),
        name: String::new(),
        address: String::new(),
        timezone: "Asia/Shanghai".into(),
        seats_per_slot: 4,
        slot_minutes: 60,
        hours: "09:00-12:00,13:30-17:30".into(),
        weekdays: "mon-fri".into(),
        week_hours: String::new(),
    };
    let b = apply(base, s)?;
    sqlx::query(
        "INSERT INTO brigades (id, name, address, timezone, seats_per_slot, slot_minutes, hours, weekdays, week_hours, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&b.id)
    .bind(&b.name)
    .bind(&b.address)
    .bind(&b.timezone)
    .bind(b.seats_per_slot)
    .bind(b.slot_minutes)
    .bind(&b.hours)
    .bind(&b.weekdays)
    .bind(&b.week_hours)
    .bind(state.clock.now_ms())
    .execute(&state.db.write)
    .await?;
    add_closed(state, &b.id, s.closed_dates.as_deref().unwrap_or_default()).await?;
    Ok(b.id)
}

async fn view(state: &Booking, id: &str) -> ApiResult<BrigadeAdminView> {
    let b = store::brigade(&state.db.read, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT date FROM brigade_closed_dates WHERE brigade_id = $1 ORDER BY date")
            .bind(id)
            .fetch_all(&state.db.read)
            .await?;
    Ok(BrigadeAdminView {
        week_hours: b.weekly()?.to_string(),
        id: b.id,
        name: b.name,
        address: b.address,
        timezone: b.timezone,
        seats: b.seats_per_slot,
        slot_minutes: b.slot_minutes,
        hours: b.hours,
        weekdays: b.weekdays,
        closed_dates: rows.into_iter().map(|(d,)| d).collect(),
    })
}

/// Creates a brigade.
#[utoipa::path(post, path = "/api/v1/admin/brigades", request_body = BrigadeSettings,
    responses((status = 201, body = BrigadeAdminView), (status = 422, body = crate::error::ErrorBody)))]
async fn create(
    State(state): State<Booking>,
    a: AdminAuth,
    Json(s): Json<BrigadeSettings>,
) -> ApiResult<(StatusCode, Json<BrigadeAdminView>)> {
    let id = create_brigade(&state, &s).await?;
    let v = view(&state, &id).await?;
    seal(&state, &a, "brigade_created", &v).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// A brigade with its schedule and closed dates.
#[utoipa::path(get, path = "/api/v1/admin/brigades/{id}", params(("id" = String, Path)),
    responses((status = 200, body = BrigadeAdminView)))]
async fn get(
    State(state): State<Booking>,
    _a: AdminAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<BrigadeAdminView>> {
    Ok(Json(view(&state, &id).await?))
}

/// Changes a brigade's settings. New seats apply to slots not yet started (never below the
/// seats already taken).
#[utoipa::path(patch, path = "/api/v1/admin/brigades/{id}", params(("id" = String, Path)), request_body = BrigadeSettings,
    responses((status = 200, body = BrigadeAdminView)))]
async fn update(
    State(state): State<Booking>,
    a: AdminAuth,
    Path(id): Path<String>,
    Json(s): Json<BrigadeSettings>,
) -> ApiResult<Json<BrigadeAdminView>> {
    update_brigade(&state, &id, &s).await?;
    let v = view(&state, &id).await?;
    seal(&state, &a, "brigade_updated", &v).await?;
    Ok(Json(v))
}

/// The admin action on the `admin` audit chain: the brigade as it now is.
async fn seal(state: &Booking, a: &AdminAuth, step: &str, v: &BrigadeAdminView) -> ApiResult<()> {
    let payload = serde_json::to_value(v).map_err(AppError::internal)?;
    let now = state.clock.now_ms();
    crate::identity::staff_admin::seal_action(&state.db, &a.user_id, step, now, payload).await
}

/// Changes a brigade's settings and adds `closed_dates`; the CLI's `admin update-brigade` calls
/// this. New seats apply to slots not yet started, never below the seats already taken.
pub async fn update_brigade<S>(state: &S, id: &str, s: &BrigadeSettings) -> ApiResult<()>
where
    Booking: FromRef<S>,
{
    let state = &Booking::from_ref(state);
    let old = store::brigade(&state.db.read, id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let b = apply(old, s)?;
    let closing = s.closed_dates.as_deref().unwrap_or_default();
    super::brigade_changes::check_date_free(state, id, closing).await?;
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "UPDATE brigades SET name = $1, address = $2, timezone = $3, seats_per_slot = $4, slot_minutes = $5, hours = $6, \
         weekdays = $7, week_hours = $8 WHERE id = $9",
    )
    .bind(&b.name)
    .bind(&b.address)
    .bind(&b.timezone)
    .bind(b.seats_per_slot)
    .bind(b.slot_minutes)
    .bind(&b.hours)
    .bind(&b.weekdays)
    .bind(&b.week_hours)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE slots SET capacity = CASE WHEN taken > $1 THEN taken ELSE $1 END WHERE brigade_id = $2 AND start_at > $3")
        .bind(b.seats_per_slot)
        .bind(id)
        .bind(state.clock.now_ms())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    add_closed(state, id, s.closed_dates.as_deref().unwrap_or_default()).await
}

/// Reopens closed dates.
pub async fn reopen_dates<S>(state: &S, id: &str, dates: &[NaiveDate]) -> ApiResult<()>
where
    Booking: FromRef<S>,
{
    let state = &Booking::from_ref(state);
    for d in dates {
        sqlx::query("DELETE FROM brigade_closed_dates WHERE brigade_id = $1 AND date = $2")
            .bind(id)
            .bind(d.to_string())
            .execute(&state.db.write)
            .await?;
    }
    Ok(())
}

fn date_param(d: &str) -> ApiResult<NaiveDate> {
    d.parse().map_err(|_| invalid("date", "a date YYYY-MM-DD"))
}

/// Closes a brigade on a date (holiday). A date with active bookings answers 409
/// `date_has_bookings` listing them (`params.bookings`): move or cancel each first.
#[utoipa::path(put, path = "/api/v1/admin/brigades/{id}/closed-dates/{date}",
    params(("id" = String, Path), ("date" = String, Path)),
    responses((status = 204), (status = 409, body = crate::error::ErrorBody)))]
async fn close_date(
    State(state): State<Booking>,
    a: AdminAuth,
    Path((id, date)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let date = date_param(&date)?;
    store::brigade(&state.db.read, &id)
        .await?
        .ok_or_else(AppError::not_found)?;
    super::brigade_changes::check_date_free(&state, &id, &[date]).await?;
    add_closed(&state, &id, &[date]).await?;
    let payload = serde_json::json!({"brigade_id": id, "date": date.to_string()});
    let now = state.clock.now_ms();
    crate::identity::staff_admin::seal_action(
        &state.db,
        &a.user_id,
        "brigade_date_closed",
        now,
        payload,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Reopens a closed date.
#[utoipa::path(delete, path = "/api/v1/admin/brigades/{id}/closed-dates/{date}",
    params(("id" = String, Path), ("date" = String, Path)), responses((status = 204)))]
async fn reopen_date(
    State(state): State<Booking>,
    a: AdminAuth,
    Path((id, date)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let date = date_param(&date)?;
    reopen_dates(&state, &id, &[date]).await?;
    let payload = serde_json::json!({"brigade_id": id, "date": date.to_string()});
    let now = state.clock.now_ms();
    crate::identity::staff_admin::seal_action(
        &state.db,
        &a.user_id,
        "brigade_date_reopened",
        now,
        payload,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
