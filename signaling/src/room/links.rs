//! The hub's side of link quality ([`crate::link`]): each seat's [`Classifier`] lives in its
//! room (a new room starts over), the seat's announced audio-only state decides whether its
//! video bitrate counts, and `link` frames go only to the seats that see links.

use std::sync::Arc;

use super::Hub;
use crate::link::{Classifier, LinkRecorder, LinkReport, LinkSample, level_of};
use crate::msg::{Role, ServerMsg};

impl Hub {
    /// Classifies a sample of `role`'s link; `None` when the hearing has no room here.
    pub(crate) fn classify_link(
        &self,
        hearing_id: &str,
        role: Role,
        sample: LinkSample,
    ) -> Option<LinkReport> {
        let mut rooms = self.lock();
        let room = rooms.get_mut(hearing_id)?;
        let audio_only = room.video.get(&role).is_some_and(|v| !v.video);
        let t = &self.config.link;
        let now = level_of(&sample, !audio_only, t);
        let c = room.link.entry(role).or_insert_with(Classifier::default);
        let before = c.level();
        let changed = c.push(now, t);
        Some(LinkReport {
            role,
            sample,
            audio_only,
            level: c.level().unwrap_or(now),
            changed_from: changed.map(|_| before),
        })
    }

    /// Queues `msg` to every connected seat for which `to` holds; how many got it.
    pub fn push_to(&self, hearing_id: &str, to: fn(Role) -> bool, msg: &ServerMsg) -> usize {
        let rooms = self.lock();
        let Some(room) = rooms.get(hearing_id) else {
            return 0;
        };
        let mut n = 0;
        for role in room.connected().filter(|r| to(*r)) {
            room.send(role, msg.clone());
            n += 1;
        }
        n
    }

    /// A seat's link level in a hearing held here (`None`: not sampled yet, or no room).
    pub fn link_level(&self, hearing_id: &str, role: Role) -> Option<crate::link::Level> {
        self.lock().get(hearing_id)?.link.get(&role)?.level()
    }

    /// Installs the server's link recorder (once; later calls are ignored). Without one, the
    /// frames are pushed and nothing is kept.
    pub fn set_link_recorder(&self, r: Arc<dyn LinkRecorder>) {
        let _ = self.link.set(r);
    }

    pub(crate) fn link_recorder(&self) -> Option<&Arc<dyn LinkRecorder>> {
        self.link.get()
    }
}
