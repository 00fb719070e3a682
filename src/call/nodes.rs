//! The hearing → process map in Redis: `<prefix>:hearing:<id>:node` = `"<node id> <node url>"`.
//!
//! A process claims a hearing when a participant joins there (set if absent or already its own,
//! with a TTL of `call.node_ttl_ms`), renews the claim every third of the TTL while its room
//! lives, and releases it (compare-and-delete) when the room closes or the process stops. A
//! claim of another process that has not expired sends the socket there (`wrong_node`); an
//! expired claim (the process died) is free and the next join takes the hearing over.
//!
//! Owns this process's identity ([`Node`]) and the map's keys; it does not touch rooms except to
//! close them when the process stops.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::extract::FromRef;
use tokio::sync::watch;

use super::Call;

/// Sets the claim when it is absent or already ours (renewing its TTL); returns the holder.
const CLAIM: &str = r"
local v = redis.call('GET', KEYS[1])
if (not v) or v == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
return v
";

/// Deletes the claim only when it is ours.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
";

/// This server process in the map.
#[derive(Debug)]
pub struct Node {
    pub id: String,
    url: RwLock<String>,
    ttl_ms: u64,
    /// Hearings claimed by this process, with the time of the last claim or renewal.
    claimed: Mutex<HashMap<String, Instant>>,
}

/// Who holds a hearing's call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    Me,
    Other { node: String, url: String },
}

impl Node {
    /// `node_id` (empty: random), the URL given to clients sent here (`node_url`, else
    /// `public_url`, else the listener's), claims living `ttl_ms`.
    pub fn new(node_id: &str, node_url: &str, public_url: &str, ttl_ms: u64) -> Node {
        let id = match node_id.trim() {
            "" => uuid::Uuid::new_v4().simple().to_string()[..12].to_owned(),
            id => id.to_owned(),
        };
        let url = [node_url, public_url]
            .into_iter()
            .map(|u| u.trim().trim_end_matches('/'))
            .find(|u| !u.is_empty())
            .unwrap_or_default()
            .to_owned();
        Node {
            id,
            url: RwLock::new(url),
            ttl_ms: ttl_ms.max(300),
            claimed: Mutex::new(HashMap::new()),
        }
    }

    /// The listener's address becomes the URL when none is configured.
    pub fn listening_on(&self, addr: SocketAddr) {
        let mut url = self.url.write().unwrap_or_else(|e| e.into_inner());
        if url.is_empty() {
            *url = format!("http://{addr}");
        }
    }

    /// This process's base URL (`http(s)://host:port`).
    pub fn url(&self) -> String {
        self.url.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn value(&self) -> String {
        format!("{} {}", self.id, self.url())
    }

    fn claims(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.claimed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How often claims are renewed.
    pub fn renew_every(&self) -> Duration {
        Duration::from_millis(self.ttl_ms / 3)
    }
}

/// The map's key of a hearing.
pub fn key<S>(state: &S, hearing_id: &str) -> String
where
    Call: FromRef<S>,
{
    key_in(&Call::from_ref(state), hearing_id)
}

fn key_in(call: &Call, hearing_id: &str) -> String {
    call.kv.key(&format!("hearing:{hearing_id}:node"))
}

fn holder(node: &Node, value: &str) -> Holder {
    if value == node.value() {
        return Holder::Me;
    }
    let (id, url) = value.split_once(' ').unwrap_or((value, ""));
    Holder::Other {
        node: id.to_owned(),
        url: url.to_owned(),
    }
}

/// Claims (or renews) the hearing for this process unless another live process holds it.
pub async fn claim(call: &Call, hearing_id: &str) -> redis::RedisResult<Holder> {
    let node = &call.node;
    let v: String = redis::Script::new(CLAIM)
        .key(key_in(call, hearing_id))
        .arg(node.value())
        .arg(node.ttl_ms)
        .invoke_async(&mut call.kv.conn())
        .await?;
    let h = holder(node, &v);
    let mut claims = node.claims();
    if h == Holder::Me {
        claims.insert(hearing_id.to_owned(), Instant::now());
    } else {
        claims.remove(hearing_id);
    }
    Ok(h)
}

/// Releases this process's claim on the hearing (no-op when another process holds it).
pub async fn release(call: &Call, hearing_id: &str) {
    call.node.claims().remove(hearing_id);
    let r: redis::RedisResult<i64> = redis::Script::new(RELEASE)
        .key(key_in(call, hearing_id))
        .arg(call.node.value())
        .invoke_async(&mut call.kv.conn())
        .await;
    if let Err(e) = r {
        tracing::warn!(hearing_id, error = %e, "releasing the hearing's claim failed (it expires)");
    }
}

/// Releases the claim when this process no longer has a room for the hearing.
pub async fn release_if_idle(call: &Call, hearing_id: &str) {
    if !call.hub.has_room(hearing_id) {
        release(call, hearing_id).await;
    }
}

/// For each hearing: whether another process holds its call right now.
pub async fn held_elsewhere<S>(state: &S, ids: &[String]) -> redis::RedisResult<Vec<bool>>
where
    Call: FromRef<S>,
{
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let call = &Call::from_ref(state);
    let keys: Vec<String> = ids.iter().map(|id| key_in(call, id)).collect();
    let values: Vec<Option<String>> = redis::cmd("MGET")
        .arg(keys)
        .query_async(&mut call.kv.conn())
        .await?;
    let node = &call.node;
    Ok(values
        .iter()
        .map(|v| v.as_deref().is_some_and(|v| holder(node, v) != Holder::Me))
        .collect())
}

/// The URL of the other process holding the hearing's call, if one does (a Redis failure
/// counts as none: the socket's join check decides then).
pub async fn holder_url<S>(state: &S, hearing_id: &str) -> Option<String>
where
    Call: FromRef<S>,
{
    let call = &Call::from_ref(state);
    let v: Option<String> = redis::cmd("GET")
        .arg(key_in(call, hearing_id))
        .query_async(&mut call.kv.conn())
        .await
        .ok()?;
    match holder(&call.node, &v?) {
        Holder::Other { url, .. } if !url.is_empty() => Some(url),
        _ => None,
    }
}

/// One heartbeat: renews the claims of live rooms, releases those whose room is gone.
pub async fn heartbeat(call: &Call) {
    let node = &call.node;
    let rooms = call.hub.room_ids();
    for id in &rooms {
        match claim(call, id).await {
            Ok(Holder::Me) => {}
            Ok(Holder::Other { node: other, .. }) => {
                // Our claim expired (Redis unreachable longer than the TTL) and another process
                // took the hearing: two rooms exist; the clients of this one are sent away.
                tracing::error!(hearing_id = %id, other, "lost the hearing's claim; closing the room here");
                let code = signaling::room::close_code::SERVICE_RESTART;
                call.hub.close_room(id, code, "moved").await;
            }
            Err(e) => tracing::warn!(hearing_id = %id, error = %e, "renewing a claim failed"),
        }
    }
    let grace = node.renew_every();
    let idle: Vec<String> = node
        .claims()
        .iter()
        .filter(|(id, at)| !rooms.contains(id) && at.elapsed() >= grace)
        .map(|(id, _)| id.clone())
        .collect();
    for id in idle {
        release_if_idle(call, &id).await;
    }
}

/// Background job: the heartbeat every third of the TTL, then [`leave`] at stop.
pub async fn run(call: Call, mut stop: watch::Receiver<bool>) {
    let period = call.node.renew_every();
    while crate::jobs::tick(&mut stop, period).await {
        heartbeat(&call).await;
    }
    leave(&call).await;
}

/// The process stops: its rooms are closed with 1012 (reconnect; their recording segments are
/// finalised) and its claims released, so another process takes the hearings over at once.
pub async fn leave(call: &Call) {
    let code = signaling::room::close_code::SERVICE_RESTART;
    for id in call.hub.room_ids() {
        call.hub.close_room(&id, code, "server restart").await;
    }
    let claimed: Vec<String> = call.node.claims().keys().cloned().collect();
    for id in claimed {
        release(call, &id).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// The node of a configuration, as `startup` builds it.
    fn node(c: &Config) -> Node {
        let s = &c.server;
        Node::new(&s.node_id, &s.node_url, &s.public_url, c.call.node_ttl_ms)
    }

    fn config(node_url: &str, public_url: &str) -> Config {
        let mut c = Config::defaults().unwrap();
        c.server.node_url = node_url.into();
        c.server.public_url = public_url.into();
        c
    }

    #[test]
    fn the_url_is_node_url_then_public_url_then_the_listener() {
        let addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let n = node(&config("http://10.0.0.11:8080/", "https://lb.example"));
        n.listening_on(addr);
        assert_eq!(n.url(), "http://10.0.0.11:8080");
        let n = node(&config("", "https://lb.example"));
        n.listening_on(addr);
        assert_eq!(n.url(), "https://lb.example");
        let n = node(&config("", ""));
        n.listening_on(addr);
        assert_eq!(n.url(), "http://127.0.0.1:8080");
        assert_eq!(n.id.len(), 12);
        assert_ne!(n.id, node(&config("", "")).id, "random ids");
    }

    #[test]
    fn holders_are_parsed_from_the_claim() {
        let mut c = config("http://a:1", "");
        c.server.node_id = "node-a".into();
        let n = node(&c);
        assert_eq!(holder(&n, "node-a http://a:1"), Holder::Me);
        assert_eq!(
            holder(&n, "node-b http://b:2"),
            Holder::Other {
                node: "node-b".into(),
                url: "http://b:2".into()
            }
        );
        // Same id, another URL (a restarted process elsewhere): not ours.
        assert!(matches!(
            holder(&n, "node-a http://c:3"),
            Holder::Other { .. }
        ));
    }
}
