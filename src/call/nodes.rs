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

use tokio::sync::watch;

use crate::{config::Config, state::AppState};

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
    pub fn new(config: &Config) -> Node {
        let id = match config.server.node_id.trim() {
            "" => uuid::Uuid::new_v4().simple().to_string()[..12].to_owned(),
            id => id.to_owned(),
        };
        let url = [&config.server.node_url, &config.server.public_url]
            .into_iter()
            .map(|u| u.trim().trim_end_matches('/'))
            .find(|u| !u.is_empty())
            .unwrap_or_default()
            .to_owned();
        Node {
            id,
            url: RwLock::new(url),
            ttl_ms: config.call.node_ttl_ms.max(300),
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
pub fn key(state: &AppState, hearing_id: &str) -> String {
    state.kv.key(&format!("hearing:{hearing_id}:node"))
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
pub async fn claim(state: &AppState, hearing_id: &str) -> redis::RedisResult<Holder> {
    let node = &state.call.node;
    let v: String = redis::Script::new(CLAIM)
        .key(key(state, hearing_id))
        .arg(node.value())
        .arg(node.ttl_ms)
        .invoke_async(&mut state.kv.conn())
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
pub async fn release(state: &AppState, hearing_id: &str) {
    state.call.node.claims().remove(hearing_id);
    let r: redis::RedisResult<i64> = redis::Script::new(RELEASE)
        .key(key(state, hearing_id))
        .arg(state.call.node.value())
        .invoke_async(&mut state.kv.conn())
        .await;
    if let Err(e) = r {
        tracing::warn!(hearing_id, error = %e, "releasing the hearing's claim failed (it expires)");
    }
}

/// Releases the claim when this process no longer has a room for the hearing.
pub async fn release_if_idle(state: &AppState, hearing_id: &str) {
    if !state.call.hub.has_room(hearing_id) {
        release(state, hearing_id).await;
    }
}

/// For each hearing: whether another process holds its call right now.
pub async fn held_elsewhere(state: &AppState, ids: &[String]) -> redis::RedisResult<Vec<bool>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let keys: Vec<String> = ids.iter().map(|id| key(state, id)).collect();
    let values: Vec<Option<String>> = redis::cmd("MGET")
        .arg(keys)
        .query_async(&mut state.kv.conn())
        .await?;
    let node = &state.call.node;
    Ok(values
        .iter()
        .map(|v| v.as_deref().is_some_and(|v| holder(node, v) != Holder::Me))
        .collect())
}

/// The URL of the other process holding the hearing's call, if one does (a Redis failure
/// counts as none: the socket's join check decides then).
pub async fn holder_url(state: &AppState, hearing_id: &str) -> Option<String> {
    let v: Option<String> = redis::cmd("GET")
        .arg(key(state, hearing_id))
        .query_async(&mut state.kv.conn())
        .await
        .ok()?;
    match holder(&state.call.node, &v?) {
        Holder::Other { url, .. } if !url.is_empty() => Some(url),
        _ => None,
    }
}

/// One heartbeat: renews the claims of live rooms, releases those whose room is gone.
pub async fn heartbeat(state: &AppState) {
    let node = &state.call.node;
    let rooms = state.call.hub.room_ids();
    for id in &rooms {
        match claim(state, id).await {
            Ok(Holder::Me) => {}
            Ok(Holder::Other { node: other, .. }) => {
                // Our claim expired (Redis unreachable longer than the TTL) and another process
                // took the hearing: two rooms exist; the clients of this one are sent away.
                tracing::error!(hearing_id = %id, other, "lost the hearing's claim; closing the room here");
                let code = signaling::room::close_code::SERVICE_RESTART;
                state.call.hub.close_room(id, code, "moved").await;
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
        release_if_idle(state, &id).await;
    }
}

/// Background job: the heartbeat every third of the TTL, then [`leave`] at stop.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    let period = state.call.node.renew_every();
    while crate::jobs::tick(&mut stop, period).await {
        heartbeat(&state).await;
    }
    leave(&state).await;
}

/// The process stops: its rooms are closed with 1012 (reconnect; their recording segments are
/// finalised) and its claims released, so another process takes the hearings over at once.
pub async fn leave(state: &AppState) {
    let code = signaling::room::close_code::SERVICE_RESTART;
    for id in state.call.hub.room_ids() {
        state.call.hub.close_room(&id, code, "server restart").await;
    }
    let claimed: Vec<String> = state.call.node.claims().keys().cloned().collect();
    for id in claimed {
        release(state, &id).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(node_url: &str, public_url: &str) -> Config {
        let mut c = Config::defaults().unwrap();
        c.server.node_url = node_url.into();
        c.server.public_url = public_url.into();
        c
    }

    #[test]
    fn the_url_is_node_url_then_public_url_then_the_listener() {
        let addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let n = Node::new(&config("http://10.0.0.11:8080/", "https://lb.example"));
        n.listening_on(addr);
        assert_eq!(n.url(), "http://10.0.0.11:8080");
        let n = Node::new(&config("", "https://lb.example"));
        n.listening_on(addr);
        assert_eq!(n.url(), "https://lb.example");
        let n = Node::new(&config("", ""));
        n.listening_on(addr);
        assert_eq!(n.url(), "http://127.0.0.1:8080");
        assert_eq!(n.id.len(), 12);
        assert_ne!(n.id, Node::new(&config("", "")).id, "random ids");
    }

    #[test]
    fn holders_are_parsed_from_the_claim() {
        let mut c = config("http://a:1", "");
        c.server.node_id = "node-a".into();
        let n = Node::new(&c);
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
