//! Gaps in a call: a seat that drops or leaves is away from then on; when it is back, when its
//! grace period runs out, or when the room closes without it, the away time becomes a finished
//! [`SeatGap`] that the hub queues for the server to seal ([`super::Hub::take_gaps`]). Kept in
//! the room as the changes happen, so a drop shorter than any poll is not missed.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Hub, Room};
use crate::media::MediaRoom;
use crate::msg::Role;

/// At most this many finished gaps wait for [`Hub::take_gaps`].
const MAX_QUEUED_GAPS: usize = 10_000;

/// Why a seat was away, or how its gap ended.
pub mod why {
    /// The connection dropped (no `leave`).
    pub const CONNECTION_LOST: &str = "connection_lost";
    /// The participant sent `leave`.
    pub const LEFT: &str = "left";
    /// Still away after the grace period of a drop ran out.
    pub const NOT_BACK_IN_GRACE: &str = "not_back_within_grace";
    /// Ends: back on the call, the grace ran out, the room closed.
    pub const RETURNED: &str = "returned";
    pub const GRACE_EXPIRED: &str = "grace_expired";
    pub const CALL_ENDED: &str = "call_ended";
}

/// A finished gap of one seat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatGap {
    pub hearing_id: String,
    pub role: Role,
    pub from: Instant,
    pub to: Instant,
    /// [`why::CONNECTION_LOST`], [`why::LEFT`] or [`why::NOT_BACK_IN_GRACE`].
    pub cause: &'static str,
    /// [`why::RETURNED`], [`why::GRACE_EXPIRED`] or [`why::CALL_ENDED`].
    pub ended: &'static str,
}

/// The seats of a room that are away, since when and why.
#[derive(Debug, Default)]
pub(super) struct Away(BTreeMap<Role, (Instant, &'static str)>);

impl Away {
    /// A seat that was connected dropped or left.
    pub fn gone(&mut self, role: Role, cause: &'static str) {
        self.0.entry(role).or_insert((Instant::now(), cause));
    }

    /// A seat attached again: its gap (if any) is over.
    pub fn back(&mut self, hearing_id: &str, role: Role, out: &mut Vec<SeatGap>) {
        if let Some((from, cause)) = self.0.remove(&role) {
            out.push(gap(hearing_id, role, from, cause, why::RETURNED));
        }
    }

    /// The grace of a drop ran out: that gap is sealed and a new one starts.
    pub fn expired(&mut self, hearing_id: &str, role: Role, out: &mut Vec<SeatGap>) {
        if let Some((from, cause)) = self.0.remove(&role) {
            out.push(gap(hearing_id, role, from, cause, why::GRACE_EXPIRED));
        }
        self.0
            .insert(role, (Instant::now(), why::NOT_BACK_IN_GRACE));
    }

    /// The room closes: every seat still away ends its gap.
    pub fn close(self, hearing_id: &str, out: &mut Vec<SeatGap>) {
        for (role, (from, cause)) in self.0 {
            out.push(gap(hearing_id, role, from, cause, why::CALL_ENDED));
        }
    }
}

fn gap(
    hearing_id: &str,
    role: Role,
    from: Instant,
    cause: &'static str,
    ended: &'static str,
) -> SeatGap {
    SeatGap {
        hearing_id: hearing_id.to_owned(),
        role,
        from,
        to: Instant::now(),
        cause,
        ended,
    }
}

impl Hub {
    /// A room removed from the registry: the gaps still open end with the call; returns its
    /// media room to close.
    pub(super) fn closed(&self, hearing_id: &str, room: Room) -> Option<Arc<dyn MediaRoom>> {
        let mut done = vec![];
        room.away.close(hearing_id, &mut done);
        self.queue_gaps(done);
        room.media
    }

    pub(super) fn queue_gaps(&self, done: Vec<SeatGap>) {
        if done.is_empty() {
            return;
        }
        let mut q = self.gaps.lock().unwrap_or_else(|e| e.into_inner());
        q.extend(done);
        // Nobody takes them (a tool without the server's watcher): keep the newest only.
        let over = q.len().saturating_sub(MAX_QUEUED_GAPS);
        q.drain(..over);
    }

    /// Puts back finished gaps the server could not seal (a database error): the next
    /// [`Hub::take_gaps`] hands them out again, so a passing failure loses no gap.
    pub fn requeue_gaps(&self, gaps: Vec<SeatGap>) {
        self.queue_gaps(gaps);
    }

    /// The finished gaps since the last call (the server seals them into the hearing's record).
    pub fn take_gaps(&self) -> Vec<SeatGap> {
        std::mem::take(&mut *self.gaps.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// How long ago `role`'s media in the hearing was last recorded (`None`: no room, no media
    /// room yet, or nothing recorded; see [`MediaRoom::recorded_ago`]).
    pub fn recorded_ago(&self, hearing_id: &str, role: Role) -> Option<Duration> {
        let media = self.lock().get(hearing_id)?.media.clone()?;
        media.recorded_ago(role)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn away_seats_become_gaps_when_back_expired_or_closed() {
        let mut a = Away::default();
        let mut out = vec![];
        a.back("h", Role::Citizen, &mut out);
        assert!(out.is_empty(), "a first join is no gap");
        a.gone(Role::Citizen, why::CONNECTION_LOST);
        a.gone(Role::Citizen, why::LEFT); // still the first cause
        a.back("h", Role::Citizen, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(
            (out[0].cause, out[0].ended),
            (why::CONNECTION_LOST, why::RETURNED)
        );
        assert!(out[0].to >= out[0].from);
        a.gone(Role::Officer, why::CONNECTION_LOST);
        a.expired("h", Role::Officer, &mut out);
        assert_eq!(
            (out[1].cause, out[1].ended),
            (why::CONNECTION_LOST, why::GRACE_EXPIRED)
        );
        a.gone(Role::Citizen, why::LEFT);
        a.close("h", &mut out);
        let ends: Vec<_> = out[2..]
            .iter()
            .map(|g| (g.role, g.cause, g.ended))
            .collect();
        assert_eq!(
            ends,
            [
                (Role::Citizen, why::LEFT, why::CALL_ENDED),
                (Role::Officer, why::NOT_BACK_IN_GRACE, why::CALL_ENDED)
            ]
        );
    }
}
