//! Fixed-window rate limits in Redis, windows counted on the injectable clock (so tests can
//! cross a window without sleeping; Redis TTLs only collect garbage).

use crate::{error::AppError, state::AppState};

/// Counts one hit on `name` and fails with 429 `code` (and the seconds until the window ends)
/// once more than `limit` hits fall in the current `window_s` window.
pub async fn hit(
    state: &AppState,
    code: &'static str,
    name: &str,
    limit: u64,
    window_s: u64,
) -> Result<(), AppError> {
    let window_s = window_s.max(1);
    let now_s = (state.clock.now_ms() / 1000).max(0) as u64;
    let window = now_s / window_s;
    let key = state.kv.key(&format!("thr:{name}:{window_s}:{window}"));
    let mut conn = state.kv.conn();
    let (count,): (u64,) = redis::pipe()
        .atomic()
        .incr(&key, 1u64)
        .expire(&key, (window_s * 2) as i64)
        .ignore()
        .query_async(&mut conn)
        .await?;
    if count > limit {
        return Err(AppError::throttled(code, (window + 1) * window_s - now_s));
    }
    Ok(())
}
