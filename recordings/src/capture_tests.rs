//! Tests of the capture format: round trip, byte layout, cut tails.

use super::*;

pub(crate) fn header(kind: &str, codec: &str) -> CaptureHeader {
    CaptureHeader {
        version: 1,
        hearing_id: "h1".into(),
        segment: "s1".into(),
        participant: "citizen".into(),
        participant_id: "c1".into(),
        kind: kind.into(),
        codec: codec.into(),
        clock_rate: 90000,
        payload_type: 96,
        created_at_us: 1_000,
    }
}

fn rec(i: u16) -> RtpRecord {
    RtpRecord {
        arrival_us: 1_000 + i as i64 * 20_000,
        ssrc: 42,
        seq: 65530u16.wrapping_add(i),
        ts: 3000 * i as u32,
        payload_type: 96,
        marker: i.is_multiple_of(2),
        payload: vec![i as u8; 10 + i as usize],
    }
}

#[test]
fn writes_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.rtp");
    let mut w = CaptureWriter::create(&p, &header("video", "vp8")).unwrap();
    for i in 0..1000 {
        w.write_rtp(&rec(i)).unwrap();
    }
    let sr = SenderReport {
        arrival_us: 5,
        ssrc: 42,
        ntp_time: 7,
        rtp_ts: 9,
        packet_count: 10,
        octet_count: 11,
    };
    w.write_sr(&sr).unwrap();
    w.finish().unwrap();
    assert!(
        CaptureWriter::create(&p, &header("video", "vp8")).is_err(),
        "write-once"
    );
    assert!(std::fs::metadata(&p).unwrap().permissions().readonly());
    let mut r = CaptureReader::open(&p).unwrap();
    assert_eq!(r.header, header("video", "vp8"));
    for i in 0..1000 {
        assert_eq!(r.next_record().unwrap(), Some(Record::Rtp(rec(i))));
    }
    assert_eq!(r.next_record().unwrap(), Some(Record::SenderReport(sr)));
    assert_eq!(r.next_record().unwrap(), None);
    assert!(!r.truncated);
    assert_eq!(r.valid_bytes, std::fs::metadata(&p).unwrap().len());
}

#[test]
fn a_cut_file_reads_to_the_last_whole_record() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.rtp");
    let mut w = CaptureWriter::create(&p, &header("audio", "opus")).unwrap();
    for i in 0..10 {
        w.write_rtp(&rec(i)).unwrap();
    }
    w.finish().unwrap();
    let full = std::fs::read(&p).unwrap();
    for cut in [full.len() - 1, full.len() - 5, full.len() - 20] {
        let q = dir.path().join(format!("cut{cut}.rtp"));
        std::fs::write(&q, &full[..cut]).unwrap();
        let mut r = CaptureReader::open(&q).unwrap();
        let mut n = 0;
        while r.next_record().unwrap().is_some() {
            n += 1;
        }
        assert!(r.truncated);
        assert!((8..10).contains(&n), "{n}");
    }
}

#[test]
fn record_bytes_follow_the_documented_layout() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.rtp");
    let mut w = CaptureWriter::create(&p, &header("video", "vp8")).unwrap();
    let header_len = std::fs::metadata(&p).unwrap().len() as usize;
    let r = RtpRecord {
        arrival_us: 0x0102_0304_0506_0708,
        ssrc: 0x0a0b_0c0d,
        seq: 0x0e0f,
        ts: 0x1011_1213,
        payload_type: 96,
        marker: true,
        payload: vec![0xaa, 0xbb],
    };
    w.write_rtp(&r).unwrap();
    let f = RtpFields {
        arrival_us: r.arrival_us,
        ssrc: r.ssrc,
        seq: r.seq,
        ts: r.ts,
        payload_type: r.payload_type,
        marker: false,
    };
    w.write_rtp_parts(&f, &[0xcc]).unwrap();
    w.write_sr(&SenderReport {
        arrival_us: 2,
        ssrc: 3,
        ntp_time: 4,
        rtp_ts: 5,
        packet_count: 6,
        octet_count: 7,
    })
    .unwrap();
    w.finish().unwrap();
    let all = std::fs::read(&p).unwrap();
    let fixed = [
        1, 1, 2, 3, 4, 5, 6, 7, 8, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 96,
    ];
    let mut want = vec![0, 0, 0, 23];
    want.extend_from_slice(&fixed);
    want.extend_from_slice(&[1, 0xaa, 0xbb]);
    want.extend_from_slice(&[0, 0, 0, 22]);
    want.extend_from_slice(&fixed);
    want.extend_from_slice(&[0, 0xcc]);
    want.extend_from_slice(&[0, 0, 0, 33, 2, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 3]);
    want.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 0, 7]);
    assert_eq!(&all[header_len..], &want[..]);
}
