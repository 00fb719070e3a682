//! The HTTP endpoints of API.md "Hearings", plus `POST /{id}/resume` and the officer's SSE
//! stream `GET /api/v1/officer/events`.

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::Hearing;
use super::{
    body::StepRequest,
    events, lifecycle,
    ports::JoinGrant,
    service, store,
    views::{self, Caller, HearingView},
    web_ticket::{self, WebTicket},
};
use crate::{
    domain::SmsCode,
    error::{ApiResult, AppError},
    http::{Json, Path, Query},
    identity::{AnyAuth, CitizenAuth, Identity, OfficerAuth, Role},
};

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Hearing: axum::extract::FromRef<S>,
    crate::identity::Identity: axum::extract::FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(open, list))
        .routes(routes!(join))
        .routes(routes!(get))
        .routes(routes!(sms_code))
        .routes(routes!(join_token))
        .routes(routes!(steps))
        .routes(routes!(no_show))
        .routes(routes!(resume))
        .routes(routes!(interrupt))
        .routes(routes!(decision))
        .routes(routes!(officer_events))
        .routes(routes!(web_ticket))
        .routes(routes!(redeem_web_ticket))
}

#[derive(Deserialize, ToSchema)]
pub struct OpenHearing {
    booking_id: String,
}

/// Opens the hearing of a booking (officer of its brigade; from 15 minutes before the slot to
/// its end, or any time before the deadline of an urgent booking the officer claimed).
#[utoipa::path(post, path = "/api/v1/hearings", request_body = OpenHearing,
    responses((status = 201, body = HearingView), (status = 409, body = crate::error::ErrorBody)))]
async fn open(
    State(state): State<Hearing>,
    officer: OfficerAuth,
    Json(req): Json<OpenHearing>,
) -> ApiResult<(StatusCode, Json<HearingView>)> {
    let id = service::open(&state, &officer, &req.booking_id).await?;
    let v = views::load(&state, &id).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    booking_id: String,
}

/// The hearings of a booking the caller may read (citizen: own; officer: own brigade;
/// auditors), newest first; empty when none.
#[utoipa::path(get, path = "/api/v1/hearings", params(ListQuery), responses((status = 200, body = Vec<HearingView>)))]
async fn list(
    State(state): State<Hearing>,
    auth: AnyAuth,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Vec<HearingView>>> {
    Ok(Json(
        super::views::list_for(&state, &Caller::from(auth), &q.booking_id).await?,
    ))
}

/// A hearing (its officer's brigade, its citizen, auditors; others 404).
#[utoipa::path(get, path = "/api/v1/hearings/{id}", responses((status = 200, body = HearingView)))]
async fn get(
    State(state): State<Hearing>,
    auth: AnyAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<HearingView>> {
    Ok(Json(
        super::views::get_for(&state, &Caller::from(auth), &id).await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct CodeSent {
    resend_after_s: u64,
}

/// Sends the join code to the booked phone (the hearing's officer).
#[utoipa::path(post, path = "/api/v1/hearings/{id}/sms-code",
    responses((status = 202, body = CodeSent), (status = 429, body = crate::error::ErrorBody,
        description = "`sms_throttled`: the hearing's or the phone's hearing-code budget (Retry-After)")))]
async fn sms_code(
    State(state): State<Hearing>,
    officer: OfficerAuth,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<CodeSent>)> {
    let resend_after_s = lifecycle::send_code(&state, &Caller::from(&officer), &id).await?;
    Ok((StatusCode::ACCEPTED, Json(CodeSent { resend_after_s })))
}

#[derive(Deserialize, ToSchema)]
pub struct JoinRequest {
    hearing_id: String,
    /// The 6-digit code of the SMS.
    #[schema(value_type = String, min_length = 6, max_length = 6, pattern = "^[0-9]{6}$")]
    code: SmsCode,
}

/// The citizen exchanges the SMS code for a join grant.
#[utoipa::path(post, path = "/api/v1/hearings/join", request_body = JoinRequest,
    responses((status = 200, body = JoinGrant), (status = 422, body = crate::error::ErrorBody)))]
async fn join(
    State(state): State<Hearing>,
    citizen: CitizenAuth,
    Json(req): Json<JoinRequest>,
) -> ApiResult<Json<JoinGrant>> {
    Ok(Json(
        lifecycle::join_citizen(&state, &citizen.citizen_id, &req.hearing_id, &req.code).await?,
    ))
}

/// The officer's join grant.
#[utoipa::path(post, path = "/api/v1/hearings/{id}/join-token", responses((status = 200, body = JoinGrant)))]
async fn join_token(
    State(state): State<Hearing>,
    officer: OfficerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<JoinGrant>> {
    Ok(Json(
        lifecycle::officer_token(&state, &Caller::from(&officer), &id).await?,
    ))
}

/// Submits a legal step `{step, ...fields}` (API.md: order and roles; `invalid_state` out of
/// order, 403 wrong role, 422 bad content, `ruling_exceeds_notice`). The body is a
/// [`StepRequest`]; it is read after the role, status and order checks, so that those answers
/// come first as they always did.
#[utoipa::path(post, path = "/api/v1/hearings/{id}/steps", request_body = StepRequest,
    responses((status = 200, body = HearingView), (status = 409, body = crate::error::ErrorBody)))]
async fn steps(
    State(state): State<Hearing>,
    auth: AnyAuth,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> ApiResult<Json<HearingView>> {
    if !body.is_object() {
        return Err(AppError::unprocessable(
            "step",
            "send an object {step, ...fields}",
        ));
    }
    service::submit_step(&state, &Caller::from(auth), &id, body).await?;
    Ok(Json(views::load(&state, &id).await?))
}

/// Records that the citizen never joined (the hearing's officer).
#[utoipa::path(post, path = "/api/v1/hearings/{id}/no-show", responses((status = 200, body = HearingView)))]
async fn no_show(
    State(state): State<Hearing>,
    officer: OfficerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<HearingView>> {
    lifecycle::no_show(&state, &Caller::from(&officer), &id).await?;
    Ok(Json(views::load(&state, &id).await?))
}

/// Resumes an interrupted hearing (the hearing's officer).
#[utoipa::path(post, path = "/api/v1/hearings/{id}/resume", responses((status = 200, body = HearingView)))]
async fn resume(
    State(state): State<Hearing>,
    officer: OfficerAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<HearingView>> {
    lifecycle::resume(&state, &Caller::from(&officer), &id).await?;
    Ok(Json(views::load(&state, &id).await?))
}

/// Interrupts an open or in-call hearing with a reason (the hearing's officer); resume it later
/// with `/resume`.
#[utoipa::path(post, path = "/api/v1/hearings/{id}/interrupt",
    request_body = super::interrupt::InterruptRequest,
    responses((status = 200, body = HearingView), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn interrupt(
    State(state): State<Hearing>,
    officer: OfficerAuth,
    Path(id): Path<String>,
    Json(body): Json<super::interrupt::InterruptRequest>,
) -> ApiResult<Json<HearingView>> {
    super::interrupt::interrupt(&state, &Caller::from(&officer), &id, body).await?;
    Ok(Json(views::load(&state, &id).await?))
}

#[derive(Deserialize)]
pub struct DecisionQuery {
    format: Option<String>,
}

/// The served decision document: print-ready A4 HTML (default), `?format=pdf` for the sealed
/// PDF, or `?format=json` for its fields. The citizen, the officer and auditors; others 404.
#[utoipa::path(get, path = "/api/v1/hearings/{id}/decision",
    params(("format" = Option<String>, Query, description = "`html` (default), `pdf` or `json`")),
    responses((status = 200, content(("text/html"), ("application/pdf"), (crate::hearing::decision::DecisionFields = "application/json"))),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn decision(
    State(state): State<Hearing>,
    auth: AnyAuth,
    Path(id): Path<String>,
    Query(q): Query<DecisionQuery>,
) -> ApiResult<Response> {
    let h = store::get(&state.db.read, &id)
        .await?
        .ok_or_else(AppError::not_found)?;
    Caller::from(auth).can_read(&h)?;
    let d = store::decision(&state.db.read, &id)
        .await?
        .ok_or_else(AppError::not_found)?;
    match q.format.as_deref() {
        None | Some("html" | "json") => {}
        Some("pdf") => {
            let pdf = crate::hearing::decision::issue::stored_pdf(&state.db.read, &id)
                .await?
                .ok_or_else(AppError::not_found)?;
            let name = format!("attachment; filename=\"decision-{id}.pdf\"");
            return Ok((
                [
                    (header::CONTENT_TYPE, "application/pdf".to_string()),
                    (header::CACHE_CONTROL, "no-store".to_string()),
                    (header::CONTENT_DISPOSITION, name),
                ],
                pdf,
            )
                .into_response());
        }
        Some(_) => {
            return Err(AppError::unprocessable("format", "html, pdf or json"));
        }
    }
    if q.format.as_deref() == Some("json") {
        let mut fields: Value = serde_json::from_str(&d.fields).map_err(AppError::internal)?;
        if let Value::Object(m) = &mut fields {
            m.insert("sha256".into(), Value::String(d.sha256));
        }
        return Ok(Json(fields).into_response());
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        d.html,
    )
        .into_response())
}

/// Server-sent events for the officer's brigade (citizen waiting/joined/reconnecting/left,
/// steps, interruptions, urgent deadlines near).
#[utoipa::path(get, path = "/api/v1/officer/events", responses((status = 200, content_type = "text/event-stream")))]
async fn officer_events(State(state): State<Hearing>, officer: OfficerAuth) -> ApiResult<Response> {
    let brigade = officer.brigade_id.ok_or_else(AppError::not_found)?;
    Ok(events::stream(&state, &brigade).await?.into_response())
}

/// A one-time ticket for the H5 call page (the hearing's citizen; the mini program puts it in
/// the `web-view` URL instead of its session token). Valid 60 s, redeemable once.
#[utoipa::path(post, path = "/api/v1/hearings/{id}/web-ticket",
    responses((status = 200, body = WebTicket), (status = 404, body = crate::error::ErrorBody)))]
async fn web_ticket(
    State(state): State<Hearing>,
    auth: AnyAuth,
    Path(id): Path<String>,
) -> ApiResult<Json<WebTicket>> {
    Ok(Json(
        web_ticket::mint(&state, &Caller::from(auth), &id).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct RedeemTicket {
    ticket: String,
}

#[derive(Serialize, ToSchema)]
pub struct TicketSession {
    /// A citizen session of the H5 page's own.
    token: String,
    hearing_id: String,
}

/// The H5 page exchanges a web ticket for a citizen session of its own (401 `ticket_invalid`
/// when unknown, used or expired).
#[utoipa::path(post, path = "/api/v1/auth/web-ticket", request_body = RedeemTicket,
    responses((status = 200, body = TicketSession), (status = 401, body = crate::error::ErrorBody)))]
async fn redeem_web_ticket(
    State(state): State<Hearing>,
    State(identity): State<Identity>,
    Json(req): Json<RedeemTicket>,
) -> ApiResult<Json<TicketSession>> {
    let r = web_ticket::redeem(&state, &req.ticket).await?;
    let token = crate::identity::sessions::create(&identity, Role::Citizen, &r.citizen_id).await?;
    Ok(Json(TicketSession {
        token,
        hearing_id: r.hearing_id,
    }))
}
