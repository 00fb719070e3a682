//! The per-participant WebM copy (browsers play WebM, not IVF or raw RTP): the participant's VP8
//! and Opus frames, exactly as the IVF and Ogg writers stored them (same reordering, same loss
//! handling), put on one time line and interleaved by [`crate::webm::WebmWriter`].
//!
//! Time line: each frame's RTP timestamp (unwrapped per SSRC) is mapped to the server's clock.
//! When every SSRC of the participant has an RTCP sender report, the reports' NTP times align
//! audio and video (the sender's own lip-sync reference) and the smallest report delay places
//! them on the server clock; otherwise each SSRC is anchored on its least-delayed packet
//! (arrival time minus RTP time). The file starts at the earliest frame (its `DateUTC`).
//!
//! Reads only the copies and their indexes; never touches the captures or the manifest.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::capture::SenderReport;
use crate::ogg::opus_samples;
use crate::webm::{TrackKind, WebmStats, WebmWriter};

/// Where one frame lies in its IVF or Ogg copy, with the RTP facts needed for timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRef {
    pub offset: u64,
    pub len: u32,
    pub ssrc: u32,
    /// RTP timestamp.
    pub ts: u32,
    /// Arrival (unix µs) of the frame's first packet.
    pub arrival_us: i64,
    pub key: bool,
}

/// One track's playable copy and its frame index.
#[derive(Debug, Clone)]
pub struct TrackFrames {
    /// The IVF or Ogg file holding the frames.
    pub source: PathBuf,
    pub kind: TrackKind,
    pub clock_rate: u32,
    pub frames: Vec<FrameRef>,
    pub sender_reports: Vec<SenderReport>,
}

/// What [`mux_participant`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct MuxResult {
    /// `rtcp-sr` or `arrival`: how audio and video were aligned.
    pub sync: &'static str,
    pub video_frames: u32,
    pub audio_frames: u32,
    pub duration_ms: u64,
    /// Unix µs of the file's time zero.
    pub start_us: Option<i64>,
    pub stats: WebmStats,
}

/// NTP 32.32 fixed point to microseconds.
fn ntp_us(ntp: u64) -> i64 {
    let secs = (ntp >> 32) as i64;
    let frac = ((ntp & 0xffff_ffff) * 1_000_000) >> 32;
    secs * 1_000_000 + frac as i64
}

fn ticks_us(ticks: i64, clock: u32) -> i64 {
    ticks * 1_000_000 / i64::from(clock.max(1))
}

fn sr_for(t: &TrackFrames, ssrc: u32) -> Option<&SenderReport> {
    t.sender_reports.iter().find(|s| s.ssrc == ssrc)
}

/// Server-clock time (unix µs) of every frame of every track, and the sync method.
pub fn timeline(tracks: &[TrackFrames]) -> (Vec<Vec<i64>>, &'static str) {
    // per track and frame: microseconds since the first frame of the same SSRC (unwrapped)
    let mut rel: Vec<Vec<i64>> = Vec::with_capacity(tracks.len());
    let mut firsts: Vec<HashMap<u32, u32>> = Vec::with_capacity(tracks.len());
    for t in tracks {
        // per SSRC: last RTP timestamp, its unwrapped value, the last time given out
        let mut state: HashMap<u32, (u32, i64, i64)> = HashMap::new();
        let mut first: HashMap<u32, u32> = HashMap::new();
        let mut out = Vec::with_capacity(t.frames.len());
        for f in &t.frames {
            first.entry(f.ssrc).or_insert(f.ts);
            let e = state.entry(f.ssrc).or_insert((f.ts, 0, 0));
            let ext = e.1 + i64::from(f.ts.wrapping_sub(e.0) as i32);
            // never backwards within a source: the copy's order is the decode order
            let us = ticks_us(ext, t.clock_rate).max(e.2);
            *e = (f.ts, ext, us);
            out.push(us);
        }
        rel.push(out);
        firsts.push(first);
    }
    let all_sr = tracks
        .iter()
        .zip(&firsts)
        .all(|(t, f)| f.keys().all(|&s| sr_for(t, s).is_some()))
        && firsts.iter().any(|f| !f.is_empty());
    // base (server µs) of each track's SSRCs
    let mut bases: Vec<HashMap<u32, i64>> = Vec::with_capacity(tracks.len());
    if all_sr {
        let offset = tracks
            .iter()
            .flat_map(|t| &t.sender_reports)
            .map(|s| s.arrival_us - ntp_us(s.ntp_time))
            .min()
            .unwrap_or(0);
        for (t, first) in tracks.iter().zip(&firsts) {
            let mut b = HashMap::new();
            for (&ssrc, &ts) in first {
                if let Some(sr) = sr_for(t, ssrc) {
                    let d = i64::from(ts.wrapping_sub(sr.rtp_ts) as i32);
                    b.insert(
                        ssrc,
                        ntp_us(sr.ntp_time) + ticks_us(d, t.clock_rate) + offset,
                    );
                }
            }
            bases.push(b);
        }
    } else {
        for (t, r) in tracks.iter().zip(&rel) {
            let mut b: HashMap<u32, i64> = HashMap::new();
            for (f, us) in t.frames.iter().zip(r) {
                let cand = f.arrival_us - us;
                b.entry(f.ssrc)
                    .and_modify(|v| *v = (*v).min(cand))
                    .or_insert(cand);
            }
            bases.push(b);
        }
    }
    let walls = tracks
        .iter()
        .zip(rel)
        .zip(&bases)
        .map(|((t, r), b)| {
            t.frames
                .iter()
                .zip(r)
                .map(|(f, us)| b.get(&f.ssrc).copied().unwrap_or(f.arrival_us) + us)
                .collect()
        })
        .collect();
    (walls, if all_sr { "rtcp-sr" } else { "arrival" })
}

/// Writes `path` (it must not exist): one video track (the first VP8 track's size) and one
/// audio track, frames in time order. Several captures of one kind (a rejoin) share its track;
/// a video frame after a change of source waits for a keyframe. Fsyncs before returning.
pub fn mux_participant(path: &Path, tracks: &[TrackFrames]) -> io::Result<MuxResult> {
    let video = tracks
        .iter()
        .find(|t| matches!(t.kind, TrackKind::Vp8 { .. }) && !t.frames.is_empty());
    let audio = tracks
        .iter()
        .find(|t| matches!(t.kind, TrackKind::Opus { .. }) && !t.frames.is_empty());
    let mut kinds = Vec::new();
    let mut number = |t: Option<&TrackFrames>| {
        t.map(|t| {
            kinds.push(t.kind.clone());
            kinds.len() as u64
        })
    };
    let (vnum, anum) = (number(video), number(audio));
    let (walls, sync) = timeline(tracks);
    let mut order: Vec<(i64, usize, usize)> = walls
        .iter()
        .enumerate()
        .flat_map(|(ti, w)| w.iter().enumerate().map(move |(fi, &us)| (us, ti, fi)))
        .collect();
    order.sort_by_key(|&(us, ti, fi)| (us, ti, fi));
    let start_us = order.first().map(|o| o.0);
    let file = OpenOptions::new().write(true).create_new(true).open(path)?;
    let mut w = WebmWriter::new(BufWriter::new(file), &kinds, start_us)?;
    let mut sources: Vec<Option<File>> = tracks.iter().map(|_| None).collect();
    let (mut vframes, mut aframes, mut end_ms) = (0u32, 0u32, 0i64);
    let mut last_video_src: Option<(usize, u32)> = None;
    let mut need_key = true;
    let mut buf = Vec::new();
    let t0 = start_us.unwrap_or(0);
    for (us, ti, fi) in order {
        let t = &tracks[ti];
        let f = t.frames[fi];
        let is_video = matches!(t.kind, TrackKind::Vp8 { .. });
        let Some(num) = (if is_video { vnum } else { anum }) else {
            continue;
        };
        if is_video {
            if last_video_src != Some((ti, f.ssrc)) {
                last_video_src = Some((ti, f.ssrc));
                need_key = true;
            }
            if need_key && !f.key {
                continue;
            }
            need_key = false;
        }
        let src = match &mut sources[ti] {
            Some(s) => s,
            slot => slot.insert(File::open(&t.source)?),
        };
        buf.resize(f.len as usize, 0);
        src.seek(SeekFrom::Start(f.offset))?;
        src.read_exact(&mut buf)?;
        let ms = (us - t0) / 1000;
        w.push(num, ms, f.key, &buf)?;
        let dur = if is_video {
            vframes += 1;
            0
        } else {
            aframes += 1;
            i64::from(opus_samples(&buf)) / 48
        };
        end_ms = end_ms.max(ms + dur);
    }
    let (out, stats) = w.finish(end_ms as f64)?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(MuxResult {
        sync,
        video_frames: vframes,
        audio_frames: aframes,
        duration_ms: end_ms.max(0) as u64,
        start_us,
        stats,
    })
}
