//! Rooms and presence: which participant of which hearing is connected, reconnecting or gone.
//!
//! Owns the per-hearing room registry ([`Hub`]): attaching a verified connection (a second
//! connection of the same participant replaces the first), detaching (leave vs drop), the grace
//! period of a drop, `peer`/`seat` notifications to the other seats, `hearing` pushes, and the
//! lifetime of the hearing's media room. A call has one seat per role and any number of seats
//! (docs/call.md "Seats"). It does not verify tokens (the server does) and does no I/O
//! besides queueing frames to connections.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

use tokio::sync::mpsc;

use crate::chat::ChatRecorder;
use crate::media::{MediaEngine, MediaEvent, MediaRoom};
use crate::msg::{IceServer, Role, ServerMsg};
use crate::video::{VideoRecorder, VideoState};

mod config;
pub mod gaps;
mod links;
mod presence;
mod recorders;
mod restart;

pub use config::{HubConfig, close_code};
pub use gaps::SeatGap;
pub use presence::Presence;
use presence::{Room, Slot};
pub use restart::ICE_RESTART_EVERY;

/// A participant whose join token the server has verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub hearing_id: String,
    pub role: Role,
    pub participant_id: String,
}

/// What the room queues to a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    Msg(ServerMsg),
    /// Close the socket with this code and reason (e.g. replaced by a newer connection).
    Close(u16, String),
}

/// A successful attach.
pub struct Attached {
    pub conn: u64,
    pub peer_present: bool,
    pub rx: mpsc::Receiver<Outbound>,
}

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detach {
    /// The participant sent `leave`.
    Leave,
    /// The socket closed or died without `leave`.
    Drop,
}

/// The registry of rooms (one per hearing with someone connected or reconnecting).
pub struct Hub {
    pub config: HubConfig,
    media: Arc<dyn MediaEngine>,
    rooms: Mutex<HashMap<String, Room>>,
    /// Finished gaps not yet taken by the server ([`Hub::take_gaps`]).
    gaps: Mutex<Vec<SeatGap>>,
    next_conn: std::sync::atomic::AtomicU64,
    /// Seals chat messages before they are relayed ([`crate::chat`]).
    chat: OnceLock<Arc<dyn ChatRecorder>>,
    /// Seals audio-only changes ([`crate::video`]).
    video: OnceLock<Arc<dyn VideoRecorder>>,
    /// Keeps the links' levels with the hearing ([`crate::link`]).
    link: OnceLock<Arc<dyn crate::link::LinkRecorder>>,
    me: Weak<Hub>,
}

impl Hub {
    pub fn new(config: HubConfig, media: Arc<dyn MediaEngine>) -> Arc<Hub> {
        Arc::new_cyclic(|me| Hub {
            config,
            media,
            rooms: Mutex::new(HashMap::new()),
            gaps: Mutex::new(Vec::new()),
            next_conn: std::sync::atomic::AtomicU64::new(1),
            chat: OnceLock::new(),
            video: OnceLock::new(),
            link: OnceLock::new(),
            me: me.clone(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Room>> {
        // A poisoned lock only means another thread panicked mid-update; the map is still usable.
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Attaches a verified participant's new connection; a previous connection of the same
    /// participant is told it was replaced and closed.
    pub fn attach(&self, p: &Participant) -> Attached {
        let conn = self
            .next_conn
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(self.config.outbound_queue.max(4));
        let mut rooms = self.lock();
        let room = rooms.entry(p.hearing_id.clone()).or_insert_with(Room::new);
        let before = room.before_change(p.role);
        let new = Slot::Connected {
            conn,
            tx,
            roster: false,
        };
        let old = std::mem::replace(room.slot(p.role), new);
        let was_present = match old {
            Slot::Connected { tx: old_tx, .. } => {
                let _ = old_tx.try_send(Outbound::Msg(ServerMsg::error(
                    "replaced",
                    "another connection of the same participant took over",
                )));
                let _ = old_tx.try_send(Outbound::Close(
                    close_code::REPLACED,
                    "replaced by a new connection".into(),
                ));
                true
            }
            _ => false,
        };
        if !was_present {
            room.announce(p.role, &before);
            let mut done = vec![];
            room.away.back(&p.hearing_id, p.role, &mut done);
            self.queue_gaps(done);
        }
        let peer_present = room.others_present(p.role);
        // The other seats' audio-only states, for the newcomer (queued behind `joined`).
        for (role, v) in &room.video {
            if *role != p.role && p.role.sees(*role) && !v.video {
                room.send(p.role, media_frame(*role, *v));
            }
        }
        metrics_gauge(&rooms);
        Attached {
            conn,
            peer_present,
            rx,
        }
    }

    /// Detaches a connection (no-op when it was already replaced).
    pub fn detach(&self, p: &Participant, conn: u64, how: Detach) {
        let mut to_remove: Option<Arc<dyn MediaRoom>> = None;
        let mut to_close: Option<Arc<dyn MediaRoom>> = None;
        {
            let mut rooms = self.lock();
            let Some(room) = rooms.get_mut(&p.hearing_id) else {
                return;
            };
            let current =
                matches!(room.slot_ref(p.role), Slot::Connected { conn: c, .. } if *c == conn);
            if !current {
                return;
            }
            let before = room.before_change(p.role);
            match how {
                Detach::Leave => {
                    *room.slot(p.role) = Slot::Left;
                    room.away.gone(p.role, gaps::why::LEFT);
                    to_remove = room.media.clone();
                }
                Detach::Drop => {
                    *room.slot(p.role) = Slot::Reconnecting { conn };
                    room.away.gone(p.role, gaps::why::CONNECTION_LOST);
                    self.schedule_grace(p.clone(), conn);
                }
            }
            room.announce(p.role, &before);
            if room.all_gone()
                && let Some(room) = rooms.remove(&p.hearing_id)
            {
                to_close = self.closed(&p.hearing_id, room);
                to_remove = None;
            }
            metrics_gauge(&rooms);
        }
        spawn_media(to_remove, to_close, p.role);
    }

    fn schedule_grace(&self, p: Participant, conn: u64) {
        let Some(me) = self.me.upgrade() else { return };
        let grace = self.config.grace;
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            me.expire(&p, conn);
        });
    }

    /// The grace period of a drop ran out: the participant is gone.
    fn expire(&self, p: &Participant, conn: u64) {
        let mut to_remove;
        let mut to_close = None;
        {
            let mut rooms = self.lock();
            let Some(room) = rooms.get_mut(&p.hearing_id) else {
                return;
            };
            if !matches!(room.slot_ref(p.role), Slot::Reconnecting { conn: c } if *c == conn) {
                return;
            }
            let before = room.before_change(p.role);
            *room.slot(p.role) = Slot::Left;
            let mut done = vec![];
            room.away.expired(&p.hearing_id, p.role, &mut done);
            self.queue_gaps(done);
            room.announce(p.role, &before);
            to_remove = room.media.clone();
            if room.all_gone()
                && let Some(room) = rooms.remove(&p.hearing_id)
            {
                to_close = self.closed(&p.hearing_id, room);
                to_remove = None;
            }
            metrics_gauge(&rooms);
        }
        spawn_media(to_remove, to_close, p.role);
    }

    /// The media room of a hearing, opened on first use. `None` when the room is gone.
    pub fn media(&self, hearing_id: &str) -> Option<Arc<dyn MediaRoom>> {
        let mut rooms = self.lock();
        let room = rooms.get_mut(hearing_id)?;
        if let Some(m) = &room.media {
            return Some(m.clone());
        }
        let me = self.me.clone();
        let hid = hearing_id.to_owned();
        let sink = Arc::new(move |role: Role, ev: MediaEvent| {
            if let Some(hub) = me.upgrade() {
                hub.media_event(&hid, role, ev);
            }
        });
        let m = self.media.open_room(hearing_id, sink);
        for (role, v) in &room.video {
            m.set_video(*role, v.video);
        }
        room.media = Some(m.clone());
        Some(m)
    }

    fn media_event(&self, hearing_id: &str, role: Role, ev: MediaEvent) {
        if let MediaEvent::Link(sample) = ev {
            crate::link::sampled(self, hearing_id, role, sample);
        } else if let MediaEvent::LocalCandidate(c) = ev {
            let rooms = self.lock();
            if let Some(room) = rooms.get(hearing_id) {
                room.send(role, ServerMsg::Candidate(c));
            }
        }
    }

    /// Pushes a `hearing` frame to every connected seat (the hearing module calls this on
    /// every accepted step). Returns how many connections it was queued to.
    pub fn push_hearing(&self, hearing_id: &str, status: &str, step: Option<&str>) -> usize {
        let msg = ServerMsg::Hearing {
            status: status.to_owned(),
            step: step.map(str::to_owned),
        };
        self.push_all(hearing_id, &msg)
    }

    /// Queues `msg` to every connected seat of the hearing; how many it was queued to.
    pub fn push_all(&self, hearing_id: &str, msg: &ServerMsg) -> usize {
        let rooms = self.lock();
        let Some(room) = rooms.get(hearing_id) else {
            return 0;
        };
        let mut n = 0;
        for role in room.connected() {
            room.send(role, msg.clone());
            n += 1;
        }
        n
    }

    /// Queues `msg` from the seat `from` to every connected seat that sees it (the sender
    /// included; the citizen never gets the supervisor's). Returns how many got it.
    pub fn push_from(&self, hearing_id: &str, from: Role, msg: &ServerMsg) -> usize {
        let rooms = self.lock();
        let Some(room) = rooms.get(hearing_id) else {
            return 0;
        };
        let mut n = 0;
        for role in room.connected() {
            if role == from || role.sees(from) {
                room.send(role, msg.clone());
                n += 1;
            }
        }
        n
    }

    /// Subscribes a participant's current connection to the seat roster: the `seats` frame is
    /// queued to it (behind anything queued before) and later changes come as `seat` frames.
    pub fn subscribe_seats(&self, p: &Participant, conn: u64) {
        let mut rooms = self.lock();
        let Some(room) = rooms.get_mut(&p.hearing_id) else {
            return;
        };
        match room.slot(p.role) {
            Slot::Connected {
                conn: c, roster, ..
            } if *c == conn => *roster = true,
            _ => return,
        }
        let seats = room.roster(p.role);
        room.send(p.role, ServerMsg::Seats { seats });
    }

    /// Presence of every seat (absent: never joined in this room's lifetime).
    pub fn presence(&self, hearing_id: &str) -> Presence {
        self.lock()
            .get(hearing_id)
            .map_or_else(Presence::nobody, Room::presence)
    }

    /// The hearing ended: every socket is closed and the media room (recordings) is closed.
    /// Await it to know the recordings are finalised.
    pub async fn end_hearing(&self, hearing_id: &str) {
        self.close_room(
            hearing_id,
            close_code::HEARING_CLOSED,
            "the hearing is closed",
        )
        .await;
    }

    /// Closes a room: its sockets get `code` and the media room (recordings) is closed. Await
    /// it to know the recordings are finalised. `false` when there was no such room.
    pub async fn close_room(&self, hearing_id: &str, code: u16, reason: &str) -> bool {
        let media = {
            let mut rooms = self.lock();
            let Some(room) = rooms.remove(hearing_id) else {
                return false;
            };
            for role in room.connected() {
                if let Slot::Connected { tx, .. } = room.slot_ref(role) {
                    let _ = tx.try_send(Outbound::Close(code, reason.to_owned()));
                }
            }
            metrics_gauge(&rooms);
            self.closed(hearing_id, room)
        };
        if let Some(m) = media {
            m.close().await;
        }
        true
    }

    /// Whether a room (someone connected or reconnecting) exists for the hearing.
    pub fn has_room(&self, hearing_id: &str) -> bool {
        self.lock().contains_key(hearing_id)
    }

    /// The hearings with a room in this hub.
    pub fn room_ids(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    /// Number of rooms alive (for tests and metrics).
    pub fn room_count(&self) -> usize {
        self.lock().len()
    }

    /// ICE servers are minted by the server per join; the hub just carries them through.
    pub fn joined_frame(role: Role, peer_present: bool, ice_servers: Vec<IceServer>) -> ServerMsg {
        ServerMsg::Joined {
            role,
            peer_present,
            ice_servers,
        }
    }
}

fn media_frame(role: Role, v: VideoState) -> ServerMsg {
    ServerMsg::Media {
        role,
        video: v.video,
        reason: v.reason,
        seq: None,
    }
}

fn metrics_gauge(rooms: &HashMap<String, Room>) {
    metrics::gauge!("signaling_rooms").set(rooms.len() as f64);
}

fn spawn_media(remove: Option<Arc<dyn MediaRoom>>, close: Option<Arc<dyn MediaRoom>>, role: Role) {
    if let Some(m) = remove {
        tokio::spawn(async move { m.remove(role).await });
    }
    if let Some(m) = close {
        tokio::spawn(async move { m.close().await });
    }
}
