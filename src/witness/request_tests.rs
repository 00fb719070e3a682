//! Tests of `request.rs`: the spec's example request, and requests written by hand in the
//! spec's grammar over a real tree.
use super::*;
use crate::audit::merkle::{MemoryStore, prove_consistency};
use crate::audit::note::Signer;
use base64::{Engine as _, engine::general_purpose::STANDARD};

/// The example request body of c2sp.org/tlog-witness (add-checkpoint).
pub const SPEC_REQUEST: &str = "old 20852014
PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=
5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=
/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=

example.com/behind-the-sofa
20852163
CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

\u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=
\u{2014} example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=
";

pub fn log_signer() -> Signer {
    Signer::from_seed("example.com/behind-the-sofa", &[1u8; 32]).unwrap()
}

pub fn tree(n: u64) -> MemoryStore {
    let mut t = MemoryStore::new();
    for i in 0..n {
        t.push_data(format!("leaf {i}").as_bytes());
    }
    t
}

/// A request in the spec's grammar: `old N`, proof lines, empty line, signed checkpoint.
pub fn body(old: u64, proof: &[[u8; 32]], size: u64, root: [u8; 32], signer: &Signer) -> String {
    let mut s = format!("old {old}\n");
    for h in proof {
        s.push_str(&STANDARD.encode(h));
        s.push('\n');
    }
    s.push('\n');
    let cp = Checkpoint {
        origin: signer.name().into(),
        size,
        root,
        extensions: vec![],
    };
    s + &cp.sign(signer).unwrap()
}

fn logs() -> Logs {
    Logs::parse(&[log_signer().verifier().to_string()]).unwrap()
}

#[test]
fn the_spec_example_parses_and_is_refused_for_its_unknown_keys() {
    let req = parse(SPEC_REQUEST.as_bytes()).unwrap();
    assert_eq!(req.old_size, 20852014);
    assert_eq!(req.proof.len(), 4);
    assert!(
        req.note
            .starts_with("example.com/behind-the-sofa\n20852163\n")
    );
    // A witness that does not follow that log: 404.
    let other = Logs::parse(&[Signer::from_seed("other.example/log", &[2u8; 32])
        .unwrap()
        .verifier()
        .to_string()])
    .unwrap();
    assert_eq!(check_signed(&req, &other).unwrap_err(), Reject::UnknownLog);
    // One that follows the origin under another key: no trusted signature, 403.
    assert!(matches!(
        check_signed(&req, &logs()),
        Err(Reject::Forbidden(_))
    ));
}

#[test]
fn malformed_bodies_are_400() {
    let t = tree(5);
    let good = body(0, &[], 5, t.root(), &log_signer());
    for bad in [
        good.replacen("old 0", "old 00", 1),
        good.replacen("old 0", "old -1", 1),
        good.replacen("old 0", "olds 0", 1),
        good.replacen("old 0\n\n", "old 0\nnot-base64\n\n", 1),
        good.replacen("old 0\n\n", "old 0\nAAAA\n\n", 1),
        "old 0".to_string(),
        "old 0\n".to_string(),
    ] {
        assert!(
            matches!(parse(bad.as_bytes()), Err(Reject::BadRequest(_))),
            "{bad:?}"
        );
    }
    let sixty_four = vec![[0u8; 32]; 64];
    let too_long = body(0, &sixty_four, 5, t.root(), &log_signer());
    assert!(matches!(
        parse(too_long.as_bytes()),
        Err(Reject::BadRequest(_))
    ));
    assert_eq!(
        parse(body(0, &vec![[0u8; 32]; 63], 5, t.root(), &log_signer()).as_bytes())
            .unwrap()
            .proof
            .len(),
        63
    );
    // Old size above the checkpoint's.
    let req = parse(body(6, &[], 5, t.root(), &log_signer()).as_bytes()).unwrap();
    assert!(matches!(
        check_signed(&req, &logs()),
        Err(Reject::BadRequest(_))
    ));
    // A broken signature by the trusted key: 403.
    let forged = good.replacen("\n5\n", "\n6\n", 1);
    let req = parse(forged.as_bytes()).unwrap();
    assert!(matches!(
        check_signed(&req, &logs()),
        Err(Reject::Forbidden(_))
    ));
}

fn run(b: &str, stored: Option<(u64, [u8; 32])>) -> Result<(), Reject> {
    let req = parse(b.as_bytes()).unwrap();
    let signed = check_signed(&req, &logs())?;
    check_consistency(&req, &signed, stored)
}

#[test]
fn consistency_rules() {
    let s = log_signer();
    let t = tree(20);
    let (r7, r20) = (crate::audit::merkle::tree_root(&t, 7).unwrap(), t.root());
    let proof = prove_consistency(&t, 7, 20).unwrap();
    // First contact: old 0, no proof.
    assert_eq!(run(&body(0, &[], 7, r7, &s), None), Ok(()));
    // A proof from zero is refused.
    assert!(matches!(
        run(&body(0, &proof, 7, r7, &s), None),
        Err(Reject::Unprocessable(_))
    ));
    // Stale or wrong old sizes: 409 with the witness's size.
    assert_eq!(
        run(&body(0, &[], 20, r20, &s), Some((7, r7))),
        Err(Reject::Conflict(7))
    );
    assert_eq!(
        run(&body(7, &proof, 20, r20, &s), None),
        Err(Reject::Conflict(0))
    );
    // The right proof: ok; a tampered proof or root: 422.
    assert_eq!(run(&body(7, &proof, 20, r20, &s), Some((7, r7))), Ok(()));
    let mut bad = proof.clone();
    bad[0][0] ^= 1;
    assert!(matches!(
        run(&body(7, &bad, 20, r20, &s), Some((7, r7))),
        Err(Reject::Unprocessable(_))
    ));
    assert!(matches!(
        run(&body(7, &proof, 20, [9u8; 32], &s), Some((7, r7))),
        Err(Reject::Unprocessable(_))
    ));
    // Same size: same root only.
    assert_eq!(run(&body(20, &[], 20, r20, &s), Some((20, r20))), Ok(()));
    assert!(matches!(
        run(&body(20, &[], 20, r7, &s), Some((20, r20))),
        Err(Reject::Unprocessable(_))
    ));
    // A smaller tree after a larger one can never pass: old must equal the stored size, and
    // old ≤ size.
    assert!(run(&body(20, &[], 7, r7, &s), Some((20, r20))).is_err());
    // Size zero needs the empty root.
    assert_eq!(run(&body(0, &[], 0, empty_root(), &s), None), Ok(()));
    assert!(matches!(
        run(&body(0, &[], 0, [1u8; 32], &s), None),
        Err(Reject::Unprocessable(_))
    ));
}
