//! The urgent lane in Redis: per brigade, a sorted set of waiting bookings scored by deadline
//! and a sorted set of leases scored by lease expiry, moved atomically by Lua scripts.
//!
//! Owns the Redis keys under `<base>:` (base = the kv prefix + `urgent`) and nothing else.
//! Time is passed in (milliseconds from the injectable clock), never read from Redis, so tests
//! can expire leases by moving the clock. The database stays the truth: `rebuild` makes Redis
//! match a list of (booking id, deadline, hearing officer) read from it.
//!
//! Keys: `<base>:<brigade>:q` (zset id→deadline), `:l` (zset id→lease_until), `:c` (hash
//! id→officer), `:d` (hash id→deadline), `<base>:index` (hash id→brigade),
//! `<base>:brigades` (set), `<base>:alerted` (set of ids already escalated), `<base>:built`
//! (the marker: set by every rebuild; its absence means Redis lost the lane).

use redis::{RedisResult, aio::ConnectionLike};

use super::scripts::{CLAIM, ENQUEUE, HOLD, LIST, REBUILD, RELEASE, REMOVE, RENEW, SWEEP};

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

/// What the database says an item of a lane must be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    pub booking_id: String,
    pub deadline_ms: i64,
    /// The officer of the booking's open hearing: the claim is theirs.
    pub held_by: Option<String>,
}

/// What a rebuild of one lane changed (for the caller to check against the database again).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rebuilt {
    /// Items that were in neither set.
    pub added: Vec<String>,
    /// Items whose claim was given (back) to their hearing's officer.
    pub restored: Vec<String>,
    /// Items in the lane that the list did not name (left untouched).
    pub extra: Vec<String>,
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
    fn marker(&self) -> String {
        format!("{}:built", self.base)
    }

    /// Sets the marker that says the lane was built from the database (at `now_ms`).
    pub async fn mark_built<C: ConnectionLike>(&self, c: &mut C, now_ms: i64) -> RedisResult<()> {
        redis::cmd("SET")
            .arg(self.marker())
            .arg(now_ms)
            .query_async(c)
            .await
    }

    /// Whether the marker is there (false after a flush or on a fresh Redis).
    pub async fn is_built<C: ConnectionLike>(&self, c: &mut C) -> RedisResult<bool> {
        redis::cmd("EXISTS").arg(self.marker()).query_async(c).await
    }

    /// A script that places one item on a brigade's lane: the lane, the index and the brigades
    /// set as keys; the booking, its deadline and the brigade as the first arguments.
    fn placing<'s>(
        &self,
        script: &'s redis::Script,
        brigade: &str,
        booking_id: &str,
        deadline_ms: i64,
    ) -> redis::ScriptInvocation<'s> {
        let mut inv = script.prepare_invoke();
        inv.key(&self.lane(brigade)[..])
            .key(self.index())
            .key(self.brigades_key())
            .arg(booking_id)
            .arg(deadline_ms)
            .arg(brigade);
        inv
    }

    /// Adds a booking (idempotent by id; a claimed item stays claimed). True when newly added.
    pub async fn enqueue<C: ConnectionLike>(
        &self,
        c: &mut C,
        brigade: &str,
        booking_id: &str,
        deadline_ms: i64,
    ) -> RedisResult<bool> {
        let n: i64 = self
            .placing(&ENQUEUE, brigade, booking_id, deadline_ms)
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

    /// Makes the brigade's lane hold `items` (from the database): adds the missing (waiting),
    /// gives each item with `held_by` a lease of that officer until at least `lease_until_ms`,
    /// keeps the other live leases, and reports the items it was not given (`extra`) without
    /// dropping them.
    pub async fn rebuild<C: ConnectionLike>(
        &self,
        c: &mut C,
        brigade: &str,
        items: &[Wanted],
        now_ms: i64,
        lease_until_ms: i64,
    ) -> RedisResult<Rebuilt> {
        let mut inv = REBUILD.prepare_invoke();
        inv.key(&self.lane(brigade)[..])
            .key(self.index())
            .key(self.brigades_key());
        inv.arg(brigade).arg(now_ms).arg(lease_until_ms);
        for w in items {
            inv.arg(&w.booking_id)
                .arg(w.deadline_ms)
                .arg(w.held_by.as_deref().unwrap_or(""));
        }
        let (added, restored, extra): (Vec<String>, Vec<String>, Vec<String>) =
            inv.invoke_async(c).await?;
        Ok(Rebuilt {
            added,
            restored,
            extra,
        })
    }

    /// Gives the item's claim to `officer` until at least `lease_until_ms` (whatever the lane
    /// held). True when the holder changed.
    #[allow(clippy::too_many_arguments)]
    pub async fn hold<C: ConnectionLike>(
        &self,
        c: &mut C,
        brigade: &str,
        booking_id: &str,
        deadline_ms: i64,
        officer: &str,
        now_ms: i64,
        lease_until_ms: i64,
    ) -> RedisResult<bool> {
        let n: i64 = self
            .placing(&HOLD, brigade, booking_id, deadline_ms)
            .arg(officer)
            .arg(now_ms)
            .arg(lease_until_ms)
            .invoke_async(c)
            .await?;
        Ok(n == 1)
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
mod tests;
