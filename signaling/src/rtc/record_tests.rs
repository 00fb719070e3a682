//! The recorder's batches: handed over by size and age, in order across RTP and sender reports,
//! bounded, and flushed at the segment's end and when a tap goes.

use std::path::Path;
use std::time::Duration;

use recordings::{CaptureReader, Record};
use webrtc::rtp::header::Header;
use webrtc::rtp::packet::Packet;

use super::*;
use crate::rtc::{RtcConfig, RtcEngine};

fn engine(
    root: &Path,
) -> (
    RtcEngine,
    tokio::sync::mpsc::UnboundedReceiver<FinishedSegment>,
) {
    let cfg = RtcConfig {
        udp_port_min: 0,
        udp_port_max: 0,
        nat_1to1_ips: vec![],
        include_loopback: true,
        bind_ips: vec![],
        recordings_dir: Some(root.to_owned()),
        node_id: String::new(),
        link_every: Duration::from_secs(1),
        remb: Default::default(),
        clock: Arc::new(|| 1_700_000_000_000_000),
    };
    RtcEngine::new(cfg).unwrap()
}

fn packet(seq: u16) -> Packet {
    Packet {
        header: Header {
            version: 2,
            marker: seq.is_multiple_of(3),
            payload_type: 111,
            sequence_number: seq,
            timestamp: 960 * u32::from(seq),
            ssrc: 77,
            ..Default::default()
        },
        payload: Bytes::from(vec![seq as u8; 20 + usize::from(seq % 7)]),
    }
}

fn open(rec: &SegmentRecorder, shared: &Shared) -> TrackTap {
    rec.open_track(shared, Role::Citizen, "p1", "audio", "opus", 48000, 111)
        .unwrap()
}

/// Every record of the segment's only capture.
fn records(root: &Path) -> Vec<Record> {
    let dir = root.join("h1").join("seg-1");
    let mut r = CaptureReader::open(&dir.join("citizen-audio-1.rtp")).unwrap();
    let mut out = Vec::new();
    while let Some(x) = r.next_record().unwrap() {
        out.push(x);
    }
    assert!(!r.truncated);
    out
}

fn is_rtp(r: &Record, seq: u16, arrival_us: i64) -> bool {
    let p = packet(seq);
    matches!(r, Record::Rtp(x) if x.seq == seq && x.arrival_us == arrival_us
        && x.payload == p.payload.to_vec() && x.marker == p.header.marker
        && x.ts == p.header.timestamp && x.ssrc == 77 && x.payload_type == 111)
}

#[tokio::test]
async fn finishing_writes_a_batch_that_never_filled() {
    let root = tempfile::tempdir().unwrap();
    let (engine, mut finished) = engine(root.path());
    let shared = engine.shared.clone();
    let rec = SegmentRecorder::new(&shared, "h1", "seg-1");
    let tap = open(&rec, &shared);
    // fewer than a batch, all at one instant: nothing is handed over before the end
    for seq in 0..5 {
        tap.rtp(&packet(seq), 1_000);
    }
    // the tap is still alive (a track still running when the hearing closes)
    rec.finish(&shared, "h1", "seg-1").await;
    let seg = finished.recv().await.unwrap();
    assert_eq!(seg.segment, "seg-1");
    let got = records(root.path());
    assert_eq!(got.len(), 5, "{got:?}");
    for (i, r) in got.iter().enumerate() {
        assert!(is_rtp(r, i as u16, 1_000), "{i}: {r:?}");
    }
    // a closed segment takes no more
    tap.rtp(&packet(9), 2_000);
    assert!(
        rec.open_track(&shared, Role::Officer, "p2", "audio", "opus", 48000, 111)
            .is_none()
    );
}

#[tokio::test]
async fn rtp_and_sender_reports_keep_their_order_across_batches_and_taps() {
    let root = tempfile::tempdir().unwrap();
    let (engine, mut finished) = engine(root.path());
    let shared = engine.shared.clone();
    let rec = SegmentRecorder::new(&shared, "h1", "seg-1");
    let media = open(&rec, &shared);
    let rtcp = media.clone(); // as the RTCP reader holds it
    let mut want = Vec::new();
    let mut t = 10_000i64;
    for seq in 0..100u16 {
        // 20 ms apart, with a pause now and then: batches end by size and by age
        t += if seq % 40 == 39 { 400_000 } else { 20_000 };
        media.rtp(&packet(seq), t);
        want.push((true, seq, t));
        if seq % 9 == 4 {
            rtcp.sr(77, u64::from(seq), 960, u32::from(seq), 0, t + 1);
            want.push((false, seq, t + 1));
        }
    }
    drop(rtcp);
    rec.finish(&shared, "h1", "seg-1").await;
    finished.recv().await.unwrap();
    let got = records(root.path());
    assert_eq!(got.len(), want.len());
    for (r, (rtp, seq, at)) in got.iter().zip(want) {
        if rtp {
            assert!(is_rtp(r, seq, at), "{seq}: {r:?}");
        } else {
            assert!(
                matches!(r, Record::SenderReport(s) if s.ntp_time == u64::from(seq) && s.arrival_us == at),
                "sr after {seq}: {r:?}"
            );
        }
    }
    drop(media);
}

#[test]
fn a_dropped_tap_hands_over_what_it_held() {
    let root = tempfile::tempdir().unwrap();
    let (engine, _finished) = engine(root.path());
    let shared = engine.shared.clone();
    let rec = SegmentRecorder::new(&shared, "h1", "seg-1");
    let tap = open(&rec, &shared);
    for seq in 0..3 {
        tap.rtp(&packet(seq), 5_000);
    }
    // no finish: the recorder and then its last tap go, the writer closes the capture
    drop(rec);
    drop(tap);
    let path = root.path().join("h1/seg-1/citizen-audio-1.rtp");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !std::fs::metadata(&path).unwrap().permissions().readonly() {
        assert!(std::time::Instant::now() < deadline, "capture never closed");
        std::thread::sleep(Duration::from_millis(20));
    }
    let got = records(root.path());
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(is_rtp(&got[2], 2, 5_000));
}

/// A tap on a feed the test reads itself (no writer thread).
fn bare_tap() -> (TapBuf, Receiver<Msg>) {
    let (tx, rx) = channel();
    let feed = Feed {
        tx,
        queued: Arc::new(AtomicUsize::new(0)),
    };
    let buf = TapBuf {
        track: 3,
        feed,
        pending: Mutex::default(),
    };
    (buf, rx)
}

fn batch_seqs(m: Msg) -> Vec<u16> {
    let Msg::Batch(3, recs) = m else {
        panic!("not a batch of track 3")
    };
    recs.iter()
        .map(|r| match r {
            Rec::Rtp(f, _) => f.seq,
            Rec::Sr(_) => u16::MAX,
        })
        .collect()
}

#[test]
fn a_batch_goes_when_full_or_old_and_the_queue_is_bounded() {
    let (buf, rx) = bare_tap();
    let rtp = |seq: u16, at: i64| {
        let f = RtpFields {
            arrival_us: at,
            ssrc: 1,
            seq,
            ts: 0,
            payload_type: 96,
            marker: false,
        };
        buf.push(Rec::Rtp(f, Bytes::new()), at);
    };
    for seq in 0..BATCH as u16 - 1 {
        rtp(seq, 0);
    }
    assert!(
        rx.try_recv().is_err(),
        "handed over before the batch was full"
    );
    rtp(BATCH as u16 - 1, 0);
    let full = batch_seqs(rx.try_recv().unwrap());
    assert_eq!(full, (0..BATCH as u16).collect::<Vec<_>>());
    // by age: the oldest is 250 ms old when the third record comes
    rtp(100, 1_000_000);
    rtp(101, 1_000_000 + BATCH_AGE_US - 1);
    assert!(rx.try_recv().is_err());
    rtp(102, 1_000_000 + BATCH_AGE_US);
    assert_eq!(batch_seqs(rx.try_recv().unwrap()), vec![100, 101, 102]);
    assert_eq!(buf.feed.queued.load(Ordering::Acquire), BATCH + 3);

    // nothing written: once the queue is at its bound, whole batches are dropped
    buf.feed.queued.store(QUEUE - 1, Ordering::Release);
    for seq in 0..BATCH as u16 {
        rtp(seq, 2_000_000);
    }
    assert!(rx.try_recv().is_err(), "a batch past the bound was queued");
    assert_eq!(buf.feed.queued.load(Ordering::Acquire), QUEUE - 1);
    // the final flush is not dropped
    rtp(7, 3_000_000);
    buf.close();
    assert_eq!(batch_seqs(rx.try_recv().unwrap()), vec![7]);
    rtp(8, 3_000_001);
    buf.close();
    assert!(rx.try_recv().is_err(), "a closed tap took more");
}
