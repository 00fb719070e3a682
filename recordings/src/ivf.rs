//! Playable VP8 copy: RTP (RFC 7741) depacketised into an IVF file.
//!
//! Frames are assembled from packets in sequence order (put back in order by
//! [`crate::reorder::Reorder`]); a frame with a missing packet is dropped and so is everything up
//! to the next keyframe (a decoder could not use it). The IVF header (size, frame count) is written correctly on close.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::path::Path;

use crate::capture::RtpRecord;
use crate::playback::FrameRef;

/// Parses the VP8 payload descriptor: (start of a frame, offset of the VP8 payload).
pub fn vp8_descriptor(p: &[u8]) -> Option<(bool, usize)> {
    let b0 = *p.first()?;
    let x = b0 & 0x80 != 0;
    let s = b0 & 0x10 != 0;
    let pid = b0 & 0x07;
    let mut off = 1;
    if x {
        let ext = *p.get(off)?;
        off += 1;
        if ext & 0x80 != 0 {
            // picture id: 7 or 15 bits
            let pic = *p.get(off)?;
            off += if pic & 0x80 != 0 { 2 } else { 1 };
        }
        if ext & 0x40 != 0 {
            off += 1; // TL0PICIDX
        }
        if ext & 0x30 != 0 {
            off += 1; // TID / KEYIDX
        }
    }
    if off > p.len() {
        return None;
    }
    Some((s && pid == 0, off))
}

/// Keyframe test and dimensions of a VP8 frame (RFC 6386 §9.1).
pub fn vp8_keyframe_size(frame: &[u8]) -> Option<(u16, u16)> {
    if frame.len() < 10 || frame[0] & 1 != 0 || frame[3..6] != [0x9d, 0x01, 0x2a] {
        return None;
    }
    let w = u16::from_le_bytes([frame[6], frame[7]]) & 0x3fff;
    let h = u16::from_le_bytes([frame[8], frame[9]]) & 0x3fff;
    Some((w, h))
}

/// Frames written, where each lies, and the first keyframe's picture size.
pub type IvfIndex = (u32, Vec<FrameRef>, Option<(u16, u16)>);

/// Writes an IVF file from ordered VP8 RTP packets.
pub struct IvfWriter {
    out: BufWriter<File>,
    frames: u32,
    size: Option<(u16, u16)>,
    first_ts: Option<u32>,
    ts_base: u64,
    last_ts: Option<u32>,
    // the frame being assembled
    cur: Vec<u8>,
    cur_ts: u32,
    cur_ok: bool,
    expect: Option<u64>,
    need_key: bool,
    cur_ssrc: u32,
    cur_arrival_us: i64,
    /// Bytes written so far (the next frame header's offset).
    pos: u64,
    index: Vec<FrameRef>,
    pub dropped_frames: u32,
}

impl IvfWriter {
    pub fn create(path: &Path) -> io::Result<IvfWriter> {
        let file = OpenOptions::new().write(true).create_new(true).open(path)?;
        let mut out = BufWriter::new(file);
        out.write_all(&ivf_header(0, 0, 0))?;
        Ok(IvfWriter {
            out,
            frames: 0,
            size: None,
            first_ts: None,
            ts_base: 0,
            last_ts: None,
            cur: Vec::new(),
            cur_ts: 0,
            cur_ok: false,
            expect: None,
            need_key: true,
            cur_ssrc: 0,
            cur_arrival_us: 0,
            pos: 32,
            index: Vec::new(),
            dropped_frames: 0,
        })
    }

    /// Adds the next packet in sequence order.
    pub fn push(&mut self, ext_seq: u64, r: &RtpRecord) -> io::Result<()> {
        let gap = self.expect.is_some_and(|e| e != ext_seq);
        self.expect = Some(ext_seq + 1);
        let Some((start, off)) = vp8_descriptor(&r.payload) else {
            self.cur_ok = false;
            return Ok(());
        };
        if start || r.ts != self.cur_ts {
            self.flush_frame(false)?;
            self.cur.clear();
            self.cur_ts = r.ts;
            self.cur_ssrc = r.ssrc;
            self.cur_arrival_us = r.arrival_us;
            self.cur_ok = start;
        } else if gap {
            self.cur_ok = false;
        }
        self.cur.extend_from_slice(&r.payload[off..]);
        if r.marker {
            self.flush_frame(true)?;
        }
        Ok(())
    }

    fn flush_frame(&mut self, complete: bool) -> io::Result<()> {
        if self.cur.is_empty() {
            return Ok(());
        }
        let frame = std::mem::take(&mut self.cur);
        if !(complete && self.cur_ok) {
            self.dropped_frames += 1;
            self.need_key = true;
            self.cur_ok = false;
            return Ok(());
        }
        self.cur_ok = false;
        let key = vp8_keyframe_size(&frame);
        if self.need_key {
            if key.is_none() {
                self.dropped_frames += 1;
                return Ok(());
            }
            self.need_key = false;
        }
        if self.size.is_none() {
            self.size = key;
        }
        let first = *self.first_ts.get_or_insert(self.cur_ts);
        if let Some(last) = self.last_ts
            && self.cur_ts < last
            && last - self.cur_ts > u32::MAX / 2
        {
            self.ts_base += 1 << 32; // RTP timestamp wrapped
        }
        self.last_ts = Some(self.cur_ts);
        let pts = self.ts_base + self.cur_ts as u64 - first as u64;
        self.out.write_all(&(frame.len() as u32).to_le_bytes())?;
        self.out.write_all(&pts.to_le_bytes())?;
        self.out.write_all(&frame)?;
        self.index.push(FrameRef {
            offset: self.pos + 12,
            len: frame.len() as u32,
            ssrc: self.cur_ssrc,
            ts: self.cur_ts,
            arrival_us: self.cur_arrival_us,
            key: key.is_some(),
        });
        self.pos += 12 + frame.len() as u64;
        self.frames += 1;
        Ok(())
    }

    /// Writes the final header and fsyncs; returns the number of frames.
    pub fn finish(self) -> io::Result<u32> {
        Ok(self.finish_indexed()?.0)
    }

    /// As [`IvfWriter::finish`], also returning where each frame lies in the file and the
    /// picture size of the first keyframe (for the WebM copy).
    pub fn finish_indexed(mut self) -> io::Result<IvfIndex> {
        self.flush_frame(false)?;
        let size = self.size;
        let index = std::mem::take(&mut self.index);
        let (w, h) = self.size.unwrap_or((0, 0));
        self.out.flush()?;
        let mut file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&ivf_header(w, h, self.frames))?;
        file.sync_all()?;
        Ok((self.frames, index, size))
    }
}

fn ivf_header(w: u16, h: u16, frames: u32) -> [u8; 32] {
    let mut b = [0u8; 32];
    b[0..4].copy_from_slice(b"DKIF");
    b[4..6].copy_from_slice(&0u16.to_le_bytes());
    b[6..8].copy_from_slice(&32u16.to_le_bytes());
    b[8..12].copy_from_slice(b"VP80");
    b[12..14].copy_from_slice(&w.to_le_bytes());
    b[14..16].copy_from_slice(&h.to_le_bytes());
    b[16..20].copy_from_slice(&90000u32.to_le_bytes()); // timebase denominator (RTP clock)
    b[20..24].copy_from_slice(&1u32.to_le_bytes());
    b[24..28].copy_from_slice(&frames.to_le_bytes());
    b
}

/// A parsed IVF file (for tests and verification).
#[derive(Debug, Clone)]
pub struct IvfInfo {
    pub width: u16,
    pub height: u16,
    pub frames: Vec<(u64, Vec<u8>)>,
    pub header_frames: u32,
}

/// Parses an IVF file strictly.
pub fn parse_ivf(data: &[u8]) -> Option<IvfInfo> {
    if data.len() < 32 || &data[0..4] != b"DKIF" || &data[8..12] != b"VP80" {
        return None;
    }
    let width = u16::from_le_bytes([data[12], data[13]]);
    let height = u16::from_le_bytes([data[14], data[15]]);
    let header_frames = u32::from_le_bytes([data[24], data[25], data[26], data[27]]);
    let mut frames = Vec::new();
    let mut off = 32;
    while off < data.len() {
        let hdr = data.get(off..off + 12)?;
        let len = u32::from_le_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]) as usize;
        let mut pts = [0u8; 8];
        pts.copy_from_slice(&hdr[4..12]);
        let frame = data.get(off + 12..off + 12 + len)?;
        frames.push((u64::from_le_bytes(pts), frame.to_vec()));
        off += 12 + len;
    }
    Some(IvfInfo {
        width,
        height,
        frames,
        header_frames,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reorder::Reorder;

    fn pkt(seq: u16, ts: u32, start: bool, marker: bool, body: &[u8]) -> RtpRecord {
        let mut payload = vec![if start { 0x10 } else { 0x00 }];
        payload.extend_from_slice(body);
        RtpRecord {
            arrival_us: 0,
            ssrc: 1,
            seq,
            ts,
            payload_type: 96,
            marker,
            payload,
        }
    }

    fn key(w: u16, h: u16) -> Vec<u8> {
        let mut f = vec![0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a];
        f.extend_from_slice(&w.to_le_bytes());
        f.extend_from_slice(&h.to_le_bytes());
        f.extend_from_slice(&[7; 20]);
        f
    }

    #[test]
    fn reorders_and_assembles_frames() {
        let k = key(320, 240);
        let mut packets = vec![
            pkt(65534, 1000, true, false, &k[..10]),
            pkt(65535, 1000, false, true, &k[10..]),
            pkt(0, 4000, true, false, &[1, 2, 3]),
            pkt(1, 4000, false, true, &[4, 5]),
            pkt(2, 7000, true, true, &[9]),
        ];
        packets.swap(0, 1);
        packets.swap(2, 4);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.ivf");
        let mut w = IvfWriter::create(&p).unwrap();
        let mut ro = Reorder::new(8);
        for r in packets {
            for (e, r) in ro.push(r) {
                w.push(e, &r).unwrap();
            }
        }
        for (e, r) in ro.drain() {
            w.push(e, &r).unwrap();
        }
        assert_eq!(w.finish().unwrap(), 3);
        let info = parse_ivf(&std::fs::read(&p).unwrap()).unwrap();
        assert_eq!((info.width, info.height, info.header_frames), (320, 240, 3));
        assert_eq!(info.frames[0], (0, k));
        assert_eq!(info.frames[1], (3000, vec![1, 2, 3, 4, 5]));
        assert_eq!(info.frames[2], (6000, vec![9]));
    }

    #[test]
    fn a_lost_packet_drops_frames_until_the_next_keyframe() {
        let k = key(16, 16);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.ivf");
        let mut w = IvfWriter::create(&p).unwrap();
        let seq = [
            pkt(10, 0, true, true, &k),
            pkt(11, 3000, true, false, &[1]),
            // 12 lost
            pkt(13, 3000, false, true, &[3]),
            pkt(14, 6000, true, true, &[4]),
            pkt(15, 9000, true, true, &k),
        ];
        let mut ro = Reorder::new(4);
        for r in seq {
            for (e, r) in ro.push(r) {
                w.push(e, &r).unwrap();
            }
        }
        for (e, r) in ro.drain() {
            w.push(e, &r).unwrap();
        }
        assert_eq!(w.finish().unwrap(), 2);
    }

    #[test]
    fn descriptor_with_extensions() {
        // X=1, S=1; I=1 with 15-bit picture id, L=1, T=1
        let p = [0x90, 0xe0, 0x80, 0x01, 0x05, 0x20, 0xaa];
        assert_eq!(vp8_descriptor(&p), Some((true, 6)));
        assert_eq!(vp8_descriptor(&[0x80]), None);
        assert_eq!(vp8_descriptor(&[]), None);
    }
}
