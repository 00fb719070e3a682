//! The raw RTP capture: the primary evidence of a call, one file per participant and track.
//!
//! Format (all integers big-endian):
//! - magic `RHRTP` 0x00 0x01 `\n` (8 bytes), `u32` header length, a JSON [`CaptureHeader`];
//! - records: `u32` body length, then the body: `u8` kind, `u64` arrival time (unix µs), and
//!   - kind 1 (RTP): `u32` SSRC, `u16` sequence, `u32` RTP timestamp, `u8` payload type,
//!     `u8` flags (bit 0: marker), payload bytes;
//!   - kind 2 (RTCP sender report): `u32` SSRC, `u64` NTP time, `u32` RTP timestamp,
//!     `u32` packet count, `u32` octet count.
//!
//! Files are created with `create_new` (never overwritten), fsynced periodically and on close,
//! then made read-only. A reader stops at the last whole record and reports `truncated`.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub const MAGIC: &[u8; 8] = b"RHRTP\x00\x01\n";
/// Records larger than this are treated as corruption by the reader.
pub const MAX_RECORD: usize = 64 * 1024;
const KIND_RTP: u8 = 1;
const KIND_SR: u8 = 2;

/// What a capture holds; written as JSON at the start of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureHeader {
    pub version: u32,
    pub hearing_id: String,
    pub segment: String,
    /// The participant's seat (its role: `citizen`, `officer`, `interpreter`, ...); one
    /// `<participant>.webm` is built per distinct value.
    pub participant: String,
    pub participant_id: String,
    /// `audio` or `video`.
    pub kind: String,
    /// `vp8` or `opus`.
    pub codec: String,
    pub clock_rate: u32,
    pub payload_type: u8,
    pub created_at_us: i64,
}

/// One received RTP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpRecord {
    pub arrival_us: i64,
    pub ssrc: u32,
    pub seq: u16,
    pub ts: u32,
    pub payload_type: u8,
    pub marker: bool,
    pub payload: Vec<u8>,
}

/// One RTCP sender report's timing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderReport {
    pub arrival_us: i64,
    pub ssrc: u32,
    pub ntp_time: u64,
    pub rtp_ts: u32,
    pub packet_count: u32,
    pub octet_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Rtp(RtpRecord),
    SenderReport(SenderReport),
}

/// Writes one capture file.
pub struct CaptureWriter {
    out: BufWriter<File>,
    path: PathBuf,
    records: u64,
    since_sync: u32,
    last_sync_us: i64,
    sync_every_records: u32,
    sync_every_us: i64,
}

impl CaptureWriter {
    /// Creates the file (it must not exist) and writes the header.
    pub fn create(path: &Path, header: &CaptureHeader) -> io::Result<CaptureWriter> {
        let file = OpenOptions::new().write(true).create_new(true).open(path)?;
        let mut out = BufWriter::with_capacity(64 * 1024, file);
        let json = serde_json::to_vec(header)?;
        out.write_all(MAGIC)?;
        out.write_all(&(json.len() as u32).to_be_bytes())?;
        out.write_all(&json)?;
        out.flush()?;
        out.get_ref().sync_all()?;
        Ok(CaptureWriter {
            out,
            path: path.to_owned(),
            records: 0,
            since_sync: 0,
            last_sync_us: header.created_at_us,
            sync_every_records: 500,
            sync_every_us: 1_000_000,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn records(&self) -> u64 {
        self.records
    }

    /// Appends one RTP packet (payload longer than [`MAX_RECORD`] is refused).
    pub fn write_rtp(&mut self, r: &RtpRecord) -> io::Result<()> {
        if r.payload.len() + 32 > MAX_RECORD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "rtp payload too large",
            ));
        }
        let body_len = 1 + 8 + 4 + 2 + 4 + 1 + 1 + r.payload.len();
        let mut b = Vec::with_capacity(4 + body_len);
        b.extend_from_slice(&(body_len as u32).to_be_bytes());
        b.push(KIND_RTP);
        b.extend_from_slice(&r.arrival_us.to_be_bytes());
        b.extend_from_slice(&r.ssrc.to_be_bytes());
        b.extend_from_slice(&r.seq.to_be_bytes());
        b.extend_from_slice(&r.ts.to_be_bytes());
        b.push(r.payload_type);
        b.push(u8::from(r.marker));
        b.extend_from_slice(&r.payload);
        self.out.write_all(&b)?;
        self.after_write(r.arrival_us)
    }

    /// Appends a sender report's timing.
    pub fn write_sr(&mut self, sr: &SenderReport) -> io::Result<()> {
        let body_len = 1 + 8 + 4 + 8 + 4 + 4 + 4;
        let mut b = Vec::with_capacity(4 + body_len);
        b.extend_from_slice(&(body_len as u32).to_be_bytes());
        b.push(KIND_SR);
        b.extend_from_slice(&sr.arrival_us.to_be_bytes());
        b.extend_from_slice(&sr.ssrc.to_be_bytes());
        b.extend_from_slice(&sr.ntp_time.to_be_bytes());
        b.extend_from_slice(&sr.rtp_ts.to_be_bytes());
        b.extend_from_slice(&sr.packet_count.to_be_bytes());
        b.extend_from_slice(&sr.octet_count.to_be_bytes());
        self.out.write_all(&b)?;
        self.after_write(sr.arrival_us)
    }

    fn after_write(&mut self, now_us: i64) -> io::Result<()> {
        self.records += 1;
        self.since_sync += 1;
        if self.since_sync >= self.sync_every_records
            || now_us - self.last_sync_us >= self.sync_every_us
        {
            self.sync(now_us)?;
        }
        Ok(())
    }

    fn sync(&mut self, now_us: i64) -> io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_data()?;
        self.since_sync = 0;
        self.last_sync_us = now_us;
        Ok(())
    }

    /// Flushes, fsyncs and makes the file read-only.
    pub fn finish(mut self) -> io::Result<PathBuf> {
        self.out.flush()?;
        self.out.get_ref().sync_all()?;
        set_readonly(&self.path)?;
        Ok(self.path)
    }
}

/// Makes a finished file read-only (write-once).
pub fn set_readonly(path: &Path) -> io::Result<()> {
    let mut perm = std::fs::metadata(path)?.permissions();
    perm.set_readonly(true);
    std::fs::set_permissions(path, perm)
}

/// Reads a capture back, record by record, stopping at the last whole record.
pub struct CaptureReader {
    input: BufReader<File>,
    pub header: CaptureHeader,
    /// Set once a cut or corrupt tail was met.
    pub truncated: bool,
    /// Bytes of whole records (plus the header) read so far.
    pub valid_bytes: u64,
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => return Ok(false),
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_owned())
}

impl CaptureReader {
    pub fn open(path: &Path) -> io::Result<CaptureReader> {
        let mut input = BufReader::with_capacity(64 * 1024, File::open(path)?);
        let mut magic = [0u8; 8];
        if !read_full(&mut input, &mut magic)? || &magic != MAGIC {
            return Err(invalid("not a capture file"));
        }
        let mut len = [0u8; 4];
        if !read_full(&mut input, &mut len)? {
            return Err(invalid("capture header cut"));
        }
        let len = u32::from_be_bytes(len) as usize;
        if len > MAX_RECORD {
            return Err(invalid("capture header too large"));
        }
        let mut json = vec![0u8; len];
        if !read_full(&mut input, &mut json)? {
            return Err(invalid("capture header cut"));
        }
        let header: CaptureHeader =
            serde_json::from_slice(&json).map_err(|_| invalid("bad capture header"))?;
        Ok(CaptureReader {
            input,
            header,
            truncated: false,
            valid_bytes: (12 + len) as u64,
        })
    }

    /// The next whole record, `None` at the end (or at a cut tail, setting `truncated`).
    pub fn next_record(&mut self) -> io::Result<Option<Record>> {
        if self.truncated {
            return Ok(None);
        }
        let mut len = [0u8; 4];
        match self.input.read(&mut len[..1])? {
            0 => return Ok(None),
            _ => {
                if !read_full(&mut self.input, &mut len[1..])? {
                    self.truncated = true;
                    return Ok(None);
                }
            }
        }
        let len = u32::from_be_bytes(len) as usize;
        if !(9..=MAX_RECORD).contains(&len) {
            self.truncated = true;
            return Ok(None);
        }
        let mut body = vec![0u8; len];
        if !read_full(&mut self.input, &mut body)? {
            self.truncated = true;
            return Ok(None);
        }
        let rec = match parse_body(&body) {
            Some(r) => r,
            None => {
                self.truncated = true;
                return Ok(None);
            }
        };
        self.valid_bytes += 4 + len as u64;
        Ok(Some(rec))
    }
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn be64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

fn parse_body(b: &[u8]) -> Option<Record> {
    let kind = b[0];
    let arrival_us = be64(&b[1..]) as i64;
    let rest = &b[9..];
    match kind {
        KIND_RTP if rest.len() >= 12 => Some(Record::Rtp(RtpRecord {
            arrival_us,
            ssrc: be32(rest),
            seq: u16::from_be_bytes([rest[4], rest[5]]),
            ts: be32(&rest[6..]),
            payload_type: rest[10],
            marker: rest[11] & 1 == 1,
            payload: rest[12..].to_vec(),
        })),
        KIND_SR if rest.len() == 24 => Some(Record::SenderReport(SenderReport {
            arrival_us,
            ssrc: be32(rest),
            ntp_time: be64(&rest[4..]),
            rtp_ts: be32(&rest[12..]),
            packet_count: be32(&rest[16..]),
            octet_count: be32(&rest[20..]),
        })),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
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
}
