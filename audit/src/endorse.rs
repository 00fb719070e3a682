//! Key-rotation endorsements (docs/audit-format.md "Key rotation"): a signed note naming the
//! log's old key and its new one, signed by both, and the chain an offline verifier follows
//! from the keys it pinned to the keys that signed later checkpoints.
//!
//! Owns: the endorsement's text, its strict parsing and verification, and which keys a set of
//! pinned keys plus endorsements makes trusted, each for a range of tree sizes (the old key up
//! to the size the new one signs from, the new one from there). A key is accepted only through
//! an endorsement signed by a key already trusted; an endorsement that names a trusted key but
//! does not carry its valid signature is a forgery and an error, never silently skipped.

use crate::note::{Note, NoteError, Verifier};

/// The first line of an endorsement.
pub const HEADER: &str = "remote-hearing audit key rotation";
/// At most this many endorsements are followed (a log rotates its key a few times a year).
pub const MAX_ENDORSEMENTS: usize = 256;

/// The endorsement's text: header, origin, `old <vkey>`, `new <vkey>`, `from <size>`.
pub fn text(origin: &str, old: &str, new: &str, from_size: u64) -> String {
    format!("{HEADER}\n{origin}\nold {old}\nnew {new}\nfrom {from_size}\n")
}

/// Why an endorsement was refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum EndorseError {
    #[error("not a key-rotation endorsement: {0}")]
    Malformed(String),
    #[error(
        "forged endorsement of {new}: it does not carry a valid signature of the trusted key {old} ({why})"
    )]
    NotByOld {
        old: String,
        new: String,
        why: String,
    },
    #[error("endorsement of {new}: not signed by the new key itself ({why})")]
    NotByNew { new: String, why: String },
    #[error("endorsement for log {found}, not {want}")]
    Origin { found: String, want: String },
}

/// A parsed endorsement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endorsement {
    pub origin: String,
    pub old: Verifier,
    pub new: Verifier,
    /// The tree size the new key signs from (the old key's range ends there).
    pub from_size: u64,
    text: String,
}

fn field<'a>(line: Option<&'a str>, prefix: &str) -> Result<&'a str, EndorseError> {
    line.and_then(|l| l.strip_prefix(prefix))
        .ok_or_else(|| EndorseError::Malformed(format!("expected a line `{prefix}…`")))
}

impl Endorsement {
    /// Parses the note and its text strictly; the signatures are not checked yet.
    pub fn parse(note_text: &str) -> Result<Self, EndorseError> {
        let note = Note::parse(note_text).map_err(|e| EndorseError::Malformed(e.to_string()))?;
        let mut lines = note.body.strip_suffix('\n').unwrap_or("").split('\n');
        if lines.next() != Some(HEADER) {
            return Err(EndorseError::Malformed(format!(
                "the first line is not `{HEADER}`"
            )));
        }
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| EndorseError::Malformed("no origin line".into()))?
            .to_string();
        let key = |l: &str| Verifier::parse(l).map_err(|e| EndorseError::Malformed(e.to_string()));
        let old = key(field(lines.next(), "old ")?)?;
        let new = key(field(lines.next(), "new ")?)?;
        let from = field(lines.next(), "from ")?;
        if from.is_empty()
            || !from.bytes().all(|b| b.is_ascii_digit())
            || (from.len() > 1 && from.starts_with('0'))
        {
            return Err(EndorseError::Malformed(
                "`from` is not a decimal size".into(),
            ));
        }
        let from_size = from
            .parse()
            .map_err(|_| EndorseError::Malformed("`from` out of range".into()))?;
        if lines.next().is_some() {
            return Err(EndorseError::Malformed("extra lines after `from`".into()));
        }
        if old == new {
            return Err(EndorseError::Malformed(
                "the old and the new key are the same".into(),
            ));
        }
        if old.name != origin || new.name != origin {
            return Err(EndorseError::Malformed(
                "a key's name differs from the origin line".into(),
            ));
        }
        Ok(Self {
            origin,
            old,
            new,
            from_size,
            text: note_text.to_string(),
        })
    }

    /// Checks both signatures: the old key's (it hands over) and the new key's (it was held).
    pub fn verify(&self) -> Result<(), EndorseError> {
        let text = &self.text;
        let why = |e: NoteError| match e {
            NoteError::UnknownSigner => "no signature by it".to_string(),
            other => other.to_string(),
        };
        Note::open(text, std::slice::from_ref(&self.old)).map_err(|e| EndorseError::NotByOld {
            old: self.old.to_string(),
            new: self.new.to_string(),
            why: why(e),
        })?;
        Note::open(text, std::slice::from_ref(&self.new)).map_err(|e| EndorseError::NotByNew {
            new: self.new.to_string(),
            why: why(e),
        })?;
        Ok(())
    }

    /// Parses and verifies.
    pub fn open(note_text: &str) -> Result<Self, EndorseError> {
        let e = Self::parse(note_text)?;
        e.verify()?;
        Ok(e)
    }
}

/// A trusted key and the tree sizes it may sign (`to_size` inclusive; `None`: open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    pub key: Verifier,
    pub from_size: u64,
    pub to_size: Option<u64>,
    /// The key whose endorsement made this one trusted (`None`: pinned).
    pub endorsed_by: Option<Verifier>,
}

impl TrustedKey {
    pub fn covers(&self, size: u64) -> bool {
        self.from_size <= size && self.to_size.is_none_or(|t| size <= t)
    }
}

/// The keys a verifier trusts after following the endorsements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chain {
    pub keys: Vec<TrustedKey>,
    /// One line per endorsement followed (`old → new from size N`).
    pub followed: Vec<String>,
    /// Forged, malformed or conflicting endorsements: any makes the verdict FAIL.
    pub errors: Vec<String>,
}

impl Chain {
    /// Every trusted key, for opening notes.
    pub fn verifiers(&self) -> Vec<Verifier> {
        self.keys.iter().map(|k| k.key.clone()).collect()
    }

    /// Whether one of `signers` may sign a checkpoint of `size`; the error says why not.
    pub fn check_range(&self, signers: &[Verifier], size: u64) -> Result<(), String> {
        let mine: Vec<&TrustedKey> = self
            .keys
            .iter()
            .filter(|k| signers.contains(&k.key))
            .collect();
        if mine.iter().any(|k| k.covers(size)) {
            return Ok(());
        }
        let why: Vec<String> = mine
            .iter()
            .map(|k| match k.to_size {
                Some(t) if size > t => format!("{} was rotated out at size {t}", k.key),
                _ => format!("{} signs only from size {}", k.key, k.from_size),
            })
            .collect();
        Err(format!(
            "checkpoint of size {size} signed outside its key's range: {}",
            why.join("; ")
        ))
    }

    /// The verdict on the endorsements for a report: OK unless one was forged, malformed or
    /// conflicting; the detail lists the rotations followed.
    pub fn summary(&self) -> (bool, String) {
        if !self.errors.is_empty() {
            return (false, self.errors.join("; "));
        }
        if self.followed.is_empty() {
            return (true, "no endorsement starts from a trusted key".into());
        }
        (true, format!("followed {}", self.followed.join(", ")))
    }

    fn index(&self, v: &Verifier) -> Option<usize> {
        self.keys.iter().position(|k| &k.key == v)
    }
}

/// Starts from `pinned` (trusted for every size) and follows `endorsements` (note texts) of the
/// log `origin`: an endorsement whose old key is trusted must verify (else: forged, an error);
/// its new key then becomes trusted from its `from` size, and the old key's range ends there.
/// Endorsements whose old key is never trusted are ignored. Two valid endorsements handing one
/// key over to different keys are a conflict (an error; neither is followed).
pub fn follow(origin: &str, pinned: &[Verifier], endorsements: &[String]) -> Chain {
    let mut chain = Chain {
        keys: pinned
            .iter()
            .map(|k| TrustedKey {
                key: k.clone(),
                from_size: 0,
                to_size: None,
                endorsed_by: None,
            })
            .collect(),
        ..Chain::default()
    };
    if endorsements.len() > MAX_ENDORSEMENTS {
        chain
            .errors
            .push(format!("more than {MAX_ENDORSEMENTS} endorsements"));
        return chain;
    }
    let mut todo = Vec::new();
    for (i, t) in endorsements.iter().enumerate() {
        match Endorsement::parse(t) {
            Ok(e) if e.origin != origin => chain.errors.push(format!(
                "endorsement {i}: {}",
                EndorseError::Origin {
                    found: e.origin,
                    want: origin.into()
                }
            )),
            Ok(e) => todo.push(e),
            Err(err) => chain.errors.push(format!("endorsement {i}: {err}")),
        }
    }
    while let Some(pos) = todo.iter().position(|e| chain.index(&e.old).is_some()) {
        let e = todo.swap_remove(pos);
        if let Err(err) = e.verify() {
            chain.errors.push(err.to_string());
            continue;
        }
        // The same key handed over twice (both notes valid): its holder forked the trust.
        let (rivals, rest): (Vec<Endorsement>, Vec<Endorsement>) =
            todo.into_iter().partition(|o| o.old == e.old);
        todo = rest;
        let mut conflict = false;
        for o in rivals.iter().filter(|o| o.new != e.new) {
            match o.verify() {
                Ok(()) => conflict = true,
                Err(err) => chain.errors.push(err.to_string()),
            }
        }
        if conflict {
            chain.errors.push(format!(
                "conflicting endorsements: {} was handed over to more than one key; none is followed",
                e.old
            ));
            continue;
        }
        if let Some(i) = chain.index(&e.old) {
            let k = &mut chain.keys[i];
            k.to_size = Some(k.to_size.map_or(e.from_size, |t| t.min(e.from_size)));
        }
        match chain.index(&e.new) {
            Some(i) => chain.keys[i].from_size = chain.keys[i].from_size.max(e.from_size),
            None => chain.keys.push(TrustedKey {
                key: e.new.clone(),
                from_size: e.from_size,
                to_size: None,
                endorsed_by: Some(e.old.clone()),
            }),
        }
        chain
            .followed
            .push(format!("{} → {} from size {}", e.old, e.new, e.from_size));
    }
    chain
}

#[cfg(test)]
#[path = "endorse_tests.rs"]
mod tests;
