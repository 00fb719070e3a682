//! Fixed-window rate limits in Redis, windows counted on the injectable clock (so tests can
//! cross a window without sleeping; Redis TTLs only collect garbage).

use crate::{clock::Clock, error::AppError, kv::Kv};

/// The windows of one Redis keyspace on one clock.
#[derive(Clone, Copy)]
pub struct Windows<'a> {
    kv: &'a Kv,
    clock: &'a dyn Clock,
}

impl<'a> Windows<'a> {
    pub fn new(kv: &'a Kv, clock: &'a dyn Clock) -> Windows<'a> {
        Windows { kv, clock }
    }

    /// The current window of `window_s` seconds: (its key for `name`, seconds until it ends).
    fn window(&self, name: &str, window_s: u64) -> (String, u64) {
        let window_s = window_s.max(1);
        let now_s = (self.clock.now_ms() / 1000).max(0) as u64;
        let window = now_s / window_s;
        let key = self.kv.key(&format!("thr:{name}:{window_s}:{window}"));
        (key, (window + 1) * window_s - now_s)
    }

    async fn incr(&self, key: &str, window_s: u64) -> Result<u64, AppError> {
        let mut conn = self.kv.conn();
        let (count,): (u64,) = redis::pipe()
            .atomic()
            .incr(key, 1u64)
            .expire(key, (window_s.max(1) * 2) as i64)
            .ignore()
            .query_async(&mut conn)
            .await?;
        Ok(count)
    }

    /// Counts one hit on `name` in the current `window_s` window; returns the window's count.
    pub async fn add(&self, name: &str, window_s: u64) -> Result<u64, AppError> {
        self.incr(&self.window(name, window_s).0, window_s).await
    }

    /// Counts one hit on `name` and fails with 429 `code` (and the seconds until the window
    /// ends) once more than `limit` hits fall in the current `window_s` window.
    pub async fn hit(
        &self,
        code: &'static str,
        name: &str,
        limit: u64,
        window_s: u64,
    ) -> Result<(), AppError> {
        let (key, left) = self.window(name, window_s);
        if self.incr(&key, window_s).await? > limit {
            return Err(AppError::throttled(code, left));
        }
        Ok(())
    }

    /// Fails with 429 `code` when `name` already has `limit` hits in the current window;
    /// counts nothing (the caller counts with `add` what should count, e.g. only failures).
    pub async fn check(
        &self,
        code: &'static str,
        name: &str,
        limit: u64,
        window_s: u64,
    ) -> Result<(), AppError> {
        let (key, left) = self.window(name, window_s);
        let mut conn = self.kv.conn();
        let count: Option<u64> = redis::cmd("GET").arg(&key).query_async(&mut conn).await?;
        if count.unwrap_or(0) >= limit {
            return Err(AppError::throttled(code, left));
        }
        Ok(())
    }
}
