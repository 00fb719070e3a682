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
/// An RTP record's body before its payload: kind, arrival, SSRC, sequence, timestamp, payload
/// type, flags.
const RTP_FIXED: usize = 1 + 8 + 4 + 2 + 4 + 1 + 1;

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

/// An RTP packet's recorded fields without its payload ([`CaptureWriter::write_rtp_parts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpFields {
    pub arrival_us: i64,
    pub ssrc: u32,
    pub seq: u16,
    pub ts: u32,
    pub payload_type: u8,
    pub marker: bool,
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
        let fields = RtpFields {
            arrival_us: r.arrival_us,
            ssrc: r.ssrc,
            seq: r.seq,
            ts: r.ts,
            payload_type: r.payload_type,
            marker: r.marker,
        };
        self.write_rtp_parts(&fields, &r.payload)
    }

    /// Appends one RTP packet given as its fields and its payload (the same bytes as
    /// [`CaptureWriter::write_rtp`]; the caller keeps the payload in its own buffer).
    pub fn write_rtp_parts(&mut self, f: &RtpFields, payload: &[u8]) -> io::Result<()> {
        if payload.len() + 32 > MAX_RECORD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "rtp payload too large",
            ));
        }
        let body_len = RTP_FIXED + payload.len();
        let mut b = [0u8; 4 + RTP_FIXED];
        b[..4].copy_from_slice(&(body_len as u32).to_be_bytes());
        b[4] = KIND_RTP;
        b[5..13].copy_from_slice(&f.arrival_us.to_be_bytes());
        b[13..17].copy_from_slice(&f.ssrc.to_be_bytes());
        b[17..19].copy_from_slice(&f.seq.to_be_bytes());
        b[19..23].copy_from_slice(&f.ts.to_be_bytes());
        b[23] = f.payload_type;
        b[24] = u8::from(f.marker);
        self.out.write_all(&b)?;
        self.out.write_all(payload)?;
        self.after_write(f.arrival_us)
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
#[path = "capture_tests.rs"]
mod tests;
