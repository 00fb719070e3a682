//! The static pages under `web/`, embedded in the binary (or read from `server.web_dir` when
//! set, for page development): `/` citizen, `/officer/`, `/auditor/`, `/admin/`, `/verify/`.
//! Unknown API paths get the JSON 404.

use axum::{
    extract::{Request, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use include_dir::{Dir, include_dir};

use crate::{error::AppError, state::AppState};

static WEB: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/web");

pub async fn serve(State(state): State<AppState>, req: Request) -> Response {
    let path = req.uri().path();
    if path.starts_with("/api/") || path.starts_with("/ws/") || path.contains("..") {
        return AppError::new(
            axum::http::StatusCode::NOT_FOUND,
            "not_found",
            "no such route",
        )
        .into_response();
    }
    let rel = match path.trim_start_matches('/') {
        "" => "citizen/index.html".to_string(),
        p if p.ends_with('/') => format!("{p}index.html"),
        p if !p.contains('.') => format!("{p}/index.html"),
        p => p.to_string(),
    };
    let body: Option<Vec<u8>> = if state.config.server.web_dir.as_os_str().is_empty() {
        WEB.get_file(&rel).map(|f| f.contents().to_vec())
    } else {
        tokio::fs::read(state.config.server.web_dir.join(&rel))
            .await
            .ok()
    };
    match body {
        Some(bytes) => {
            let mime = mime_guess::from_path(&rel).first_or_octet_stream();
            let mut resp = bytes.into_response();
            if let Ok(v) = HeaderValue::from_str(mime.as_ref()) {
                resp.headers_mut().insert(header::CONTENT_TYPE, v);
            }
            resp
        }
        None => AppError::new(
            axum::http::StatusCode::NOT_FOUND,
            "not_found",
            "no such page",
        )
        .into_response(),
    }
}
