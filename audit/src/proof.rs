//! Verification of Merkle inclusion and consistency proofs (RFC 9162 §2.1.3.2, §2.1.4.2) and
//! of the subtree proofs of the Merkle Tree Certificates draft (which generalise both).
//!
//! Owns: checking a proof against tree heads. It takes raw bytes so that a malformed hash
//! (anything but 32 bytes) is rejected here, and it never reads storage. Each verifier
//! replays the recursion that generated the proof (see `merkle.rs`), consuming proof hashes
//! innermost first, so the expected proof length follows from the sizes alone and the work
//! is O(log n) whatever the input. Rules beyond the RFC text: every hash is 32 bytes, and a
//! consistency proof from the empty tree (or from an empty subtree) is rejected as useless.

use crate::merkle::{HASH_LEN, Hash, node_hash};

/// Why a proof did not verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("{0} is not a {HASH_LEN}-byte hash")]
    BadHash(&'static str),
    #[error("invalid position: {0}")]
    BadPosition(&'static str),
    #[error("the proof has {got} hashes, {want} expected")]
    WrongLength { got: usize, want: usize },
    #[error("the recomputed {0} does not match")]
    Mismatch(&'static str),
}

fn hash_of(bytes: &[u8], what: &'static str) -> Result<Hash, VerifyError> {
    Hash::try_from(bytes).map_err(|_| VerifyError::BadHash(what))
}

fn split_point(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// Proof hashes consumed in order, counting what is asked for.
struct Reader<'a, T> {
    proof: &'a [T],
    used: usize,
}

impl<'a, T: AsRef<[u8]>> Reader<'a, T> {
    fn new(proof: &'a [T]) -> Result<Self, VerifyError> {
        for p in proof {
            hash_of(p.as_ref(), "a proof element")?;
        }
        Ok(Self { proof, used: 0 })
    }

    fn next(&mut self) -> Hash {
        let h = self
            .proof
            .get(self.used)
            .map(|p| hash_of(p.as_ref(), ""))
            .and_then(Result::ok);
        self.used += 1;
        // A short proof is reported by `finish`; until then, zeros keep the shape.
        h.unwrap_or([0u8; HASH_LEN])
    }

    fn finish(&self) -> Result<(), VerifyError> {
        if self.used != self.proof.len() {
            return Err(VerifyError::WrongLength {
                got: self.proof.len(),
                want: self.used,
            });
        }
        Ok(())
    }
}

fn inclusion_root<T: AsRef<[u8]>>(m: u64, n: u64, leaf: Hash, r: &mut Reader<'_, T>) -> Hash {
    if n == 1 {
        return leaf;
    }
    let k = split_point(n);
    if m < k {
        let left = inclusion_root(m, k, leaf, r);
        node_hash(&left, &r.next())
    } else {
        let right = inclusion_root(m - k, n - k, leaf, r);
        node_hash(&r.next(), &right)
    }
}

/// Verifies that `leaf_hash` is leaf `index` of the tree of `size` leaves whose head is `root`.
pub fn verify_inclusion<T: AsRef<[u8]>>(
    index: u64,
    size: u64,
    leaf_hash: &[u8],
    proof: &[T],
    root: &[u8],
) -> Result<(), VerifyError> {
    let leaf = hash_of(leaf_hash, "the leaf hash")?;
    let root = hash_of(root, "the root")?;
    if index >= size {
        return Err(VerifyError::BadPosition("leaf index outside the tree"));
    }
    let mut r = Reader::new(proof)?;
    let got = inclusion_root(index, size, leaf, &mut r);
    r.finish()?;
    if got != root {
        return Err(VerifyError::Mismatch("root"));
    }
    Ok(())
}

/// Replays SUBTREE_SUBPROOF(start, end, D[0:n], known): returns the hash of `[start, end)`
/// and of `[0, n)` as implied by the proof, `node` being the claimed hash of `[start, end)`.
fn subtree_subproof<T: AsRef<[u8]>>(
    start: u64,
    end: u64,
    n: u64,
    known: bool,
    node: &Hash,
    r: &mut Reader<'_, T>,
) -> Result<(Hash, Hash), VerifyError> {
    if start == 0 && end == n {
        let h = if known { *node } else { r.next() };
        return Ok((h, h));
    }
    let k = split_point(n);
    if end <= k {
        let (old, left) = subtree_subproof(start, end, k, known, node, r)?;
        Ok((old, node_hash(&left, &r.next())))
    } else if start >= k {
        let (old, right) = subtree_subproof(start - k, end - k, n - k, known, node, r)?;
        Ok((old, node_hash(&r.next(), &right)))
    } else if start == 0 {
        let (old_right, right) = subtree_subproof(0, end - k, n - k, false, node, r)?;
        let left = r.next();
        Ok((node_hash(&left, &old_right), node_hash(&left, &right)))
    } else {
        Err(VerifyError::BadPosition("not a valid subtree"))
    }
}

/// Verifies that the tree of `size1` leaves (head `root1`) is a prefix of the tree of `size2`
/// leaves (head `root2`). `size1` must be at least 1.
pub fn verify_consistency<T: AsRef<[u8]>>(
    size1: u64,
    size2: u64,
    proof: &[T],
    root1: &[u8],
    root2: &[u8],
) -> Result<(), VerifyError> {
    verify_subtree_consistency(0, size1, size2, proof, root1, root2)
}

/// Whether `[start, end)` is a subtree in the sense of the MTC draft: non-empty, and `start`
/// a multiple of the smallest power of two not below `end - start`.
pub fn is_valid_subtree(start: u64, end: u64) -> bool {
    if start >= end {
        return false;
    }
    let size = u128::from(end - start);
    let ceil = size.next_power_of_two();
    u128::from(start) % ceil == 0
}

/// Verifies that the subtree `[start, end)` with hash `subtree_root` is part of the tree of
/// `size` leaves with head `root` (for `start = 0` this is RFC 9162 consistency).
pub fn verify_subtree_consistency<T: AsRef<[u8]>>(
    start: u64,
    end: u64,
    size: u64,
    proof: &[T],
    subtree_root: &[u8],
    root: &[u8],
) -> Result<(), VerifyError> {
    let node = hash_of(subtree_root, "the first root")?;
    let root = hash_of(root, "the second root")?;
    if !is_valid_subtree(start, end) {
        return Err(VerifyError::BadPosition("not a valid, non-empty subtree"));
    }
    if end > size {
        return Err(VerifyError::BadPosition(
            "the first tree is larger than the second",
        ));
    }
    let mut r = Reader::new(proof)?;
    let (old, new) = subtree_subproof(start, end, size, true, &node, &mut r)?;
    r.finish()?;
    if old != node {
        return Err(VerifyError::Mismatch("first root"));
    }
    if new != root {
        return Err(VerifyError::Mismatch("second root"));
    }
    Ok(())
}

/// Verifies that `leaf_hash` is leaf `index` inside the subtree `[start, end)` whose hash is
/// `subtree_root`.
pub fn verify_subtree_inclusion<T: AsRef<[u8]>>(
    index: u64,
    start: u64,
    end: u64,
    leaf_hash: &[u8],
    proof: &[T],
    subtree_root: &[u8],
) -> Result<(), VerifyError> {
    hash_of(leaf_hash, "the leaf hash")?;
    hash_of(subtree_root, "the root")?;
    if !is_valid_subtree(start, end) {
        return Err(VerifyError::BadPosition("not a valid, non-empty subtree"));
    }
    if index < start || index >= end {
        return Err(VerifyError::BadPosition("leaf outside the subtree"));
    }
    verify_inclusion(index - start, end - start, leaf_hash, proof, subtree_root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde_json::Value;
    use std::path::{Path, PathBuf};

    fn data_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/merkle")
    }

    fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                json_files(&p, out);
            } else if p.extension().is_some_and(|e| e == "json") {
                out.push(p);
            }
        }
    }

    fn b64(v: &Value) -> Vec<u8> {
        STANDARD.decode(v.as_str().unwrap_or("")).unwrap()
    }

    fn proof(v: &Value) -> Vec<Vec<u8>> {
        v.get("proof")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(b64).collect())
            .unwrap_or_default()
    }

    fn num(v: &Value, k: &str) -> u64 {
        v[k].as_u64().unwrap()
    }

    /// Runs one vector: returns (our result is ok, the reference expected ok, our rules say ok).
    fn run(kind: &str, v: &Value) -> (bool, bool) {
        let p = proof(v);
        let all_hashes_ok = ["root", "root1", "root2", "leafHash"]
            .iter()
            .filter_map(|k| v.get(*k))
            .map(b64)
            .chain(p.iter().cloned())
            .all(|h| h.len() == HASH_LEN);
        let reference_ok = !v["wantErr"].as_bool().unwrap();
        let ours = match kind {
            "inclusion" => verify_inclusion(
                num(v, "leafIdx"),
                num(v, "treeSize"),
                &b64(&v["leafHash"]),
                &p,
                &b64(&v["root"]),
            ),
            "consistency" => verify_consistency(
                num(v, "size1"),
                num(v, "size2"),
                &p,
                &b64(&v["root1"]),
                &b64(&v["root2"]),
            ),
            "subtreeinclusion" => verify_subtree_inclusion(
                num(v, "leafIdx"),
                num(v, "start"),
                num(v, "end"),
                &b64(&v["leafHash"]),
                &p,
                &b64(&v["root"]),
            ),
            "subtreeconsistency" => verify_subtree_consistency(
                num(v, "start"),
                num(v, "end"),
                num(v, "size"),
                &p,
                &b64(&v["root1"]),
                &b64(&v["root2"]),
            ),
            other => panic!("unknown kind {other}"),
        };
        // Our stricter rules: 32-byte hashes only, nothing proven about an empty tree.
        let empty_first = v.get("size1").is_some_and(|s| s == 0)
            || v.get("start").is_some_and(|s| *s == v["end"]);
        (ours.is_ok(), reference_ok && all_hashes_ok && !empty_first)
    }

    #[test]
    fn every_reference_vector() {
        let mut files = Vec::new();
        json_files(&data_dir(), &mut files);
        assert!(files.len() > 500, "test vectors missing: {}", files.len());
        let mut stricter = Vec::new();
        for f in &files {
            let rel = f
                .strip_prefix(data_dir())
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let kind = rel.split('/').next().unwrap();
            let v: Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
            let (ours, want) = run(kind, &v);
            assert_eq!(ours, want, "{rel}: {}", v["desc"]);
            if !v["wantErr"].as_bool().unwrap() && !ours {
                stricter.push(rel);
            }
        }
        // Where this project is deliberately stricter than the reference implementation:
        // hashes that are not 32 bytes, and proofs about an empty (sub)tree.
        stricter.sort();
        let expected: Vec<&str> = vec![
            "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json",
            "subtreeconsistency/additional/sizes-are-equal-one-and-proof-is-empty.json",
            "subtreeconsistency/additional/subtree-is-empty-sizes-are-equal-one-subtree-root-valid-proof-is-empty.json",
            "subtreeconsistency/additional/subtree-is-empty-sizes-are-equal-one-subtree-root-valid-tree-root-random-proof-is-empty.json",
            "subtreeconsistency/additional/subtree-is-empty-sizes-are-equal-zero-subtree-root-valid-proof-is-empty.json",
            "subtreeconsistency/additional/subtree-is-empty-sizes-are-equal-zero-subtree-root-valid-tree-root-random-proof-is-empty.json",
            "subtreeconsistency/additional/subtree-is-empty-subtree-root-valid-proof-is-empty.json",
            "subtreeconsistency/additional/subtree-is-empty-subtree-root-valid-tree-root-random-proof-is-empty.json",
        ];
        assert_eq!(stricter, expected);
    }

    #[test]
    fn checks_run_before_recursion_on_huge_sizes() {
        let h = [7u8; 32];
        let none: [Vec<u8>; 0] = [];
        assert!(verify_inclusion(u64::MAX - 1, u64::MAX, &h, &none, &h).is_err());
        assert!(verify_consistency(1, u64::MAX, &none, &h, &h).is_err());
    }
}
