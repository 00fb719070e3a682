use super::*;
use crate::note::Signer;

const O: &str = "test.example/log";

fn key() -> Signer {
    Signer::from_pkcs8(O, &Signer::generate_pkcs8().unwrap()).unwrap()
}

/// The endorsement as the server writes it: old key's signature, then the new key's.
fn endorse(old: &Signer, new: &Signer, from: u64) -> String {
    let body = text(
        O,
        &old.verifier().to_string(),
        &new.verifier().to_string(),
        from,
    );
    format!(
        "{body}\n{}\n{}\n",
        old.signature_line(&body),
        new.signature_line(&body)
    )
}

#[test]
fn a_valid_endorsement_opens_and_names_both_keys() {
    let (a, b) = (key(), key());
    let e = Endorsement::open(&endorse(&a, &b, 7)).unwrap();
    assert_eq!(
        (&e.old, &e.new, e.from_size),
        (a.verifier(), b.verifier(), 7)
    );
}

#[test]
fn an_endorsement_without_the_old_keys_signature_is_refused_as_forged() {
    let (a, b, mallory) = (key(), key(), key());
    // Names the old key but is signed by another key claiming its name (and by the new one).
    let body = text(O, &a.verifier().to_string(), &b.verifier().to_string(), 7);
    let forged = format!(
        "{body}\n{}\n{}\n",
        mallory.signature_line(&body),
        b.signature_line(&body)
    );
    let err = Endorsement::open(&forged).unwrap_err();
    assert!(matches!(err, EndorseError::NotByOld { .. }), "{err}");
    assert!(err.to_string().contains("forged endorsement"), "{err}");
    // A valid old signature over another text does not count either.
    let other = endorse(&a, &b, 8);
    let spliced = format!("{body}\n{}", other.split_once("\n\n").unwrap().1);
    assert!(matches!(
        Endorsement::open(&spliced),
        Err(EndorseError::NotByOld { .. })
    ));
    // Signed by the old key only: the new key's holder never confirmed.
    let half = format!("{body}\n{}\n", a.signature_line(&body));
    assert!(matches!(
        Endorsement::open(&half),
        Err(EndorseError::NotByNew { .. })
    ));
}

#[test]
fn malformed_texts_are_refused() {
    let (a, b) = (key(), key());
    let good = endorse(&a, &b, 7);
    for bad in [
        good.replace("from 7", "from 07"),
        good.replace("from 7", "from x"),
        good.replace("remote-hearing audit key rotation", "something else"),
        good.replace(&format!("new {}", b.verifier()), "new nonsense"),
        good.replace(
            &format!("old {}", a.verifier()),
            &format!("old {}", b.verifier()),
        ),
        "no note at all".to_string(),
    ] {
        assert!(
            matches!(Endorsement::parse(&bad), Err(EndorseError::Malformed(_))),
            "{bad}"
        );
    }
}

#[test]
fn the_chain_follows_rotations_from_the_pinned_key_with_ranges() {
    let (a, b, c) = (key(), key(), key());
    // Given out of order: the chain does not depend on it.
    let notes = vec![endorse(&b, &c, 20), endorse(&a, &b, 10)];
    let chain = follow(O, &[a.verifier().clone()], &notes);
    assert!(chain.errors.is_empty(), "{:?}", chain.errors);
    assert_eq!(chain.keys.len(), 3);
    assert_eq!(chain.followed.len(), 2);
    let range = |s: &Signer| {
        let k = chain.keys.iter().find(|k| &k.key == s.verifier()).unwrap();
        (k.from_size, k.to_size)
    };
    assert_eq!(range(&a), (0, Some(10)));
    assert_eq!(range(&b), (10, Some(20)));
    assert_eq!(range(&c), (20, None));
    assert!(chain.check_range(&[c.verifier().clone()], 25).is_ok());
    assert!(chain.check_range(&[b.verifier().clone()], 10).is_ok());
    // The old key past its rotation, the new one before its range: refused with the reason.
    let e = chain.check_range(&[a.verifier().clone()], 11).unwrap_err();
    assert!(e.contains("rotated out at size 10"), "{e}");
    let e = chain.check_range(&[c.verifier().clone()], 19).unwrap_err();
    assert!(e.contains("only from size 20"), "{e}");
}

#[test]
fn without_a_trusted_old_key_nothing_is_accepted() {
    let (a, b, c) = (key(), key(), key());
    let chain = follow(O, &[a.verifier().clone()], &[endorse(&b, &c, 20)]);
    assert!(chain.errors.is_empty());
    assert_eq!(chain.verifiers(), vec![a.verifier().clone()]);
}

#[test]
fn a_forged_link_is_an_error_and_stops_the_chain() {
    let (a, b, mallory) = (key(), key(), key());
    // "a hands over to mallory", signed by mallory alone; then mallory hands over to b.
    let body = text(
        O,
        &a.verifier().to_string(),
        &mallory.verifier().to_string(),
        10,
    );
    let forged = format!("{body}\n{}\n", mallory.signature_line(&body));
    let chain = follow(
        O,
        &[a.verifier().clone()],
        &[forged, endorse(&mallory, &b, 20)],
    );
    assert_eq!(chain.verifiers(), vec![a.verifier().clone()]);
    assert_eq!(chain.errors.len(), 1, "{:?}", chain.errors);
    assert!(
        chain.errors[0].contains("forged endorsement"),
        "{:?}",
        chain.errors
    );
}

#[test]
fn one_key_handed_to_two_keys_is_a_conflict() {
    let (a, b, c) = (key(), key(), key());
    let chain = follow(
        O,
        &[a.verifier().clone()],
        &[endorse(&a, &b, 10), endorse(&a, &c, 10)],
    );
    assert_eq!(chain.verifiers(), vec![a.verifier().clone()]);
    assert!(
        chain.errors[0].contains("conflicting"),
        "{:?}",
        chain.errors
    );
}

#[test]
fn another_logs_endorsement_is_refused() {
    let (a, b) = (key(), key());
    let chain = follow(
        "other.example/log",
        &[a.verifier().clone()],
        &[endorse(&a, &b, 10)],
    );
    assert_eq!(chain.keys.len(), 1);
    assert!(
        chain.errors[0].contains("not other.example/log"),
        "{:?}",
        chain.errors
    );
}
