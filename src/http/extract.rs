//! `Path<T>` and `Query<T>`: like axum's, but their rejections speak our error shape (as
//! `Json` does): a path or query value of the wrong type or out of range → 422 `invalid_field`
//! naming the parameter, a missing query parameter → 422 naming it, a path segment that is not
//! UTF-8 → 400 `bad_path`. Handlers use these instead of axum's, whose rejections are plain text.

use axum::{
    extract::{
        FromRequestParts, RawPathParams,
        path::{ErrorKind, FailedToDeserializePathParams},
        rejection::PathRejection,
    },
    http::request::Parts,
};
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// Path parameters (`/…/{id}`), deserialised into `T`.
pub struct Path<T>(pub T);

/// The query string, deserialised into `T` (`application/x-www-form-urlencoded` rules).
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                let keys: Vec<String> = RawPathParams::from_request_parts(parts, state)
                    .await
                    .map(|raw| raw.iter().map(|(k, _)| k.to_string()).collect())
                    .unwrap_or_default();
                Err(path_error(&e, &keys))
            }
            Err(e) => Err(AppError::internal(format!("path parameters: {e}"))),
        }
    }
}

/// The parameter a path error is about: its key, else the key at its index, else the only one.
fn path_error(e: &FailedToDeserializePathParams, keys: &[String]) -> AppError {
    let only = || (keys.len() == 1).then(|| keys[0].clone());
    let (field, message) = match e.kind() {
        ErrorKind::InvalidUtf8InPathParam { key } => {
            return AppError::bad_request("bad_path", format!("{key} is not valid UTF-8"))
                .with_field(key.clone());
        }
        ErrorKind::ParseErrorAtKey {
            key, expected_type, ..
        } => (Some(key.clone()), expected(expected_type)),
        ErrorKind::ParseErrorAtIndex {
            index,
            expected_type,
            ..
        } => (keys.get(*index).cloned(), expected(expected_type)),
        ErrorKind::ParseError { expected_type, .. } => (only(), expected(expected_type)),
        ErrorKind::DeserializeError { key, message, .. } => (Some(key.clone()), message.clone()),
        other => (only(), other.to_string()),
    };
    let field = field.unwrap_or_else(|| "path".into());
    AppError::unprocessable(field.clone(), format!("{field}: {message}"))
}

fn expected(type_name: &str) -> String {
    let short = type_name.rsplit("::").next().unwrap_or(type_name);
    match short {
        "u8" | "u16" | "u32" | "u64" | "usize" => "expected a non-negative integer in range".into(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "expected an integer in range".into(),
        other => format!("expected a value of type {other}"),
    }
}

impl<S, T> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        parse_query(parts.uri.query().unwrap_or_default()).map(Query)
    }
}

/// Parses a query string into `T`, naming the offending parameter.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, AppError> {
    let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let msg = e.into_inner().to_string();
        let field = match msg.strip_prefix("missing field `") {
            Some(rest) => rest.split('`').next().unwrap_or_default().to_string(),
            None if path != "." && !path.is_empty() => path,
            None => "query".to_string(),
        };
        AppError::unprocessable(field.clone(), format!("{field}: {msg}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Q {
        from: u64,
        limit: Option<u32>,
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let e = parse_query::<Q>("from=-1").unwrap_err();
        assert_eq!((e.status.as_u16(), e.field.as_deref()), (422, Some("from")));
        let e = parse_query::<Q>("from=1&limit=x").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("limit"));
        let e = parse_query::<Q>("limit=1").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("from"));
        let q = parse_query::<Q>("from=2&limit=3&other=1").unwrap();
        assert_eq!((q.from, q.limit), (2, Some(3)));
    }
}
