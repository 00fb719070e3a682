//! Feeding the `recordings` crate from the media path without ever blocking forwarding.
//!
//! A segment's captures (one file per participant and track, as before) are written by one
//! `rec-writer` thread. Each track's [`TrackTap`] collects its records (RTP packets and sender
//! reports, in the order they come) into a small batch and hands the batch to the writer when it
//! holds [`BATCH`] records or its oldest record is [`BATCH_AGE_US`] old (checked when a record is
//! added): the writer thread wakes a few times a second per track instead of once per packet
//! (in a VM every wake-up is a costly context switch). The payload is kept as the received
//! buffer (`Bytes`), not copied. At most [`QUEUE`] records wait for the writer per segment: a
//! batch that would go over is dropped from the recording and counted
//! (`recording_dropped_packets_total`, in records); forwarding never waits.
//!
//! Nothing pending is lost at the end: a tap dropped (its track ended) hands over what it holds,
//! and closing the segment first flushes every tap still open (the recorder keeps each tap's
//! buffer), then stops the writer, finalises the segment (playable copies, hashes, manifest) on a
//! blocking thread and reports a [`FinishedSegment`].

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use recordings::{CaptureHeader, CaptureWriter, Manifest, RtpFields, SenderReport};

use super::Shared;
use crate::msg::Role;

/// Records per hand-over to the writer.
const BATCH: usize = 32;
/// A batch whose oldest record is this old (µs of arrival time) is handed over on the next record.
const BATCH_AGE_US: i64 = 250_000;
/// Records handed over and not yet written, per segment, beyond which batches are dropped.
const QUEUE: usize = 32_768;

/// A finalised recording segment, for the server to index and seal.
#[derive(Debug)]
pub struct FinishedSegment {
    pub hearing_id: String,
    pub segment: String,
    pub dir: PathBuf,
    pub result: Result<Manifest, String>,
}

enum Rec {
    Rtp(RtpFields, Bytes),
    Sr(SenderReport),
}

/// What the writer thread is told, in order.
enum Msg {
    /// A track's capture, created (header written) by [`SegmentRecorder::open_track`].
    Open(usize, CaptureWriter),
    Batch(usize, Vec<Rec>),
    Stop,
}

/// The writer's input: an unbounded channel with a count of the records in it, so opening a
/// track or stopping never fails or waits, while batches are bounded by [`QUEUE`].
#[derive(Clone)]
struct Feed {
    tx: Sender<Msg>,
    queued: Arc<AtomicUsize>,
}

impl Feed {
    /// Hands a batch over (`force`: a final flush, past the bound); the records dropped.
    fn batch(&self, track: usize, recs: Vec<Rec>, force: bool) -> usize {
        let n = recs.len();
        if n == 0 {
            return 0;
        }
        let before = self.queued.fetch_add(n, Ordering::AcqRel);
        if !force && before + n > QUEUE {
            self.queued.fetch_sub(n, Ordering::AcqRel);
            metrics::counter!("recording_dropped_packets_total").increment(n as u64);
            return n;
        }
        if self.tx.send(Msg::Batch(track, recs)).is_err() {
            // the writer is gone (it stopped or failed): nothing left to record into
            self.queued.fetch_sub(n, Ordering::AcqRel);
        }
        0
    }
}

#[derive(Default)]
struct Pending {
    recs: Vec<Rec>,
    /// Arrival of the batch's oldest record.
    since_us: i64,
    /// Flushed for the last time (the tap dropped or the segment closed).
    closed: bool,
}

/// One track's batch, shared by its taps and the recorder.
struct TapBuf {
    track: usize,
    feed: Feed,
    pending: Mutex<Pending>,
}

impl TapBuf {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, r: Rec, now_us: i64) {
        let mut p = self.lock();
        if p.closed {
            return;
        }
        if p.recs.is_empty() {
            p.since_us = now_us;
        }
        p.recs.push(r);
        if p.recs.len() >= BATCH || now_us - p.since_us >= BATCH_AGE_US {
            let recs = std::mem::replace(&mut p.recs, Vec::with_capacity(BATCH));
            // handed over under the lock: batches of one track reach the writer in order
            self.feed.batch(self.track, recs, false);
        }
    }

    /// Hands over what is pending and takes no more.
    fn close(&self) {
        let mut p = self.lock();
        if !p.closed {
            p.closed = true;
            let recs = std::mem::take(&mut p.recs);
            self.feed.batch(self.track, recs, true);
        }
    }
}

/// Flushes the track's batch when the last [`TrackTap`] of it goes.
struct TapGuard(Arc<TapBuf>);

impl Drop for TapGuard {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// The sending end of one track's recorder (its clones share one batch, so RTP packets and
/// sender reports stay in the order they were added).
#[derive(Clone)]
pub(crate) struct TrackTap {
    buf: Arc<TapGuard>,
}

impl TrackTap {
    pub fn rtp(&self, p: &webrtc::rtp::packet::Packet, now_us: i64) {
        let f = RtpFields {
            arrival_us: now_us,
            ssrc: p.header.ssrc,
            seq: p.header.sequence_number,
            ts: p.header.timestamp,
            payload_type: p.header.payload_type,
            marker: p.header.marker,
        };
        self.buf.0.push(Rec::Rtp(f, p.payload.clone()), now_us);
    }

    pub fn sr(&self, ssrc: u32, ntp: u64, rtp_ts: u32, packets: u32, octets: u32, now_us: i64) {
        let sr = SenderReport {
            arrival_us: now_us,
            ssrc,
            ntp_time: ntp,
            rtp_ts,
            packet_count: packets,
            octet_count: octets,
        };
        self.buf.0.push(Rec::Sr(sr), now_us);
    }
}

#[derive(Default)]
struct State {
    stopped: bool,
    /// The writer thread, started with the first track.
    writer: Option<(Feed, std::thread::JoinHandle<()>)>,
    taps: Vec<Arc<TapBuf>>,
    tracks: usize,
}

pub(crate) struct SegmentRecorder {
    dir: Option<PathBuf>,
    state: Mutex<State>,
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
            state: Mutex::new(State::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
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
        let mut st = self.lock();
        if st.stopped {
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
        st.tracks += 1;
        let n = st.tracks;
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
        if st.writer.is_none() {
            let (tx, rx) = channel();
            let queued = Arc::new(AtomicUsize::new(0));
            let q = queued.clone();
            let handle = std::thread::Builder::new()
                .name("rec-writer".into())
                .spawn(move || write_loop(rx, q));
            match handle {
                Ok(h) => st.writer = Some((Feed { tx, queued }, h)),
                Err(e) => {
                    tracing::error!(error = %e, "cannot start the recording writer");
                    return None;
                }
            }
        }
        let feed = st.writer.as_ref().map(|(f, _)| f.clone())?;
        feed.tx.send(Msg::Open(n, writer)).ok()?;
        let buf = Arc::new(TapBuf {
            track: n,
            feed,
            pending: Mutex::default(),
        });
        st.taps.push(buf.clone());
        Some(TrackTap {
            buf: Arc::new(TapGuard(buf)),
        })
    }

    /// Flushes every tap, stops the writer, finalises the segment and reports it (when anything
    /// was recorded).
    pub async fn finish(&self, shared: &Arc<Shared>, hearing_id: &str, segment: &str) {
        let (writer, taps) = {
            let mut st = self.lock();
            st.stopped = true;
            (st.writer.take(), std::mem::take(&mut st.taps))
        };
        // every batch goes into the channel before the stop
        for t in &taps {
            t.close();
        }
        let Some((feed, thread)) = writer else { return };
        let _ = feed.tx.send(Msg::Stop);
        let Some(dir) = self.dir.clone() else { return };
        let d = dir.clone();
        let result = tokio::task::spawn_blocking(move || {
            let _ = thread.join();
            recordings::finalize_segment(&d, false).map_err(|e| e.to_string())
        })
        .await
        .unwrap_or_else(|e| Err(format!("finaliser panicked: {e}")));
        if let Err(e) = &result {
            tracing::error!(error = %e, hearing_id, "recording segment could not be finalised");
        }
        shared.finished_count.fetch_add(1, Ordering::AcqRel);
        let _ = shared.finished.send(FinishedSegment {
            hearing_id: hearing_id.to_owned(),
            segment: segment.to_owned(),
            dir,
            result,
        });
    }
}

/// The segment's writer: runs until told to stop or every sender is gone, then closes each
/// capture (flush, fsync, read-only).
fn write_loop(rx: Receiver<Msg>, queued: Arc<AtomicUsize>) {
    let mut files: Vec<Option<CaptureWriter>> = Vec::new();
    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Open(i, w) => {
                if files.len() <= i {
                    files.resize_with(i + 1, || None);
                }
                files[i] = Some(w);
            }
            Msg::Batch(i, recs) => {
                queued.fetch_sub(recs.len(), Ordering::AcqRel);
                let Some(slot) = files.get_mut(i) else {
                    continue;
                };
                let Some(w) = slot else { continue };
                if let Err(e) = write_batch(w, &recs) {
                    // as a failed disk would: this track's capture ends here
                    tracing::error!(error = %e, "capture write failed");
                    if let Some(w) = slot.take() {
                        close(w);
                    }
                }
            }
            Msg::Stop => break,
        }
    }
    for w in files.into_iter().flatten() {
        close(w);
    }
}

fn write_batch(w: &mut CaptureWriter, recs: &[Rec]) -> std::io::Result<()> {
    for r in recs {
        match r {
            Rec::Rtp(f, payload) => w.write_rtp_parts(f, payload)?,
            // a sender report that cannot be written only costs lip-sync precision
            Rec::Sr(sr) => {
                let _ = w.write_sr(sr);
            }
        }
    }
    Ok(())
}

fn close(w: CaptureWriter) {
    if let Err(e) = w.finish() {
        tracing::error!(error = %e, "capture close failed");
    }
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
