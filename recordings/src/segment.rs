//! Closing a recording segment: playable copies built from the captures, hashes, the manifest.
//!
//! A segment is one directory `<root>/<hearing_id>/<segment>/` holding one `.rtp` capture per
//! participant and track. [`finalize_segment`] reads every capture (to its last whole record),
//! writes the playable copy next to it (`.ivf` for VP8, `.ogg` for Opus), then one WebM per
//! participant from those copies (`<participant>.webm`, [`crate::playback`]), hashes every file
//! and writes `manifest.json` (write-once, read-only). The same function recovers a segment cut by a
//! crash: [`recover`] finds segments without a manifest and finalises them with `truncated` set.

use std::collections::BTreeSet;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::capture::{CaptureReader, Record, SenderReport, set_readonly};
use crate::ivf::IvfWriter;
use crate::ogg::{OggWriter, PRE_SKIP};
use crate::playback::{TrackFrames, mux_participant};
use crate::reorder::Reorder;
use crate::webm::TrackKind;

pub const MANIFEST: &str = "manifest.json";
/// The manifest's format version (2: `playback` lists the per-participant WebM files).
pub const MANIFEST_VERSION: u32 = 2;
const REORDER_WINDOW: usize = 512;

/// One file of a segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// File name inside the segment directory.
    pub name: String,
    /// `rtp`, `ivf`, `ogg` or `webm`.
    pub format: String,
    pub bytes: u64,
    pub sha256: String,
}

/// One participant's track.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackEntry {
    pub participant: String,
    pub participant_id: String,
    pub kind: String,
    pub codec: String,
    pub clock_rate: u32,
    pub payload_type: u8,
    pub ssrcs: Vec<u32>,
    pub packets: u64,
    /// Unix microseconds of the first and last packet (None: no packet).
    pub first_at_us: Option<i64>,
    pub last_at_us: Option<i64>,
    pub sender_reports: Vec<SenderReport>,
    /// The capture ended with a cut record (crash).
    pub truncated: bool,
    pub frames: u32,
    pub files: Vec<FileEntry>,
}

/// One participant's WebM copy: video and audio of all their tracks on one time line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaybackEntry {
    pub participant: String,
    pub participant_id: String,
    /// `video` when it has a video track, else `audio`.
    pub kind: String,
    /// The captures it was built from.
    pub captures: Vec<String>,
    /// How audio and video were aligned: `rtcp-sr` or `arrival`.
    pub sync: String,
    pub video_frames: u32,
    pub audio_frames: u32,
    pub duration_ms: u64,
    /// Unix microseconds of the file's time zero.
    pub start_at_us: Option<i64>,
    pub file: FileEntry,
}

/// The manifest of a segment; sealed into the audit log by the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub version: u32,
    pub hearing_id: String,
    pub segment: String,
    pub started_at_us: Option<i64>,
    pub ended_at_us: Option<i64>,
    /// Recovered after a crash: some capture may miss its tail.
    pub truncated: bool,
    pub tracks: Vec<TrackEntry>,
    /// Per-participant WebM copies (absent in version 1 manifests).
    #[serde(default)]
    pub playback: Vec<PlaybackEntry>,
}

/// SHA-256 (hex) and size of a file.
pub fn hash_file(path: &Path) -> io::Result<(String, u64)> {
    let mut f = fs::File::open(path)?;
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut buf = vec![0u8; 64 * 1024];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            break;
        }
        ctx.update(&buf[..k]);
        n += k as u64;
    }
    Ok((hex::encode(ctx.finish()), n))
}

fn entry(dir: &Path, name: &str, format: &str) -> io::Result<FileEntry> {
    let (sha256, bytes) = hash_file(&dir.join(name))?;
    Ok(FileEntry {
        name: name.to_owned(),
        format: format.to_owned(),
        bytes,
        sha256,
    })
}

/// Removes a copy left half-written by a crash during finalisation (never sealed).
fn remove_stale(path: &Path) -> io::Result<()> {
    if path.exists() {
        let mut perm = fs::metadata(path)?.permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perm.set_readonly(false);
        fs::set_permissions(path, perm)?;
        fs::remove_file(path)?;
    }
    Ok(())
}

enum Playable {
    Ivf(IvfWriter),
    Ogg(OggWriter),
    None,
}

fn finalize_track(
    dir: &Path,
    capture_name: &str,
) -> io::Result<(String, String, TrackEntry, Option<TrackFrames>)> {
    let cap_path = dir.join(capture_name);
    let mut reader = CaptureReader::open(&cap_path)?;
    let h = reader.header.clone();
    let stem = capture_name.trim_end_matches(".rtp");
    let (play_name, format) = match h.codec.as_str() {
        "vp8" => (format!("{stem}.ivf"), "ivf"),
        "opus" => (format!("{stem}.ogg"), "ogg"),
        _ => (String::new(), ""),
    };
    let play_path = dir.join(&play_name);
    if !play_name.is_empty() {
        remove_stale(&play_path)?;
    }
    let mut playable = match format {
        "ivf" => Playable::Ivf(IvfWriter::create(&play_path)?),
        "ogg" => Playable::Ogg(OggWriter::create(&play_path, 1, 2)?),
        _ => Playable::None,
    };
    let mut reorder = Reorder::new(REORDER_WINDOW);
    let mut ssrcs = BTreeSet::new();
    let mut srs = Vec::new();
    let (mut packets, mut first, mut last) = (0u64, None::<i64>, None::<i64>);
    let feed =
        |pl: &mut Playable, batch: Vec<(u64, crate::capture::RtpRecord)>| -> io::Result<()> {
            for (ext, r) in batch {
                match pl {
                    Playable::Ivf(w) => w.push(ext, &r)?,
                    Playable::Ogg(w) => w.push_rtp(&r)?,
                    Playable::None => {}
                }
            }
            Ok(())
        };
    let mut current_ssrc = None;
    while let Some(rec) = reader.next_record()? {
        match rec {
            Record::Rtp(r) => {
                packets += 1;
                first = Some(first.map_or(r.arrival_us, |f| f.min(r.arrival_us)));
                last = Some(last.map_or(r.arrival_us, |l| l.max(r.arrival_us)));
                ssrcs.insert(r.ssrc);
                if current_ssrc.is_some_and(|s| s != r.ssrc) {
                    // a new source: flush the old one's window, start sequence tracking afresh
                    let rest = reorder.drain();
                    feed(&mut playable, rest)?;
                    reorder = Reorder::new(REORDER_WINDOW);
                }
                current_ssrc = Some(r.ssrc);
                let out = reorder.push(r);
                feed(&mut playable, out)?;
            }
            Record::SenderReport(sr) => {
                if srs.len() < 1000 {
                    srs.push(sr)
                }
            }
        }
    }
    let rest = reorder.drain();
    feed(&mut playable, rest)?;
    let (frames, index, kind) = match playable {
        Playable::Ivf(w) => {
            let (n, index, size) = w.finish_indexed()?;
            let (width, height) = size.unwrap_or((0, 0));
            (n, index, Some(TrackKind::Vp8 { width, height }))
        }
        Playable::Ogg(w) => {
            let (n, index) = w.finish_indexed()?;
            let k = TrackKind::Opus {
                channels: 2,
                pre_skip: PRE_SKIP,
            };
            (n, index, Some(k))
        }
        Playable::None => (0, Vec::new(), None),
    };
    let frames_for_webm = kind.map(|kind| TrackFrames {
        source: play_path.clone(),
        kind,
        clock_rate: h.clock_rate,
        frames: index,
        sender_reports: srs.clone(),
    });
    let mut files = vec![entry(dir, capture_name, "rtp")?];
    if !play_name.is_empty() {
        set_readonly(&play_path)?;
        files.push(entry(dir, &play_name, format)?);
    }
    let track = TrackEntry {
        participant: h.participant.clone(),
        participant_id: h.participant_id.clone(),
        kind: h.kind.clone(),
        codec: h.codec.clone(),
        clock_rate: h.clock_rate,
        payload_type: h.payload_type,
        ssrcs: ssrcs.into_iter().collect(),
        packets,
        first_at_us: first,
        last_at_us: last,
        sender_reports: srs,
        truncated: reader.truncated,
        frames,
        files,
    };
    Ok((h.hearing_id, h.segment, track, frames_for_webm))
}

/// Builds `<participant>.webm` for every participant with frames.
fn finalize_playback(
    dir: &Path,
    tracks: &[TrackEntry],
    frames: Vec<Option<TrackFrames>>,
) -> io::Result<Vec<PlaybackEntry>> {
    let mut by_participant: Vec<(&TrackEntry, Vec<String>, Vec<TrackFrames>)> = Vec::new();
    for (t, f) in tracks.iter().zip(frames) {
        let Some(f) = f else { continue };
        let capture = t.files.first().map(|e| e.name.clone()).unwrap_or_default();
        match by_participant
            .iter_mut()
            .find(|(p, _, _)| p.participant == t.participant)
        {
            Some((_, names, list)) => {
                names.push(capture);
                list.push(f);
            }
            None => by_participant.push((t, vec![capture], vec![f])),
        }
    }
    let mut out = Vec::new();
    for (t, captures, list) in by_participant {
        let name = format!("{}.webm", t.participant);
        if !crate::safe_name(&name) || list.iter().all(|f| f.frames.is_empty()) {
            continue;
        }
        let path = dir.join(&name);
        remove_stale(&path)?;
        let r = mux_participant(&path, &list)?;
        set_readonly(&path)?;
        out.push(PlaybackEntry {
            participant: t.participant.clone(),
            participant_id: t.participant_id.clone(),
            kind: if r.video_frames > 0 { "video" } else { "audio" }.to_owned(),
            captures,
            sync: r.sync.to_owned(),
            video_frames: r.video_frames,
            audio_frames: r.audio_frames,
            duration_ms: r.duration_ms,
            start_at_us: r.start_us,
            file: entry(dir, &name, "webm")?,
        });
    }
    Ok(out)
}

/// Builds the playable copies, hashes everything and writes the manifest of one segment.
/// `recovered` marks a segment finalised after a crash.
pub fn finalize_segment(dir: &Path, recovered: bool) -> io::Result<Manifest> {
    let mut names: Vec<String> = fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".rtp"))
        .collect();
    names.sort();
    let mut tracks = Vec::new();
    let mut frames = Vec::new();
    let (mut hearing, mut segment) = (String::new(), String::new());
    for n in &names {
        match finalize_track(dir, n) {
            Ok((h, s, t, f)) => {
                hearing = h;
                segment = s;
                tracks.push(t);
                frames.push(f);
            }
            // a capture whose header never reached the disk holds nothing
            Err(e) if e.kind() == io::ErrorKind::InvalidData && recovered => continue,
            Err(e) => return Err(e),
        }
    }
    if segment.is_empty() {
        segment = dir
            .file_name()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
    }
    let playback = finalize_playback(dir, &tracks, frames)?;
    let manifest = Manifest {
        version: MANIFEST_VERSION,
        hearing_id: hearing,
        segment,
        started_at_us: tracks.iter().filter_map(|t| t.first_at_us).min(),
        ended_at_us: tracks.iter().filter_map(|t| t.last_at_us).max(),
        truncated: recovered || tracks.iter().any(|t| t.truncated),
        tracks,
        playback,
    };
    let path = dir.join(MANIFEST);
    let json = serde_json::to_vec_pretty(&manifest)?;
    {
        use std::io::Write;
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        f.write_all(&json)?;
        f.sync_all()?;
    }
    set_readonly(&path)?;
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(manifest)
}

/// Segment directories under `root` (`<root>/<hearing>/<segment>`) that have captures but no
/// manifest: cut by a crash, or still being recorded (`owner::recover_orphans` tells them
/// apart). Hidden entries (`.nodes`, a segment being created) are skipped.
pub fn unfinished_segments(root: &Path) -> io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let Ok(hearings) = fs::read_dir(root) else {
        return Ok(out);
    };
    let visible = |e: &fs::DirEntry| !e.file_name().to_string_lossy().starts_with('.');
    for h in hearings.filter_map(|e| e.ok()).filter(visible) {
        if !h.file_type()?.is_dir() {
            continue;
        }
        for s in fs::read_dir(h.path())?
            .filter_map(|e| e.ok())
            .filter(visible)
        {
            let p = s.path();
            if s.file_type()?.is_dir() && !p.join(MANIFEST).exists() {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Finalises every unfinished segment with the `truncated` flag; returns their manifests. For a
/// directory only one process records into, at its start; with several, `owner::recover_orphans`.
pub fn recover(root: &Path) -> io::Result<Vec<(PathBuf, Manifest)>> {
    let mut done = Vec::new();
    for dir in unfinished_segments(root)? {
        let m = finalize_segment(&dir, true)?;
        done.push((dir, m));
    }
    Ok(done)
}
