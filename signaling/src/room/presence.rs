//! One hearing's presence: a slot per role (empty, connected with its outbound queue,
//! reconnecting during the grace period, left), the transitions' queries, frames queued to a
//! connected party, and the hearing's media room. The [`super::Hub`] owns the registry of these
//! and the timers; this module owns no lock and does no I/O.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::{Outbound, close_code};
use crate::media::MediaRoom;
use crate::msg::{PeerState, Role, ServerMsg};

#[derive(Debug)]
pub(super) enum Slot {
    Empty,
    Connected {
        conn: u64,
        tx: mpsc::Sender<Outbound>,
    },
    Reconnecting {
        conn: u64,
    },
    Left,
}

impl Slot {
    pub fn is_present(&self) -> bool {
        matches!(self, Slot::Connected { .. })
    }
    pub fn is_gone(&self) -> bool {
        matches!(self, Slot::Empty | Slot::Left)
    }
}

pub(super) struct Room {
    pub citizen: Slot,
    pub officer: Slot,
    /// The hearing's media room, opened on first use ([`super::Hub::media`]).
    pub media: Option<Arc<dyn MediaRoom>>,
}

impl Room {
    pub fn new() -> Room {
        Room {
            citizen: Slot::Empty,
            officer: Slot::Empty,
            media: None,
        }
    }
    /// Neither party is connected or may come back: the room can go.
    pub fn all_gone(&self) -> bool {
        self.citizen.is_gone() && self.officer.is_gone()
    }
    pub fn presence(&self) -> Presence {
        let state = |s: &Slot| match s {
            Slot::Empty => None,
            Slot::Connected { .. } => Some(PeerState::Joined),
            Slot::Reconnecting { .. } => Some(PeerState::Reconnecting),
            Slot::Left => Some(PeerState::Left),
        };
        Presence {
            citizen: state(&self.citizen),
            officer: state(&self.officer),
        }
    }
    pub fn slot(&mut self, role: Role) -> &mut Slot {
        match role {
            Role::Citizen => &mut self.citizen,
            Role::Officer => &mut self.officer,
        }
    }
    pub fn slot_ref(&self, role: Role) -> &Slot {
        match role {
            Role::Citizen => &self.citizen,
            Role::Officer => &self.officer,
        }
    }
    pub fn send(&self, role: Role, msg: ServerMsg) {
        if let Slot::Connected { tx, .. } = self.slot_ref(role) {
            // A full queue means a stuck client: tell it to go (best effort).
            if tx.try_send(Outbound::Msg(msg)).is_err() {
                let _ = tx.try_send(Outbound::Close(close_code::POLICY, "too slow".into()));
            }
        }
    }
}

/// The presence of both parties of a hearing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Presence {
    pub citizen: Option<PeerState>,
    pub officer: Option<PeerState>,
}

impl Presence {
    /// Nobody ever joined (no room).
    pub const NOBODY: Presence = Presence {
        citizen: None,
        officer: None,
    };

    /// Both parties have a live signalling connection.
    pub fn both_connected(&self) -> bool {
        self.citizen == Some(PeerState::Joined) && self.officer == Some(PeerState::Joined)
    }
}
