//! The `add-checkpoint` request of c2sp.org/tlog-witness: parsing its body and every check
//! the spec asks for, in the spec's terms (400, 403, 404, 409, 422). Pure: the stored state
//! of the log is handed in, the caller persists.

use std::collections::HashMap;

use crate::audit::{
    merkle::empty_root,
    note::{Checkpoint, Note, NoteError, Verifier, b64_decode_strict},
    proof::verify_consistency,
};

/// At most this many consistency proof lines (the spec's client limit).
pub const MAX_PROOF_LINES: usize = 63;

/// A parsed request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpoint {
    pub old_size: u64,
    pub proof: Vec<[u8; 32]>,
    /// The signed checkpoint note (body, blank line, signature lines).
    pub note: String,
}

/// Why a request is refused, with the HTTP status the spec assigns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reject {
    /// 400.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 403: no signature by a trusted key, or one that does not verify.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 404: the origin is not a log this witness knows.
    #[error("unknown log")]
    UnknownLog,
    /// 409: the old size is not the size this witness last cosigned (carried here).
    #[error("old size does not match; the witness is at {0}")]
    Conflict(u64),
    /// 422: the proof or the root does not hold.
    #[error("unprocessable: {0}")]
    Unprocessable(String),
}

/// The logs a witness follows: origin → its verifier keys.
#[derive(Debug, Clone, Default)]
pub struct Logs(HashMap<String, Vec<Verifier>>);

impl Logs {
    /// From `--log` vkeys; the key name is the log's origin.
    pub fn parse(vkeys: &[String]) -> Result<Self, NoteError> {
        let mut map: HashMap<String, Vec<Verifier>> = HashMap::new();
        for k in vkeys {
            let v = Verifier::parse(k)?;
            map.entry(v.name.clone()).or_default().push(v);
        }
        Ok(Self(map))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The origins followed.
    pub fn origins(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

fn bad(m: &str) -> Reject {
    Reject::BadRequest(m.to_string())
}

fn decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// Parses the body: `old <N>\n`, up to 63 base64 hash lines, an empty line, the checkpoint.
pub fn parse(body: &[u8]) -> Result<AddCheckpoint, Reject> {
    let text = std::str::from_utf8(body).map_err(|_| bad("the body is not UTF-8"))?;
    let (first, mut rest) = text
        .split_once('\n')
        .ok_or_else(|| bad("no old size line"))?;
    let old_size = first
        .strip_prefix("old ")
        .and_then(decimal)
        .ok_or_else(|| bad("the first line must be `old <size>` (decimal, no leading zeros)"))?;
    let mut proof = Vec::new();
    loop {
        let (line, next) = rest
            .split_once('\n')
            .ok_or_else(|| bad("no empty line before the checkpoint"))?;
        rest = next;
        if line.is_empty() {
            break;
        }
        if proof.len() == MAX_PROOF_LINES {
            return Err(bad("more than 63 consistency proof lines"));
        }
        let hash = b64_decode_strict(line)
            .and_then(|h| <[u8; 32]>::try_from(h).ok())
            .ok_or_else(|| bad("a proof line is not base64 of a 32-byte hash"))?;
        proof.push(hash);
    }
    Ok(AddCheckpoint {
        old_size,
        proof,
        note: rest.to_string(),
    })
}

/// A checkpoint whose log signature verified.
#[derive(Debug, Clone)]
pub struct Signed {
    pub checkpoint: Checkpoint,
    /// The note body exactly as signed (what a cosignature covers).
    pub body: String,
}

/// Checks the note, its origin and its log signatures, and `old ≤ size`.
pub fn check_signed(req: &AddCheckpoint, logs: &Logs) -> Result<Signed, Reject> {
    let note = Note::parse(&req.note).map_err(|e| Reject::BadRequest(e.to_string()))?;
    let checkpoint =
        Checkpoint::parse(&note.body).map_err(|e| Reject::BadRequest(e.to_string()))?;
    let keys = logs.0.get(&checkpoint.origin).ok_or(Reject::UnknownLog)?;
    Note::open(&req.note, keys).map_err(|e| Reject::Forbidden(e.to_string()))?;
    if req.old_size > checkpoint.size {
        return Err(bad("the old size is larger than the checkpoint size"));
    }
    Ok(Signed {
        checkpoint,
        body: note.body,
    })
}

/// Checks the request against the latest cosigned `(size, root)` of this log (`None`: never
/// cosigned). On success the checkpoint may be cosigned and must replace the stored state.
pub fn check_consistency(
    req: &AddCheckpoint,
    signed: &Signed,
    stored: Option<(u64, [u8; 32])>,
) -> Result<(), Reject> {
    let cp = &signed.checkpoint;
    let stored_size = stored.map_or(0, |s| s.0);
    if req.old_size != stored_size {
        return Err(Reject::Conflict(stored_size));
    }
    if cp.size == 0 && cp.root != empty_root() {
        return Err(Reject::Unprocessable(
            "a checkpoint of size zero must have the empty tree's root".into(),
        ));
    }
    let Some((old, old_root)) = stored.filter(|s| s.0 > 0) else {
        if !req.proof.is_empty() {
            return Err(Reject::Unprocessable(
                "a consistency proof from size zero must be empty".into(),
            ));
        }
        return Ok(());
    };
    if old == cp.size {
        if old_root != cp.root || !req.proof.is_empty() {
            return Err(Reject::Unprocessable(
                "same size, but a different root (or a non-empty proof)".into(),
            ));
        }
        return Ok(());
    }
    verify_consistency(old, cp.size, &req.proof, &old_root, &cp.root)
        .map_err(|e| Reject::Unprocessable(format!("consistency proof: {e}")))
}

#[cfg(test)]
#[path = "request_tests.rs"]
pub(crate) mod tests;
