//! A small WebM (Matroska subset) muxer for the playable per-participant copy: VP8 video and Opus
//! audio in SimpleBlocks, written so that browsers can play and seek it.
//!
//! Layout (Matroska spec, RFC 9559; WebM's codec mappings):
//! - EBML header (`DocType` `webm`, version 4 because of Opus's `CodecDelay`/`SeekPreRoll`);
//! - `Segment` of known size, patched on [`WebmWriter::finish`];
//! - a reserved `Void` that becomes the `SeekHead` (Info, Tracks, Cues) on finish;
//! - `Info`: `TimestampScale` 1 ms, `Duration` (patched on finish), optional `DateUTC`;
//! - `Tracks`: `V_VP8` with its pixel size, `A_OPUS` with an `OpusHead` as `CodecPrivate`;
//! - `Cluster`s of at most [`CLUSTER_MAX_MS`]; a video keyframe always opens a new one;
//! - `Cues` at the end: one point per cluster that opens with a video keyframe (or, without
//!   video, per cluster).
//!
//! Blocks must come in non-decreasing time order. The crates.io alternatives were a libwebm
//! (C++) binding and EBML tag iterators without cluster/cue logic, hence this file.

use std::io::{self, Seek, SeekFrom, Write};

/// Longest cluster in milliseconds (a SimpleBlock's relative time is an `i16`).
pub const CLUSTER_MAX_MS: i64 = 5_000;
/// Bytes reserved after the Segment header for the SeekHead.
const SEEKHEAD_RESERVE: usize = 80;
/// Nanoseconds from 1970-01-01 to 2001-01-01 (Matroska's `DateUTC` epoch).
const EPOCH_2001_NS: i64 = 978_307_200_000_000_000;

const EBML: u32 = 0x1A45_DFA3;
const SEGMENT: u32 = 0x1853_8067;
const SEEKHEAD: u32 = 0x114D_9B74;
const SEEK: u32 = 0x4DBB;
const SEEK_ID: u32 = 0x53AB;
const SEEK_POSITION: u32 = 0x53AC;
const INFO: u32 = 0x1549_A966;
const TRACKS: u32 = 0x1654_AE6B;
const CUES: u32 = 0x1C53_BB6B;
const CLUSTER: u32 = 0x1F43_B675;
const VOID: u32 = 0xEC;

/// What a track carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrackKind {
    /// VP8 with its pixel size.
    Vp8 { width: u16, height: u16 },
    /// Opus at 48 kHz with its channel count and pre-skip (samples).
    Opus { channels: u8, pre_skip: u16 },
}

/// The `OpusHead` identification header (RFC 7845 §5.1), used as Opus `CodecPrivate`.
pub fn opus_head(channels: u8, pre_skip: u16) -> Vec<u8> {
    let mut h = b"OpusHead".to_vec();
    h.push(1);
    h.push(channels);
    h.extend_from_slice(&pre_skip.to_le_bytes());
    h.extend_from_slice(&48_000u32.to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes());
    h.push(0);
    h
}

fn put_id(b: &mut Vec<u8>, id: u32) {
    let bytes = id.to_be_bytes();
    let skip = bytes.iter().take_while(|&&x| x == 0).count();
    b.extend_from_slice(&bytes[skip..]);
}

/// An EBML variable-size integer in the fewest bytes (all-ones values are reserved).
fn put_size(b: &mut Vec<u8>, n: u64) {
    let mut len = 1;
    while len < 8 && n >= (1u64 << (7 * len)) - 1 {
        len += 1;
    }
    let v = n | (1u64 << (7 * len));
    b.extend_from_slice(&v.to_be_bytes()[8 - len..]);
}

fn el(b: &mut Vec<u8>, id: u32, body: &[u8]) {
    put_id(b, id);
    put_size(b, body.len() as u64);
    b.extend_from_slice(body);
}

fn el_uint(b: &mut Vec<u8>, id: u32, v: u64) {
    let bytes = v.to_be_bytes();
    let skip = bytes.iter().take_while(|&&x| x == 0).count().min(7);
    el(b, id, &bytes[skip..]);
}

fn el_float(b: &mut Vec<u8>, id: u32, v: f64) {
    el(b, id, &v.to_be_bytes());
}

fn el_str(b: &mut Vec<u8>, id: u32, s: &str) {
    el(b, id, s.as_bytes());
}

fn void(b: &mut Vec<u8>, total: usize) {
    // ID (1 byte) + 1-byte size + filler; `total` is at least 2 and at most 128
    b.push(VOID as u8);
    put_size(b, (total - 2) as u64);
    b.resize(b.len() + total - 2, 0);
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.to_owned())
}

/// What [`WebmWriter::finish`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebmStats {
    pub blocks: u64,
    pub clusters: u64,
    pub cues: u64,
    pub bytes: u64,
}

/// Writes one WebM file; tracks are numbered from 1 in the order given.
pub struct WebmWriter<W: Write + Seek> {
    out: W,
    seg_data: u64,
    seg_size_at: u64,
    seekhead_at: u64,
    duration_at: u64,
    info_rel: u64,
    tracks_rel: u64,
    ntracks: u64,
    video: Option<u64>,
    cluster: Vec<u8>,
    cluster_ms: Option<i64>,
    last_ms: i64,
    cues: Vec<(i64, u64, u64)>,
    blocks: u64,
    clusters: u64,
}

impl<W: Write + Seek> WebmWriter<W> {
    /// Writes the header, Info and Tracks. `date_utc_us`: the start in unix microseconds.
    pub fn new(mut out: W, tracks: &[TrackKind], date_utc_us: Option<i64>) -> io::Result<Self> {
        if tracks.is_empty() || tracks.len() > 126 {
            return Err(invalid("a webm needs 1 to 126 tracks"));
        }
        let start = out.stream_position()?;
        let mut b = Vec::with_capacity(512);
        let mut h = Vec::new();
        el_uint(&mut h, 0x4286, 1); // EBMLVersion
        el_uint(&mut h, 0x42F7, 1); // EBMLReadVersion
        el_uint(&mut h, 0x42F2, 4); // EBMLMaxIDLength
        el_uint(&mut h, 0x42F3, 8); // EBMLMaxSizeLength
        el_str(&mut h, 0x4282, "webm"); // DocType
        el_uint(&mut h, 0x4287, 4); // DocTypeVersion
        el_uint(&mut h, 0x4285, 2); // DocTypeReadVersion
        el(&mut b, EBML, &h);
        put_id(&mut b, SEGMENT);
        let seg_size_at = start + b.len() as u64;
        b.extend_from_slice(&[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]); // patched
        let seg_data = start + b.len() as u64;
        let seekhead_at = seg_data;
        void(&mut b, SEEKHEAD_RESERVE);
        let info_rel = start + b.len() as u64 - seg_data;
        let mut info = Vec::new();
        el_uint(&mut info, 0x2A_D7B1, 1_000_000); // TimestampScale: 1 ms
        let duration_in_info = info.len() + 3; // after the Duration ID (2) and size (1)
        el_float(&mut info, 0x4489, 0.0); // Duration, patched
        if let Some(us) = date_utc_us {
            let ns = us.saturating_mul(1000).saturating_sub(EPOCH_2001_NS);
            el(&mut info, 0x4461, &ns.to_be_bytes()); // DateUTC
        }
        el_str(&mut info, 0x4D80, "remote-hearing"); // MuxingApp
        el_str(&mut info, 0x5741, "remote-hearing"); // WritingApp
        put_id(&mut b, INFO);
        put_size(&mut b, info.len() as u64);
        let duration_at = start + b.len() as u64 + duration_in_info as u64;
        b.extend_from_slice(&info);
        let tracks_rel = start + b.len() as u64 - seg_data;
        let mut tr = Vec::new();
        let mut video = None;
        for (i, t) in tracks.iter().enumerate() {
            let n = i as u64 + 1;
            let mut e = Vec::new();
            el_uint(&mut e, 0xD7, n); // TrackNumber
            el_uint(&mut e, 0x73C5, n); // TrackUID
            match t {
                TrackKind::Vp8 { width, height } => {
                    video.get_or_insert(n);
                    el_uint(&mut e, 0x83, 1); // TrackType: video
                    el_uint(&mut e, 0x9C, 0); // FlagLacing
                    el_str(&mut e, 0x86, "V_VP8");
                    let mut v = Vec::new();
                    el_uint(&mut v, 0xB0, u64::from(*width)); // PixelWidth
                    el_uint(&mut v, 0xBA, u64::from(*height)); // PixelHeight
                    el(&mut e, 0xE0, &v);
                }
                TrackKind::Opus { channels, pre_skip } => {
                    el_uint(&mut e, 0x83, 2); // TrackType: audio
                    el_uint(&mut e, 0x9C, 0); // FlagLacing
                    el_str(&mut e, 0x86, "A_OPUS");
                    el(&mut e, 0x63A2, &opus_head(*channels, *pre_skip)); // CodecPrivate
                    // CodecDelay (pre-skip in ns) and SeekPreRoll (80 ms), as WebM asks
                    el_uint(
                        &mut e,
                        0x56AA,
                        u64::from(*pre_skip) * 1_000_000_000 / 48_000,
                    );
                    el_uint(&mut e, 0x56BB, 80_000_000);
                    let mut a = Vec::new();
                    el_float(&mut a, 0xB5, 48_000.0); // SamplingFrequency
                    el_uint(&mut a, 0x9F, u64::from(*channels)); // Channels
                    el(&mut e, 0xE1, &a);
                }
            }
            el(&mut tr, 0xAE, &e);
        }
        el(&mut b, TRACKS, &tr);
        out.write_all(&b)?;
        Ok(WebmWriter {
            out,
            seg_data,
            seg_size_at,
            seekhead_at,
            duration_at,
            info_rel,
            tracks_rel,
            ntracks: tracks.len() as u64,
            video,
            cluster: Vec::new(),
            cluster_ms: None,
            last_ms: 0,
            cues: Vec::new(),
            blocks: 0,
            clusters: 0,
        })
    }

    fn flush_cluster(&mut self) -> io::Result<()> {
        let Some(ms) = self.cluster_ms.take() else {
            return Ok(());
        };
        let mut body = Vec::with_capacity(self.cluster.len() + 16);
        el_uint(&mut body, 0xE7, ms as u64); // Timestamp
        body.append(&mut self.cluster);
        let mut b = Vec::with_capacity(body.len() + 12);
        el(&mut b, CLUSTER, &body);
        self.out.write_all(&b)?;
        self.clusters += 1;
        Ok(())
    }

    /// Adds one frame of `track` (1-based) at `time_ms` from the start.
    pub fn push(&mut self, track: u64, time_ms: i64, key: bool, data: &[u8]) -> io::Result<()> {
        if track == 0 || track > self.ntracks {
            return Err(invalid("no such track"));
        }
        if time_ms < self.last_ms || time_ms < 0 {
            return Err(invalid("blocks must come in time order"));
        }
        let video_key = key && self.video == Some(track);
        let new_cluster = match self.cluster_ms {
            None => true,
            Some(c) => video_key || time_ms - c > CLUSTER_MAX_MS,
        };
        if new_cluster {
            self.flush_cluster()?;
            let pos = self.out.stream_position()? - self.seg_data;
            match self.video {
                Some(v) if video_key => self.cues.push((time_ms, v, pos)),
                None => self.cues.push((time_ms, track, pos)),
                Some(_) => {}
            }
            self.cluster_ms = Some(time_ms);
        }
        let rel = time_ms - self.cluster_ms.unwrap_or(time_ms);
        let rel = i16::try_from(rel).map_err(|_| invalid("block time out of range"))?;
        put_id(&mut self.cluster, 0xA3); // SimpleBlock
        put_size(&mut self.cluster, data.len() as u64 + 4);
        self.cluster.push(0x80 | track as u8); // track number as a 1-byte vint
        self.cluster.extend_from_slice(&rel.to_be_bytes());
        self.cluster.push(if key { 0x80 } else { 0x00 });
        self.cluster.extend_from_slice(data);
        self.last_ms = time_ms;
        self.blocks += 1;
        Ok(())
    }

    /// Writes the last cluster and the Cues, patches Duration, SeekHead and the Segment size.
    /// Returns the writer's output (flushed) and what was written.
    pub fn finish(mut self, duration_ms: f64) -> io::Result<(W, WebmStats)> {
        self.flush_cluster()?;
        let cues_rel = self.out.stream_position()? - self.seg_data;
        if !self.cues.is_empty() {
            let mut c = Vec::new();
            for &(ms, track, pos) in &self.cues {
                let mut p = Vec::new();
                el_uint(&mut p, 0xB3, ms as u64); // CueTime
                let mut t = Vec::new();
                el_uint(&mut t, 0xF7, track); // CueTrack
                el_uint(&mut t, 0xF1, pos); // CueClusterPosition
                el(&mut p, 0xB7, &t); // CueTrackPositions
                el(&mut c, 0xBB, &p); // CuePoint
            }
            let mut b = Vec::new();
            el(&mut b, CUES, &c);
            self.out.write_all(&b)?;
        }
        let end = self.out.stream_position()?;
        let mut seeks = Vec::new();
        let mut entries = vec![(INFO, self.info_rel), (TRACKS, self.tracks_rel)];
        if !self.cues.is_empty() {
            entries.push((CUES, cues_rel));
        }
        for (id, pos) in entries {
            let mut s = Vec::new();
            el(&mut s, SEEK_ID, &id.to_be_bytes());
            el_uint(&mut s, SEEK_POSITION, pos);
            el(&mut seeks, SEEK, &s);
        }
        let mut sh = Vec::new();
        el(&mut sh, SEEKHEAD, &seeks);
        if sh.len() + 2 > SEEKHEAD_RESERVE {
            return Err(invalid("seek head does not fit"));
        }
        let rest = SEEKHEAD_RESERVE - sh.len();
        void(&mut sh, rest);
        self.out.seek(SeekFrom::Start(self.seekhead_at))?;
        self.out.write_all(&sh)?;
        self.out.seek(SeekFrom::Start(self.duration_at))?;
        self.out.write_all(&duration_ms.max(0.0).to_be_bytes())?;
        let seg_size = end - self.seg_data;
        self.out.seek(SeekFrom::Start(self.seg_size_at))?;
        self.out
            .write_all(&(seg_size | (1u64 << 56)).to_be_bytes())?;
        self.out.seek(SeekFrom::Start(end))?;
        self.out.flush()?;
        let stats = WebmStats {
            blocks: self.blocks,
            clusters: self.clusters,
            cues: self.cues.len() as u64,
            bytes: end,
        };
        Ok((self.out, stats))
    }
}
