//! The WebM muxer: exact bytes of a tiny file (worked out by hand from the Matroska spec), a
//! parse-back with an independent demuxer (`matroska-demuxer`), audio/video alignment, and the
//! WebM built from the sample media through captures and segment finalisation.

use std::io::Cursor;
use std::path::Path;

use matroska_demuxer::{Frame, MatroskaFile, TrackType};

use crate::capture::{CaptureHeader, CaptureWriter, RtpRecord, SenderReport};
use crate::ivf::parse_ivf;
use crate::ogg::{opus_samples, parse_ogg};
use crate::playback::{FrameRef, TrackFrames, timeline};
use crate::segment::{finalize_segment, hash_file};
use crate::webm::{TrackKind, WebmWriter, opus_head};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn a_tiny_file_has_the_exact_ebml_bytes() {
    let tracks = [TrackKind::Vp8 {
        width: 16,
        height: 16,
    }];
    let mut w = WebmWriter::new(Cursor::new(Vec::new()), &tracks, None).unwrap();
    w.push(1, 0, true, &[0xAA, 0xBB]).unwrap();
    let (out, stats) = w.finish(40.0).unwrap();
    let mut expected = hex(
        "1A45DFA3 9F 4286 81 01 42F7 81 01 42F2 81 04 42F3 81 08 4282 84 7765626D
                     4287 81 04 4285 81 02
         18538067 01000000000000CE
         114D9B74 AA
           4DBB 8B 53AB 84 1549A966 53AC 81 50
           4DBB 8B 53AB 84 1654AE6B 53AC 81 89
           4DBB 8B 53AB 84 1C53BB6B 53AC 81 BC
         EC 9F",
    );
    expected.extend_from_slice(&[0; 31]); // the rest of the reserved space
    expected.extend(hex(
        "1549A966 B4 2AD7B1 83 0F4240 4489 88 4044000000000000 4D80 8E",
    ));
    expected.extend_from_slice(b"remote-hearing");
    expected.extend(hex("5741 8E"));
    expected.extend_from_slice(b"remote-hearing");
    expected.extend(hex(
        "1654AE6B 9E AE 9C D7 81 01 73C5 81 01 83 81 01 9C 81 00 86 85 565F565038
                       E0 86 B0 81 10 BA 81 10
         1F43B675 8B E7 81 00 A3 86 81 0000 80 AABB
         1C53BB6B 8D BB 8B B3 81 00 B7 86 F7 81 01 F1 81 AC",
    ));
    let got = out.into_inner();
    assert_eq!(hex_dump(&got), hex_dump(&expected));
    assert_eq!(stats.bytes, 254);
    assert_eq!((stats.blocks, stats.clusters, stats.cues), (1, 1, 1));
    let mut m = MatroskaFile::open(Cursor::new(got)).unwrap();
    assert_eq!(m.info().duration(), Some(40.0));
    let mut f = Frame::default();
    assert!(m.next_frame(&mut f).unwrap());
    assert_eq!(
        (f.track, f.timestamp, f.data.as_slice()),
        (1, 0, &[0xAA, 0xBB][..])
    );
    assert_eq!(f.is_keyframe, Some(true));
    assert!(!m.next_frame(&mut f).unwrap());
}

fn hex_dump(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

#[test]
fn parse_back_two_tracks_many_clusters_and_seek() {
    let tracks = [
        TrackKind::Vp8 {
            width: 320,
            height: 240,
        },
        TrackKind::Opus {
            channels: 2,
            pre_skip: 312,
        },
    ];
    let mut w = WebmWriter::new(
        Cursor::new(Vec::new()),
        &tracks,
        Some(1_700_000_000_000_000),
    )
    .unwrap();
    // 12 s: video every 40 ms (keyframe every 3 s), audio every 20 ms
    for ms in (0..12_000i64).step_by(20) {
        w.push(2, ms, true, &[0xf8, (ms / 20) as u8]).unwrap();
        if ms % 40 == 0 {
            let key = ms % 3000 == 0;
            w.push(1, ms, key, &[u8::from(key), (ms / 40) as u8, 0, 0])
                .unwrap();
        }
    }
    let (out, stats) = w.finish(12_000.0).unwrap();
    assert_eq!(stats.cues, 4);
    assert!(stats.clusters >= 4);
    let mut m = MatroskaFile::open(Cursor::new(out.into_inner())).unwrap();
    assert_eq!(m.ebml_header().doc_type(), "webm");
    assert_eq!(m.info().timestamp_scale().get(), 1_000_000);
    assert_eq!(m.info().duration(), Some(12_000.0));
    // 2023-11-14T22:13:20Z in ns since 2001-01-01
    assert_eq!(
        m.info().date_utc(),
        Some(1_700_000_000_000_000_000 - 978_307_200_000_000_000)
    );
    let t = m.tracks();
    assert_eq!(t.len(), 2);
    assert_eq!(
        (t[0].codec_id(), t[0].track_type()),
        ("V_VP8", TrackType::Video)
    );
    let v = t[0].video().unwrap();
    assert_eq!((v.pixel_width().get(), v.pixel_height().get()), (320, 240));
    assert_eq!(
        (t[1].codec_id(), t[1].track_type()),
        ("A_OPUS", TrackType::Audio)
    );
    assert_eq!(t[1].codec_private(), Some(&opus_head(2, 312)[..]));
    assert_eq!(t[1].codec_delay(), Some(6_500_000));
    assert_eq!(t[1].audio().unwrap().channels().get(), 2);
    let mut f = Frame::default();
    let (mut n, mut last) = ([0u32; 3], 0u64);
    while m.next_frame(&mut f).unwrap() {
        assert!(f.timestamp >= last);
        last = f.timestamp;
        n[f.track as usize] += 1;
        if f.track == 1 {
            assert_eq!(f.is_keyframe, Some(f.timestamp % 3000 == 0));
            assert_eq!(f.data[1], (f.timestamp / 40) as u8);
        }
    }
    assert_eq!((n[1], n[2]), (300, 600));
    m.seek(7_000).unwrap();
    assert!(m.next_frame(&mut f).unwrap());
    assert!((6_000..=7_000).contains(&f.timestamp), "{}", f.timestamp);
}

#[test]
fn blocks_out_of_time_order_are_refused() {
    let tracks = [TrackKind::Opus {
        channels: 2,
        pre_skip: 312,
    }];
    let mut w = WebmWriter::new(Cursor::new(Vec::new()), &tracks, None).unwrap();
    w.push(1, 100, true, &[1]).unwrap();
    assert!(w.push(1, 99, true, &[1]).is_err());
    assert!(w.push(2, 100, true, &[1]).is_err());
}

fn fref(ssrc: u32, ts: u32, arrival_us: i64) -> FrameRef {
    FrameRef {
        offset: 0,
        len: 0,
        ssrc,
        ts,
        arrival_us,
        key: true,
    }
}

#[test]
fn sender_reports_align_audio_and_video() {
    let sr = |ssrc, ntp_ms: u64, rtp_ts, arrival_us| SenderReport {
        arrival_us,
        ssrc,
        ntp_time: ((ntp_ms / 1000) << 32) | (((ntp_ms % 1000) << 32) / 1000),
        rtp_ts,
        packet_count: 0,
        octet_count: 0,
    };
    // video's RTP 90_000 is sender time 10.000 s; audio's RTP 4_800 is sender time 10.500 s.
    // Audio packets arrive 300 ms late relative to video: arrival would misplace them.
    let video = TrackFrames {
        source: "v".into(),
        kind: TrackKind::Vp8 {
            width: 1,
            height: 1,
        },
        clock_rate: 90_000,
        frames: vec![fref(1, 90_000, 1_000_000), fref(1, 93_000, 1_033_333)],
        sender_reports: vec![sr(1, 10_000, 90_000, 1_000_000)],
    };
    let audio = TrackFrames {
        source: "a".into(),
        kind: TrackKind::Opus {
            channels: 2,
            pre_skip: 312,
        },
        clock_rate: 48_000,
        frames: vec![fref(2, 4_800, 1_800_000), fref(2, 5_760, 1_820_000)],
        sender_reports: vec![sr(2, 10_500, 4_800, 1_800_000)],
    };
    let (w, sync) = timeline(&[video.clone(), audio.clone()]);
    assert_eq!(sync, "rtcp-sr");
    assert_eq!(w[1][0] - w[0][0], 500_000);
    assert_eq!(w[0][1] - w[0][0], 33_333);
    let mut no_sr = audio;
    no_sr.sender_reports.clear();
    let (w, sync) = timeline(&[video, no_sr]);
    assert_eq!(sync, "arrival");
    assert_eq!(w[1][0] - w[0][0], 800_000);
}

fn header(participant: &str, kind: &str, codec: &str) -> CaptureHeader {
    CaptureHeader {
        version: 1,
        hearing_id: "h1".into(),
        segment: "seg1".into(),
        participant: participant.into(),
        participant_id: format!("{participant}-id"),
        kind: kind.into(),
        codec: codec.into(),
        clock_rate: if codec == "opus" { 48000 } else { 90000 },
        payload_type: if codec == "opus" { 111 } else { 96 },
        created_at_us: 0,
    }
}

/// Packetises the sample IVF (RFC 7741, at most 1000 bytes a packet) and Ogg Opus into captures.
fn sample_captures(dir: &Path, repeats: u64) -> (usize, usize) {
    let media = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/media");
    let ivf = parse_ivf(&std::fs::read(media.join("video.ivf")).unwrap()).unwrap();
    let pages = parse_ogg(&std::fs::read(media.join("audio.ogg")).unwrap()).unwrap();
    let t0 = 1_700_000_000_000_000i64;
    let v = dir.join("citizen-video-1.rtp");
    let mut w = CaptureWriter::create(&v, &header("citizen", "video", "vp8")).unwrap();
    let mut seq = 40_000u16;
    let n = ivf.frames.len() as u64;
    let looped = (0..repeats).flat_map(|k| ivf.frames.iter().map(move |(p, f)| (p + k * n, f)));
    for (pts, frame) in looped {
        let pts = &pts;
        let ts = 123_456u32.wrapping_add(*pts as u32 * 3000);
        let chunks: Vec<&[u8]> = frame.chunks(1000).collect();
        for (i, c) in chunks.iter().enumerate() {
            let mut payload = vec![if i == 0 { 0x10 } else { 0x00 }];
            payload.extend_from_slice(c);
            w.write_rtp(&RtpRecord {
                arrival_us: t0 + *pts as i64 * 33_333 + 2_000,
                ssrc: 7,
                seq,
                ts,
                payload_type: 96,
                marker: i + 1 == chunks.len(),
                payload,
            })
            .unwrap();
            seq = seq.wrapping_add(1);
        }
    }
    w.finish().unwrap();
    let a = dir.join("citizen-audio-2.rtp");
    let mut w = CaptureWriter::create(&a, &header("citizen", "audio", "opus")).unwrap();
    let mut ts = 4_294_000_000u32; // wraps during the clip
    let once: Vec<_> = pages
        .iter()
        .skip(2)
        .filter(|p| !p.packet.is_empty())
        .collect();
    let packets: Vec<_> = (0..repeats).flat_map(|_| once.iter().copied()).collect();
    for (i, p) in packets.iter().enumerate() {
        w.write_rtp(&RtpRecord {
            arrival_us: t0 + i as i64 * 20_000 + 5_000,
            ssrc: 8,
            seq: i as u16, // wraps on long runs
            ts,
            payload_type: 111,
            marker: false,
            payload: p.packet.clone(),
        })
        .unwrap();
        ts = ts.wrapping_add(opus_samples(&p.packet));
    }
    w.finish().unwrap();
    (ivf.frames.len() * repeats as usize, packets.len())
}

/// Figures for a 10-minute recording: `cargo test --release -p recordings -- --ignored`.
#[test]
#[ignore]
fn ten_minutes_timing() {
    let root = tempfile::tempdir().unwrap();
    let dir = crate::segment_dir(root.path(), "h1", "seg1").unwrap();
    sample_captures(&dir, 150);
    let started = std::time::Instant::now();
    let m = finalize_segment(&dir, false).unwrap();
    let p = &m.playback[0];
    let copies: u64 = m.tracks.iter().map(|t| t.files[1].bytes).sum();
    eprintln!(
        "{} ms: ivf + ogg + webm + hashes in {:?}; webm {} B, ivf + ogg {copies} B",
        p.duration_ms,
        started.elapsed(),
        p.file.bytes
    );
}

#[test]
fn the_sample_media_becomes_one_playable_webm() {
    let root = tempfile::tempdir().unwrap();
    let dir = crate::segment_dir(root.path(), "h1", "seg1").unwrap();
    let (video_frames, audio_frames) = sample_captures(&dir, 1);
    let started = std::time::Instant::now();
    let m = finalize_segment(&dir, false).unwrap();
    eprintln!("finalised (ivf + ogg + webm) in {:?}", started.elapsed());
    assert_eq!(m.playback.len(), 1);
    let p = &m.playback[0];
    assert_eq!(
        (p.participant.as_str(), p.kind.as_str()),
        ("citizen", "video")
    );
    assert_eq!(p.sync, "arrival");
    assert_eq!(
        (p.video_frames as usize, p.audio_frames as usize),
        (video_frames, audio_frames)
    );
    assert_eq!(p.captures, ["citizen-audio-2.rtp", "citizen-video-1.rtp"]);
    let path = dir.join("citizen.webm");
    assert_eq!(
        hash_file(&path).unwrap(),
        (p.file.sha256.clone(), p.file.bytes)
    );
    assert!(std::fs::metadata(&path).unwrap().permissions().readonly());
    let copies: u64 = ["citizen-video-1.ivf", "citizen-audio-2.ogg"]
        .iter()
        .map(|n| std::fs::metadata(dir.join(n)).unwrap().len())
        .sum();
    eprintln!("webm {} bytes, ivf + ogg {copies} bytes", p.file.bytes);
    let mut mk = MatroskaFile::open(std::fs::File::open(&path).unwrap()).unwrap();
    let tracks = mk.tracks();
    assert_eq!(tracks.len(), 2);
    assert_eq!(tracks[0].codec_id(), "V_VP8");
    assert_eq!(tracks[1].codec_id(), "A_OPUS");
    let v = tracks[0].video().unwrap();
    assert_eq!((v.pixel_width().get(), v.pixel_height().get()), (320, 240));
    let duration = mk.info().duration().unwrap();
    assert!((3_900.0..4_200.0).contains(&duration), "{duration}");
    let ivf = parse_ivf(&std::fs::read(dir.join("citizen-video-1.ivf")).unwrap()).unwrap();
    let mut f = Frame::default();
    let (mut n, mut last, mut last_track) = ([0usize; 3], 0u64, [None::<u64>; 3]);
    while mk.next_frame(&mut f).unwrap() {
        assert!(f.timestamp >= last, "interleaved by time");
        last = f.timestamp;
        let t = f.track as usize;
        if let Some(prev) = last_track[t] {
            assert!(f.timestamp >= prev, "monotonic per track");
        }
        if t == 1 {
            assert_eq!(f.data, ivf.frames[n[1]].1, "the IVF's frames, same order");
            assert_eq!(f.timestamp, ivf.frames[n[1]].0 / 90, "RTP time in ms");
        }
        last_track[t] = Some(f.timestamp);
        n[t] += 1;
    }
    assert_eq!((n[1], n[2]), (video_frames, audio_frames));
}
