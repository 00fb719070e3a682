//! Feeding the `recordings` crate from the media path without ever blocking forwarding.
//!
//! Each recorded track gets a writer thread fed through a bounded channel (a full channel drops
//! the packet from the recording and counts it, it never stalls the call). The writer does not
//! wait on the channel: it sleeps [`DRAIN_EVERY`] and then writes everything queued, so a
//! forwarded packet never wakes a thread (in a VM each wake-up is a costly context switch; the
//! packet's payload is kept as the received `Bytes`, not copied). Closing the segment stops the
//! writers (each writes what was queued first), finalises the segment (playable copies, hashes,
//! manifest) on a blocking thread and reports a [`FinishedSegment`].

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use recordings::{CaptureHeader, CaptureWriter, Manifest, RtpFields, SenderReport};

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

/// How long a track's writer sleeps between two drains of its channel: about 10 video packets,
/// far below the channel's bound. A segment's close waits for its writers up to about twice this
/// (a writer that read the stop flag just before it was set sleeps once more), plus the last
/// drain and the capture's fsync.
const DRAIN_EVERY: Duration = Duration::from_millis(100);
/// Records a track's channel holds: a stalled disk (a slow fsync) is absorbed for about 20 s of
/// video (≈100 packets/s) before packets are dropped from the recording. The channel's slots are
/// allocated up front, so this is also most of a hearing's memory (≈150 KB a track).
const QUEUE: usize = 2048;

enum Rec {
    Rtp(RtpFields, Bytes),
    Sr(SenderReport),
}

/// The sending end of one track's recorder.
#[derive(Clone)]
pub(crate) struct TrackTap {
    tx: SyncSender<Rec>,
}

impl TrackTap {
    /// Queues a packet for the recording; `false` when it was not queued (the channel full
    /// behind a stalled disk, or the writer gone after a write error): that packet is not
    /// recorded, and the seat must not count as recorded for it.
    pub fn rtp(&self, p: &webrtc::rtp::packet::Packet, now_us: i64) -> bool {
        let f = RtpFields {
            arrival_us: now_us,
            ssrc: p.header.ssrc,
            seq: p.header.sequence_number,
            ts: p.header.timestamp,
            payload_type: p.header.payload_type,
            marker: p.header.marker,
        };
        self.send(Rec::Rtp(f, p.payload.clone()))
    }

    pub fn sr(&self, ssrc: u32, ntp: u64, rtp_ts: u32, packets: u32, octets: u32, now_us: i64) {
        let _ = self.send(Rec::Sr(SenderReport {
            arrival_us: now_us,
            ssrc,
            ntp_time: ntp,
            rtp_ts,
            packet_count: packets,
            octet_count: octets,
        }));
    }

    fn send(&self, r: Rec) -> bool {
        match self.tx.try_send(r) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                metrics::counter!("recording_dropped_packets_total").increment(1);
                false
            }
            Err(TrySendError::Disconnected(_)) => false,
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
        // Under the lock `finish` takes to close the segment: either this capture's writer is
        // among those `finish` waits for before it finalises the segment, or the segment is
        // already closing and no capture is made (never one written into a sealed segment).
        let mut threads = self.threads.lock().unwrap_or_else(|e| e.into_inner());
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
        let (tx, rx) = sync_channel(QUEUE);
        let stop = self.stop.clone();
        let handle = std::thread::Builder::new()
            .name("rec-writer".into())
            .spawn(move || write_loop(writer, rx, stop))
            .ok()?;
        threads.push(handle);
        Some(TrackTap { tx })
    }

    /// Stops the writers, finalises the segment and reports it (when anything was recorded).
    pub async fn finish(&self, shared: &Arc<Shared>, hearing_id: &str, segment: &str) {
        let threads = {
            let mut t = self.threads.lock().unwrap_or_else(|e| e.into_inner());
            self.stop.store(true, Ordering::Release);
            std::mem::take(&mut *t)
        };
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

/// One track's writer: every [`DRAIN_EVERY`] writes what is queued; stops once the segment is
/// closed (after writing what was queued before), when every tap is gone, or on a write error
/// (as a failed disk would: this track's capture ends there), then closes the capture (flush,
/// fsync, read-only).
fn write_loop(mut w: CaptureWriter, rx: Receiver<Rec>, stop: Arc<AtomicBool>) {
    'run: loop {
        std::thread::sleep(DRAIN_EVERY);
        // read before the drain: whatever was queued before the close is written
        let stopping = stop.load(Ordering::Acquire);
        loop {
            match rx.try_recv() {
                Ok(r) => {
                    if let Err(e) = write(&mut w, r) {
                        tracing::error!(error = %e, "capture write failed");
                        break 'run;
                    }
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => break 'run,
            }
        }
        if stopping {
            break;
        }
    }
    if let Err(e) = w.finish() {
        tracing::error!(error = %e, "capture close failed");
    }
}

fn write(w: &mut CaptureWriter, r: Rec) -> std::io::Result<()> {
    match r {
        Rec::Rtp(f, payload) => w.write_rtp_parts(&f, &payload),
        // a sender report that cannot be written only costs lip-sync precision
        Rec::Sr(sr) => {
            let _ = w.write_sr(&sr);
            Ok(())
        }
    }
}

#[cfg(test)]
#[path = "record_close_tests.rs"]
mod close_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use recordings::{CaptureReader, Record};

    fn capture(dir: &std::path::Path) -> (PathBuf, CaptureWriter) {
        let header = CaptureHeader {
            version: 1,
            hearing_id: "h1".into(),
            segment: "s1".into(),
            participant: "citizen".into(),
            participant_id: "c1".into(),
            kind: "video".into(),
            codec: "vp8".into(),
            clock_rate: 90000,
            payload_type: 96,
            created_at_us: 1,
        };
        let path = dir.join("citizen-video-1.rtp");
        let w = CaptureWriter::create(&path, &header).unwrap();
        (path, w)
    }

    fn rtp(i: u16) -> Rec {
        let f = RtpFields {
            arrival_us: 10 + i64::from(i),
            ssrc: 7,
            seq: i,
            ts: u32::from(i) * 3000,
            payload_type: 96,
            marker: false,
        };
        Rec::Rtp(f, Bytes::from(vec![i as u8; 20]))
    }

    fn seqs(path: &std::path::Path) -> Vec<u16> {
        let mut r = CaptureReader::open(path).unwrap();
        let mut out = vec![];
        while let Some(rec) = r.next_record().unwrap() {
            if let Record::Rtp(p) = rec {
                assert_eq!(p.payload, vec![p.seq as u8; 20]);
                out.push(p.seq);
            }
        }
        out
    }

    #[test]
    fn a_close_writes_everything_queued_before_it_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let (path, w) = capture(dir.path());
        let (tx, rx) = sync_channel(QUEUE);
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let writer = std::thread::spawn(move || write_loop(w, rx, s));
        for i in 0..300 {
            tx.try_send(rtp(i)).unwrap();
            if i == 150 {
                // a drain in the middle of the stream
                std::thread::sleep(DRAIN_EVERY * 2);
            }
        }
        stop.store(true, Ordering::Release);
        writer.join().unwrap();
        assert_eq!(seqs(&path), (0..300).collect::<Vec<_>>());
        assert!(std::fs::metadata(&path).unwrap().permissions().readonly());
        // the writer is gone: a later packet is not written anywhere and does not block
        assert!(tx.try_send(rtp(300)).is_err());
    }

    #[test]
    fn a_packet_counts_as_queued_only_when_the_writer_can_take_it() {
        let (tx, rx) = sync_channel(2);
        let tap = TrackTap { tx };
        let p = webrtc::rtp::packet::Packet::default();
        assert!(tap.rtp(&p, 1) && tap.rtp(&p, 2), "room in the channel");
        assert!(!tap.rtp(&p, 3), "the channel is full (a stalled disk)");
        drop(rx);
        assert!(!tap.rtp(&p, 4), "the writer is gone (a write error)");
    }

    /// A capture in `dir` with its writer running (never told to stop) and packets 0..`n`
    /// queued to it.
    fn writing(
        dir: &std::path::Path,
        n: u16,
    ) -> (PathBuf, SyncSender<Rec>, std::thread::JoinHandle<()>) {
        let (path, w) = capture(dir);
        let (tx, rx) = sync_channel(QUEUE);
        let writer = std::thread::spawn(move || write_loop(w, rx, Arc::default()));
        for i in 0..n {
            tx.try_send(rtp(i)).unwrap();
        }
        (path, tx, writer)
    }

    #[test]
    fn a_write_error_ends_the_capture_there_and_the_tap_then_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let (path, tx, writer) = writing(dir.path(), 20);
        // a record the writer cannot write (as a failed disk would answer): its error ends
        // the track's capture; what came after it is not written
        let Rec::Rtp(f, _) = rtp(20) else {
            unreachable!()
        };
        let big = Bytes::from(vec![0u8; recordings::capture::MAX_RECORD]);
        tx.try_send(Rec::Rtp(f, big)).unwrap();
        tx.try_send(rtp(21)).unwrap();
        writer.join().unwrap();
        assert_eq!(seqs(&path), (0..20).collect::<Vec<_>>());
        assert!(std::fs::metadata(&path).unwrap().permissions().readonly());
        // the tap now says its packets are not recorded, so the seat is no longer stamped
        let tap = TrackTap { tx };
        let p = webrtc::rtp::packet::Packet::default();
        assert!(!tap.rtp(&p, 5), "the writer stopped on the error");
    }

    #[test]
    fn the_last_tap_gone_ends_the_capture_with_what_it_sent() {
        let dir = tempfile::tempdir().unwrap();
        let (path, tx, writer) = writing(dir.path(), 40);
        drop(tx);
        writer.join().unwrap();
        assert_eq!(seqs(&path), (0..40).collect::<Vec<_>>());
    }
}
