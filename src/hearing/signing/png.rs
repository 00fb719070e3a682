//! Reads a signature PNG (as a canvas makes it: 8-bit grey, grey+alpha, RGB or RGBA, not
//! interlaced) into a black-and-white [`Bitmap`] of dark-pixel runs, so the proof of service
//! can draw the citizen's signature as vector runs without an image codec. Inflating is bounded
//! by the declared size, and the size by [`MAX_SIDE`], so a small file cannot expand without
//! limit.

use crate::hearing::decision::pdf::Bitmap;

/// Largest width or height of a signature, pixels.
pub const MAX_SIDE: usize = 2048;

fn be32(b: &[u8]) -> usize {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
}

fn paeth(a: u8, b: u8, c: u8) -> u8 {
    let (ia, ib, ic) = (i16::from(a), i16::from(b), i16::from(c));
    let p = ia + ib - ic;
    let (pa, pb, pc) = ((p - ia).abs(), (p - ib).abs(), (p - ic).abs());
    if pa <= pb && pa <= pc {
        a
    } else if pb <= pc {
        b
    } else {
        c
    }
}

/// Decodes `data` into dark-pixel runs: a pixel is ink when it is mostly opaque and darker
/// than mid-grey.
pub fn decode(data: &[u8]) -> Result<Bitmap, String> {
    const SIG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !data.starts_with(SIG) {
        return Err("not a PNG".into());
    }
    let (mut at, mut header, mut idat) = (SIG.len(), None, Vec::new());
    while at + 12 <= data.len() {
        let len = be32(&data[at..]);
        let kind = &data[at + 4..at + 8];
        let end = at
            .checked_add(12)
            .and_then(|v| v.checked_add(len))
            .filter(|e| *e <= data.len())
            .ok_or("a chunk runs past the end")?;
        let body = &data[at + 8..at + 8 + len];
        match kind {
            b"IHDR" if body.len() == 13 => {
                header = Some((be32(body), be32(&body[4..]), body[8], body[9], body[12]))
            }
            b"IDAT" => idat.extend_from_slice(body),
            b"IEND" => break,
            _ => {}
        }
        at = end;
    }
    let (width, height, depth, colour, interlace) = header.ok_or("no IHDR")?;
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(format!(
            "a signature is 1 to {MAX_SIDE} pixels wide and high"
        ));
    }
    let channels = match colour {
        0 => 1,
        2 => 3,
        4 => 2,
        6 => 4,
        _ => return Err("a signature PNG is grey, RGB or RGBA".into()),
    };
    if depth != 8 || interlace != 0 {
        return Err("a signature PNG has 8 bits a channel and no interlacing".into());
    }
    let stride = width * channels;
    let expected = (stride + 1) * height;
    let raw = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(&idat, expected)
        .map_err(|_| "the image data does not inflate")?;
    if raw.len() != expected {
        return Err("the image data has the wrong size".into());
    }
    let mut prev = vec![0u8; stride];
    let mut cur = vec![0u8; stride];
    let mut runs = Vec::new();
    for row in 0..height {
        let line = &raw[row * (stride + 1)..(row + 1) * (stride + 1)];
        let filter = line[0];
        for i in 0..stride {
            let x = line[i + 1];
            let a = if i >= channels { cur[i - channels] } else { 0 };
            let b = prev[i];
            let c = if i >= channels { prev[i - channels] } else { 0 };
            cur[i] = match filter {
                0 => x,
                1 => x.wrapping_add(a),
                2 => x.wrapping_add(b),
                3 => x.wrapping_add(((u16::from(a) + u16::from(b)) / 2) as u8),
                4 => x.wrapping_add(paeth(a, b, c)),
                _ => return Err("unknown PNG row filter".into()),
            };
        }
        let mut start = None;
        for col in 0..=width {
            let ink = col < width && {
                let p = &cur[col * channels..(col + 1) * channels];
                let (luma, alpha) = match channels {
                    1 => (u32::from(p[0]), 255),
                    2 => (u32::from(p[0]), p[1]),
                    3 => (
                        (u32::from(p[0]) * 3 + u32::from(p[1]) * 6 + u32::from(p[2])) / 10,
                        255,
                    ),
                    _ => (
                        (u32::from(p[0]) * 3 + u32::from(p[1]) * 6 + u32::from(p[2])) / 10,
                        p[3],
                    ),
                };
                alpha >= 128 && luma < 128
            };
            match (ink, start) {
                (true, None) => start = Some(col),
                (false, Some(s)) => {
                    runs.push((row, s, col));
                    start = None;
                }
                _ => {}
            }
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    Ok(Bitmap {
        width,
        height,
        runs,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A PNG of `w`×`h` RGBA pixels, `ink(x, y)` black and opaque, else transparent; rows
    /// alternate filters None and Sub so both are exercised.
    pub fn png(w: usize, h: usize, ink: impl Fn(usize, usize) -> bool) -> Vec<u8> {
        let mut raw = Vec::new();
        for y in 0..h {
            let px: Vec<u8> = (0..w)
                .flat_map(|x| {
                    if ink(x, y) {
                        [0, 0, 0, 255]
                    } else {
                        [255, 255, 255, 0]
                    }
                })
                .collect();
            if y % 2 == 0 {
                raw.push(0);
                raw.extend_from_slice(&px);
            } else {
                raw.push(1);
                for i in 0..px.len() {
                    let left = if i >= 4 { px[i - 4] } else { 0 };
                    raw.push(px[i].wrapping_sub(left));
                }
            }
        }
        let z = miniz_oxide::deflate::compress_to_vec_zlib(&raw, 6);
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut chunk = |kind: &[u8], body: &[u8]| {
            out.extend_from_slice(&(body.len() as u32).to_be_bytes());
            out.extend_from_slice(kind);
            out.extend_from_slice(body);
            let mut c = kind.to_vec();
            c.extend_from_slice(body);
            out.extend_from_slice(&crc(&c).to_be_bytes());
        };
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&(w as u32).to_be_bytes());
        ihdr.extend_from_slice(&(h as u32).to_be_bytes());
        ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
        chunk(b"IHDR", &ihdr);
        chunk(b"IDAT", &z);
        chunk(b"IEND", &[]);
        out
    }

    fn crc(data: &[u8]) -> u32 {
        let mut c = 0xFFFF_FFFFu32;
        for &b in data {
            c ^= u32::from(b);
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
        }
        !c
    }

    #[test]
    fn reads_the_ink_as_runs() {
        // A diagonal stroke two pixels thick on a transparent 10×6 canvas.
        let data = png(10, 6, |x, y| x == y * 2 || x == y * 2 + 1);
        let b = decode(&data).unwrap();
        assert_eq!((b.width, b.height), (10, 6));
        assert_eq!(b.runs.len(), 5);
        assert_eq!(b.runs[0], (0, 0, 2));
        assert_eq!(b.runs[3], (3, 6, 8));
        // The whole image as ink is one run per row.
        let full = decode(&png(7, 3, |_, _| true)).unwrap();
        assert_eq!(full.runs, vec![(0, 0, 7), (1, 0, 7), (2, 0, 7)]);
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        assert!(decode(b"GIF89a").is_err());
        let data = png(4, 4, |_, _| true);
        assert!(decode(&data[..data.len() - 30]).is_err());
        assert!(decode(&png(MAX_SIDE + 1, 1, |_, _| false)).is_err());
        // The evidence checker's 4×3 RGB PNG reads (no ink: it is white).
        let white = crate::hearing::evidence::tests::PNG;
        assert_eq!(decode(&white).unwrap().runs, vec![]);
    }
}
