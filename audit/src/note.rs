//! C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys, and the tlog checkpoint body
//! (c2sp.org/tlog-checkpoint) they carry.
//!
//! Owns: key ids, verifier-key text (`name+hex(keyid)+base64(0x01 || public key)`), signing
//! and strict parsing of notes and checkpoints (LF only, no control characters, canonical
//! base64, decimal sizes without leading zeros, the U+2014 dash). Knows nothing of storage or
//! of where keys live; the caller hands it PKCS#8 bytes or a seed.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::digest::{SHA256, digest};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use std::fmt;

/// Signature-type byte of Ed25519 in signed notes.
pub const ALG_ED25519: u8 = 0x01;
/// At most this many signature lines are accepted on one note.
pub const MAX_SIGNATURES: usize = 100;
const DASH: &str = "\u{2014} ";

/// Why a note, key or checkpoint was rejected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NoteError {
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    #[error("malformed key: {0}")]
    BadKey(&'static str),
    #[error("malformed checkpoint: {0}")]
    BadCheckpoint(&'static str),
    #[error("signature by {0} does not verify")]
    BadSignature(String),
    #[error("no signature by a known key")]
    UnknownSigner,
}

/// Canonical base64 (padded, no trailing bits, no whitespace); anything else is an error.
pub fn b64_decode_strict(s: &str) -> Option<Vec<u8>> {
    let bytes = STANDARD.decode(s).ok()?;
    (STANDARD.encode(&bytes) == s).then_some(bytes)
}

fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// A key name: non-empty, no whitespace, no `+`.
fn check_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
    {
        return Err(NoteError::BadKey("invalid key name"));
    }
    Ok(())
}

/// `SHA-256(name || 0x0A || 0x01 || public_key)[0..4]`.
pub fn key_id(name: &str, public_key: &[u8]) -> [u8; 4] {
    let mut buf = Vec::with_capacity(name.len() + 2 + public_key.len());
    buf.extend_from_slice(name.as_bytes());
    buf.push(b'\n');
    buf.push(ALG_ED25519);
    buf.extend_from_slice(public_key);
    let d = digest(&SHA256, &buf);
    let mut id = [0u8; 4];
    id.copy_from_slice(&d.as_ref()[..4]);
    id
}

/// A public key that checks notes.
#[derive(Clone, PartialEq, Eq)]
pub struct Verifier {
    pub name: String,
    pub key_id: [u8; 4],
    pub public_key: [u8; 32],
}

impl Verifier {
    pub fn new(name: &str, public_key: [u8; 32]) -> Result<Self, NoteError> {
        check_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            key_id: key_id(name, &public_key),
            public_key,
        })
    }

    /// Parses `name+hex(keyid)+base64(0x01 || public key)`, checking that the id matches.
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::BadKey("expected name+keyid+key"));
        };
        check_name(name)?;
        if id.len() != 8
            || !id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(NoteError::BadKey("key id is not 8 lowercase hex digits"));
        }
        let key = b64_decode_strict(key).ok_or(NoteError::BadKey("key is not canonical base64"))?;
        let (Some(&ALG_ED25519), Ok(pk)) =
            (key.first(), <[u8; 32]>::try_from(&key[1.min(key.len())..]))
        else {
            return Err(NoteError::BadKey("not an Ed25519 key"));
        };
        let v = Self::new(name, pk)?;
        if hex::encode(v.key_id) != id {
            return Err(NoteError::BadKey("key id does not match the key"));
        }
        Ok(v)
    }

    /// Whether `sig` (64 bytes) signs `body`.
    pub fn verify(&self, body: &[u8], sig: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, &self.public_key)
            .verify(body, sig)
            .is_ok()
    }
}

impl fmt::Display for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut key = vec![ALG_ED25519];
        key.extend_from_slice(&self.public_key);
        write!(
            f,
            "{}+{}+{}",
            self.name,
            hex::encode(self.key_id),
            b64(&key)
        )
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Verifier({self})")
    }
}

/// An Ed25519 key pair from a PKCS#8 (v1 or v2) document (the log's and witnesses' keys).
pub fn keypair_from_pkcs8(der: &[u8]) -> Result<Ed25519KeyPair, NoteError> {
    Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
        .map_err(|_| NoteError::BadKey("not a PKCS#8 Ed25519 key"))
}

/// An Ed25519 key pair from a raw 32-byte seed.
pub fn keypair_from_seed(seed: &[u8]) -> Result<Ed25519KeyPair, NoteError> {
    Ed25519KeyPair::from_seed_unchecked(seed).map_err(|_| NoteError::BadKey("not a 32-byte seed"))
}

/// A private key that signs notes. `Debug` never shows the key.
pub struct Signer {
    keypair: Ed25519KeyPair,
    verifier: Verifier,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signer({}, private key redacted)", self.verifier)
    }
}

impl Signer {
    fn from_keypair(name: &str, keypair: Ed25519KeyPair) -> Result<Self, NoteError> {
        let pk = <[u8; 32]>::try_from(keypair.public_key().as_ref())
            .map_err(|_| NoteError::BadKey("public key"))?;
        Ok(Self {
            verifier: Verifier::new(name, pk)?,
            keypair,
        })
    }

    /// From a PKCS#8 (v1 or v2) Ed25519 private key document.
    pub fn from_pkcs8(name: &str, der: &[u8]) -> Result<Self, NoteError> {
        Self::from_keypair(name, keypair_from_pkcs8(der)?)
    }

    /// From a raw 32-byte Ed25519 seed.
    pub fn from_seed(name: &str, seed: &[u8]) -> Result<Self, NoteError> {
        Self::from_keypair(name, keypair_from_seed(seed)?)
    }

    /// A fresh PKCS#8 v2 document from the system's random source.
    pub fn generate_pkcs8() -> Result<Vec<u8>, NoteError> {
        let rng = ring::rand::SystemRandom::new();
        Ed25519KeyPair::generate_pkcs8(&rng)
            .map(|d| d.as_ref().to_vec())
            .map_err(|_| NoteError::BadKey("key generation failed"))
    }

    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    pub fn name(&self) -> &str {
        &self.verifier.name
    }

    /// The signature line (without its final newline) for `body`.
    pub fn signature_line(&self, body: &str) -> String {
        let mut sig = self.verifier.key_id.to_vec();
        sig.extend_from_slice(self.keypair.sign(body.as_bytes()).as_ref());
        format!("{DASH}{} {}", self.verifier.name, b64(&sig))
    }

    /// The signed note: `body`, a blank line, the signature line.
    pub fn sign(&self, body: &str) -> Result<String, NoteError> {
        check_text(body)?;
        Ok(format!("{body}\n{}\n", self.signature_line(body)))
    }
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_id: [u8; 4],
    pub signature: Vec<u8>,
}

/// A parsed (not yet verified) note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The signed text, ending with a newline.
    pub body: String,
    pub signatures: Vec<NoteSignature>,
}

fn check_text(body: &str) -> Result<(), NoteError> {
    if body.is_empty() || !body.ends_with('\n') {
        return Err(NoteError::Malformed("the text must end with a newline"));
    }
    if body.chars().any(|c| c.is_control() && c != '\n') {
        return Err(NoteError::Malformed(
            "control characters (other than LF) in the text",
        ));
    }
    Ok(())
}

impl Note {
    /// Parses a signed note strictly. Does not verify signatures: see [`Note::open`].
    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let split = text
            .rfind("\n\n")
            .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
        let (body, sigs) = (&text[..split + 1], &text[split + 2..]);
        check_text(body)?;
        if !sigs.ends_with('\n') || sigs.chars().any(|c| c.is_control() && c != '\n') {
            return Err(NoteError::Malformed("signature lines must end with LF"));
        }
        let mut signatures = Vec::new();
        for line in sigs[..sigs.len() - 1].split('\n') {
            let rest = line.strip_prefix(DASH).ok_or(NoteError::Malformed(
                "a signature line must start with U+2014",
            ))?;
            let (name, sig) = rest
                .split_once(' ')
                .ok_or(NoteError::Malformed("signature line without a name"))?;
            check_name(name).map_err(|_| NoteError::Malformed("invalid signer name"))?;
            let raw = b64_decode_strict(sig)
                .ok_or(NoteError::Malformed("signature is not canonical base64"))?;
            if raw.len() < 5 {
                return Err(NoteError::Malformed("signature too short"));
            }
            let mut key_id = [0u8; 4];
            key_id.copy_from_slice(&raw[..4]);
            signatures.push(NoteSignature {
                name: name.to_owned(),
                key_id,
                signature: raw[4..].to_vec(),
            });
            if signatures.len() > MAX_SIGNATURES {
                return Err(NoteError::Malformed("too many signatures"));
            }
        }
        Ok(Self {
            body: body.to_owned(),
            signatures,
        })
    }

    /// Parses and verifies: every signature by a known key must verify and at least one must
    /// exist; signatures by unknown keys are ignored. Returns the note and the keys that signed.
    pub fn open<'k>(
        text: &str,
        known: &'k [Verifier],
    ) -> Result<(Self, Vec<&'k Verifier>), NoteError> {
        let note = Self::parse(text)?;
        let mut by = Vec::new();
        for s in &note.signatures {
            if let Some(v) = known
                .iter()
                .find(|v| v.name == s.name && v.key_id == s.key_id)
            {
                if !v.verify(note.body.as_bytes(), &s.signature) {
                    return Err(NoteError::BadSignature(v.to_string()));
                }
                by.push(v);
            }
        }
        if by.is_empty() {
            return Err(NoteError::UnknownSigner);
        }
        Ok((note, by))
    }
}

/// The body of a C2SP tlog checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: [u8; 32],
    /// Optional extension lines (each non-empty, without its newline).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// The note body: origin, size, base64 root, extension lines, each ending with LF.
    pub fn body(&self) -> String {
        let mut s = format!("{}\n{}\n{}\n", self.origin, self.size, b64(&self.root));
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Parses a checkpoint body strictly.
    pub fn parse(body: &str) -> Result<Self, NoteError> {
        check_text(body).map_err(|_| NoteError::BadCheckpoint("not a note text"))?;
        let lines: Vec<&str> = body[..body.len() - 1].split('\n').collect();
        if lines.len() < 3 {
            return Err(NoteError::BadCheckpoint(
                "needs origin, size and root lines",
            ));
        }
        let origin = lines[0];
        if origin.is_empty() {
            return Err(NoteError::BadCheckpoint("empty origin"));
        }
        let size_s = lines[1];
        if size_s.is_empty()
            || !size_s.bytes().all(|b| b.is_ascii_digit())
            || (size_s.len() > 1 && size_s.starts_with('0'))
        {
            return Err(NoteError::BadCheckpoint(
                "size is not a decimal without leading zeros",
            ));
        }
        let size = size_s
            .parse()
            .map_err(|_| NoteError::BadCheckpoint("size out of range"))?;
        let root = b64_decode_strict(lines[2])
            .and_then(|r| <[u8; 32]>::try_from(r).ok())
            .ok_or(NoteError::BadCheckpoint(
                "root is not canonical base64 of 32 bytes",
            ))?;
        let extensions: Vec<String> = lines[3..].iter().map(|s| s.to_string()).collect();
        if extensions.iter().any(String::is_empty) {
            return Err(NoteError::BadCheckpoint("empty extension line"));
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// Signs this checkpoint as a note.
    pub fn sign(&self, signer: &Signer) -> Result<String, NoteError> {
        signer.sign(&self.body())
    }

    /// Opens a signed checkpoint note with the given keys and checks its origin.
    pub fn open(
        text: &str,
        origin: Option<&str>,
        known: &[Verifier],
    ) -> Result<(Self, Vec<Verifier>), NoteError> {
        let (note, by) = Note::open(text, known)?;
        let cp = Self::parse(&note.body)?;
        if origin.is_some_and(|o| o != cp.origin) {
            return Err(NoteError::BadCheckpoint("unexpected origin"));
        }
        Ok((cp, by.into_iter().cloned().collect()))
    }
}

#[cfg(test)]
#[path = "note_tests.rs"]
mod tests;
