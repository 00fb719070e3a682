//! Feeding the `recordings` crate from the media path without ever blocking forwarding.
//!
//! Each recorded track gets a writer thread fed through a bounded channel (a full channel drops
//! the packet from the recording and counts it, it never stalls the call). Closing the segment
//! stops the writers, finalises the segment (playable copies, hashes, manifest) on a blocking
//! thread and reports a [`FinishedSegment`].

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use recordings::{CaptureHeader, CaptureWriter, Manifest, RtpRecord, SenderReport};

use super::Shared;
use crate::msg::Role;

/// A finalised recording segment, for the server to index and seal.
#[derive(Debug)]
pub struct FinishedSegment {
    pub hearing_id: String,
    pub segment: String,
    pub dir: PathBuf,
    pub result: Result<Manifest, String>,
}

enum Rec {
    Rtp(RtpRecord),
    Sr(SenderReport),
}

/// The sending end of one track's recorder.
#[derive(Clone)]
pub(crate) struct TrackTap {
    tx: SyncSender<Rec>,
}

impl TrackTap {
    pub fn rtp(&self, p: &webrtc::rtp::packet::Packet, now_us: i64) {
        let r = RtpRecord {
            arrival_us: now_us,
            ssrc: p.header.ssrc,
            seq: p.header.sequence_number,
            ts: p.header.timestamp,
            payload_type: p.header.payload_type,
            marker: p.header.marker,
            payload: p.payload.to_vec(),
        };
        self.send(Rec::Rtp(r));
    }

    pub fn sr(&self, ssrc: u32, ntp: u64, rtp_ts: u32, packets: u32, octets: u32, now_us: i64) {
        self.send(Rec::Sr(SenderReport {
            arrival_us: now_us,
            ssrc,
            ntp_time: ntp,
            rtp_ts,
            packet_count: packets,
            octet_count: octets,
        }));
    }

    fn send(&self, r: Rec) {
        match self.tx.try_send(r) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                metrics::counter!("recording_dropped_packets_total").increment(1)
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

pub(crate) struct SegmentRecorder {
    dir: Option<PathBuf>,
    counter: AtomicU32,
    stop: Arc<AtomicBool>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

impl SegmentRecorder {
    pub fn new(shared: &Shared, hearing_id: &str, segment: &str) -> SegmentRecorder {
        let dir = shared
            .cfg
            .recordings_dir
            .as_ref()
            .map(|r| r.join(hearing_id).join(segment));
        SegmentRecorder {
            dir,
            counter: AtomicU32::new(0),
            stop: Arc::new(AtomicBool::new(false)),
            threads: Mutex::new(Vec::new()),
        }
    }

    /// Starts recording one incoming track; `None` when recording is off or failed to start.
    #[allow(clippy::too_many_arguments)]
    pub fn open_track(
        &self,
        shared: &Shared,
        role: Role,
        participant_id: &str,
        kind: &str,
        codec: &str,
        clock_rate: u32,
        payload_type: u8,
    ) -> Option<TrackTap> {
        let root = shared.cfg.recordings_dir.as_ref()?;
        let dir = self.dir.as_ref()?;
        if self.stop.load(Ordering::Acquire) {
            return None;
        }
        let seg = dir.file_name()?.to_str()?.to_owned();
        let hearing = dir.parent()?.file_name()?.to_str()?.to_owned();
        let made = match shared.cfg.node_id.as_str() {
            "" => recordings::segment_dir(root, &hearing, &seg),
            node => recordings::segment_dir_owned(root, &hearing, &seg, node),
        };
        let dir = match made {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "cannot create recording directory");
                return None;
            }
        };
        let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        let path = dir.join(format!("{}-{kind}-{n}.rtp", role.as_str()));
        let header = CaptureHeader {
            version: 1,
            hearing_id: hearing,
            segment: seg,
            participant: role.as_str().to_owned(),
            participant_id: participant_id.to_owned(),
            kind: kind.to_owned(),
            codec: codec.to_owned(),
            clock_rate,
            payload_type,
            created_at_us: (shared.cfg.clock)(),
        };
        let writer = match CaptureWriter::create(&path, &header) {
            Ok(w) => w,
            Err(e) => {
                tracing::error!(error = %e, path = %path.display(), "cannot create capture");
                return None;
            }
        };
        let (tx, rx) = sync_channel(8192);
        let stop = self.stop.clone();
        let handle = std::thread::Builder::new()
            .name("rec-writer".into())
            .spawn(move || write_loop(writer, rx, stop))
            .ok()?;
        self.threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(handle);
        Some(TrackTap { tx })
    }

    /// Stops the writers, finalises the segment and reports it (when anything was recorded).
    pub async fn finish(&self, shared: &Arc<Shared>, hearing_id: &str, segment: &str) {
        self.stop.store(true, Ordering::Release);
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        if threads.is_empty() {
            return;
        }
        let Some(dir) = self.dir.clone() else { return };
        let d = dir.clone();
        let result = tokio::task::spawn_blocking(move || {
            for t in threads {
                let _ = t.join();
            }
            recordings::finalize_segment(&d, false).map_err(|e| e.to_string())
        })
        .await
        .unwrap_or_else(|e| Err(format!("finaliser panicked: {e}")));
        if let Err(e) = &result {
            tracing::error!(error = %e, hearing_id, "recording segment could not be finalised");
        }
        shared
            .finished_count
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        let _ = shared.finished.send(FinishedSegment {
            hearing_id: hearing_id.to_owned(),
            segment: segment.to_owned(),
            dir,
            result,
        });
    }
}

fn write_loop(mut w: CaptureWriter, rx: Receiver<Rec>, stop: Arc<AtomicBool>) {
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(Rec::Rtp(r)) => {
                if let Err(e) = w.write_rtp(&r) {
                    tracing::error!(error = %e, "capture write failed");
                    break;
                }
            }
            Ok(Rec::Sr(sr)) => {
                let _ = w.write_sr(&sr);
            }
            Err(RecvTimeoutError::Timeout) => {
                if stop.load(Ordering::Acquire) {
                    // drain what is queued, then stop
                    while let Ok(r) = rx.try_recv() {
                        let _ = match r {
                            Rec::Rtp(r) => w.write_rtp(&r),
                            Rec::Sr(sr) => w.write_sr(&sr),
                        };
                    }
                    break;
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    if let Err(e) = w.finish() {
        tracing::error!(error = %e, "capture close failed");
    }
}
