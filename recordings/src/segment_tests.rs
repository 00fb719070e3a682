//! Write captures, finalise the segment, parse back the playable copies and the manifest.

use std::path::Path;

use crate::capture::{CaptureHeader, CaptureWriter, RtpRecord, SenderReport};
use crate::ivf::parse_ivf;
use crate::ogg::parse_ogg;
use crate::segment::{MANIFEST, Manifest, finalize_segment, hash_file, recover};

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

fn keyframe() -> Vec<u8> {
    let mut f = vec![0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a];
    f.extend_from_slice(&64u16.to_le_bytes());
    f.extend_from_slice(&48u16.to_le_bytes());
    f.extend_from_slice(&[1; 30]);
    f
}

fn write_video(dir: &Path, frames: u32) -> CaptureWriter {
    let mut w = CaptureWriter::create(
        &dir.join("citizen-video-1.rtp"),
        &header("citizen", "video", "vp8"),
    )
    .unwrap();
    let k = keyframe();
    let mut seq = 100u16;
    for i in 0..frames {
        let ts = 1000 + i * 3000;
        let body: Vec<u8> = if i % 10 == 0 {
            k.clone()
        } else {
            vec![0x01, 2, 3, 4]
        };
        // two packets per frame, written out of order for odd frames
        let (a, b) = body.split_at(body.len() / 2);
        let mut p1 = vec![0x10];
        p1.extend_from_slice(a);
        let mut p2 = vec![0x00];
        p2.extend_from_slice(b);
        let r1 = RtpRecord {
            arrival_us: i as i64 * 33_000,
            ssrc: 5,
            seq,
            ts,
            payload_type: 96,
            marker: false,
            payload: p1,
        };
        let r2 = RtpRecord {
            arrival_us: i as i64 * 33_000 + 1,
            ssrc: 5,
            seq: seq.wrapping_add(1),
            ts,
            payload_type: 96,
            marker: true,
            payload: p2,
        };
        if i % 2 == 1 {
            w.write_rtp(&r2).unwrap();
            w.write_rtp(&r1).unwrap();
        } else {
            w.write_rtp(&r1).unwrap();
            w.write_rtp(&r2).unwrap();
        }
        seq = seq.wrapping_add(2);
    }
    w.write_sr(&SenderReport {
        arrival_us: 5,
        ssrc: 5,
        ntp_time: 1 << 32,
        rtp_ts: 1000,
        packet_count: 2,
        octet_count: 20,
    })
    .unwrap();
    w
}

fn write_audio(dir: &Path, packets: u32) {
    write_audio_of(dir, "officer", packets);
}

pub(crate) fn write_audio_of(dir: &Path, participant: &str, packets: u32) {
    let mut w = CaptureWriter::create(
        &dir.join(format!("{participant}-audio-1.rtp")),
        &header(participant, "audio", "opus"),
    )
    .unwrap();
    for i in 0..packets {
        w.write_rtp(&RtpRecord {
            arrival_us: 10 + i as i64 * 20_000,
            ssrc: 9,
            seq: 65000u16.wrapping_add(i as u16),
            ts: 4_294_960_000u32.wrapping_add(i * 960),
            payload_type: 111,
            marker: false,
            payload: vec![0xf8, 0xff, 0xfe],
        })
        .unwrap();
    }
    w.finish().unwrap();
}

#[test]
fn finalised_segment_has_playable_copies_and_matching_digests() {
    let root = tempfile::tempdir().unwrap();
    let dir = crate::segment_dir(root.path(), "h1", "seg1").unwrap();
    write_video(&dir, 40).finish().unwrap();
    write_audio(&dir, 700);
    let m = finalize_segment(&dir, false).unwrap();
    assert!(!m.truncated);
    assert_eq!(m.hearing_id, "h1");
    assert_eq!(m.tracks.len(), 2);
    let audio = &m.tracks[1];
    assert_eq!(
        (
            audio.participant.as_str(),
            audio.codec.as_str(),
            audio.packets
        ),
        ("officer", "opus", 700)
    );
    let video = &m.tracks[0];
    assert_eq!(
        (
            video.kind.as_str(),
            video.packets,
            video.frames,
            video.ssrcs.clone()
        ),
        ("video", 80, 40, vec![5])
    );
    assert_eq!(video.sender_reports.len(), 1);
    for t in &m.tracks {
        for f in &t.files {
            let (sha, bytes) = hash_file(&dir.join(&f.name)).unwrap();
            assert_eq!((sha, bytes), (f.sha256.clone(), f.bytes));
            assert!(
                std::fs::metadata(dir.join(&f.name))
                    .unwrap()
                    .permissions()
                    .readonly()
            );
        }
    }
    // one WebM per participant: the citizen's has video only, the officer's audio only
    let names: Vec<_> = m.playback.iter().map(|p| p.file.name.as_str()).collect();
    assert_eq!(names, ["citizen.webm", "officer.webm"]);
    assert_eq!(
        (m.playback[0].kind.as_str(), m.playback[0].video_frames),
        ("video", 40)
    );
    assert_eq!(
        (m.playback[1].kind.as_str(), m.playback[1].audio_frames),
        ("audio", 700)
    );
    for p in &m.playback {
        assert_eq!(p.file.format, "webm");
        let (sha, bytes) = hash_file(&dir.join(&p.file.name)).unwrap();
        assert_eq!((sha, bytes), (p.file.sha256.clone(), p.file.bytes));
    }
    let ivf = parse_ivf(&std::fs::read(dir.join("citizen-video-1.ivf")).unwrap()).unwrap();
    assert_eq!(
        (ivf.width, ivf.height, ivf.header_frames, ivf.frames.len()),
        (64, 48, 40, 40)
    );
    assert_eq!(ivf.frames[0].1, keyframe());
    assert_eq!(ivf.frames[39].0, 39 * 3000);
    let pages = parse_ogg(&std::fs::read(dir.join("officer-audio-1.ogg")).unwrap()).unwrap();
    assert_eq!(pages.len(), 702);
    // granules grow across the RTP timestamp wrap
    assert!(pages.windows(2).all(|w| w[1].granule >= w[0].granule));
    assert_eq!(pages[701].granule, 700 * 960 + 312);
    let on_disk: Manifest =
        serde_json::from_slice(&std::fs::read(dir.join(MANIFEST)).unwrap()).unwrap();
    assert_eq!(on_disk, m);
    assert!(
        finalize_segment(&dir, false).is_err(),
        "manifest is write-once"
    );
}

#[test]
fn a_crashed_segment_is_recovered_with_the_truncated_flag() {
    let root = tempfile::tempdir().unwrap();
    let dir = crate::segment_dir(root.path(), "h1", "seg1").unwrap();
    let w = write_video(&dir, 20);
    write_audio(&dir, 10);
    // "crash": the writer's buffer is flushed but the last record is cut in half
    let path = w.path().to_owned();
    drop(w);
    let len = std::fs::metadata(&path).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(len - 7)
        .unwrap();
    // a half-written playable copy from a crash during finalisation is rebuilt
    std::fs::write(dir.join("officer-audio-1.ogg"), b"OggS garbage").unwrap();
    std::fs::write(dir.join("citizen.webm"), b"half a webm").unwrap();
    let done = recover(root.path()).unwrap();
    assert_eq!(done.len(), 1);
    let m = &done[0].1;
    assert!(m.truncated);
    assert!(m.tracks[0].truncated);
    assert_eq!(m.tracks[0].packets, 40); // the cut SR record is gone, all RTP survived
    assert!(parse_ogg(&std::fs::read(dir.join("officer-audio-1.ogg")).unwrap()).is_some());
    // the WebM copies are rebuilt from the captures too
    assert_eq!(m.playback.len(), 2);
    let webm = std::fs::File::open(dir.join("citizen.webm")).unwrap();
    let mut mk = matroska_demuxer::MatroskaFile::open(webm).unwrap();
    let mut f = matroska_demuxer::Frame::default();
    let mut n = 0;
    while mk.next_frame(&mut f).unwrap() {
        n += 1;
    }
    assert_eq!(n, m.playback[0].video_frames);
    assert!(n >= 19, "{n}");
    assert!(recover(root.path()).unwrap().is_empty(), "recovered once");
}

#[test]
fn resolve_refuses_escapes() {
    let root = tempfile::tempdir().unwrap();
    let dir = crate::segment_dir(root.path(), "h1", "seg1").unwrap();
    std::fs::write(dir.join("a.rtp"), b"x").unwrap();
    assert!(crate::resolve(root.path(), "h1/seg1/a.rtp").is_some());
    for bad in [
        "../etc/passwd",
        "/etc/passwd",
        "h1/../../x",
        "h1/seg1/../../..",
        "",
        "h1/.hidden",
        "h1/seg1/missing",
    ] {
        assert!(crate::resolve(root.path(), bad).is_none(), "{bad}");
    }
    assert!(crate::segment_dir(root.path(), "..", "x").is_err());
}

/// Seats, not pairs: a segment with three participants has a capture per participant and
/// track and one WebM per participant, none assuming a pair.
#[test]
fn three_participants_give_three_webms() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_video(dir, 40).finish().unwrap();
    write_audio(dir, 200);
    write_audio_of(dir, "interpreter", 150);
    let m = finalize_segment(dir, false).unwrap();
    let mut tracks: Vec<_> = m
        .tracks
        .iter()
        .map(|t| (t.participant.as_str(), t.kind.as_str(), t.packets))
        .collect();
    tracks.sort();
    assert_eq!(
        tracks,
        [
            ("citizen", "video", 80),
            ("interpreter", "audio", 150),
            ("officer", "audio", 200)
        ]
    );
    let mut play: Vec<_> = m
        .playback
        .iter()
        .map(|p| {
            let (sha, bytes) = hash_file(&dir.join(&p.file.name)).unwrap();
            assert_eq!((sha, bytes), (p.file.sha256.clone(), p.file.bytes));
            assert!(bytes > 0);
            assert_eq!(p.participant_id, format!("{}-id", p.participant));
            (p.file.name.as_str(), p.video_frames, p.audio_frames)
        })
        .collect();
    play.sort();
    assert_eq!(
        play,
        [
            ("citizen.webm", 40, 0),
            ("interpreter.webm", 0, 150),
            ("officer.webm", 0, 200)
        ]
    );
}
