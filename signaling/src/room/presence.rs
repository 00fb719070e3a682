//! One hearing's presence: a slot per seat (a seat is a role: empty, connected with its outbound
//! queue, reconnecting during the grace period, left), the transitions' queries, the frames that
//! tell the other seats about a change (`peer` aggregated, or `seat` to roster subscribers), and
//! the hearing's media room. The [`super::Hub`] owns the registry of these and the timers; this
//! module owns no lock and does no I/O.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::mpsc;

use super::{Outbound, close_code};
use crate::media::MediaRoom;
use crate::msg::{PeerState, Role, SeatState, ServerMsg};
use crate::video::VideoState;

#[derive(Debug)]
pub(super) enum Slot {
    Empty,
    Connected {
        conn: u64,
        tx: mpsc::Sender<Outbound>,
        /// The connection sent `seats`: it gets `seat {role, state}` instead of `peer {state}`.
        roster: bool,
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
    fn state(&self) -> Option<PeerState> {
        match self {
            Slot::Empty => None,
            Slot::Connected { .. } => Some(PeerState::Joined),
            Slot::Reconnecting { .. } => Some(PeerState::Reconnecting),
            Slot::Left => Some(PeerState::Left),
        }
    }
}

static EMPTY: Slot = Slot::Empty;

pub(super) struct Room {
    /// The seats taken at least once in this room's lifetime.
    seats: BTreeMap<Role, Slot>,
    /// The hearing's media room, opened on first use ([`super::Hub::media`]).
    pub media: Option<Arc<dyn MediaRoom>>,
    /// The seats away from the call (the gaps in progress).
    pub away: super::gaps::Away,
    /// Each seat's announced video state (absent: never announced, video on).
    pub video: BTreeMap<Role, VideoState>,
    /// When each seat's last ICE restart was let through ([`super::Hub::allow_ice_restart`]).
    pub restarts: BTreeMap<Role, tokio::time::Instant>,
    /// Each seat's link level ([`crate::link`]; absent: not sampled yet in this room).
    pub link: BTreeMap<Role, crate::link::Classifier>,
}

impl Room {
    pub fn new() -> Room {
        Room {
            seats: BTreeMap::new(),
            media: None,
            away: Default::default(),
            video: BTreeMap::new(),
            restarts: BTreeMap::new(),
            link: BTreeMap::new(),
        }
    }
    /// No seat is connected or may come back: the room can go.
    pub fn all_gone(&self) -> bool {
        self.seats.values().all(Slot::is_gone)
    }
    pub fn presence(&self) -> Presence {
        Presence {
            seats: self
                .seats
                .iter()
                .filter_map(|(r, s)| Some((*r, s.state()?)))
                .collect(),
        }
    }
    pub fn slot(&mut self, role: Role) -> &mut Slot {
        self.seats.entry(role).or_insert(Slot::Empty)
    }
    pub fn slot_ref(&self, role: Role) -> &Slot {
        self.seats.get(&role).unwrap_or(&EMPTY)
    }
    /// The seats with a live connection.
    pub fn connected(&self) -> impl Iterator<Item = Role> + '_ {
        self.seats
            .iter()
            .filter(|(_, s)| s.is_present())
            .map(|(r, _)| *r)
    }
    /// Whether another seat `role` sees is connected (`peer_present` of `joined`).
    pub fn others_present(&self, role: Role) -> bool {
        self.connected().any(|r| role.sees(r))
    }
    /// What the aggregated `peer` frame says to `to` about the other seats.
    pub fn others_state(&self, to: Role) -> Option<PeerState> {
        let states = || {
            self.seats
                .iter()
                .filter(|(r, _)| to.sees(**r))
                .filter_map(|(_, s)| s.state())
        };
        [PeerState::Joined, PeerState::Reconnecting, PeerState::Left]
            .into_iter()
            .find(|want| states().any(|s| s == *want))
    }
    /// The roster as `to` sees it (every other seat taken so far that `to` sees).
    pub fn roster(&self, to: Role) -> Vec<SeatState> {
        self.seats
            .iter()
            .filter(|(r, _)| to.sees(**r))
            .filter_map(|(r, s)| {
                Some(SeatState {
                    role: *r,
                    state: s.state()?,
                })
            })
            .collect()
    }
    /// Every connected seat that sees `subject`, with the aggregated state it saw before a
    /// change (the citizen is never told about the supervisor).
    pub fn before_change(&self, subject: Role) -> Vec<(Role, Option<PeerState>)> {
        self.connected()
            .filter(|r| r.sees(subject))
            .map(|r| (r, self.others_state(r)))
            .collect()
    }
    /// Tells the other connected seats that `subject` changed: a `seat` frame to roster
    /// subscribers, a `peer` frame to the others when their aggregate changed (`before` from
    /// [`Room::before_change`]; for a re-attach of a seat that was connected: no frame).
    pub fn announce(&self, subject: Role, before: &[(Role, Option<PeerState>)]) {
        let Some(state) = self.slot_ref(subject).state() else {
            return;
        };
        for (to, was) in before {
            let Slot::Connected { roster, .. } = self.slot_ref(*to) else {
                continue;
            };
            if *roster {
                self.send(
                    *to,
                    ServerMsg::Seat {
                        role: subject,
                        state,
                    },
                );
            } else if let Some(now) = self.others_state(*to)
                && Some(now) != *was
            {
                self.send(*to, ServerMsg::Peer { state: now });
            }
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

/// The presence of a hearing's seats (absent: never joined in this room's lifetime).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Presence {
    pub seats: BTreeMap<Role, PeerState>,
}

impl Presence {
    /// Nobody ever joined (no room).
    pub fn nobody() -> Presence {
        Presence::default()
    }

    /// The state of one seat.
    pub fn of(&self, role: Role) -> Option<PeerState> {
        self.seats.get(&role).copied()
    }

    /// The hearing's two parties (citizen and officer) have a live signalling connection; the
    /// hearing's rules (`in_call`) look at these two seats only.
    pub fn both_connected(&self) -> bool {
        self.of(Role::Citizen) == Some(PeerState::Joined)
            && self.of(Role::Officer) == Some(PeerState::Joined)
    }
}
