//! Forgetting personal data without breaking the proof (PIPL Art. 47 retention): deleting a
//! version-2 entry's payload and salt. The leaf, its hash, the tree and every proof stay as
//! they were; a bundle then carries the entry as `erased` and still verifies
//! (docs/audit-format.md §10).
//!
//! Refused for version-1 entries (their digest is `SHA-256(payload)`: a guessable payload
//! could be recovered from it, so erasing would only pretend to forget) and for the
//! terminal `hearing_closed` entry (it holds no personal data and proves the hearing whole).

use crate::leaf::{Leaf, VERSION_2};
use crate::store::{LogError, LogStore, StoredEntry};
use crate::terminal::TERMINAL_STEP;

/// What erasing a hearing did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Erased {
    /// Entries whose payload and salt were deleted now.
    pub erased: u64,
    /// Entries already erased before.
    pub already: u64,
    /// Version-1 entries kept (their payload cannot be forgotten safely).
    pub kept_v1: u64,
}

fn erasable(e: &StoredEntry) -> Result<bool, LogError> {
    let leaf = Leaf::decode(&e.leaf)?;
    if e.step == TERMINAL_STEP {
        return Err(LogError::Invalid(
            "the terminal entry holds no personal data and is never erased",
        ));
    }
    Ok(leaf.version == VERSION_2)
}

/// Erases the payload and salt of entry `hearing_seq` of `hearing_id`, in the store's
/// transaction. Idempotent; refuses a version-1 or terminal entry, or an unknown one.
pub async fn erase_entry<S: LogStore>(
    s: &mut S,
    hearing_id: &str,
    hearing_seq: u64,
) -> Result<(), S::Error> {
    let rows = s.hearing_entries(hearing_id).await?;
    let e = rows
        .iter()
        .find(|e| e.hearing_seq == hearing_seq)
        .ok_or(LogError::Invalid("no such audit entry"))?;
    if e.erased {
        return Ok(());
    }
    if !erasable(e)? {
        return Err(LogError::Invalid(
            "a version-1 entry cannot be erased (its payload digest can be guessed)",
        )
        .into());
    }
    s.erase_payload(e.seq).await
}

/// Erases every version-2 entry of `hearing_id` except its terminal entry; version-1 entries
/// are kept and counted.
pub async fn erase_hearing<S: LogStore>(s: &mut S, hearing_id: &str) -> Result<Erased, S::Error> {
    let mut out = Erased::default();
    for e in s.hearing_entries(hearing_id).await? {
        if e.erased {
            out.already += 1;
        } else if e.step == TERMINAL_STEP {
            continue;
        } else if erasable(&e)? {
            s.erase_payload(e.seq).await?;
            out.erased += 1;
        } else {
            out.kept_v1 += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
#[path = "erase_tests.rs"]
mod tests;
