//! Tests of `merkle.rs`.
use super::*;
use crate::proof::{verify_consistency, verify_inclusion};
use proptest::prelude::*;

/// The leaves of `audit/tests/data/merkle`, as hex of the leaf data.
const LEAVES: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];
const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn store_of(n: u64) -> (MemoryStore, Vec<Hash>) {
    let mut s = MemoryStore::new();
    let mut leaves = Vec::new();
    for i in 0..n {
        let h = leaf_hash(&i.to_be_bytes());
        leaves.push(h);
        s.push(h);
    }
    (s, leaves)
}

#[test]
fn roots_table() {
    let mut s = MemoryStore::new();
    let mut leaves = Vec::new();
    assert_eq!(hex::encode(s.root()), ROOTS[0]);
    for (i, l) in LEAVES.iter().enumerate() {
        let h = leaf_hash(&hex::decode(l).unwrap());
        leaves.push(h);
        s.push(h);
        assert_eq!(
            hex::encode(s.root()),
            ROOTS[i + 1],
            "stored root of {}",
            i + 1
        );
        assert_eq!(
            hex::encode(root_of(&leaves)),
            ROOTS[i + 1],
            "in-memory root of {}",
            i + 1
        );
    }
    for n in 0..=8u64 {
        assert_eq!(
            hex::encode(tree_root(&s, n).unwrap()),
            ROOTS[n as usize],
            "root at size {n}"
        );
    }
}

#[test]
fn proofs_read_log_n_nodes() {
    let n = 1_000_003u64;
    for (i, m) in [(0, n), (n - 1, n), (123_456, n), (n / 2, n)] {
        let plan = inclusion_plan(i, m).unwrap();
        assert!(plan.nodes().len() <= 2 * 64, "{} nodes", plan.nodes().len());
    }
    assert!(consistency_plan(777_777, n).unwrap().nodes().len() <= 2 * 64);
    assert_eq!(root_plan(n).nodes().len(), n.count_ones() as usize);
}

#[test]
fn generation_matches_the_in_memory_tree_exhaustively() {
    let (s, leaves) = store_of(40);
    for n in 1..=40u64 {
        let root = root_of(&leaves[..n as usize]);
        assert_eq!(tree_root(&s, n).unwrap(), root);
        for i in 0..n {
            let p = prove_inclusion(&s, i, n).unwrap();
            verify_inclusion(i, n, &leaves[i as usize], &p, &root).unwrap();
        }
        for m in 1..=n {
            let p = prove_consistency(&s, m, n).unwrap();
            let r1 = root_of(&leaves[..m as usize]);
            verify_consistency(m, n, &p, &r1, &root).unwrap();
        }
    }
    assert!(prove_inclusion(&s, 5, 5).is_err());
    assert!(prove_consistency(&s, 0, 5).is_err());
    assert!(prove_consistency(&s, 6, 5).is_err());
    assert!(matches!(
        prove_inclusion(&s, 0, 41),
        Err(ProofError::MissingNode(_))
    ));
}

fn flip(proof: &mut [Hash], bit: usize) {
    let i = bit / 256 % proof.len();
    proof[i][bit % 256 / 8] ^= 1 << (bit % 8);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn inclusion_proofs_verify_and_tampering_fails(n in 1u64..300, i in 0u64..300, bit in 0usize..100_000, extra in any::<[u8; 32]>()) {
        let i = i % n;
        let (s, leaves) = store_of(n + 1);
        let root = tree_root(&s, n).unwrap();
        let leaf = leaves[i as usize];
        let proof = prove_inclusion(&s, i, n).unwrap();
        prop_assert!(verify_inclusion(i, n, &leaf, &proof, &root).is_ok());
        if !proof.is_empty() {
            let mut p = proof.clone();
            flip(&mut p, bit);
            prop_assert!(verify_inclusion(i, n, &leaf, &p, &root).is_err());
            let mut p = proof.clone();
            p.pop();
            prop_assert!(verify_inclusion(i, n, &leaf, &p, &root).is_err());
        }
        let mut l = leaf;
        l[bit % 32] ^= 1 << (bit % 8);
        prop_assert!(verify_inclusion(i, n, &l, &proof, &root).is_err());
        let mut r = root;
        r[bit % 32] ^= 1 << (bit % 8);
        prop_assert!(verify_inclusion(i, n, &leaf, &proof, &r).is_err());
        let mut p = proof.clone();
        p.push(extra);
        prop_assert!(verify_inclusion(i, n, &leaf, &p, &root).is_err());
        prop_assert!(verify_inclusion(i + 1, n, &leaf, &proof, &root).is_err());
        if i > 0 {
            prop_assert!(verify_inclusion(i - 1, n, &leaf, &proof, &root).is_err());
        }
        // The checkpoint binds a size to its root: a proof for one (size, root) fails for
        // the neighbouring sizes and their roots.
        let root_plus = tree_root(&s, n + 1).unwrap();
        prop_assert!(verify_inclusion(i, n + 1, &leaf, &proof, &root_plus).is_err());
        if n > 1 && i < n - 1 {
            let root_minus = tree_root(&s, n - 1).unwrap();
            prop_assert!(verify_inclusion(i, n - 1, &leaf, &proof, &root_minus).is_err());
        }
    }

    #[test]
    fn consistency_proofs_verify_and_tampering_fails(n in 1u64..300, m in 1u64..300, bit in 0usize..100_000, extra in any::<[u8; 32]>()) {
        let m = (m - 1) % n + 1;
        let (s, _) = store_of(n + 1);
        let r1 = tree_root(&s, m).unwrap();
        let r2 = tree_root(&s, n).unwrap();
        let proof = prove_consistency(&s, m, n).unwrap();
        prop_assert!(verify_consistency(m, n, &proof, &r1, &r2).is_ok());
        if !proof.is_empty() {
            let mut p = proof.clone();
            flip(&mut p, bit);
            prop_assert!(verify_consistency(m, n, &p, &r1, &r2).is_err());
            let mut p = proof.clone();
            p.pop();
            prop_assert!(verify_consistency(m, n, &p, &r1, &r2).is_err());
        }
        let mut p = proof.clone();
        p.push(extra);
        prop_assert!(verify_consistency(m, n, &p, &r1, &r2).is_err());
        let mut a = r1;
        a[bit % 32] ^= 1 << (bit % 8);
        prop_assert!(verify_consistency(m, n, &proof, &a, &r2).is_err());
        let mut b = r2;
        b[bit % 32] ^= 1 << (bit % 8);
        prop_assert!(verify_consistency(m, n, &proof, &r1, &b).is_err());
        let root = |k: u64| tree_root(&s, k).unwrap();
        prop_assert!(verify_consistency(m, n + 1, &proof, &r1, &root(n + 1)).is_err());
        if m < n {
            prop_assert!(verify_consistency(m + 1, n, &proof, &root(m + 1), &r2).is_err());
            prop_assert!(verify_consistency(m, n - 1, &proof, &r1, &root(n - 1)).is_err());
        }
        if m > 1 {
            prop_assert!(verify_consistency(m - 1, n, &proof, &root(m - 1), &r2).is_err());
        }
    }
}
