//! Reordering of RTP packets read back from a capture: a bounded window keyed by extended
//! (wrap-aware) sequence numbers, releasing packets in order, dropping duplicates and packets
//! older than what was already released. Used by every playable copy (IVF, Ogg).

use std::collections::BTreeMap;

use crate::capture::RtpRecord;

/// Puts RTP packets back into sequence order within a bounded window.
pub struct Reorder {
    window: usize,
    buf: BTreeMap<u64, RtpRecord>,
    last_ext: Option<u64>,
    released: Option<u64>,
}

impl Reorder {
    pub fn new(window: usize) -> Reorder {
        Reorder {
            window: window.max(1),
            buf: BTreeMap::new(),
            last_ext: None,
            released: None,
        }
    }

    fn extend(&mut self, seq: u16) -> u64 {
        let ext = match self.last_ext {
            None => (1u64 << 16) + seq as u64,
            Some(last) => {
                let base = last & !0xffff;
                let cands = [
                    base.wrapping_sub(1 << 16) + seq as u64,
                    base + seq as u64,
                    base + (1 << 16) + seq as u64,
                ];
                // the candidate closest to the last extended sequence number
                cands
                    .into_iter()
                    .min_by_key(|c| c.abs_diff(last))
                    .unwrap_or(base + seq as u64)
            }
        };
        if self.last_ext.is_none_or(|l| ext > l) {
            self.last_ext = Some(ext);
        }
        ext
    }

    /// Adds a packet; returns the packets that leave the window, in order, with their extended
    /// sequence numbers. Duplicates and packets older than what was released are dropped.
    pub fn push(&mut self, r: RtpRecord) -> Vec<(u64, RtpRecord)> {
        let ext = self.extend(r.seq);
        if self.released.is_some_and(|rel| ext <= rel) {
            return Vec::new();
        }
        self.buf.entry(ext).or_insert(r);
        let mut out = Vec::new();
        while self.buf.len() > self.window {
            if let Some((k, v)) = self.buf.pop_first() {
                self.released = Some(k);
                out.push((k, v));
            }
        }
        out
    }

    /// Everything still held, in order.
    pub fn drain(&mut self) -> Vec<(u64, RtpRecord)> {
        let out: Vec<_> = std::mem::take(&mut self.buf).into_iter().collect();
        if let Some((k, _)) = out.last() {
            self.released = Some(*k);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(seq: u16) -> RtpRecord {
        RtpRecord {
            arrival_us: 0,
            ssrc: 1,
            seq,
            ts: 0,
            payload_type: 96,
            marker: false,
            payload: vec![],
        }
    }

    #[test]
    fn releases_in_order_across_the_wrap_and_drops_duplicates_and_late_packets() {
        let mut ro = Reorder::new(2);
        let mut out = Vec::new();
        for s in [65535, 1, 65534, 0, 1, 2, 65533] {
            out.extend(ro.push(rec(s)).into_iter().map(|(_, r)| r.seq));
        }
        out.extend(ro.drain().into_iter().map(|(_, r)| r.seq));
        // 65533 came after 65534 was released: too late
        assert_eq!(out, vec![65534, 65535, 0, 1, 2]);
    }
}
