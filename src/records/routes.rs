//! `GET /api/v1/citizens/me/violations`: the caller's unhandled violations from the system of
//! record, each marked eligible or not ([`super::eligibility`]). Needs the citizen's identity
//! (409 `identity_missing`); with `records.provider = "manual"` 409 `records_manual`; the
//! platform down 503 `records_unavailable`; an unusable answer 502 `records_invalid`. A
//! citizen only ever sees the violations of the ID number they gave themselves.

use axum::extract::{FromRef, State};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    Records, RecordsError,
    eligibility::{self, MyViolations},
    model::Subject,
};
use crate::{
    error::{ApiResult, AppError},
    http::Json,
    identity::{CitizenAuth, Identity, citizens},
};

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Records: FromRef<S>,
    Identity: FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(my_violations))
}

/// The caller's unhandled violations in the system of record, with `eligible` and
/// `ineligible_reason` per violation.
#[utoipa::path(get, path = "/api/v1/citizens/me/violations",
    responses((status = 200, body = MyViolations),
        (status = 404, description = "`records_not_found`: the platform has no driver with the caller's ID number", body = crate::error::ErrorBody),
        (status = 409, description = "`identity_missing`: give the identity first; `records_manual`: no connection to the system of record", body = crate::error::ErrorBody),
        (status = 502, description = "`records_invalid`: the platform's answer was malformed or inconsistent", body = crate::error::ErrorBody),
        (status = 503, description = "`records_unavailable`: the platform is down or slow; nothing was changed", body = crate::error::ErrorBody)))]
async fn my_violations(
    State(r): State<Records>,
    auth: CitizenAuth,
) -> ApiResult<Json<MyViolations>> {
    if r.adapter.provider() == "manual" {
        return Err(RecordsError::Manual.into());
    }
    let party = citizens::party(&r.db, &r.identity_key, &auth.citizen_id)
        .await?
        .ok_or_else(|| {
            AppError::conflict(
                "identity_missing",
                "give your real name and ID number first (PUT /api/v1/citizens/me/identity)",
            )
        })?;
    let subject = Subject::Driver {
        id_number: party.id_number.clone(),
    };
    let facts = r.adapter.violations(&subject).await.inspect_err(|e| {
        tracing::warn!(citizen = %auth.citizen_id, id_number = %party.id_number_masked, error = %e,
            "violations query failed");
    })?;
    Ok(Json(eligibility::assess(
        &facts,
        r.limits,
        r.adapter.provider(),
    )))
}
