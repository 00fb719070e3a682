//! The urgent lane's Lua scripts (one atomic script per mutation; see `queue` for the keys).
//! Each script starts with the prelude: `reap` returns expired leases to the waiting set and
//! `hold` gives an item's lease to an officer (the rebuild's restored claims).

use std::sync::LazyLock;

use redis::Script;

/// Lua prelude (KEYS[1..4] = q, l, c, d). `reap(now)`: expired leases go back to the waiting
/// set. `hold(id, officer, lease_until)`: the item's lease belongs to `officer` until at least
/// `lease_until` (a longer live lease of the same officer is kept); true when the holder changed.
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
local function hold(id, officer, lease_until)
  local cur = redis.call('HGET', KEYS[3], id)
  local lease = redis.call('ZSCORE', KEYS[2], id)
  if cur == officer and lease and tonumber(lease) >= tonumber(lease_until) then return false end
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZADD', KEYS[2], lease_until, id)
  redis.call('HSET', KEYS[3], id, officer)
  return cur ~= officer
end
"#;

fn script(body: &str) -> Script {
    Script::new(&format!("{REAP}\n{body}"))
}

// KEYS q l c d index brigades; ARGV id deadline brigade
pub(super) static ENQUEUE: LazyLock<Script> = LazyLock::new(|| {
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
pub(super) static CLAIM: LazyLock<Script> = LazyLock::new(|| {
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
pub(super) static RENEW: LazyLock<Script> = LazyLock::new(|| {
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
pub(super) static RELEASE: LazyLock<Script> = LazyLock::new(|| {
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
pub(super) static REMOVE: LazyLock<Script> = LazyLock::new(|| {
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
pub(super) static LIST: LazyLock<Script> = LazyLock::new(|| {
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

// KEYS q l c d index brigades; ARGV brigade now lease_until, then per item: id deadline
// holder|'' → {added ids, restored ids, extra ids}. Extra items (in the lane, not in ARGV) are
// only reported: the caller drops those the database confirms have left (a booking made after
// the caller's read must not be dropped).
pub(super) static REBUILD: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
reap(ARGV[2])
local want = {}
for i = 4, #ARGV, 3 do want[ARGV[i]] = {ARGV[i+1], ARGV[i+2]} end
local extra = {}
for _, k in ipairs({KEYS[1], KEYS[2]}) do
  for _, id in ipairs(redis.call('ZRANGE', k, 0, -1)) do
    if not want[id] then table.insert(extra, id) end
  end
end
local added, restored = {}, {}
for id, w in pairs(want) do
  local absent = not redis.call('ZSCORE', KEYS[1], id) and not redis.call('ZSCORE', KEYS[2], id)
  redis.call('HSET', KEYS[4], id, w[1])
  redis.call('HSET', KEYS[5], id, ARGV[1])
  if absent then table.insert(added, id) end
  if w[2] ~= '' then
    if hold(id, w[2], ARGV[3]) then table.insert(restored, id) end
  elseif absent then
    redis.call('ZADD', KEYS[1], w[1], id)
  end
end
redis.call('SADD', KEYS[6], ARGV[1])
return {added, restored, extra}
"#,
    )
});

// KEYS q l c d index brigades; ARGV id deadline brigade officer now lease_until → 1 when the
// holder changed.
pub(super) static HOLD: LazyLock<Script> = LazyLock::new(|| {
    script(
        r#"
reap(ARGV[5])
redis.call('HSET', KEYS[4], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[5], ARGV[1], ARGV[3])
redis.call('SADD', KEYS[6], ARGV[3])
if hold(ARGV[1], ARGV[4], ARGV[6]) then return 1 end
return 0
"#,
    )
});

// KEYS q l c d alerted; ARGV now horizon → {waiting, claimed, oldest|'', newly alerted ids...}
pub(super) static SWEEP: LazyLock<Script> = LazyLock::new(|| {
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
