//! The terminal entry of a closed hearing and the verifier's completeness verdict
//! (docs/audit-format.md §9): a closed hearing's chain ends with one `hearing_closed` entry
//! stating the outcome, the number of entries before it and the leaf hash of the entry before
//! it, so that a bundle whose tail was cut is told apart from a whole one.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::bundle::{Actor, Bundle};
use crate::leaf::{Leaf, decode_lower_hex};
use crate::store::{AppendedEntry, LogError, LogStore, NewEntry, append};

/// The step name of the terminal entry.
pub const TERMINAL_STEP: &str = "hearing_closed";

/// What the verifier says when the bundle does not end with a valid terminal entry.
pub const INCOMPLETE: &str = "incomplete (hearing open or entries missing)";

/// Longest outcome accepted in a terminal entry (the server's outcomes are short words).
const MAX_OUTCOME: usize = 64;

/// Appends the terminal entry of `hearing_id`'s chain (its outcome, the number of entries
/// so far and the leaf hash of the newest one), in the store's transaction. The chain must
/// have at least one entry.
pub async fn close<S: LogStore>(
    s: &mut S,
    hearing_id: &str,
    outcome: &str,
    at: DateTime<Utc>,
) -> Result<AppendedEntry, S::Error> {
    if outcome.is_empty() || outcome.len() > MAX_OUTCOME {
        return Err(LogError::Invalid("outcome must be 1 to 64 bytes").into());
    }
    let head = s.chain_head(hearing_id).await?.ok_or(LogError::Invalid(
        "a hearing with no entries cannot be closed",
    ))?;
    let entry = NewEntry {
        hearing_id: hearing_id.to_string(),
        step: TERMINAL_STEP.to_string(),
        actor: Actor {
            role: "system".into(),
            id: String::new(),
        },
        at,
        payload: json!({
            "outcome": outcome,
            "entries": head.hearing_seq + 1,
            "head": hex::encode(crate::merkle::leaf_hash(&head.leaf)),
        }),
        recordings: vec![],
    };
    append(s, &entry).await
}

/// The completeness verdict of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Completeness {
    pub complete: bool,
    /// `complete (outcome …, N entries)` or [`INCOMPLETE`] with the reason.
    pub detail: String,
}

/// `complete` only when the bundle's last entry (by hearing_seq) is a terminal entry whose
/// leaf says `hearing_closed`, whose payload's `entries` equals its own position and the
/// number of entries before it, and whose `head` is the leaf hash its leaf chains onto.
/// Integrity of each entry is the verifier's other checks; this says whether the chain is
/// whole.
pub fn completeness(b: &Bundle) -> Completeness {
    let incomplete = |why: &str| Completeness {
        complete: false,
        detail: format!("{INCOMPLETE}: {why}"),
    };
    let Some(last) = b.entries.iter().max_by_key(|e| e.hearing_seq) else {
        return incomplete("no entries");
    };
    let leaf = match decode_lower_hex(&last.leaf_hex).map(|b| Leaf::decode(&b)) {
        Some(Ok(l)) => l,
        _ => return incomplete("the last entry's leaf does not decode"),
    };
    if leaf.step != TERMINAL_STEP {
        return incomplete(&format!(
            "the last entry is {:?}, not {TERMINAL_STEP}",
            leaf.step
        ));
    }
    let p = &last.payload;
    let outcome = p["outcome"].as_str().unwrap_or_default();
    let entries = p["entries"].as_u64();
    let head = p["head"].as_str().and_then(decode_lower_hex);
    if outcome.is_empty() {
        return incomplete("the terminal entry has no outcome");
    }
    if entries != Some(leaf.hearing_seq) || b.entries.len() as u64 != leaf.hearing_seq + 1 {
        return incomplete(&format!(
            "the terminal entry counts {} entries before it; the bundle has {} before it at \
             position {}",
            entries.map_or("no".into(), |n| n.to_string()),
            b.entries.len().saturating_sub(1),
            leaf.hearing_seq
        ));
    }
    if head.as_deref() != Some(&leaf.prev_leaf_hash[..]) {
        return incomplete("the terminal entry's head is not the entry it chains onto");
    }
    Completeness {
        complete: true,
        detail: format!(
            "complete (outcome {outcome}, {} entries before the terminal entry)",
            leaf.hearing_seq
        ),
    }
}

#[cfg(test)]
#[path = "terminal_tests.rs"]
mod tests;
