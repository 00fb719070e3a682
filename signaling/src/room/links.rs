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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::{Level, sampled};
    use crate::media::NoMedia;
    use crate::room::{HubConfig, Outbound, Participant};
    use crate::video::{VideoReason, VideoState};

    fn p(role: Role) -> Participant {
        Participant {
            hearing_id: "h".into(),
            role,
            participant_id: format!("{}-1", role.as_str()),
        }
    }

    fn links(rx: &mut tokio::sync::mpsc::Receiver<Outbound>) -> Vec<(Role, Level, bool)> {
        let mut out = vec![];
        while let Ok(o) = rx.try_recv() {
            if let Outbound::Msg(ServerMsg::Link {
                role,
                level,
                audio_only,
                ..
            }) = o
            {
                out.push((role, level, audio_only));
            }
        }
        out
    }

    #[tokio::test]
    async fn frames_go_to_the_officer_and_supervisor_and_audio_only_spares_the_bitrate() {
        let hub = Hub::new(HubConfig::default(), Arc::new(NoMedia));
        let mut c = hub.attach(&p(Role::Citizen)).rx;
        let mut o = hub.attach(&p(Role::Officer)).rx;
        let mut s = hub.attach(&p(Role::Supervisor)).rx;
        let mut i = hub.attach(&p(Role::Interpreter)).rx;
        // no video arrives from the citizen: poor while its video is announced on
        let starved = LinkSample {
            rtt_ms: Some(20),
            kbps_in: 40,
            kbps_out: 600,
            ..Default::default()
        };
        sampled(&hub, "h", Role::Citizen, starved);
        assert_eq!(links(&mut o), [(Role::Citizen, Level::Poor, false)]);
        assert_eq!(links(&mut s), [(Role::Citizen, Level::Poor, false)]);
        assert!(links(&mut c).is_empty() && links(&mut i).is_empty());
        assert_eq!(hub.link_level("h", Role::Citizen), Some(Level::Poor));
        // audio-only announced: the same figures are good (after the hysteresis)
        let off = VideoState {
            video: false,
            reason: VideoReason::NoCamera,
        };
        hub.set_video_state("h", Role::Citizen, off);
        for _ in 0..3 {
            sampled(&hub, "h", Role::Citizen, starved);
        }
        let seen = links(&mut o);
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[2], (Role::Citizen, Level::Good, true));
        // no room, no frame
        sampled(&hub, "other", Role::Citizen, starved);
        assert!(links(&mut o).is_empty());
    }
}
