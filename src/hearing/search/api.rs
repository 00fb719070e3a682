//! `GET /api/v1/audit/hearings` (the auditors' search, keyset-paged) and
//! `GET /api/v1/audit/hearings/{id}` (one hearing's summary with its actors named). Auditors
//! only; every filter is checked here and a bad one is 422 `invalid_field` naming it; the
//! limits below are the OpenAPI's (characters, not bytes).

use axum::extract::State;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{cursor::Cursor, store};
use crate::{
    domain::{PhoneNumber, Plate},
    error::{ApiResult, AppError},
    hearing::machine::Status,
    http::{Path, Query},
    identity::AuditorAuth,
    state::AppState,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search))
        .routes(routes!(one))
}

/// Most characters of `brigade_id`, `officer` and `decision_no`.
pub const MAX_TEXT_CHARS: usize = 64;
/// Items per page: default and most.
pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The booked slot's date in its brigade's time zone, `YYYY-MM-DD`.
    date: Option<String>,
    /// Only this brigade's hearings.
    #[param(min_length = 1, max_length = 64)]
    brigade_id: Option<String>,
    /// The officer's badge, name or id (exact).
    #[param(min_length = 1, max_length = 64)]
    officer: Option<String>,
    status: Option<Status>,
    /// The vehicle plate (exact; letters in any case).
    #[param(value_type = Option<String>, pattern = "^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Za-z][A-Za-z0-9]{5,6}$")]
    plate: Option<String>,
    /// The decision number (exact).
    #[param(min_length = 1, max_length = 64)]
    decision_no: Option<String>,
    /// `next_cursor` of the previous page.
    #[param(min_length = 1, max_length = 128, pattern = "^[A-Za-z0-9_-]+$")]
    cursor: Option<String>,
    /// Items per page (default 20).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
}

/// A staff member as the auditor sees them.
#[derive(Debug, Serialize, ToSchema)]
pub struct StaffName {
    pub id: String,
    pub name: String,
    pub badge: String,
}

/// One hearing in the auditors' list.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditHearing {
    pub id: String,
    /// The booked slot's date in the brigade's time zone (`YYYY-MM-DD`).
    pub date: String,
    pub brigade_id: String,
    pub brigade_name: String,
    /// The brigade's IANA time zone; the times below are in it.
    pub timezone: String,
    pub officer: StaffName,
    pub plate: Option<String>,
    pub status: Status,
    /// Why it closed (`completed`, `disputed`, `confirmation_refused`, …); `null` while open.
    pub outcome: Option<String>,
    pub decision_no: Option<String>,
    /// The booked slot (RFC 3339).
    pub slot_start: String,
    pub slot_end: String,
    pub opened_at: String,
    pub closed_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditHearingPage {
    pub items: Vec<AuditHearing>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Someone who wrote the hearing's audit entries: staff by name and badge; the citizen by
/// masked phone; `system` by role alone.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditActor {
    /// `officer`, `citizen`, `system`, `auditor` or `admin`.
    pub role: String,
    pub id: String,
    pub name: Option<String>,
    pub badge: Option<String>,
    /// The citizen's phone, masked (`138****5678`).
    pub phone_masked: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditHearingDetail {
    pub hearing: AuditHearing,
    pub actors: Vec<AuditActor>,
}

fn rfc3339(tz: Tz, ms: i64) -> String {
    crate::clock::from_ms(ms).with_timezone(&tz).to_rfc3339()
}

fn view(i: store::Item) -> AuditHearing {
    let tz: Tz = i.timezone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
    let date = i.slot_date.clone().unwrap_or_else(|| {
        crate::clock::from_ms(i.slot_start)
            .with_timezone(&tz)
            .format("%Y-%m-%d")
            .to_string()
    });
    AuditHearing {
        date,
        brigade_id: i.brigade_id,
        brigade_name: i.brigade_name,
        timezone: tz.name().to_string(),
        officer: StaffName {
            id: i.officer_id,
            name: i.officer_name,
            badge: i.officer_badge,
        },
        plate: i.plate,
        status: Status::parse(&i.status).unwrap_or(Status::Open),
        outcome: i.outcome,
        decision_no: i.decision_no,
        slot_start: rfc3339(tz, i.slot_start),
        slot_end: rfc3339(tz, i.slot_end),
        opened_at: rfc3339(tz, i.opened_at),
        closed_at: i.closed_at.map(|c| rfc3339(tz, c)),
        id: i.id,
    }
}

/// A text filter of 1 to [`MAX_TEXT_CHARS`] characters.
fn text(field: &str, v: Option<String>) -> ApiResult<Option<String>> {
    match v {
        Some(s) if !(1..=MAX_TEXT_CHARS).contains(&s.chars().count()) => {
            Err(AppError::unprocessable(
                field,
                format!("{field} must be 1 to {MAX_TEXT_CHARS} characters"),
            ))
        }
        v => Ok(v),
    }
}

/// The query checked and normalised: filters, cursor, limit.
fn checked(q: SearchQuery) -> ApiResult<(store::Filters, Option<Cursor>, i64)> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(AppError::unprocessable(
            "limit",
            format!("limit must be 1 to {MAX_LIMIT}"),
        ));
    }
    let date = match q.date {
        Some(d) => match chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d") {
            Ok(day) if d.len() == 10 => Some(day.format("%Y-%m-%d").to_string()),
            _ => {
                return Err(AppError::unprocessable(
                    "date",
                    "date must be a calendar date YYYY-MM-DD",
                ));
            }
        },
        None => None,
    };
    let plate = match q.plate {
        Some(p) => Some(
            Plate::parse(&p)
                .map_err(|m| AppError::unprocessable("plate", m))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    let cursor = match q.cursor {
        Some(c) => Some(Cursor::decode(&c).ok_or_else(|| {
            AppError::unprocessable("cursor", "cursor is not one this search gave")
        })?),
        None => None,
    };
    let f = store::Filters {
        date,
        brigade_id: text("brigade_id", q.brigade_id)?,
        officer: text("officer", q.officer)?,
        status: q.status.map(|s| s.as_str().to_string()),
        plate,
        decision_no: text("decision_no", q.decision_no)?,
    };
    Ok((f, cursor, limit))
}

/// The auditors' search of hearings (issue 18 §4): by brigade-local date, brigade, officer
/// (badge, name or id), status, plate and decision number; newest slot first; keyset-paged
/// (`next_cursor`). Auditors only.
#[utoipa::path(get, path = "/api/v1/audit/hearings", params(SearchQuery),
    responses((status = 200, body = AuditHearingPage), (status = 422, body = crate::error::ErrorBody)))]
async fn search(
    State(state): State<AppState>,
    _auth: AuditorAuth,
    Query(q): Query<SearchQuery>,
) -> ApiResult<axum::Json<AuditHearingPage>> {
    let (f, cursor, limit) = checked(q)?;
    // No stored value holds a NUL (PostgreSQL text cannot even bind one): nothing matches.
    if [&f.brigade_id, &f.officer, &f.decision_no]
        .iter()
        .any(|v| v.as_deref().is_some_and(|s| s.contains('\0')))
    {
        return Ok(axum::Json(AuditHearingPage {
            items: vec![],
            next_cursor: None,
        }));
    }
    let (items, more) = store::search(&state.db.read, &f, cursor.as_ref(), limit).await?;
    let next_cursor = if more {
        items.last().map(|i| {
            Cursor {
                slot_start: i.slot_start,
                id: i.id.clone(),
            }
            .encode()
        })
    } else {
        None
    };
    Ok(axum::Json(AuditHearingPage {
        items: items.into_iter().map(view).collect(),
        next_cursor,
    }))
}

/// One hearing for the auditor page: the list's summary and who acted in it (staff by name
/// and badge, the citizen by masked phone). Auditors only; an unknown id is 404.
#[utoipa::path(get, path = "/api/v1/audit/hearings/{id}", params(("id" = String, Path)),
    responses((status = 200, body = AuditHearingDetail), (status = 404, body = crate::error::ErrorBody)))]
async fn one(
    State(state): State<AppState>,
    _auth: AuditorAuth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<AuditHearingDetail>> {
    if id.is_empty() || id.chars().count() > MAX_TEXT_CHARS || id.contains('\0') {
        return Err(AppError::not_found());
    }
    let item = store::one(&state.db.read, &id)
        .await?
        .ok_or_else(AppError::not_found)?;
    let phone_masked = PhoneNumber::parse(&item.phone)
        .map(|p| p.masked())
        .unwrap_or_else(|_| "***".into());
    let actors = store::actors(&state.db.read, &id)
        .await?
        .into_iter()
        .map(|(role, id, name, badge)| AuditActor {
            phone_masked: (role == "citizen").then(|| phone_masked.clone()),
            role,
            id,
            name,
            badge,
        })
        .collect();
    Ok(axum::Json(AuditHearingDetail {
        hearing: view(item),
        actors,
    }))
}
