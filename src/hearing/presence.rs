//! The presence watcher: follows who is connected to each live hearing's call (through
//! [`ports::presence`]) and turns changes into status transitions (both connected → `in_call`;
//! both gone during the call → `interrupted`) and officer events (`citizen_joined`,
//! `citizen_reconnecting`, `citizen_left`, `officer_left`). It polls this process's rooms and
//! skips the hearings another process holds (the hearing → process map), so with several
//! processes each call is judged once, by the process holding it.

use super::Hearing;
use std::collections::HashMap;

use serde_json::json;
use tokio::sync::watch;

use super::{
    events, gaps, lifecycle, live,
    machine::Status,
    ports::{self, Peer, Seen},
    store,
};

/// What a change of presence means.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub events: Vec<&'static str>,
    pub both_connected: bool,
    pub both_gone: bool,
}

/// Pure: the events and transitions between two observations of a hearing in `status`.
pub fn diff(status: Status, before: Seen, now: Seen) -> Changes {
    let mut c = Changes::default();
    if before.citizen != now.citizen {
        match now.citizen {
            Peer::Joined => c.events.push("citizen_joined"),
            Peer::Reconnecting => c.events.push("citizen_reconnecting"),
            Peer::Left => c.events.push("citizen_left"),
            Peer::Absent if before.citizen != Peer::Left => c.events.push("citizen_left"),
            Peer::Absent => {}
        }
    }
    if before.officer != now.officer {
        match now.officer {
            Peer::Joined => c.events.push("officer_joined"),
            Peer::Reconnecting => c.events.push("officer_reconnecting"),
            Peer::Left => c.events.push("officer_left"),
            Peer::Absent if before.officer != Peer::Left => c.events.push("officer_left"),
            Peer::Absent => {}
        }
    }
    let gone = |p: Peer| matches!(p, Peer::Absent | Peer::Left);
    c.both_connected =
        status == Status::Open && now.citizen == Peer::Joined && now.officer == Peer::Joined;
    c.both_gone = status == Status::InCall && gone(now.citizen) && gone(now.officer);
    c
}

/// One pass over the live hearings.
pub async fn poll_once(
    state: &Hearing,
    seen: &mut HashMap<String, Seen>,
) -> crate::error::ApiResult<()> {
    gaps::seal_finished(state).await;
    let live = store::live_statuses(&state.db.read).await?;
    seen.retain(|id, _| live.iter().any(|(l, _)| l == id));
    let ids: Vec<String> = live.iter().map(|(id, _)| id.clone()).collect();
    let elsewhere = ports::held_elsewhere(state, &ids).await;
    let mut snapshots = vec![];
    for ((id, status), elsewhere) in live.into_iter().zip(elsewhere) {
        // Another process holds the call: its watcher judges the presence.
        if elsewhere {
            seen.remove(&id);
            continue;
        }
        let Some(status) = Status::parse(&status) else {
            continue;
        };
        if state.call.hub.has_room(&id) {
            snapshots.push((id.clone(), live::local(state, &id)));
        }
        let now = ports::presence(state, &id);
        let before = seen.get(&id).copied().unwrap_or_default();
        let c = diff(status, before, now);
        // The hearing's row is read only when there is an event to publish.
        if !c.events.is_empty() {
            let Some(h) = store::get(&state.db.read, &id).await? else {
                continue;
            };
            for ev in &c.events {
                events::publish(state, &h, ev, json!({})).await;
            }
        }
        if c.both_connected || c.both_gone {
            lifecycle::presence_changed(state, &id, c.both_connected, c.both_gone).await;
        }
        seen.insert(id, now);
    }
    live::publish(state, &snapshots).await;
    Ok(())
}

/// Background job: polls presence every `presence_poll_ms`.
pub async fn watcher(state: Hearing, mut stop: watch::Receiver<bool>) {
    let period = std::time::Duration::from_millis(state.config.presence_poll_ms.max(50));
    let mut seen = HashMap::new();
    while crate::jobs::tick(&mut stop, period).await {
        if let Err(e) = poll_once(&state, &mut seen).await {
            tracing::warn!(error = %e, "presence poll failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(citizen: Peer, officer: Peer) -> Seen {
        Seen { citizen, officer }
    }

    #[test]
    fn both_joined_starts_the_call() {
        let c = diff(
            Status::Open,
            s(Peer::Absent, Peer::Joined),
            s(Peer::Joined, Peer::Joined),
        );
        assert_eq!(c.events, ["citizen_joined"]);
        assert!(c.both_connected && !c.both_gone);
        // Already in the call: no transition.
        let c = diff(
            Status::InCall,
            s(Peer::Absent, Peer::Joined),
            s(Peer::Joined, Peer::Joined),
        );
        assert!(!c.both_connected);
    }

    #[test]
    fn a_drop_is_reconnecting_not_an_interruption() {
        let c = diff(
            Status::InCall,
            s(Peer::Joined, Peer::Joined),
            s(Peer::Reconnecting, Peer::Joined),
        );
        assert_eq!(c.events, ["citizen_reconnecting"]);
        assert!(!c.both_gone);
        let c = diff(
            Status::InCall,
            s(Peer::Reconnecting, Peer::Joined),
            s(Peer::Reconnecting, Peer::Left),
        );
        assert!(!c.both_gone, "the citizen may still come back");
    }

    #[test]
    fn both_gone_interrupts_the_call() {
        let c = diff(
            Status::InCall,
            s(Peer::Left, Peer::Joined),
            s(Peer::Absent, Peer::Absent),
        );
        assert_eq!(c.events, ["officer_left"]);
        assert!(c.both_gone);
        // Before the call started, nobody is interrupted.
        let c = diff(
            Status::Open,
            s(Peer::Absent, Peer::Joined),
            s(Peer::Absent, Peer::Absent),
        );
        assert!(!c.both_gone);
    }
}
