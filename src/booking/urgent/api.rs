//! The urgent lane endpoints (API.md, Urgent queue): list, claim, renew, release, and the
//! admin's rebuild from the database.

use axum::extract::FromRef;
use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{RebuildReport, lane, rebuild_all};
use crate::booking::Booking;
use crate::{
    booking::{
        model::{BookingStatus, BookingView, rfc3339},
        store,
    },
    error::{ApiResult, AppError},
    http::{Json, Path},
    identity::auth::{AdminAuth, OfficerAuth},
};

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Booking: FromRef<S>,
    crate::identity::Identity: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(claim))
        .routes(routes!(renew))
        .routes(routes!(release))
        .routes(routes!(rebuild))
}

#[derive(Serialize, ToSchema)]
pub struct UrgentItem {
    booking_id: String,
    deadline: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    claimed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lease_until: Option<String>,
    /// The case (plate, slot, violations, masked phone), so that the officer sees what they
    /// claim; absent for an item past the first [`DETAILED`] or whose booking is gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    booking: Option<BookingView>,
}

/// Items of the lane listed with their booking.
const DETAILED: usize = 50;

#[derive(Serialize, ToSchema)]
pub struct UrgentLane {
    /// Items in the lane, waiting and claimed.
    depth: usize,
    waiting: usize,
    claimed: usize,
    items: Vec<UrgentItem>,
}

#[derive(Serialize, ToSchema)]
pub struct ClaimView {
    booking_id: String,
    deadline: String,
    lease_until: String,
}

#[derive(Serialize, ToSchema)]
pub struct LeaseView {
    lease_until: String,
}

/// The officer's brigade and its time zone.
async fn brigade_of(state: &Booking, auth: &OfficerAuth) -> ApiResult<(String, Tz)> {
    let id = auth.brigade_id.clone().ok_or_else(AppError::forbidden)?;
    let b = store::brigade(&state.db.read, &id)
        .await?
        .ok_or_else(AppError::forbidden)?;
    Ok((id, b.tz()?))
}

fn lease_until(state: &Booking) -> i64 {
    state
        .clock
        .now_ms()
        .saturating_add((state.config.lease_s as i64).saturating_mul(1000))
}

fn not_held() -> AppError {
    AppError::conflict(
        "claim_not_held",
        "you do not hold a live claim on this booking",
    )
}

/// The brigade's urgent lane, earliest deadline first.
#[utoipa::path(get, path = "/api/v1/urgent", responses((status = 200, body = UrgentLane)))]
async fn list(State(state): State<Booking>, auth: OfficerAuth) -> ApiResult<Json<UrgentLane>> {
    let (brigade, tz) = brigade_of(&state, &auth).await?;
    let items = lane(&state.kv)
        .list(&mut state.kv.conn(), &brigade, state.clock.now_ms())
        .await?;
    let claimed = items.iter().filter(|i| i.claimed_by.is_some()).count();
    // The first DETAILED items carry their booking, read in one query.
    let ids: Vec<String> = items
        .iter()
        .take(DETAILED)
        .map(|i| i.booking_id.clone())
        .collect();
    let mut bookings: std::collections::HashMap<String, _> =
        store::bookings_in(&state.db.read, &ids)
            .await?
            .into_iter()
            .map(|b| (b.id.clone(), b))
            .collect();
    let mut out = Vec::with_capacity(items.len());
    for i in items {
        let booking = bookings.remove(&i.booking_id);
        out.push(UrgentItem {
            booking_id: i.booking_id,
            deadline: rfc3339(tz, i.deadline_ms),
            claimed_by: i.claimed_by,
            lease_until: i.lease_until_ms.map(|l| rfc3339(tz, l)),
            booking: booking.as_ref().map(BookingView::from),
        });
    }
    let items = out;
    Ok(Json(UrgentLane {
        depth: items.len(),
        waiting: items.len() - claimed,
        claimed,
        items,
    }))
}

/// Claims the earliest-deadline waiting item with a lease; 204 when the lane is empty.
#[utoipa::path(post, path = "/api/v1/urgent/claim", responses((status = 200, body = ClaimView), (status = 204)))]
async fn claim(State(state): State<Booking>, auth: OfficerAuth) -> ApiResult<Response> {
    let (brigade, tz) = brigade_of(&state, &auth).await?;
    let q = lane(&state.kv);
    let mut conn = state.kv.conn();
    // A stale item (its booking left while Redis was away) is dropped and the next one taken.
    for _ in 0..10 {
        let Some(c) = q
            .claim(
                &mut conn,
                &brigade,
                &auth.user_id,
                state.clock.now_ms(),
                lease_until(&state),
            )
            .await?
        else {
            break;
        };
        let status = store::booking(&state.db.read, &c.booking_id)
            .await?
            .and_then(|b| BookingStatus::parse(&b.status));
        if !status.is_some_and(BookingStatus::is_active) {
            q.remove(&mut conn, &c.booking_id).await?;
            continue;
        }
        // A booking in a hearing is its officer's (their lease had lapsed): given back, and
        // the next one taken.
        if status == Some(BookingStatus::InHearing)
            && let Some(officer) =
                crate::hearing::store::live_officer(&state.db.read, &c.booking_id).await?
            && officer != auth.user_id
        {
            q.hold(
                &mut conn,
                &brigade,
                &c.booking_id,
                c.deadline_ms,
                &officer,
                state.clock.now_ms(),
                c.lease_until_ms,
            )
            .await?;
            continue;
        }
        let view = ClaimView {
            booking_id: c.booking_id,
            deadline: rfc3339(tz, c.deadline_ms),
            lease_until: rfc3339(tz, c.lease_until_ms),
        };
        return Ok(Json(view).into_response());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Extends the caller's lease.
#[utoipa::path(post, path = "/api/v1/urgent/{booking_id}/renew", params(("booking_id" = String, Path)),
    responses((status = 200, body = LeaseView), (status = 409, body = crate::error::ErrorBody)))]
async fn renew(
    State(state): State<Booking>,
    auth: OfficerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<LeaseView>> {
    let (brigade, tz) = brigade_of(&state, &auth).await?;
    let until = lease_until(&state);
    let ok = lane(&state.kv)
        .renew(
            &mut state.kv.conn(),
            &brigade,
            &id,
            &auth.user_id,
            state.clock.now_ms(),
            until,
        )
        .await?;
    if !ok {
        return Err(not_held());
    }
    Ok(Json(LeaseView {
        lease_until: rfc3339(tz, until),
    }))
}

/// Gives the caller's claim back to the lane.
#[utoipa::path(post, path = "/api/v1/urgent/{booking_id}/release", params(("booking_id" = String, Path)),
    responses((status = 204), (status = 409, body = crate::error::ErrorBody)))]
async fn release(
    State(state): State<Booking>,
    auth: OfficerAuth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let (brigade, _) = brigade_of(&state, &auth).await?;
    let ok = lane(&state.kv)
        .release(
            &mut state.kv.conn(),
            &brigade,
            &id,
            &auth.user_id,
            state.clock.now_ms(),
        )
        .await?;
    if !ok {
        return Err(not_held());
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Rebuilds every urgent lane from the database (the truth); the sweeper job does the same on
/// its own when Redis lost the lane.
#[utoipa::path(post, path = "/api/v1/admin/urgent/rebuild", responses((status = 200, body = RebuildReport)))]
async fn rebuild(State(state): State<Booking>, _auth: AdminAuth) -> ApiResult<Json<RebuildReport>> {
    Ok(Json(rebuild_all(&state).await?))
}
