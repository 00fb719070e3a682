//! The urgent lane in Redis: per brigade, a sorted set of waiting bookings scored by deadline
//! and a sorted set of leases scored by lease expiry, moved atomically by Lua scripts.
//!
//! Owns the Redis keys under `<base>:` (base = the kv prefix + `urgent`) and nothing else.
//! Time is passed in (milliseconds from the injectable clock), never read from Redis, so tests
//! can expire leases by moving the clock. The database stays the truth: `rebuild` makes Redis
//! match a list of (booking id, deadline) read from it.
//!
//! Keys: `<base>:<brigade>:q` (zset id→deadline), `:l` (zset id→lease_until), `:c` (hash
//! id→officer), `:d` (hash id→deadline), `<base>:index` (hash id→brigade),
//! `<base>:brigades` (set), `<base>:alerted` (set of ids already escalated).

use std::sync::LazyLock;

use redis::{RedisResult, Script, aio::ConnectionLike};

/// Lua prelude: return expired leases to the waiting set (KEYS[1..4] = q, l, c, d; `now`).
const REAP: &str = r#"
local function reap(now)
  local exp = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
  for _, id in ipairs(exp) do
    redis.call('ZREM', KEYS[2], id)
    redis.call('HDEL', KEYS[3], id)
    local d = redis.call('HGET', KEYS[4], id)
    if d then redis.call('ZADD', KEYS[1], d, id) end
  end
end
"#;

fn script(body: &str) -> Script {
    Script::new(&format!("{REAP}\n{body}"))
}

// KEYS q l c d index brigades; ARGV id deadline brigade
static ENQUEUE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[5], ARGV[1], ARGV[3])
redis.call('SADD', KEYS[6], ARGV[3])
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
return redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
"#,
    )
});

// KEYS q l c d; ARGV now lease_until officer
static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
reap(ARGV[1])
local top = redis.call('ZRANGE', KEYS[1], 0, 0)
if #top == 0 then return false end
local id = top[1]
redis.call('ZREM', KEYS[1], id)
redis.call('ZADD', KEYS[2], ARGV[2], id)
redis.call('HSET', KEYS[3], id, ARGV[3])
return {id, redis.call('HGET', KEYS[4], id)}
"#,
    )
});

// KEYS q l c d; ARGV id officer now lease_until
static RENEW: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
reap(ARGV[3])
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZADD', KEYS[2], 'XX', ARGV[4], ARGV[1])
return 1
"#,
    )
});

// KEYS q l c d; ARGV id officer now
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
reap(ARGV[3])
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
local d = redis.call('HGET', KEYS[4], ARGV[1])
if d then redis.call('ZADD', KEYS[1], d, ARGV[1]) end
return 1
"#,
    )
});

// KEYS q l c d index alerted; ARGV id
static REMOVE: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local n = redis.call('ZREM', KEYS[1], ARGV[1]) + redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('HDEL', KEYS[5], ARGV[1])
redis.call('SREM', KEYS[6], ARGV[1])
return n
"#,
    )
});

// KEYS q l c d; ARGV now → flat {id, deadline, officer|'', lease_until|''}...
static LIST: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
reap(ARGV[1])
local out = {}
local q = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #q, 2 do
  table.insert(out, q[i]); table.insert(out, q[i+1]); table.insert(out, ''); table.insert(out, '')
end
local l = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
for i = 1, #l, 2 do
  table.insert(out, l[i]); table.insert(out, redis.call('HGET', KEYS[4], l[i]) or '0')
  table.insert(out, redis.call('HGET', KEYS[3], l[i]) or ''); table.insert(out, l[i+1])
end
return out
"#,
    )
});

// KEYS q l c d index brigades alerted; ARGV brigade id1 dl1 id2 dl2 ...
static REBUILD: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
local want = {}
for i = 2, #ARGV, 2 do want[ARGV[i]] = ARGV[i+1] end
for _, k in ipairs({KEYS[1], KEYS[2]}) do
  for _, id in ipairs(redis.call('ZRANGE', k, 0, -1)) do
    if not want[id] then
      redis.call('ZREM', k, id); redis.call('HDEL', KEYS[3], id); redis.call('HDEL', KEYS[4], id)
      redis.call('HDEL', KEYS[5], id); redis.call('SREM', KEYS[7], id)
    end
  end
end
local added = 0
for id, dl in pairs(want) do
  redis.call('HSET', KEYS[4], id, dl)
  redis.call('HSET', KEYS[5], id, ARGV[1])
  if not redis.call('ZSCORE', KEYS[2], id) then
    added = added + redis.call('ZADD', KEYS[1], dl, id)
  end
end
redis.call('SADD', KEYS[6], ARGV[1])
return added
"#,
    )
});

// KEYS q l c d alerted; ARGV now horizon → {waiting, claimed, oldest|'', newly alerted ids...}
static SWEEP: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
reap(ARGV[1])
local out = {redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2]), ''}
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local mins = {}
if #oldest > 0 then table.insert(mins, tonumber(oldest[2])) end
for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local d = redis.call('HGET', KEYS[4], id)
  if d then table.insert(mins, tonumber(d)) end
end
if #mins > 0 then
  local m = mins[1]
  for _, v in ipairs(mins) do if v < m then m = v end end
  out[3] = string.format('%.0f', m)
end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])) do
  if redis.call('SADD', KEYS[5], id) == 1 then table.insert(out, id) end
end
return out
"#,
    )
});

/// An item of a brigade's urgent lane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub booking_id: String,
    pub deadline_ms: i64,
    pub claimed_by: Option<String>,
    pub lease_until_ms: Option<i64>,
}

/// A successful claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub booking_id: String,
    pub deadline_ms: i64,
    pub lease_until_ms: i64,
}

/// Who holds an item's lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub brigade_id: String,
    pub officer_id: String,
    pub lease_until_ms: i64,
}

/// One sweep of a brigade's lane.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sweep {
    pub waiting: u64,
    pub claimed: u64,
    pub oldest_deadline_ms: Option<i64>,
    /// Unclaimed items that reached the alert horizon for the first time.
    pub newly_alerted: Vec<String>,
}

fn num(s: &str) -> i64 {
    s.parse::<i64>()
        .unwrap_or_else(|_| s.parse::<f64>().map(|f| f as i64).unwrap_or(0))
}

/// Handle on the urgent lane; cheap to clone.
#[derive(Debug, Clone)]
pub struct UrgentQueue {
    base: String,
}

impl UrgentQueue {
    /// `base` is the full key prefix of the lane, e.g. `rh:urgent`.
    pub fn new(base: impl Into<String>) -> Self {
        UrgentQueue { base: base.into() }
    }

    fn lane(&self, brigade: &str) -> [String; 4] {
        ["q", "l", "c", "d"].map(|k| format!("{}:{brigade}:{k}", self.base))
    }
    fn index(&self) -> String {
        format!("{}:index", self.base)
    }
    fn brigades_key(&self) -> String {
        format!("{}:brigades", self.base)
    }
    fn alerted(&self) -> String {
        format!("{}:alerted", self.base)
    }

    /// Adds a booking (idempotent by id; a claimed item stays claimed). True when newly added.
    pub async fn enqueue<C: ConnectionLike>(
        &self,
        c: &mut C,
        brigade: &str,
        booking_id: &str,
        deadline_ms: i64,
    ) -> RedisResult<bool> {
        let n: i64 = ENQUEUE
            .key(&self.lane(brigade)[..])
            .key(self.index())
            .key(self.brigades_key())
            .arg(booking_id)
            .arg(deadline_ms)
            .arg(brigade)
            .invoke_async(c)
            .await?;
        Ok(n == 1)
    }

    /// Moves the earliest-deadline waiting item into a lease held by `officer` until `lease_until_ms`.
    pub async fn claim<C: ConnectionLike>(
        &self,
        c: &mut C,
        brigade: &str,
        officer: &str,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> RedisResult<Option<Claimed>> {
        let r: Option<Vec<String>> = CLAIM
            .key(&self.lane(brigade)[..])
            .arg(now_ms)
            .arg(lease_until_ms)
            .arg(officer)
            .invoke_async(c)
            .await?;
        Ok(r.and_then(|v| match v.as_slice() {
            [id, dl] => Some(Claimed {
                booking_id: id.clone(),
                deadline_ms: num(dl),
                lease_until_ms,
            }),
            _ => None,
        }))
    }

    /// Extends `officer`'s live lease on `booking_id`; false when not (or no longer) the holder.
    pub async fn renew<C: ConnectionLike>(
        &self,
        c: &mut C,
        brigade: &str,
        booking_id: &str,
        officer: &str,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> RedisResult<bool> {
        let n: i64 = RENEW
            .key(&self.lane(brigade)[..])
            .arg(booking_id)
            .arg(officer)
            .arg(now_ms)
            .arg(lease_until_ms)
            .invoke_async(c)
            .await?;
        Ok(n == 1)
    }

    /// Gives `officer`'s lease back to the waiting set; false when not the holder.
    pub async fn release<C: ConnectionLike>(
        &self,
        c: &mut C,
        brigade: &str,
        booking_id: &str,
        officer: &str,
        now_ms: i64,
    ) -> RedisResult<bool> {
        let n: i64 = RELEASE
            .key(&self.lane(brigade)[..])
            .arg(booking_id)
            .arg(officer)
            .arg(now_ms)
            .invoke_async(c)
            .await?;
        Ok(n == 1)
    }

    /// Removes a booking from its lane (completed, cancelled, no-show). True when it was there.
    pub async fn remove<C: ConnectionLike>(
        &self,
        c: &mut C,
        booking_id: &str,
    ) -> RedisResult<bool> {
        let brigade: Option<String> = redis::cmd("HGET")
            .arg(self.index())
            .arg(booking_id)
            .query_async(c)
            .await?;
        let Some(brigade) = brigade else {
            return Ok(false);
        };
        let n: i64 = REMOVE
            .key(&self.lane(&brigade)[..])
            .key(self.index())
            .key(self.alerted())
            .arg(booking_id)
            .invoke_async(c)
            .await?;
        Ok(n > 0)
    }

    /// Who holds a live lease on `booking_id`, if anyone.
    pub async fn holder<C: ConnectionLike>(
        &self,
        c: &mut C,
        booking_id: &str,
        now_ms: i64,
    ) -> RedisResult<Option<Holder>> {
        let brigade: Option<String> = redis::cmd("HGET")
            .arg(self.index())
            .arg(booking_id)
            .query_async(c)
            .await?;
        let Some(brigade) = brigade else {
            return Ok(None);
        };
        let [_, l, cl, _] = self.lane(&brigade);
        let (until, officer): (Option<f64>, Option<String>) = redis::pipe()
            .cmd("ZSCORE")
            .arg(&l)
            .arg(booking_id)
            .cmd("HGET")
            .arg(&cl)
            .arg(booking_id)
            .query_async(c)
            .await?;
        Ok(match (until, officer) {
            (Some(u), Some(o)) if (u as i64) > now_ms => Some(Holder {
                brigade_id: brigade,
                officer_id: o,
                lease_until_ms: u as i64,
            }),
            _ => None,
        })
    }

    /// The lane's items (waiting and claimed), earliest deadline first; expired leases return.
    pub async fn list<C: ConnectionLike>(
        &self,
        c: &mut C,
        brigade: &str,
        now_ms: i64,
    ) -> RedisResult<Vec<Item>> {
        let flat: Vec<String> = LIST
            .key(&self.lane(brigade)[..])
            .arg(now_ms)
            .invoke_async(c)
            .await?;
        let mut items: Vec<Item> = flat
            .chunks_exact(4)
            .map(|w| Item {
                booking_id: w[0].clone(),
                deadline_ms: num(&w[1]),
                claimed_by: (!w[2].is_empty()).then(|| w[2].clone()),
                lease_until_ms: (!w[3].is_empty()).then(|| num(&w[3])),
            })
            .collect();
        items.sort_by(|a, b| (a.deadline_ms, &a.booking_id).cmp(&(b.deadline_ms, &b.booking_id)));
        Ok(items)
    }

    /// Makes the brigade's lane hold exactly `items` (from the database): adds the missing,
    /// drops the stale, keeps live leases. Returns how many were added.
    pub async fn rebuild<C: ConnectionLike>(
        &self,
        c: &mut C,
        brigade: &str,
        items: &[(String, i64)],
    ) -> RedisResult<u64> {
        let mut inv = REBUILD.prepare_invoke();
        inv.key(&self.lane(brigade)[..])
            .key(self.index())
            .key(self.brigades_key())
            .key(self.alerted());
        inv.arg(brigade);
        for (id, dl) in items {
            inv.arg(id).arg(*dl);
        }
        inv.invoke_async(c).await
    }

    /// Brigades that have (or had) a lane.
    pub async fn brigades<C: ConnectionLike>(&self, c: &mut C) -> RedisResult<Vec<String>> {
        redis::cmd("SMEMBERS")
            .arg(self.brigades_key())
            .query_async(c)
            .await
    }

    /// Returns expired leases, reports depth and the oldest deadline, and names unclaimed items
    /// whose deadline is at or before `horizon_ms` that were not escalated before.
    pub async fn sweep<C: ConnectionLike>(
        &self,
        c: &mut C,
        brigade: &str,
        now_ms: i64,
        horizon_ms: i64,
    ) -> RedisResult<Sweep> {
        let v: Vec<redis::Value> = SWEEP
            .key(&self.lane(brigade)[..])
            .key(self.alerted())
            .arg(now_ms)
            .arg(horizon_ms)
            .invoke_async(c)
            .await?;
        let s = |v: &redis::Value| -> String {
            redis::from_redis_value_ref::<String>(v).unwrap_or_default()
        };
        let n = |v: Option<&redis::Value>| v.map(|v| num(&s(v)).max(0) as u64).unwrap_or(0);
        let oldest = v.get(2).map(s).filter(|x| !x.is_empty()).map(|x| num(&x));
        Ok(Sweep {
            waiting: n(v.first()),
            claimed: n(v.get(1)),
            oldest_deadline_ms: oldest,
            newly_alerted: v.iter().skip(3).map(s).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    //! Needs a Redis on 127.0.0.1:6379 (REDIS_URL overrides); skipped when none answers.
    use super::*;

    async fn conn() -> Option<(redis::aio::MultiplexedConnection, UrgentQueue)> {
        let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let client = redis::Client::open(url).ok()?;
        let c = client.get_multiplexed_async_connection().await.ok()?;
        let base = format!(
            "test:{}:urgent",
            std::process::id() as u128 * 1000 + rand_suffix()
        );
        Some((c, UrgentQueue::new(base)))
    }
    /// Deletes every key of the test's lane.
    async fn cleanup(c: &mut redis::aio::MultiplexedConnection, q: &UrgentQueue) {
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}:*", q.base))
            .query_async(c)
            .await
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(&keys).query_async(c).await;
        }
    }
    fn rand_suffix() -> u128 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() % 1000)
            .unwrap_or(0)
    }

    #[tokio::test]
    async fn claim_renew_release_expire() {
        let Some((mut c, q)) = conn().await else {
            return;
        };
        let b = "b1";
        assert!(q.enqueue(&mut c, b, "x", 3000).await.unwrap());
        assert!(!q.enqueue(&mut c, b, "x", 3000).await.unwrap()); // idempotent
        assert!(q.enqueue(&mut c, b, "y", 2000).await.unwrap());
        assert_eq!(q.list(&mut c, b, 0).await.unwrap().len(), 2);

        let cl = q.claim(&mut c, b, "o1", 100, 200).await.unwrap().unwrap();
        assert_eq!(
            (cl.booking_id.as_str(), cl.deadline_ms, cl.lease_until_ms),
            ("y", 2000, 200)
        );
        assert!(!q.enqueue(&mut c, b, "y", 2000).await.unwrap()); // claimed stays claimed
        assert_eq!(
            q.holder(&mut c, "y", 150)
                .await
                .unwrap()
                .unwrap()
                .officer_id,
            "o1"
        );
        assert!(!q.renew(&mut c, b, "y", "o2", 150, 400).await.unwrap());
        assert!(q.renew(&mut c, b, "y", "o1", 150, 400).await.unwrap());
        // Lease expires at 400: the item is back and claimable by another officer.
        assert_eq!(q.holder(&mut c, "y", 400).await.unwrap(), None);
        let items = q.list(&mut c, b, 400).await.unwrap();
        assert!(items.iter().all(|i| i.claimed_by.is_none()));
        assert!(!q.renew(&mut c, b, "y", "o1", 401, 600).await.unwrap());
        let cl = q.claim(&mut c, b, "o2", 401, 900).await.unwrap().unwrap();
        assert_eq!(cl.booking_id, "y");
        assert!(!q.release(&mut c, b, "y", "o1", 402).await.unwrap());
        assert!(q.release(&mut c, b, "y", "o2", 402).await.unwrap());
        assert_eq!(q.list(&mut c, b, 402).await.unwrap()[0].booking_id, "y");

        assert!(q.remove(&mut c, "y").await.unwrap());
        assert!(!q.remove(&mut c, "y").await.unwrap());
        let cl = q.claim(&mut c, b, "o1", 500, 900).await.unwrap().unwrap();
        assert_eq!(cl.booking_id, "x");
        assert_eq!(q.claim(&mut c, b, "o1", 500, 900).await.unwrap(), None);
        cleanup(&mut c, &q).await;
    }

    #[tokio::test]
    async fn rebuild_and_sweep() {
        let Some((mut c, q)) = conn().await else {
            return;
        };
        let b = "b2";
        q.enqueue(&mut c, b, "stale", 10).await.unwrap();
        q.enqueue(&mut c, b, "held", 50).await.unwrap();
        let held = q.claim(&mut c, b, "o", 0, 1000).await.unwrap().unwrap();
        assert_eq!(held.booking_id, "stale");
        q.enqueue(&mut c, b, "held2", 60).await.unwrap();
        let items = vec![
            ("stale".to_string(), 10),
            ("a".to_string(), 5000),
            ("b".to_string(), 7000),
        ];
        // "held" and "held2" are not in the DB any more: dropped; "stale" keeps its lease.
        assert_eq!(q.rebuild(&mut c, b, &items).await.unwrap(), 2);
        let l = q.list(&mut c, b, 1).await.unwrap();
        let ids: Vec<_> = l.iter().map(|i| i.booking_id.as_str()).collect();
        assert_eq!(ids, ["stale", "a", "b"]);
        assert_eq!(l[0].claimed_by.as_deref(), Some("o"));
        assert!(q.brigades(&mut c).await.unwrap().contains(&b.to_string()));

        let s = q.sweep(&mut c, b, 1, 6000).await.unwrap();
        assert_eq!(
            (s.waiting, s.claimed, s.oldest_deadline_ms),
            (2, 1, Some(10))
        );
        assert_eq!(s.newly_alerted, ["a"]);
        let s = q.sweep(&mut c, b, 2, 8000).await.unwrap();
        assert_eq!(s.newly_alerted, ["b"]);
        let s = q.sweep(&mut c, b, 1000, 8000).await.unwrap(); // lease expired
        assert_eq!((s.waiting, s.claimed), (3, 0));
        assert_eq!(s.newly_alerted, ["stale"]);
        q.rebuild(&mut c, b, &[]).await.unwrap();
        assert!(q.list(&mut c, b, 0).await.unwrap().is_empty());
        cleanup(&mut c, &q).await;
    }
}
