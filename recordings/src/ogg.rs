//! Playable Opus copy: ordered Opus RTP payloads in an Ogg file (RFC 7845), one packet per page,
//! granule positions from the RTP timestamps (48 kHz), the last page flagged end-of-stream.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::capture::RtpRecord;
use crate::playback::FrameRef;

/// Opus pre-skip written in the OpusHead (samples at 48 kHz).
pub const PRE_SKIP: u16 = 312;

fn crc_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    for (i, e) in t.iter_mut().enumerate() {
        let mut r = (i as u32) << 24;
        for _ in 0..8 {
            r = if r & 0x8000_0000 != 0 {
                (r << 1) ^ 0x04c1_1db7
            } else {
                r << 1
            };
        }
        *e = r;
    }
    t
}

/// The Ogg CRC-32 (polynomial 0x04c11db7, no reflection, zero init).
pub fn ogg_crc(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let t = TABLE.get_or_init(crc_table);
    data.iter().fold(0u32, |crc, b| {
        (crc << 8) ^ t[(((crc >> 24) as u8) ^ b) as usize]
    })
}

/// Samples (at 48 kHz) in one Opus packet, from its TOC byte (RFC 6716 §3.1).
pub fn opus_samples(p: &[u8]) -> u32 {
    let Some(&toc) = p.first() else { return 0 };
    let config = toc >> 3;
    let frame = match config {
        0..=11 => [480, 960, 1920, 2880][(config % 4) as usize],
        12..=15 => [480, 960][(config % 2) as usize],
        _ => [120, 240, 480, 960][(config % 4) as usize],
    };
    let count = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => p.get(1).map_or(0, |b| (b & 0x3f) as u32),
    };
    frame * count
}

/// Writes an Ogg Opus file.
pub struct OggWriter {
    out: BufWriter<File>,
    serial: u32,
    page_seq: u32,
    first_ts: Option<u32>,
    ts_base: u64,
    last_ts: u32,
    held: Option<(Vec<u8>, u64, FrameRef)>,
    /// Bytes written so far.
    pos: u64,
    index: Vec<FrameRef>,
    pub packets: u32,
}

impl OggWriter {
    pub fn create(path: &Path, serial: u32, channels: u8) -> io::Result<OggWriter> {
        let file = OpenOptions::new().write(true).create_new(true).open(path)?;
        let mut w = OggWriter {
            out: BufWriter::new(file),
            serial,
            page_seq: 0,
            first_ts: None,
            ts_base: 0,
            last_ts: 0,
            held: None,
            pos: 0,
            index: Vec::new(),
            packets: 0,
        };
        let mut head = b"OpusHead".to_vec();
        head.push(1);
        head.push(channels);
        head.extend_from_slice(&PRE_SKIP.to_le_bytes());
        head.extend_from_slice(&48000u32.to_le_bytes());
        head.extend_from_slice(&0u16.to_le_bytes());
        head.push(0);
        w.page(&head, 0, 0x02)?;
        let vendor = b"remote-hearing";
        let mut tags = b"OpusTags".to_vec();
        tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
        tags.extend_from_slice(vendor);
        tags.extend_from_slice(&0u32.to_le_bytes());
        w.page(&tags, 0, 0)?;
        Ok(w)
    }

    fn page(&mut self, packet: &[u8], granule: u64, flags: u8) -> io::Result<()> {
        let mut lacing = vec![255u8; packet.len() / 255];
        lacing.push((packet.len() % 255) as u8);
        if lacing.len() > 255 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "packet too large for one page",
            ));
        }
        let mut p = Vec::with_capacity(27 + lacing.len() + packet.len());
        p.extend_from_slice(b"OggS");
        p.push(0);
        p.push(flags);
        p.extend_from_slice(&granule.to_le_bytes());
        p.extend_from_slice(&self.serial.to_le_bytes());
        p.extend_from_slice(&self.page_seq.to_le_bytes());
        p.extend_from_slice(&[0; 4]);
        p.push(lacing.len() as u8);
        p.extend_from_slice(&lacing);
        p.extend_from_slice(packet);
        let crc = ogg_crc(&p);
        p[22..26].copy_from_slice(&crc.to_le_bytes());
        self.page_seq += 1;
        self.pos += p.len() as u64;
        self.out.write_all(&p)
    }

    /// Writes a held packet's page and notes where the packet lies.
    fn page_indexed(
        &mut self,
        packet: &[u8],
        granule: u64,
        flags: u8,
        mut f: FrameRef,
    ) -> io::Result<()> {
        f.offset = self.pos + 27 + (packet.len() / 255 + 1) as u64;
        f.len = packet.len() as u32;
        self.page(packet, granule, flags)?;
        self.index.push(f);
        Ok(())
    }

    /// Adds the next Opus packet (in order), keeping its SSRC and arrival time for the index.
    pub fn push_rtp(&mut self, r: &RtpRecord) -> io::Result<()> {
        self.push_tagged(r.ts, &r.payload, r.ssrc, r.arrival_us)
    }

    /// Adds the next Opus payload (in order) with its RTP timestamp.
    pub fn push(&mut self, ts: u32, payload: &[u8]) -> io::Result<()> {
        self.push_tagged(ts, payload, 0, 0)
    }

    fn push_tagged(
        &mut self,
        ts: u32,
        payload: &[u8],
        ssrc: u32,
        arrival_us: i64,
    ) -> io::Result<()> {
        if payload.is_empty() {
            return Ok(());
        }
        let first = *self.first_ts.get_or_insert(ts);
        if self.packets > 0 && ts < self.last_ts && self.last_ts - ts > u32::MAX / 2 {
            self.ts_base += 1 << 32;
        }
        self.last_ts = ts;
        let start = self.ts_base + ts as u64 - first as u64;
        let granule = start + opus_samples(payload) as u64 + PRE_SKIP as u64;
        if let Some((p, g, f)) = self.held.take() {
            self.page_indexed(&p, g, 0, f)?;
        }
        let f = FrameRef {
            offset: 0,
            len: 0,
            ssrc,
            ts,
            arrival_us,
            key: true,
        };
        self.held = Some((payload.to_vec(), granule, f));
        self.packets += 1;
        Ok(())
    }

    /// Writes the last page with end-of-stream set and fsyncs.
    pub fn finish(self) -> io::Result<u32> {
        Ok(self.finish_indexed()?.0)
    }

    /// As [`OggWriter::finish`], also returning where each packet lies in the file.
    pub fn finish_indexed(mut self) -> io::Result<(u32, Vec<FrameRef>)> {
        match self.held.take() {
            Some((p, g, f)) => self.page_indexed(&p, g, 0x04, f)?,
            None => self.page(&[], PRE_SKIP as u64, 0x04)?,
        }
        self.out.flush()?;
        self.out.get_ref().sync_all()?;
        Ok((self.packets, std::mem::take(&mut self.index)))
    }
}

/// One parsed Ogg page (for tests and verification).
#[derive(Debug, Clone)]
pub struct OggPage {
    pub flags: u8,
    pub granule: u64,
    pub seq: u32,
    pub packet: Vec<u8>,
}

/// Parses an Ogg file page by page, checking every CRC; `None` when anything is wrong.
pub fn parse_ogg(data: &[u8]) -> Option<Vec<OggPage>> {
    let mut pages = Vec::new();
    let mut off = 0;
    while off < data.len() {
        let h = data.get(off..off + 27)?;
        if &h[0..4] != b"OggS" {
            return None;
        }
        let nseg = h[26] as usize;
        let lacing = data.get(off + 27..off + 27 + nseg)?;
        let body_len: usize = lacing.iter().map(|&l| l as usize).sum();
        let end = off + 27 + nseg + body_len;
        let mut page = data.get(off..end)?.to_vec();
        let crc = u32::from_le_bytes([page[22], page[23], page[24], page[25]]);
        page[22..26].copy_from_slice(&[0; 4]);
        if ogg_crc(&page) != crc {
            return None;
        }
        let mut g = [0u8; 8];
        g.copy_from_slice(&h[6..14]);
        pages.push(OggPage {
            flags: h[5],
            granule: u64::from_le_bytes(g),
            seq: u32::from_le_bytes([h[18], h[19], h[20], h[21]]),
            packet: data[off + 27 + nseg..end].to_vec(),
        });
        off = end;
    }
    Some(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_known_vector() {
        // CRC of "OggS" with this polynomial (cross-checked with libogg's table).
        assert_eq!(ogg_crc(b""), 0);
        assert_eq!(crc_table()[1], 0x04c1_1db7);
    }

    #[test]
    fn writes_parseable_ogg_opus() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.ogg");
        let mut w = OggWriter::create(&p, 7, 2).unwrap();
        // 20 ms CELT packets (config 31 -> 960 samples)
        for i in 0..50u32 {
            w.push(1000 + i * 960, &[0xf8, i as u8, 1, 2, 3]).unwrap();
        }
        assert_eq!(w.finish().unwrap(), 50);
        let pages = parse_ogg(&std::fs::read(&p).unwrap()).unwrap();
        assert_eq!(pages.len(), 52);
        assert_eq!(pages[0].flags, 0x02);
        assert!(pages[0].packet.starts_with(b"OpusHead"));
        assert!(pages[1].packet.starts_with(b"OpusTags"));
        assert_eq!(pages[51].flags, 0x04);
        assert_eq!(pages[2].granule, 960 + 312);
        assert_eq!(pages[51].granule, 50 * 960 + 312);
        assert!(pages.iter().enumerate().all(|(i, p)| p.seq == i as u32));
    }

    #[test]
    fn opus_toc_durations() {
        assert_eq!(opus_samples(&[0xf8]), 960);
        assert_eq!(opus_samples(&[0x08 | 1]), 1920); // SILK 20 ms, two frames
        assert_eq!(opus_samples(&[0xfb, 0x03]), 2880);
        assert_eq!(opus_samples(&[]), 0);
    }
}
