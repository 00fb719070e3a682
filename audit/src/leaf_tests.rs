//! Tests of the leaf encoding (version 1 and 2) and payload canonicalisation.

use super::*;
use proptest::prelude::*;
use serde_json::json;

fn sample() -> Leaf {
    Leaf {
        version: VERSION_1,
        hearing_id: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b".into(),
        hearing_seq: 2,
        prev_leaf_hash: [0xab; 32],
        step: "recording_sealed".into(),
        at_ms: 1_795_000_000_123,
        actor_role: "system".into(),
        actor_id: "".into(),
        payload_sha256: [0x11; 32],
        recordings: vec![RecordingDigest {
            id: "rec-1".into(),
            sha256: [0x22; 32],
            bytes: 1234,
        }],
    }
}

#[test]
fn known_encoding() {
    let mut l = sample();
    l.recordings.clear();
    l.hearing_id = "h1".into();
    l.step = "identity".into();
    l.actor_role = "officer".into();
    l.actor_id = "u7".into();
    let b = l.encode().unwrap();
    // The worked example of docs/audit-format.md.
    let want = concat!(
        "0019",
        "72656d6f74652d68656172696e672f61756469742d6c656166",
        "01",
        "0002",
        "6831",
        "0000000000000002",
        "abababababababababababababababababababababababababababababababab",
        "0008",
        "6964656e74697479",
        "000001a1ee565e7b",
        "0007",
        "6f666669636572",
        "0002",
        "7537",
        "1111111111111111111111111111111111111111111111111111111111111111",
        "0000",
    );
    assert_eq!(hex::encode(&b), want);
    assert_eq!(Leaf::decode(&b).unwrap(), l);
}

#[test]
fn strict_decoding() {
    let b = sample().encode().unwrap();
    assert_eq!(Leaf::decode(&b).unwrap(), sample());
    let mut t = b.clone();
    t.push(0);
    assert_eq!(Leaf::decode(&t), Err(LeafError::Trailing(1)));
    assert_eq!(Leaf::decode(&b[..b.len() - 1]), Err(LeafError::Truncated));
    let mut v = b.clone();
    v[27] = 3;
    assert_eq!(Leaf::decode(&v), Err(LeafError::Version(3)));
    v[27] = 2;
    assert_eq!(Leaf::decode(&v).map(|l| l.version), Ok(VERSION_2));
    let mut w = sample();
    w.version = 0;
    assert_eq!(w.encode(), Err(LeafError::Version(0)));
    let mut d = b.clone();
    d[2] = b'R';
    assert_eq!(Leaf::decode(&d), Err(LeafError::Domain));
    let mut z = sample();
    z.prev_leaf_hash = [0; 32];
    assert!(z.encode().is_err());
    z.hearing_seq = 0;
    assert!(z.encode().is_ok());
    z.prev_leaf_hash = [1; 32];
    assert!(z.encode().is_err());
    let mut s = sample();
    s.step = "Identity".into();
    assert!(s.encode().is_err());
}

#[test]
fn canonical_payloads() {
    let v = json!({"b": [1, {"z": null, "a": true}], "a": "x\"y\u{1}é", "c": -5});
    assert_eq!(
        canonical_json(&v).unwrap(),
        r#"{"a":"x\"y\u0001é","b":[1,{"a":true,"z":null}],"c":-5}"#
    );
    assert!(canonical_json(&json!({"f": 1.5})).is_err());
    let reparsed: Value = serde_json::from_str(&canonical_json(&v).unwrap()).unwrap();
    assert_eq!(
        payload_digest(&reparsed).unwrap(),
        payload_digest(&v).unwrap()
    );
}

proptest! {
    #[test]
    fn round_trip_and_no_other_bytes_decode_the_same(seq in 1u64..u64::MAX, at in any::<i64>(), n in 0usize..4, cut in any::<usize>()) {
        let mut l = sample();
        l.hearing_seq = seq;
        l.at_ms = at;
        l.recordings = (0..n).map(|i| RecordingDigest { id: format!("r{i}"), sha256: [i as u8; 32], bytes: i as u64 }).collect();
        let b = l.encode().unwrap();
        prop_assert_eq!(Leaf::decode(&b).unwrap(), l.clone());
        let cut = cut % b.len();
        prop_assert!(Leaf::decode(&b[..cut]).is_err());
    }
}

/// The known-answer vectors of `audit/tests/data/leaf/vectors.json` (computed independently
/// with Python's hashlib): both versions' payload commitment, leaf bytes and leaf hash.
#[test]
fn known_answer_vectors() {
    let text = include_str!("../tests/data/leaf/vectors.json");
    let doc: Value = serde_json::from_str(text).unwrap();
    let vectors = doc["vectors"].as_array().unwrap();
    assert!(vectors.iter().any(|v| v["version"] == 2));
    for v in vectors {
        let version = v["version"].as_u64().unwrap() as u8;
        let salt = v["salt"]
            .as_str()
            .map(|s| crate::payload::salt_from_hex(s).unwrap());
        assert_eq!(
            canonical_json(&v["payload"]).unwrap(),
            v["canonical_payload"].as_str().unwrap()
        );
        let commit = crate::payload::commitment(version, salt.as_ref(), &v["payload"]).unwrap();
        assert_eq!(hex::encode(commit), v["payload_sha256"].as_str().unwrap());
        let l = Leaf {
            version,
            hearing_id: v["hearing_id"].as_str().unwrap().into(),
            hearing_seq: v["hearing_seq"].as_u64().unwrap(),
            prev_leaf_hash: hex::decode(v["prev_leaf_hash"].as_str().unwrap())
                .unwrap()
                .try_into()
                .unwrap(),
            step: v["step"].as_str().unwrap().into(),
            at_ms: v["at_ms"].as_i64().unwrap(),
            actor_role: v["actor_role"].as_str().unwrap().into(),
            actor_id: v["actor_id"].as_str().unwrap().into(),
            payload_sha256: commit,
            recordings: vec![],
        };
        let bytes = l.encode().unwrap();
        assert_eq!(hex::encode(&bytes), v["leaf_hex"].as_str().unwrap());
        assert_eq!(
            hex::encode(crate::merkle::leaf_hash(&bytes)),
            v["leaf_hash"].as_str().unwrap()
        );
        assert_eq!(Leaf::decode(&bytes).unwrap(), l);
        let check = crate::payload::check(&l, &v["payload"], v["salt"].as_str(), false);
        assert_eq!(check, crate::payload::PayloadCheck::Verified);
    }
}

#[test]
fn a_salt_hides_the_payload_and_is_required_exactly_for_version_2() {
    let p = json!({"name": "张三"});
    let s1 = crate::payload::new_salt().unwrap();
    let s2 = crate::payload::new_salt().unwrap();
    assert_ne!(s1, s2);
    let d1 = crate::payload::commitment(VERSION_2, Some(&s1), &p).unwrap();
    assert_ne!(
        d1,
        crate::payload::commitment(VERSION_2, Some(&s2), &p).unwrap()
    );
    assert_ne!(d1, payload_digest(&p).unwrap());
    assert!(crate::payload::commitment(VERSION_2, None, &p).is_err());
    assert!(crate::payload::commitment(VERSION_1, Some(&s1), &p).is_err());
    assert_eq!(
        crate::payload::commitment(VERSION_1, None, &p).unwrap(),
        payload_digest(&p).unwrap()
    );
    assert!(crate::payload::salt_from_hex("000102030405060708090A0B0C0D0E0F").is_none());
    assert!(crate::payload::salt_from_hex("0001").is_none());
}
