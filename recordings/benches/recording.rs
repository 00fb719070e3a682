//! Criterion micro-benchmarks of the recording path: `cargo bench -p recordings --bench recording`.
//! Figures go to docs/benchmarks.md ("Micro-benchmarks").
//!
//! Files are written to a temporary directory on tmpfs (`/dev/shm` when present), so the
//! writers' periodic and final fsyncs cost next to nothing: the figures are CPU cost, not disk.
//! The media is the 4-second sample of `tests/data/media` (VP8 `video.ivf`, Opus `audio.ogg`),
//! packetised as the browser sends it (RFC 7741, at most 1000 bytes of VP8 a packet).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use recordings::{
    CaptureHeader, CaptureWriter, RtpRecord,
    ivf::{IvfWriter, parse_ivf},
    ogg::{OggWriter, opus_samples, parse_ogg},
    playback::{TrackFrames, mux_participant},
    reorder::Reorder,
    webm::TrackKind,
};

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
}

const T0_US: i64 = 1_700_000_000_000_000;
const VIDEO_FRAMES: usize = 300;

fn media(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/media")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm).expect("tempdir")
    } else {
        tempfile::tempdir().expect("tempdir")
    }
}

/// A fresh file name in `dir` (the writers refuse to overwrite).
struct Names<'a> {
    dir: &'a Path,
    n: u64,
}

impl Names<'_> {
    fn next(&mut self, ext: &str) -> PathBuf {
        self.n += 1;
        let p = self.dir.join(format!("f{}.{ext}", self.n));
        let _ = std::fs::remove_file(self.dir.join(format!("f{}.{ext}", self.n - 1)));
        p
    }
}

/// 300 frames of the sample VP8 (looped, 30 fps) as RTP packets in sending order.
fn vp8_packets() -> Vec<RtpRecord> {
    let ivf = parse_ivf(&media("video.ivf")).expect("sample ivf");
    let mut out = Vec::new();
    let mut seq = 65_000u16; // wraps during the clip
    for i in 0..VIDEO_FRAMES {
        let (_, frame) = &ivf.frames[i % ivf.frames.len()];
        let ts = 123_456u32.wrapping_add(i as u32 * 3000);
        let chunks: Vec<&[u8]> = frame.chunks(1000).collect();
        for (k, c) in chunks.iter().enumerate() {
            let mut payload = vec![if k == 0 { 0x10 } else { 0x00 }];
            payload.extend_from_slice(c);
            out.push(RtpRecord {
                arrival_us: T0_US + i as i64 * 33_333 + 2_000,
                ssrc: 7,
                seq,
                ts,
                payload_type: 96,
                marker: k + 1 == chunks.len(),
                payload,
            });
            seq = seq.wrapping_add(1);
        }
    }
    out
}

/// The sample's Opus packets (20 ms each) as RTP packets.
fn opus_packets() -> Vec<RtpRecord> {
    let pages = parse_ogg(&media("audio.ogg")).expect("sample ogg");
    let mut ts = 4_294_000_000u32; // wraps during the clip
    pages
        .iter()
        .skip(2)
        .filter(|p| !p.packet.is_empty())
        .enumerate()
        .map(|(i, p)| {
            let r = RtpRecord {
                arrival_us: T0_US + i as i64 * 20_000 + 5_000,
                ssrc: 8,
                seq: i as u16,
                ts,
                payload_type: 111,
                marker: false,
                payload: p.packet.clone(),
            };
            ts = ts.wrapping_add(opus_samples(&p.packet));
            r
        })
        .collect()
}

fn header() -> CaptureHeader {
    CaptureHeader {
        version: 1,
        hearing_id: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
        segment: "seg-1700000000-0".into(),
        participant: "citizen".into(),
        participant_id: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a88".into(),
        kind: "video".into(),
        codec: "vp8".into(),
        clock_rate: 90_000,
        payload_type: 96,
        created_at_us: T0_US,
    }
}

/// Writes the IVF copy of `packets` (through the reorder window, as finalisation does).
fn write_ivf(path: &Path, packets: &[RtpRecord]) -> recordings::ivf::IvfIndex {
    let mut reorder = Reorder::new(64);
    let mut w = IvfWriter::create(path).expect("ivf");
    for p in packets {
        for (ext, r) in reorder.push(p.clone()) {
            w.push(ext, &r).expect("push");
        }
    }
    for (ext, r) in reorder.drain() {
        w.push(ext, &r).expect("push");
    }
    w.finish_indexed().expect("finish")
}

fn write_ogg(path: &Path, packets: &[RtpRecord]) -> (u32, Vec<recordings::playback::FrameRef>) {
    let mut w = OggWriter::create(path, 0x5eed, 2).expect("ogg");
    for p in packets {
        w.push_rtp(p).expect("push");
    }
    w.finish_indexed().expect("finish")
}

fn recording(c: &mut Criterion) {
    let dir = scratch();
    let mut names = Names {
        dir: dir.path(),
        n: 0,
    };
    let video = vp8_packets();
    let audio = opus_packets();
    let mut g = c.benchmark_group("recordings");

    // One RTP record appended to an open capture (a ~1 kB VP8 packet), the live path. The
    // writer fsyncs every 500 records or second; on tmpfs that is a flush of its buffer.
    let mut cap = CaptureWriter::create(&names.next("rtp"), &header()).expect("capture");
    let mut k = 0usize;
    g.throughput(Throughput::Elements(1));
    g.bench_function("capture_write_rtp_packet", |b| {
        b.iter(|| {
            k = (k + 1) % video.len();
            cap.write_rtp(black_box(&video[k])).expect("write")
        })
    });
    drop(cap);

    // The IVF copy of 300 frames: reorder window + depacketise + write (create and finish
    // included); throughput in frames.
    g.throughput(Throughput::Elements(VIDEO_FRAMES as u64));
    g.bench_function("ivf_reorder_write_300_frames", |b| {
        b.iter(|| write_ivf(&names.next("ivf"), black_box(&video)))
    });

    // The Ogg copy of the sample's Opus packets (one page each).
    g.throughput(Throughput::Elements(audio.len() as u64));
    g.bench_function(format!("ogg_write_{}_packets", audio.len()), |b| {
        b.iter(|| write_ogg(&names.next("ogg"), black_box(&audio)))
    });

    // The WebM of the 4-second sample from its IVF and Ogg copies; throughput in frames
    // (video + audio).
    let ivf_path = dir.path().join("sample.ivf");
    let ogg_path = dir.path().join("sample.ogg");
    let sample_video: Vec<RtpRecord> = {
        let n = parse_ivf(&media("video.ivf")).expect("ivf").frames.len();
        let last = video.iter().position(|p| p.ts == 123_456 + n as u32 * 3000);
        video[..last.unwrap_or(video.len())].to_vec()
    };
    let (vframes, vindex, size) = write_ivf(&ivf_path, &sample_video);
    let (aframes, aindex) = write_ogg(&ogg_path, &audio);
    let (width, height) = size.expect("a keyframe");
    let tracks = [
        TrackFrames {
            source: ivf_path,
            kind: TrackKind::Vp8 { width, height },
            clock_rate: 90_000,
            frames: vindex,
            sender_reports: vec![],
        },
        TrackFrames {
            source: ogg_path,
            kind: TrackKind::Opus {
                channels: 2,
                pre_skip: recordings::ogg::PRE_SKIP,
            },
            clock_rate: 48_000,
            frames: aindex,
            sender_reports: vec![],
        },
    ];
    g.throughput(Throughput::Elements(u64::from(vframes + aframes)));
    g.bench_function(
        format!("webm_mux_sample_{vframes}v_{aframes}a_frames"),
        |b| b.iter(|| mux_participant(&names.next("webm"), black_box(&tracks)).expect("mux")),
    );
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = recording
}
criterion_main!(benches);
