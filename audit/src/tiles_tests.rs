use super::*;

fn p(s: &str) -> Result<TilePath, TilePathError> {
    TilePath::parse(s)
}

#[test]
fn encodes_the_spec_example() {
    let t = TilePath {
        kind: TileKind::Hashes(0),
        index: 1_234_067,
        partial: None,
    };
    assert_eq!(t.encode(), "0/x001/x234/067");
    assert_eq!(p("0/x001/x234/067"), Ok(t));
    let e = p("entries/005.p/17").unwrap();
    assert_eq!(e.kind, TileKind::Entries);
    assert_eq!((e.index, e.partial), (5, Some(17)));
    let max = TilePath {
        kind: TileKind::Hashes(63),
        index: u64::MAX,
        partial: Some(255),
    };
    assert_eq!(p(&max.encode()), Ok(max));
}

#[test]
fn rejects_malformed_paths() {
    for bad in [
        "",
        "0",
        "0/",
        "00/000",
        "64/000",
        "-1/000",
        "a/000",
        "0/5",
        "0/0005",
        "0/x000/005",
        "0/001/234",
        "0/x001/x234",
        "0/x1/234",
        "0/000.p/0",
        "0/000.p/256",
        "0/000.p/01",
        "0/000.p/",
        "0/000.p/1/2",
        "0/000/",
        "entries/000.p/x",
        "entry/000",
        "0/x018/x446/x744/x073/x709/x551/616",
        "0/x999/x999/x999/x999/x999/x999/x999/999",
    ] {
        assert!(p(bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn partial_tiles_of_the_spec_example() {
    // A tree of 70,000: 273 full level-0 tiles, a level-0 partial of 112, one full level-1
    // tile, a level-1 partial of 17, a level-2 partial of 1.
    let s = 70_000;
    assert_eq!(partial_tile(0, s, false).unwrap().encode(), "0/273.p/112");
    assert_eq!(
        partial_tile(0, s, true).unwrap().encode(),
        "entries/273.p/112"
    );
    assert_eq!(partial_tile(1, s, false).unwrap().encode(), "1/001.p/17");
    assert_eq!(partial_tile(2, s, false).unwrap().encode(), "2/000.p/1");
    assert_eq!(partial_tile(3, s, false), None);
    assert!(p("0/272").unwrap().exists_at(s));
    assert!(!p("0/273").unwrap().exists_at(s));
    assert!(p("1/000").unwrap().exists_at(s));
    assert!(!p("1/001").unwrap().exists_at(s));
    assert!(p("0/273.p/112").unwrap().exists_at(s));
    assert!(!p("0/273.p/111").unwrap().exists_at(s));
    assert!(p("1/001.p/17").unwrap().exists_at(s));
    assert!(p("2/000.p/1").unwrap().exists_at(s));
    // A tree of 256: one full level-0 tile and a level-1 partial of width 1.
    assert_eq!(partial_tile(0, 256, false), None);
    assert_eq!(partial_tile(1, 256, false).unwrap().encode(), "1/000.p/1");
    assert!(p("0/000").unwrap().exists_at(256));
    assert!(!p("0/000").unwrap().exists_at(255));
}

#[test]
fn tile_hashes_are_stored_nodes() {
    let (first, n) = p("1/x001/002.p/9").unwrap().nodes().unwrap();
    assert_eq!((first, n), (NodeId::new(8, 1002 * 256), 9));
    assert_eq!(
        p("7/000.p/1").unwrap().nodes().unwrap().0,
        NodeId::new(56, 0)
    );
    // A full level-7 tile would cover 2^64 leaves.
    assert_eq!(p("7/000").unwrap().nodes(), None);
    assert_eq!(p("8/000").unwrap().nodes(), None);
    assert!(!p("8/000.p/1").unwrap().exists_at(u64::MAX));
    assert_eq!(
        p("0/x018/x446/x744/x073/x709/x551/615").unwrap().nodes(),
        None
    );
}

#[test]
fn entry_bundles_are_length_prefixed() {
    let a = vec![7u8; 300];
    let out = entry_bundle([b"ab".as_slice(), a.as_slice(), b"".as_slice()]).unwrap();
    assert_eq!(&out[..4], &[0, 2, b'a', b'b']);
    assert_eq!(&out[4..6], &[1, 44]);
    assert_eq!(&out[306..], &[0, 0]);
    let big = vec![0u8; 65_536];
    assert_eq!(entry_bundle([big.as_slice()]), None);
}
