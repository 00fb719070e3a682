//! Send limits in Redis, on the injectable clock: each window is a sorted set of send times (ms).
//! A sliding window counts the sends of the last `window`; a calendar window counts the sends
//! of one period (its key names the period) and refuses until the period ends. One Lua script
//! checks every window of a send and records it in all of them only when all allow it, so a
//! refused send consumes nothing. "1 per 60 s" is a window too. Owns the keys it is given;
//! Redis TTLs only collect garbage.

use redis::aio::ConnectionManager;

/// One limit: at most `limit` sends within `window_ms` (sliding), or before `resets_at_ms` (a
/// calendar period), counted in the sorted set `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub key: String,
    pub limit: u64,
    pub window_ms: i64,
    /// For a calendar window: the end of the period (ms); 0 for a sliding window.
    pub resets_at_ms: i64,
}

impl Window {
    /// A sliding window. A limit of 0 is treated as 1 (a window cannot forbid every send).
    pub fn new(key: String, limit: u64, window_s: u64) -> Window {
        Window {
            key,
            limit: limit.max(1),
            window_ms: i64::try_from(window_s.max(1).saturating_mul(1000)).unwrap_or(i64::MAX),
            resets_at_ms: 0,
        }
    }

    /// A calendar window: the period ending at `resets_at_ms` (`key` must name the period).
    pub fn calendar(key: String, limit: u64, resets_at_ms: i64) -> Window {
        Window {
            key,
            limit: limit.max(1),
            window_ms: 0,
            resets_at_ms,
        }
    }
}

const SCRIPT: &str = r#"
local now = tonumber(ARGV[1])
local member = ARGV[2]
local wait = 0
for i = 1, #KEYS do
  local limit = tonumber(ARGV[3 * i])
  local win = tonumber(ARGV[3 * i + 1])
  local resets = tonumber(ARGV[3 * i + 2])
  if resets == 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - win)
  end
  local n = redis.call('ZCARD', KEYS[i])
  if n >= limit then
    local w
    if resets == 0 then
      local e = redis.call('ZRANGE', KEYS[i], n - limit, n - limit, 'WITHSCORES')
      w = tonumber(e[2]) + win - now
    else
      w = resets - now
    end
    if w < 1 then w = 1 end
    if w > wait then wait = w end
  end
end
if wait > 0 then return wait end
for i = 1, #KEYS do
  local win = tonumber(ARGV[3 * i + 1])
  local resets = tonumber(ARGV[3 * i + 2])
  local ttl = win
  if resets > 0 then ttl = math.max(resets - now, 0) end
  redis.call('ZADD', KEYS[i], now, member)
  redis.call('PEXPIRE', KEYS[i], ttl + 60000)
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
    if windows.is_empty() {
        return Ok(Ok(()));
    }
    let script = redis::Script::new(SCRIPT);
    let mut inv = script.prepare_invoke();
    inv.arg(now_ms).arg(member);
    for w in windows {
        inv.key(&w.key)
            .arg(w.limit)
            .arg(w.window_ms)
            .arg(w.resets_at_ms);
    }
    let wait_ms: i64 = inv.invoke_async(conn).await?;
    if wait_ms > 0 {
        Ok(Err(
            u64::try_from(wait_ms.saturating_add(999) / 1000).unwrap_or(1)
        ))
    } else {
        Ok(Ok(()))
    }
}

/// Takes a recorded send (`member`) out of `windows` again: for a send that then failed before
/// anything went out.
pub async fn forget(
    conn: &mut ConnectionManager,
    windows: &[Window],
    member: &str,
) -> Result<(), redis::RedisError> {
    let mut pipe = redis::pipe();
    for w in windows {
        pipe.zrem(&w.key, member).ignore();
    }
    pipe.query_async::<()>(conn).await
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
    }

    #[tokio::test]
    async fn a_calendar_window_refuses_until_its_period_ends() {
        let mut c = conn().await;
        let p = uuid::Uuid::new_v4().simple().to_string();
        let t0 = 1_000_000_000_000i64;
        let ends = t0 + 10 * 3_600_000;
        let gap = Window::new(format!("{p}:gap"), 1, 60);
        let day = Window::calendar(format!("{p}:day:1"), 2, ends);
        let ws = [gap, day.clone()];
        assert_eq!(
            check_and_record(&mut c, &ws, t0, "a").await.unwrap(),
            Ok(())
        );
        // Refused by the gap: the day's count is untouched.
        assert_eq!(
            check_and_record(&mut c, &ws, t0 + 1_000, "b")
                .await
                .unwrap(),
            Err(59)
        );
        assert_eq!(
            check_and_record(&mut c, &ws, t0 + 61_000, "c")
                .await
                .unwrap(),
            Ok(())
        );
        assert_eq!(
            check_and_record(&mut c, &ws, t0 + 122_000, "d")
                .await
                .unwrap(),
            Err(((ends - t0 - 122_000) / 1000) as u64)
        );
        // A send taken back (it failed before going out) frees its place.
        forget(&mut c, &ws, "c").await.unwrap();
        assert_eq!(
            check_and_record(&mut c, &ws, t0 + 183_000, "f")
                .await
                .unwrap(),
            Ok(())
        );
        // The next period is another key.
        let next = [Window::calendar(format!("{p}:day:2"), 2, ends + 86_400_000)];
        assert_eq!(
            check_and_record(&mut c, &next, ends, "e").await.unwrap(),
            Ok(())
        );
    }
}
