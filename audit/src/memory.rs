//! An in-memory [`LogStore`]: the whole log in plain collections, for tests, tools and
//! benchmarks. One value is one log; it has no transactions (every call commits).

use std::collections::HashMap;

use crate::merkle::{Hash, NodeId};
use crate::store::{LogError, LogStore, StoredCheckpoint, StoredEntry};

/// The log in memory.
#[derive(Debug, Default, Clone)]
pub struct MemoryLog {
    size: u64,
    peaks: Vec<Hash>,
    nodes: HashMap<NodeId, Hash>,
    /// By global index.
    pub entries: Vec<StoredEntry>,
    pub checkpoints: Vec<StoredCheckpoint>,
}

impl MemoryLog {
    pub fn new() -> Self {
        Self::default()
    }
}

impl LogStore for MemoryLog {
    type Error = LogError;

    async fn grow(&mut self) -> Result<(u64, Vec<Hash>), LogError> {
        self.size += 1;
        Ok((self.size - 1, self.peaks.clone()))
    }

    async fn state(&mut self) -> Result<(u64, Vec<Hash>), LogError> {
        Ok((self.size, self.peaks.clone()))
    }

    async fn set_peaks(&mut self, peaks: &[Hash]) -> Result<(), LogError> {
        self.peaks = peaks.to_vec();
        Ok(())
    }

    async fn nodes(&mut self, ids: &[NodeId]) -> Result<HashMap<NodeId, Hash>, LogError> {
        Ok(ids
            .iter()
            .filter_map(|id| self.nodes.get(id).map(|h| (*id, *h)))
            .collect())
    }

    async fn put_nodes(&mut self, nodes: &[(NodeId, Hash)]) -> Result<(), LogError> {
        self.nodes.extend(nodes.iter().copied());
        Ok(())
    }

    async fn chain_head(&mut self, hearing_id: &str) -> Result<Option<StoredEntry>, LogError> {
        Ok(self
            .entries
            .iter()
            .filter(|e| e.hearing_id == hearing_id)
            .max_by_key(|e| e.hearing_seq)
            .cloned())
    }

    async fn hearing_entries(&mut self, hearing_id: &str) -> Result<Vec<StoredEntry>, LogError> {
        let mut v: Vec<StoredEntry> = self
            .entries
            .iter()
            .filter(|e| e.hearing_id == hearing_id)
            .cloned()
            .collect();
        v.sort_by_key(|e| e.hearing_seq);
        Ok(v)
    }

    async fn put_entry(&mut self, e: &StoredEntry) -> Result<(), LogError> {
        self.entries.push(e.clone());
        Ok(())
    }

    async fn erase_payload(&mut self, seq: u64) -> Result<(), LogError> {
        let e = self
            .entries
            .iter_mut()
            .find(|e| e.seq == seq)
            .ok_or(LogError::Invalid("no such entry"))?;
        e.payload.clear();
        e.salt = None;
        e.erased = true;
        Ok(())
    }

    async fn latest_checkpoint(&mut self) -> Result<Option<StoredCheckpoint>, LogError> {
        Ok(self.checkpoints.iter().max_by_key(|c| c.size).cloned())
    }

    async fn put_checkpoint(&mut self, cp: &StoredCheckpoint) -> Result<(), LogError> {
        if !self
            .checkpoints
            .iter()
            .any(|c| c.size == cp.size && c.key_id == cp.key_id)
        {
            self.checkpoints.push(cp.clone());
        }
        Ok(())
    }
}
