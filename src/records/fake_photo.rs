//! The fake system of record's evidence photos: a small valid PNG drawn in code per photo name
//! (a colour band and a stripe pattern seeded by the name), so a browser shows a real image.
//! For tests and development only.

/// Width and height of a fake photo (pixels).
const W: usize = 96;
const H: usize = 64;

/// A valid PNG (8-bit RGB) for the photo `name`: the same name always gives the same bytes.
pub fn png(name: &str) -> Vec<u8> {
    let seed = name.bytes().fold(2166136261u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(16777619)
    });
    let [r0, g0, b0, _] = seed.to_le_bytes();
    let mut raw = Vec::with_capacity(H * (1 + W * 3));
    for y in 0..H {
        raw.push(0); // filter: none
        for x in 0..W {
            let stripe = ((x + y) / 8) % 2 == 0;
            let road = y > H * 2 / 3;
            let (r, g, b) = match (road, stripe) {
                (true, _) => (70, 70, 78),
                (false, true) => (r0 | 0x40, g0 | 0x40, b0 | 0x40),
                (false, false) => (r0 / 2, g0 / 2, b0 / 2),
            };
            raw.extend_from_slice(&[r, g, b]);
        }
    }
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&(W as u32).to_be_bytes());
    ihdr.extend_from_slice(&(H as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(
        &mut out,
        b"IDAT",
        &miniz_oxide::deflate::compress_to_vec_zlib(&raw, 6),
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32fast::hash(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fake_photo_is_a_png_of_its_size() {
        assert_eq!(crc32fast::hash(b"IEND"), 0xAE42_6082);
        let p = png("v1-1.jpg");
        assert!(p.starts_with(b"\x89PNG\r\n\x1a\n"));
        let size = imagesize::blob_size(&p).unwrap();
        assert_eq!((size.width, size.height), (W, H));
        assert_eq!(p, png("v1-1.jpg"));
        assert_ne!(p, png("v2-1.jpg"));
    }
}
