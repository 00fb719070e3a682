//! Durable acknowledgement: a request that may have written (any method but GET, HEAD,
//! OPTIONS, TRACE) and is answered 2xx or 3xx leaves only after the store's commit barrier
//! has fsynced everything committed before the handler returned — its own commit included,
//! whichever service made it (`Db::durable`). A failed fsync turns the answer into 503
//! `storage_unavailable`. Background jobs (SMS outbox, sweeps) acknowledge nobody and do not
//! wait; refusals (4xx) and failures (5xx) do not wait either.

use axum::{
    extract::{Request, State},
    http::Method,
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{error::AppError, store::Db};

pub async fn acknowledge(State(db): State<Db>, req: Request, next: Next) -> Response {
    let may_write = !matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    let resp = next.run(req).await;
    let status = resp.status();
    if !may_write || !(status.is_success() || status.is_redirection()) {
        return resp;
    }
    match db.durable().await {
        Ok(()) => resp,
        Err(e) => AppError::from(e).into_response(),
    }
}
