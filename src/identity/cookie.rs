//! The pages' cookie mode (issue 15 §2): the session token in an `HttpOnly; SameSite=Strict`
//! cookie the page's script never sees, with CSRF protection; Bearer stays for API clients.
//!
//! - A login (a route under `/api/v1/auth/`) asked for with `X-Session-Mode: cookie` and
//!   `X-Session: <scope>` (`citizen`,
//!   `staff`, `participant`) answers as usual, but the token moves out of the body (`token` is
//!   `""`, `session` is `"cookie"`, `csrf` is the CSRF token) into the cookie `rh_s_<scope>`;
//!   the CSRF token also goes into the readable cookie `rh_c_<scope>` ([`issue`]).
//! - A request is authenticated by that cookie only when it names the scope in `X-Session` (a
//!   custom header, which a cross-site form or image cannot send); a state-changing method must
//!   also carry `X-CSRF-Token` equal to the `rh_c_<scope>` cookie (double submit), else 403
//!   `csrf_failed` ([`token_from_cookie`]).
//! - A logout in cookie mode clears both cookies.
//!
//! `Secure` is set in production mode (the pages are served over HTTPS there).

use axum::{
    body::Body,
    http::{HeaderMap, HeaderValue, Method, Response, header},
    response::IntoResponse,
};

use crate::error::AppError;

/// Largest login answer rewritten (a login body is a few hundred bytes).
const MAX_LOGIN_BODY: usize = 16 * 1024;

fn scope_of(headers: &HeaderMap) -> Option<&'static str> {
    match headers.get("x-session")?.to_str().ok()? {
        "citizen" => Some("citizen"),
        "staff" => Some("staff"),
        "participant" => Some("participant"),
        _ => None,
    }
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

fn csrf_failed(why: &str) -> AppError {
    AppError::new(
        axum::http::StatusCode::FORBIDDEN,
        "csrf_failed",
        format!("cookie session: {why}"),
    )
}

/// The token of a cookie session named by `X-Session`, with the CSRF check for state-changing
/// methods; `Ok(None)` when the request does not use the cookie mode.
pub fn token_from_cookie<'a>(
    method: &Method,
    headers: &'a HeaderMap,
) -> Result<Option<&'a str>, AppError> {
    let Some(scope) = scope_of(headers) else {
        return Ok(None);
    };
    let Some(token) = cookie(headers, &format!("rh_s_{scope}")) else {
        return Ok(None);
    };
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe {
        let want = cookie(headers, &format!("rh_c_{scope}"))
            .ok_or_else(|| csrf_failed("no CSRF cookie"))?;
        let got = headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| csrf_failed("X-CSRF-Token missing"))?;
        // Compared as digests: the time taken says nothing about the cookie's value.
        let digest = |v: &str| ring::digest::digest(&ring::digest::SHA256, v.as_bytes());
        if digest(want).as_ref() != digest(got).as_ref() {
            return Err(csrf_failed("X-CSRF-Token does not match"));
        }
    }
    Ok(Some(token))
}

fn set_cookie(
    name: &str,
    value: &str,
    http_only: bool,
    secure: bool,
    max_age: Option<i64>,
) -> String {
    let mut c = format!("{name}={value}; Path=/; SameSite=Strict");
    if http_only {
        c.push_str("; HttpOnly");
    }
    if secure {
        c.push_str("; Secure");
    }
    if let Some(s) = max_age {
        c.push_str(&format!("; Max-Age={s}"));
    }
    c
}

/// The login answer in cookie mode: the token into the cookies, out of the body.
pub async fn issue(
    req_headers: &HeaderMap,
    path: &str,
    res: Response<Body>,
    secure: bool,
) -> Response<Body> {
    let wants = req_headers
        .get("x-session-mode")
        .is_some_and(|v| v.as_bytes() == b"cookie");
    let Some(scope) = scope_of(req_headers).filter(|_| wants) else {
        return res;
    };
    // Only the sign-in and sign-out routes hand out sessions.
    if !path.starts_with("/api/v1/auth/") {
        return res;
    }
    if !res.status().is_success() {
        return res;
    }
    if path == "/api/v1/auth/logout" {
        return clear(res, scope, secure);
    }
    // Only a small body of known size is read (a session answer is a few hundred bytes); any
    // other answer under /auth/ (a TOTP enrolment's QR code) passes untouched.
    let small = axum::body::HttpBody::size_hint(res.body())
        .exact()
        .is_some_and(|n| n <= MAX_LOGIN_BODY as u64);
    if !small {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_LOGIN_BODY).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "reading a sign-in answer for the cookie mode");
            return AppError::internal(anyhow::anyhow!("sign-in answer unreadable"))
                .into_response();
        }
    };
    let mut json: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(_) => return Response::from_parts(parts, Body::from(bytes)),
    };
    let Some(token) = json
        .get("token")
        .and_then(|t| t.as_str())
        .map(str::to_string)
    else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let Ok(csrf) = crate::ids::random_token() else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    json["token"] = "".into();
    json["session"] = "cookie".into();
    json["csrf"] = csrf.clone().into();
    for c in [
        set_cookie(&format!("rh_s_{scope}"), &token, true, secure, None),
        set_cookie(&format!("rh_c_{scope}"), &csrf, false, secure, None),
    ] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            parts.headers.append(header::SET_COOKIE, v);
        }
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(json.to_string()))
}

fn clear(mut res: Response<Body>, scope: &str, secure: bool) -> Response<Body> {
    for name in [format!("rh_s_{scope}"), format!("rh_c_{scope}")] {
        let c = set_cookie(&name, "", name.starts_with("rh_s_"), secure, Some(0));
        if let Ok(v) = HeaderValue::from_str(&c) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn the_cookie_counts_only_with_its_scope_header_and_csrf_on_writes() {
        let c = ("cookie", "a=1; rh_s_staff=TOK; rh_c_staff=CS");
        // No X-Session: not the cookie mode at all (a cross-site request cannot add it).
        assert_eq!(
            token_from_cookie(&Method::POST, &headers(&[c])).unwrap(),
            None
        );
        let h = headers(&[c, ("x-session", "staff")]);
        assert_eq!(token_from_cookie(&Method::GET, &h).unwrap(), Some("TOK"));
        let e = token_from_cookie(&Method::POST, &h).unwrap_err();
        assert_eq!(e.code, "csrf_failed");
        let bad = headers(&[c, ("x-session", "staff"), ("x-csrf-token", "XX")]);
        assert_eq!(
            token_from_cookie(&Method::DELETE, &bad).unwrap_err().code,
            "csrf_failed"
        );
        let ok = headers(&[c, ("x-session", "staff"), ("x-csrf-token", "CS")]);
        assert_eq!(token_from_cookie(&Method::POST, &ok).unwrap(), Some("TOK"));
        // Another scope's header finds no cookie of its own.
        let other = headers(&[c, ("x-session", "citizen")]);
        assert_eq!(token_from_cookie(&Method::GET, &other).unwrap(), None);
    }
}
