//! RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification.
//!
//! Owns: the hash rules (leaf `SHA-256(0x00 || data)`, node `SHA-256(0x01 || left || right)`),
//! the tree head of any size, inclusion and consistency proof generation over stored node
//! hashes, and proof verification (plus the subtree proofs of the Merkle Tree Certificates
//! draft, which generalise both). It knows nothing about databases: storage goes through
//! [`HashStore`] (synchronous) or through a [`ProofPlan`] whose node list the caller fetches
//! itself (asynchronous stores), so that any proof costs O(log n) node reads.
//!
//! Stored nodes: node `(level, index)` is the hash of the perfect subtree over the leaves
//! `[index * 2^level, (index + 1) * 2^level)`. [`append`] yields the leaf node and every
//! perfect subtree that the new leaf completes; nothing else is ever stored or recomputed.

use ring::digest::{Context, SHA256, digest};
use std::collections::HashMap;

/// Length of every hash in this log.
pub const HASH_LEN: usize = 32;
/// A SHA-256 hash.
pub type Hash = [u8; HASH_LEN];

/// `SHA-256(0x00 || data)`: the hash of a leaf whose bytes are `data`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut ctx = Context::new(&SHA256);
    ctx.update(&[0x00]);
    ctx.update(data);
    to_array(ctx.finish().as_ref())
}

/// `SHA-256(0x01 || left || right)`: the hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut ctx = Context::new(&SHA256);
    ctx.update(&[0x01]);
    ctx.update(left);
    ctx.update(right);
    to_array(ctx.finish().as_ref())
}

/// The tree head of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    to_array(digest(&SHA256, b"").as_ref())
}

fn to_array(b: &[u8]) -> Hash {
    let mut h = [0u8; HASH_LEN];
    h.copy_from_slice(b);
    h
}

/// A stored node: the perfect subtree over leaves `[index << level, (index + 1) << level)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    pub level: u8,
    pub index: u64,
}

impl NodeId {
    pub fn new(level: u8, index: u64) -> Self {
        Self { level, index }
    }
}

/// Largest power of two strictly smaller than `n` (`n >= 2`).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The Merkle tree hash of a list of leaf hashes, computed in memory (RFC 9162 §2.1.1).
pub fn root_of(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split_point(n as u64) as usize;
            node_hash(&root_of(&leaves[..k]), &root_of(&leaves[k..]))
        }
    }
}

/// The perfect subtrees covering `[start, end)`, left to right, largest first.
/// `start` must be a multiple of the bit ceiling of `end - start` (true of every range a
/// proof uses, and of `[0, n)`).
fn decompose(start: u64, end: u64) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut at = start;
    let len = end - start;
    for level in (0..64u8).rev() {
        if len & (1u64 << level) != 0 {
            out.push(NodeId::new(level, at >> level));
            at += 1u64 << level;
        }
    }
    out
}

/// The stored nodes ("peaks") whose hashes make up the tree of `size` leaves.
pub fn peaks(size: u64) -> Vec<NodeId> {
    decompose(0, size)
}

/// Folds perfect-subtree hashes (left to right, largest first) into one range hash.
fn fold_right(hashes: &[Hash]) -> Hash {
    let mut it = hashes.iter().rev();
    let Some(last) = it.next() else {
        return empty_root();
    };
    it.fold(*last, |acc, left| node_hash(left, &acc))
}

/// The tree head from the hashes of [`peaks`]`(size)`, in that order.
pub fn root_from_peaks(peak_hashes: &[Hash]) -> Hash {
    fold_right(peak_hashes)
}

/// Appends leaf number `size` (whose leaf hash is `leaf`) to a tree of `size` leaves whose
/// peak hashes are `peak_hashes`. Returns the nodes to store: the leaf node first, then each
/// perfect subtree the leaf completes, bottom-up. The last one returned is a new peak.
pub fn append(
    size: u64,
    peak_hashes: &[Hash],
    leaf: Hash,
) -> Result<Vec<(NodeId, Hash)>, ProofError> {
    if peak_hashes.len() != size.count_ones() as usize {
        return Err(ProofError::BadInput(
            "peak count does not match the tree size",
        ));
    }
    let mut out = vec![(NodeId::new(0, size), leaf)];
    let mut cur = leaf;
    let mut index = size;
    let mut level = 0u8;
    let mut left_peaks = peak_hashes.iter().rev();
    while index & 1 == 1 {
        let Some(left) = left_peaks.next() else {
            return Err(ProofError::BadInput("peak missing"));
        };
        cur = node_hash(left, &cur);
        index >>= 1;
        level += 1;
        out.push((NodeId::new(level, index), cur));
    }
    Ok(out)
}

/// Errors of proof generation.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProofError {
    #[error("invalid proof request: {0}")]
    BadInput(&'static str),
    #[error("stored node {0:?} is missing")]
    MissingNode(NodeId),
    #[error("hash store: {0}")]
    Store(String),
}

/// What a proof is made of: ranges of leaves whose hashes go into the proof, in order, and
/// the stored nodes needed to compute them (deduplicated, at most ~2·log2(n)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofPlan {
    ranges: Vec<(u64, u64)>,
    nodes: Vec<NodeId>,
}

impl ProofPlan {
    fn from_ranges(ranges: Vec<(u64, u64)>) -> Self {
        let mut nodes: Vec<NodeId> = ranges.iter().flat_map(|&(a, b)| decompose(a, b)).collect();
        nodes.sort();
        nodes.dedup();
        Self { ranges, nodes }
    }

    /// The stored nodes to read.
    pub fn nodes(&self) -> &[NodeId] {
        &self.nodes
    }

    /// The proof, given a way to look up the nodes of [`Self::nodes`].
    pub fn assemble(
        &self,
        lookup: impl Fn(NodeId) -> Option<Hash>,
    ) -> Result<Vec<Hash>, ProofError> {
        self.ranges
            .iter()
            .map(|&(a, b)| {
                let hashes = decompose(a, b)
                    .into_iter()
                    .map(|id| lookup(id).ok_or(ProofError::MissingNode(id)))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(fold_right(&hashes))
            })
            .collect()
    }

    /// [`Self::assemble`] from a map of fetched nodes.
    pub fn assemble_from(&self, fetched: &HashMap<NodeId, Hash>) -> Result<Vec<Hash>, ProofError> {
        self.assemble(|id| fetched.get(&id).copied())
    }
}

/// PATH(m, D[lo:hi]) of RFC 9162 §2.1.3.1 as leaf ranges.
fn path_ranges(m: u64, lo: u64, hi: u64, out: &mut Vec<(u64, u64)>) {
    let n = hi - lo;
    if n <= 1 {
        return;
    }
    let k = split_point(n);
    if m < k {
        path_ranges(m, lo, lo + k, out);
        out.push((lo + k, hi));
    } else {
        path_ranges(m - k, lo + k, hi, out);
        out.push((lo, lo + k));
    }
}

/// SUBPROOF(m, D[lo:hi], b) of RFC 9162 §2.1.4.1 as leaf ranges.
fn subproof_ranges(m: u64, lo: u64, hi: u64, complete: bool, out: &mut Vec<(u64, u64)>) {
    let n = hi - lo;
    if m == n {
        if !complete {
            out.push((lo, hi));
        }
        return;
    }
    let k = split_point(n);
    if m <= k {
        subproof_ranges(m, lo, lo + k, complete, out);
        out.push((lo + k, hi));
    } else {
        subproof_ranges(m - k, lo + k, hi, false, out);
        out.push((lo, lo + k));
    }
}

/// The plan of the inclusion proof of leaf `index` in the tree of `size` leaves.
pub fn inclusion_plan(index: u64, size: u64) -> Result<ProofPlan, ProofError> {
    if index >= size {
        return Err(ProofError::BadInput("leaf index outside the tree"));
    }
    let mut ranges = Vec::new();
    path_ranges(index, 0, size, &mut ranges);
    Ok(ProofPlan::from_ranges(ranges))
}

/// The plan of the consistency proof from `size1` to `size2` (`0 < size1 <= size2`).
pub fn consistency_plan(size1: u64, size2: u64) -> Result<ProofPlan, ProofError> {
    if size1 == 0 || size1 > size2 {
        return Err(ProofError::BadInput("consistency needs 0 < size1 <= size2"));
    }
    let mut ranges = Vec::new();
    subproof_ranges(size1, 0, size2, true, &mut ranges);
    Ok(ProofPlan::from_ranges(ranges))
}

/// The plan for the tree head of `size` leaves: one range, the whole tree.
pub fn root_plan(size: u64) -> ProofPlan {
    ProofPlan::from_ranges(if size == 0 { vec![] } else { vec![(0, size)] })
}

/// A synchronous source of stored node hashes.
pub trait HashStore {
    /// The hashes of `ids`, in the same order; an unknown node is an error.
    fn get_nodes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, ProofError>;
}

fn run_plan<S: HashStore + ?Sized>(store: &S, plan: &ProofPlan) -> Result<Vec<Hash>, ProofError> {
    let hashes = store.get_nodes(plan.nodes())?;
    if hashes.len() != plan.nodes().len() {
        return Err(ProofError::Store("wrong number of nodes returned".into()));
    }
    let map: HashMap<NodeId, Hash> = plan.nodes().iter().copied().zip(hashes).collect();
    plan.assemble_from(&map)
}

/// Inclusion proof of leaf `index` in the tree of `size` leaves.
pub fn prove_inclusion<S: HashStore + ?Sized>(
    store: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofError> {
    run_plan(store, &inclusion_plan(index, size)?)
}

/// Consistency proof between the trees of `size1` and `size2` leaves.
pub fn prove_consistency<S: HashStore + ?Sized>(
    store: &S,
    size1: u64,
    size2: u64,
) -> Result<Vec<Hash>, ProofError> {
    run_plan(store, &consistency_plan(size1, size2)?)
}

/// The tree head of the first `size` leaves.
pub fn tree_root<S: HashStore + ?Sized>(store: &S, size: u64) -> Result<Hash, ProofError> {
    Ok(run_plan(store, &root_plan(size))?
        .pop()
        .unwrap_or_else(empty_root))
}

/// An in-memory node store (tests, offline tools, benchmarks).
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    levels: Vec<Vec<Hash>>,
    size: u64,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf by its leaf hash; returns its index.
    pub fn push(&mut self, leaf: Hash) -> u64 {
        let ids = peaks(self.size);
        let peak_hashes: Vec<Hash> = ids
            .iter()
            .map(|id| self.levels[id.level as usize][id.index as usize])
            .collect();
        let index = self.size;
        // The peak count always matches, so this cannot fail.
        for (id, h) in append(self.size, &peak_hashes, leaf).unwrap_or_default() {
            if self.levels.len() <= id.level as usize {
                self.levels.push(Vec::new());
            }
            self.levels[id.level as usize].push(h);
        }
        self.size += 1;
        index
    }

    /// Appends a leaf by its data.
    pub fn push_data(&mut self, data: &[u8]) -> u64 {
        self.push(leaf_hash(data))
    }

    /// The tree head of the whole tree.
    pub fn root(&self) -> Hash {
        tree_root(self, self.size).unwrap_or_else(|_| empty_root())
    }
}

impl HashStore for MemoryStore {
    fn get_nodes(&self, ids: &[NodeId]) -> Result<Vec<Hash>, ProofError> {
        ids.iter()
            .map(|id| {
                self.levels
                    .get(id.level as usize)
                    .and_then(|l| l.get(usize::try_from(id.index).ok()?))
                    .copied()
                    .ok_or(ProofError::MissingNode(*id))
            })
            .collect()
    }
}

#[cfg(test)]
#[path = "merkle_tests.rs"]
mod tests;
