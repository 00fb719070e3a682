//! The rate limit of ICE restarts: at most one per [`ICE_RESTART_EVERY`] per seat, across the
//! seat's signalling connections (a client that keeps reconnecting and restarting would
//! otherwise make the server regather and re-check ICE without end). The frame itself is also
//! counted by the connection's token bucket like every other frame.

use std::time::Duration;

use tokio::time::Instant;

use super::{Hub, Participant};

/// The shortest time between two ICE restarts of one seat.
pub const ICE_RESTART_EVERY: Duration = Duration::from_secs(2);

impl Hub {
    /// Whether `p` may restart ICE now (and if so, the restart is counted). `false` when the
    /// seat restarted less than [`ICE_RESTART_EVERY`] ago or the hearing has no room.
    pub fn allow_ice_restart(&self, p: &Participant) -> bool {
        let mut rooms = self.lock();
        let Some(room) = rooms.get_mut(&p.hearing_id) else {
            return false;
        };
        let now = Instant::now();
        match room.restarts.get(&p.role) {
            Some(at) if now.saturating_duration_since(*at) < ICE_RESTART_EVERY => false,
            _ => {
                room.restarts.insert(p.role, now);
                true
            }
        }
    }
}
