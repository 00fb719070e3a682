//! The sealed container: round trips, ranges and tampering (property tests).

use std::io::{Cursor, Read, Seek, SeekFrom, Write};

use proptest::prelude::*;

use super::*;

fn key(b: u8) -> FileKey {
    FileKey::new([b; 16], &[b.wrapping_add(1); 32])
}

fn seal(k: &FileKey, plain: &[u8], chunk: u32, writes: &[usize]) -> Vec<u8> {
    let mut w = SealWriter::new(Vec::new(), k, chunk).unwrap();
    // written in pieces of the given sizes (cycled), as a recording is
    let mut at = 0;
    let mut i = 0;
    while at < plain.len() {
        let n = writes
            .get(i % writes.len().max(1))
            .copied()
            .unwrap_or(7)
            .max(1);
        let end = (at + n).min(plain.len());
        w.write_all(&plain[at..end]).unwrap();
        at = end;
        i += 1;
    }
    w.finish().unwrap()
}

fn open(k: &FileKey, sealed: &[u8]) -> std::io::Result<Vec<u8>> {
    open_bytes(k, sealed)
}

fn plain_strategy() -> impl Strategy<Value = (Vec<u8>, u32, Vec<usize>)> {
    (
        proptest::collection::vec(any::<u8>(), 0..3000),
        16u32..300,
        proptest::collection::vec(1usize..700, 1..5),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_size_and_chunking_round_trips((plain, chunk, writes) in plain_strategy()) {
        let k = key(1);
        let sealed = seal(&k, &plain, chunk, &writes);
        let chunks = plain.len().div_ceil(chunk as usize).max(1);
        prop_assert_eq!(sealed.len(), HEADER_LEN + plain.len() + chunks * TAG_LEN);
        prop_assert_eq!(open(&k, &sealed).unwrap(), plain.clone());
        let r = SealedReader::open(Cursor::new(&sealed), &k).unwrap();
        prop_assert_eq!(r.len(), plain.len() as u64);
        prop_assert_eq!(key_id(&sealed), Some([1; 16]));
    }

    #[test]
    fn any_range_is_the_plaintext_slice(
        (plain, chunk, writes) in plain_strategy(),
        a in any::<prop::sample::Index>(),
        b in any::<prop::sample::Index>(),
    ) {
        prop_assume!(!plain.is_empty());
        let k = key(2);
        let sealed = seal(&k, &plain, chunk, &writes);
        let (x, y) = (a.index(plain.len()), b.index(plain.len()));
        let (start, end) = (x.min(y), x.max(y) + 1);
        let mut r = SealedReader::open(Cursor::new(&sealed), &k).unwrap();
        r.seek(SeekFrom::Start(start as u64)).unwrap();
        let mut got = vec![0u8; end - start];
        r.read_exact(&mut got).unwrap();
        prop_assert_eq!(&got[..], &plain[start..end]);
        // and from the end, after a backwards seek
        r.seek(SeekFrom::End(-((plain.len() - start) as i64))).unwrap();
        let mut rest = Vec::new();
        r.read_to_end(&mut rest).unwrap();
        prop_assert_eq!(&rest[..], &plain[start..]);
    }

    #[test]
    fn any_flipped_byte_fails(
        (plain, chunk, writes) in plain_strategy(),
        at in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let k = key(3);
        let mut sealed = seal(&k, &plain, chunk, &writes);
        let i = at.index(sealed.len());
        sealed[i] ^= 1 << bit;
        prop_assert!(open(&k, &sealed).is_err(), "flipped byte {} of {}", i, sealed.len());
    }

    #[test]
    fn any_cut_fails((plain, chunk, writes) in plain_strategy(), at in any::<prop::sample::Index>()) {
        let k = key(4);
        let sealed = seal(&k, &plain, chunk, &writes);
        let cut = at.index(sealed.len());
        prop_assert!(open(&k, &sealed[..cut]).is_err(), "cut at {} of {}", cut, sealed.len());
    }

    #[test]
    fn swapped_dropped_or_appended_chunks_fail(
        plain in proptest::collection::vec(any::<u8>(), 64..2000),
        chunk in 16u32..64,
        a in any::<prop::sample::Index>(),
        b in any::<prop::sample::Index>(),
    ) {
        let k = key(5);
        let sealed = seal(&k, &plain, chunk, &[100]);
        let size = chunk as usize + TAG_LEN;
        let whole = (sealed.len() - HEADER_LEN) / size; // full chunks (the last may be short)
        prop_assume!(whole >= 2);
        let (i, j) = (a.index(whole), b.index(whole));
        prop_assume!(i != j);
        let mut swapped = sealed.clone();
        let (pi, pj) = (HEADER_LEN + i * size, HEADER_LEN + j * size);
        let ci = sealed[pi..pi + size].to_vec();
        swapped[pi..pi + size].copy_from_slice(&sealed[pj..pj + size]);
        swapped[pj..pj + size].copy_from_slice(&ci);
        prop_assert!(open(&k, &swapped).is_err());
        // a whole chunk dropped from the middle
        let mut dropped = sealed[..pi].to_vec();
        dropped.extend_from_slice(&sealed[pi + size..]);
        prop_assert!(open(&k, &dropped).is_err());
        // a chunk of the same file appended after the last
        let mut appended = sealed.clone();
        appended.extend_from_slice(&sealed[pi..pi + size]);
        prop_assert!(open(&k, &appended).is_err());
    }
}

#[test]
fn a_cut_at_a_chunk_boundary_fails_and_a_wrong_key_is_refused() {
    let k = key(6);
    let plain = vec![7u8; 100];
    let sealed = seal(&k, &plain, 32, &[100]);
    // 4 chunks: 32+32+32+4; cut after the third
    let cut = HEADER_LEN + 3 * (32 + TAG_LEN);
    assert!(open(&k, &sealed[..cut]).is_err());
    // a cut leaving just a tag's length of the next chunk: an "empty last chunk" after others
    // is refused at open (a read would never reach it to check it)
    assert!(open(&k, &sealed[..cut + TAG_LEN]).is_err());
    assert!(SealedReader::open(Cursor::new(&sealed[..cut + TAG_LEN]), &k).is_err());
    // another key, or the same bytes under another id
    assert!(open(&key(7), &sealed).is_err());
    let other = FileKey::new([6; 16], &[9; 32]);
    assert!(open(&other, &sealed).is_err());
    // a chunk of another file sealed by the same key, at the same place
    let again = seal(&k, &plain, 32, &[100]);
    let mut mixed = sealed.clone();
    mixed[HEADER_LEN..HEADER_LEN + 48].copy_from_slice(&again[HEADER_LEN..HEADER_LEN + 48]);
    assert!(open(&k, &mixed).is_err(), "nonce prefixes differ per file");
}

#[test]
fn an_empty_file_has_one_checked_chunk() {
    let k = key(8);
    let sealed = seal(&k, b"", CHUNK, &[1]);
    assert_eq!(sealed.len(), HEADER_LEN + TAG_LEN);
    assert_eq!(open(&k, &sealed).unwrap(), b"");
    let mut bad = sealed.clone();
    bad[HEADER_LEN] ^= 1;
    assert!(open(&k, &bad).is_err());
    assert!(open(&k, &sealed[..HEADER_LEN]).is_err());
}

#[test]
fn files_are_sealed_in_place_once_and_plaintext_passes_through() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.webm");
    let plain: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&p, &plain).unwrap();
    crate::capture::set_readonly(&p).unwrap();
    let k = std::sync::Arc::new(key(9));
    // before: plaintext passes through (a file written before encryption)
    let mut f = PlainFile::open(&p, None::<&FileKey>).unwrap();
    assert!(matches!(f, PlainFile::Plain(..)));
    let mut got = Vec::new();
    f.read_to_end(&mut got).unwrap();
    assert_eq!(got, plain);
    assert!(seal_file(&p, &k).unwrap());
    assert!(!seal_file(&p, &k).unwrap(), "a sealed file is left alone");
    assert!(std::fs::metadata(&p).unwrap().permissions().readonly());
    let on_disk = std::fs::read(&p).unwrap();
    assert!(is_sealed(&on_disk));
    assert!(!on_disk.windows(64).any(|w| w == &plain[1000..1064]));
    assert!(
        PlainFile::open(&p, None::<&FileKey>).is_err(),
        "no key, no plaintext"
    );
    let mut f = PlainFile::open(&p, Some(k.clone())).unwrap();
    assert_eq!(f.len(), plain.len() as u64);
    f.seek(SeekFrom::Start(65_530)).unwrap();
    let mut mid = [0u8; 20];
    f.read_exact(&mut mid).unwrap();
    assert_eq!(&mid[..], &plain[65_530..65_550]);
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "no temporary file left");
}
