//! Sliding-window send limits in Redis, on the injectable clock: each window is a sorted set of
//! send times (ms); one Lua script checks every window of a send and records it in all of them
//! only when all allow it, so a refused send consumes nothing. "1 per 60 s" is a window too.
//! Owns the keys it is given; Redis TTLs only collect garbage.

use redis::aio::ConnectionManager;

/// One limit: at most `limit` sends within `window_ms`, counted in the sorted set `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub key: String,
    pub limit: u64,
    pub window_ms: i64,
}

impl Window {
    /// A limit of 0 is treated as 1 (a window cannot forbid every send).
    pub fn new(key: String, limit: u64, window_s: u64) -> Window {
        Window {
            key,
            limit: limit.max(1),
            window_ms: (window_s.max(1) * 1000) as i64,
        }
    }
}

const SCRIPT: &str = r#"
local now = tonumber(ARGV[1])
local member = ARGV[2]
local force = ARGV[3] == '1'
local wait = 0
for i = 1, #KEYS do
  local limit = tonumber(ARGV[2 + 2 * i])
  local win = tonumber(ARGV[3 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - win)
  local n = redis.call('ZCARD', KEYS[i])
  if (not force) and n >= limit then
    local e = redis.call('ZRANGE', KEYS[i], n - limit, n - limit, 'WITHSCORES')
    local w = tonumber(e[2]) + win - now
    if w > wait then wait = w end
  end
end
if wait > 0 then return wait end
for i = 1, #KEYS do
  local win = tonumber(ARGV[3 + 2 * i])
  redis.call('ZADD', KEYS[i], now, member)
  redis.call('PEXPIRE', KEYS[i], win + 60000)
end
return 0
"#;

/// Checks all `windows` at `now_ms` and, when every one allows it, records the send (`member`
/// must be unique per send). `Err(seconds)` says how long until all would allow it.
pub async fn check_and_record(
    conn: &mut ConnectionManager,
    windows: &[Window],
    now_ms: i64,
    member: &str,
) -> Result<Result<(), u64>, redis::RedisError> {
    run(conn, windows, now_ms, member, false).await
}

/// Records a send in all `windows` without refusing it (system notifications still count).
pub async fn record(
    conn: &mut ConnectionManager,
    windows: &[Window],
    now_ms: i64,
    member: &str,
) -> Result<(), redis::RedisError> {
    run(conn, windows, now_ms, member, true).await.map(|_| ())
}

async fn run(
    conn: &mut ConnectionManager,
    windows: &[Window],
    now_ms: i64,
    member: &str,
    force: bool,
) -> Result<Result<(), u64>, redis::RedisError> {
    if windows.is_empty() {
        return Ok(Ok(()));
    }
    let script = redis::Script::new(SCRIPT);
    let mut inv = script.prepare_invoke();
    inv.arg(now_ms)
        .arg(member)
        .arg(if force { "1" } else { "0" });
    for w in windows {
        inv.key(&w.key).arg(w.limit).arg(w.window_ms);
    }
    let wait_ms: i64 = inv.invoke_async(conn).await?;
    if wait_ms > 0 {
        Ok(Err(((wait_ms + 999) / 1000) as u64))
    } else {
        Ok(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn conn() -> ConnectionManager {
        let url =
            std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        redis::Client::open(url)
            .unwrap()
            .get_connection_manager()
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn windows_refuse_without_consuming_and_slide() {
        let mut c = conn().await;
        let p = uuid::Uuid::new_v4().simple().to_string();
        let gap = Window::new(format!("{p}:gap"), 1, 60);
        let hour = Window::new(format!("{p}:hour"), 5, 3600);
        let ws = [gap.clone(), hour.clone()];
        let t0 = 1_000_000_000_000i64;
        assert_eq!(
            check_and_record(&mut c, &ws, t0, "a").await.unwrap(),
            Ok(())
        );
        assert_eq!(
            check_and_record(&mut c, &ws, t0 + 1_000, "b")
                .await
                .unwrap(),
            Err(59)
        );
        for i in 1..5 {
            let at = t0 + i * 61_000;
            assert_eq!(
                check_and_record(&mut c, &ws, at, &format!("m{i}"))
                    .await
                    .unwrap(),
                Ok(())
            );
        }
        // Five in the hour: the sixth waits until the first leaves the window.
        let at = t0 + 5 * 61_000;
        assert_eq!(
            check_and_record(&mut c, &ws, at, "x").await.unwrap(),
            Err(((t0 + 3_600_000 - at) / 1000) as u64)
        );
        assert_eq!(
            check_and_record(&mut c, &ws, t0 + 3_600_001, "y")
                .await
                .unwrap(),
            Ok(())
        );
        // Forced records count but are never refused.
        record(&mut c, &ws, t0 + 3_600_002, "z").await.unwrap();
        assert!(
            check_and_record(&mut c, &ws, t0 + 3_610_000, "w")
                .await
                .unwrap()
                .is_err()
        );
    }
}
