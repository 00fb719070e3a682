//! SMS and WeChat endpoints: the providers' delivery-receipt callbacks (protected by the
//! configured secret, as `?secret=` or the `X-Receipt-Secret` header) and the WeChat phone
//! binding of a logged-in citizen.

use axum::extract::FromRef;
use axum::{body::Bytes, extract::State, http::HeaderMap};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    error::{ApiResult, AppError},
    http::{Json, Path, Query},
    identity::CitizenAuth,
};

use super::{Sms, outbox, receipts};

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Sms: FromRef<S>,
    crate::identity::Identity: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(receipt))
        .routes(routes!(bind_phone))
}

#[derive(Deserialize, IntoParams)]
pub struct ReceiptQuery {
    secret: Option<String>,
}

fn secret_ok(sms: &Sms, given: Option<&str>) -> bool {
    let expected = sms.config.receipt_secret.expose_secret();
    match given {
        Some(g) if !expected.is_empty() => {
            super::signing::bytes_eq(expected.as_bytes(), g.as_bytes())
        }
        _ => false,
    }
}

/// A provider's delivery receipts (Tencent callback or Alibaba `SmsReport` push).
#[utoipa::path(post, path = "/api/v1/sms/receipts/{provider}", params(("provider" = String, Path), ReceiptQuery),
    request_body(content = Vec<serde_json::Value>, description = "the provider's report array"),
    responses((status = 200, description = "the provider's acknowledgement"), (status = 404)))]
async fn receipt(
    State(sms): State<Sms>,
    Path(provider): Path<String>,
    Query(q): Query<ReceiptQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<axum::Json<serde_json::Value>> {
    let given = q.secret.as_deref().or_else(|| {
        headers
            .get("x-receipt-secret")
            .and_then(|v| v.to_str().ok())
    });
    if !secret_ok(&sms, given) {
        return Err(AppError::not_found());
    }
    let (parsed, ack): (_, fn(bool) -> serde_json::Value) = match provider.as_str() {
        "tencent" => (receipts::parse_tencent(&body), receipts::tencent_ack),
        "aliyun" => (receipts::parse_aliyun(&body), receipts::aliyun_ack),
        _ => return Err(AppError::not_found()),
    };
    let Ok(list) = parsed else {
        return Ok(axum::Json(ack(false)));
    };
    for r in &list {
        let matched = outbox::apply_receipt(&sms.db, sms.clock.now_ms(), r).await?;
        let outcome = if r.delivered {
            "delivered"
        } else {
            "undelivered"
        };
        if matched {
            if r.delivered {
                metrics::counter!("sms_delivered_total", "provider" => r.provider).increment(1);
            } else {
                metrics::counter!("sms_failed_total", "provider" => r.provider, "reason" => "undelivered").increment(1);
            }
        }
        tracing::info!(provider = r.provider, id = %r.provider_message_id, outcome, matched, "sms receipt");
    }
    Ok(axum::Json(ack(true)))
}

#[derive(Deserialize, ToSchema)]
pub struct BindPhone {
    /// The code of the mini program's `getPhoneNumber` button.
    phone_code: String,
}

#[derive(Serialize, ToSchema)]
pub struct PhoneBinding {
    phone_masked: String,
    phone_bound: bool,
}

/// Binds the phone WeChat verified (`getPhoneNumber`) to the citizen; once bound it cannot change.
#[utoipa::path(post, path = "/api/v1/auth/citizen/phone", request_body = BindPhone,
    responses((status = 200, body = PhoneBinding), (status = 409, body = crate::error::ErrorBody)))]
async fn bind_phone(
    State(sms): State<Sms>,
    auth: CitizenAuth,
    Json(req): Json<BindPhone>,
) -> ApiResult<Json<PhoneBinding>> {
    if req.phone_code.is_empty() || req.phone_code.chars().count() > 128 {
        return Err(AppError::unprocessable(
            "phone_code",
            "phone_code must be 1 to 128 characters",
        ));
    }
    let phone = super::wx::verified_phone(&sms, &req.phone_code).await?;
    let mut conn = sms.db.write.acquire().await?;
    crate::identity::citizens::bind_phone(&mut conn, &auth.citizen_id, phone.as_str()).await?;
    Ok(Json(PhoneBinding {
        phone_masked: phone.masked(),
        phone_bound: true,
    }))
}
