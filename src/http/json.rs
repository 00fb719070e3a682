//! `Json<T>`: like axum's, but its rejections speak our error shape: malformed JSON → 400
//! `bad_json`, a missing or invalid field → 422 naming the field, too large → 413.

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::{Serialize, de::DeserializeOwned};

use crate::error::AppError;

pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("application/json")
            });
        if !is_json {
            return Err(AppError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send a JSON body with Content-Type: application/json",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    "the request body is too large",
                )
            } else {
                AppError::bad_request("bad_body", "could not read the request body")
            }
        })?;
        parse(&bytes).map(Json)
    }
}

/// Parses a JSON body into `T`, mapping errors to our codes.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.classify() != serde_json::error::Category::Data {
            return AppError::bad_request("bad_json", format!("malformed JSON: {inner}"));
        }
        let msg = inner.to_string();
        let field = missing_field(&msg).map(|f| join(&path, f)).unwrap_or(path);
        let clean = msg.split(" at line ").next().unwrap_or(&msg).to_string();
        AppError::unprocessable(field, clean)
    })?;
    de.end().map_err(|_| {
        AppError::bad_request("bad_json", "trailing characters after the JSON value")
    })?;
    Ok(value)
}

fn missing_field(msg: &str) -> Option<&str> {
    let rest = msg.strip_prefix("missing field `")?;
    rest.split('`').next()
}

fn join(path: &str, field: &str) -> String {
    if path == "." || path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Body {
        phone: crate::domain::PhoneNumber,
        inner: Option<Inner>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Inner {
        n: u32,
    }

    #[test]
    fn maps_errors() {
        let e = parse::<Body>(b"{").unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (400, "bad_json"));
        let e = parse::<Body>(b"{}").unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.field.as_deref()),
            (422, Some("phone"))
        );
        let e = parse::<Body>(br#"{"phone":"123"}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("phone"));
        let e = parse::<Body>(br#"{"phone":"13812345678","inner":{"n":-1}}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("inner.n"));
        let e = parse::<Body>(br#"{"phone":"13812345678","inner":{}}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("inner.n"));
        assert!(parse::<Body>(br#"{"phone":"13812345678"}"#).is_ok());
    }
}
