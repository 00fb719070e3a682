//! Files encrypted at rest (issue 15 §3): a chunked AES-256-GCM container whose byte ranges
//! decrypt on their own, so a `Range` download reads only the chunks it covers.
//!
//! Layout (all integers big-endian):
//!
//! ```text
//! header, HEADER_LEN = 40 bytes:
//!   0..8    magic  b"RHSEAL\0\x01"
//!   8       version = 1
//!   9..12   zero (reserved)
//!   12..16  chunk size C: plaintext bytes per chunk, MIN_CHUNK..=MAX_CHUNK (64 KiB written)
//!   16..32  key id: which data key sealed the file (the server's `hearing_keys.key_id`)
//!   32..40  nonce prefix: 8 random bytes drawn per file
//! then chunks 0..n, n ≥ 1, each the AES-256-GCM ciphertext of C plaintext bytes followed by
//! its 16-byte tag; the last chunk holds 1..=C bytes (0 only when the whole file is empty).
//!   nonce(i) = nonce prefix ‖ u32 i
//!   AAD(i)   = the 40 header bytes ‖ u64 i ‖ u8 last (1 for chunk n-1, else 0)
//! ```
//!
//! The plaintext length follows from the file length (`n = ⌈(len − 40) / (C + 16)⌉`). The
//! header in every chunk's AAD binds the chunk size, the key id and the prefix; the index binds
//! a chunk to its place (reordering fails); the last flag makes a cut at a chunk boundary, or
//! chunks appended after the last, fail. A range read checks the chunks it reads: reading a
//! chunk of a file cut further on still succeeds (those bytes are authentic), reading the end
//! fails. Files without the magic are plaintext written before encryption ([`PlainFile`]
//! passes them through unchanged).

use std::io::{self, Read, Seek, SeekFrom, Write};

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

pub use crate::sealed_fs::{PlainFile, read_header, seal_file};

/// The first 8 bytes of a sealed file.
pub const MAGIC: [u8; 8] = *b"RHSEAL\0\x01";
pub const VERSION: u8 = 1;
pub const HEADER_LEN: usize = 40;
pub const TAG_LEN: usize = 16;
/// The chunk size written: 64 KiB of plaintext.
pub const CHUNK: u32 = 64 * 1024;
pub const MIN_CHUNK: u32 = 16;
pub const MAX_CHUNK: u32 = 16 * 1024 * 1024;

/// A data key: 32 bytes for AES-256-GCM and the id written into the files it seals.
pub struct FileKey {
    id: [u8; 16],
    key: LessSafeKey,
}

impl std::fmt::Debug for FileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FileKey({})", hex::encode(self.id))
    }
}

impl FileKey {
    pub fn new(id: [u8; 16], raw: &[u8; 32]) -> FileKey {
        // a 32-byte slice is always an AES-256 key
        let unbound = match UnboundKey::new(&AES_256_GCM, raw) {
            Ok(k) => k,
            Err(_) => unreachable!("32 bytes are an AES-256 key"),
        };
        FileKey {
            id,
            key: LessSafeKey::new(unbound),
        }
    }
    pub fn id(&self) -> [u8; 16] {
        self.id
    }
}

impl AsRef<FileKey> for FileKey {
    fn as_ref(&self) -> &FileKey {
        self
    }
}

fn bad(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// True when `prefix` (a file's first bytes) starts with [`MAGIC`].
pub fn is_sealed(prefix: &[u8]) -> bool {
    prefix.len() >= MAGIC.len() && prefix[..MAGIC.len()] == MAGIC
}

/// The key id in a sealed header (None: not a sealed header).
pub fn key_id(header: &[u8]) -> Option<[u8; 16]> {
    if header.len() < HEADER_LEN || !is_sealed(header) {
        return None;
    }
    header[16..32].try_into().ok()
}

fn aad(header: &[u8; HEADER_LEN], index: u64, last: bool) -> [u8; HEADER_LEN + 9] {
    let mut a = [0u8; HEADER_LEN + 9];
    a[..HEADER_LEN].copy_from_slice(header);
    a[HEADER_LEN..HEADER_LEN + 8].copy_from_slice(&index.to_be_bytes());
    a[HEADER_LEN + 8] = u8::from(last);
    a
}

fn nonce(header: &[u8; HEADER_LEN], index: u64) -> io::Result<Nonce> {
    let i = u32::try_from(index).map_err(|_| bad("too many chunks"))?;
    let mut n = [0u8; NONCE_LEN];
    n[..8].copy_from_slice(&header[32..40]);
    n[8..].copy_from_slice(&i.to_be_bytes());
    Ok(Nonce::assume_unique_for_key(n))
}

/// Encrypts a stream into the container: bytes are buffered to whole chunks; [`finish`]
/// seals the last one. Dropping the writer without `finish` leaves a file that does not open.
///
/// [`finish`]: SealWriter::finish
pub struct SealWriter<'k, W: Write> {
    out: W,
    key: &'k FileKey,
    header: [u8; HEADER_LEN],
    chunk: usize,
    buf: Vec<u8>,
    index: u64,
}

impl<'k, W: Write> SealWriter<'k, W> {
    /// Writes the header with a fresh random nonce prefix.
    pub fn new(out: W, key: &'k FileKey, chunk: u32) -> io::Result<Self> {
        let mut prefix = [0u8; 8];
        SystemRandom::new()
            .fill(&mut prefix)
            .map_err(|_| io::Error::other("rng failed"))?;
        Self::with_prefix(out, key, chunk, prefix)
    }

    fn with_prefix(mut out: W, key: &'k FileKey, chunk: u32, prefix: [u8; 8]) -> io::Result<Self> {
        if !(MIN_CHUNK..=MAX_CHUNK).contains(&chunk) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "chunk size out of range",
            ));
        }
        let mut header = [0u8; HEADER_LEN];
        header[..8].copy_from_slice(&MAGIC);
        header[8] = VERSION;
        header[12..16].copy_from_slice(&chunk.to_be_bytes());
        header[16..32].copy_from_slice(&key.id);
        header[32..40].copy_from_slice(&prefix);
        out.write_all(&header)?;
        Ok(SealWriter {
            out,
            key,
            header,
            chunk: chunk as usize,
            buf: Vec::with_capacity(chunk as usize + TAG_LEN),
            index: 0,
        })
    }

    fn seal_buf(&mut self, last: bool) -> io::Result<()> {
        let n = nonce(&self.header, self.index)?;
        let a = aad(&self.header, self.index, last);
        self.key
            .key
            .seal_in_place_append_tag(n, Aad::from(&a[..]), &mut self.buf)
            .map_err(|_| io::Error::other("seal failed"))?;
        self.out.write_all(&self.buf)?;
        self.buf.clear();
        self.index += 1;
        Ok(())
    }

    /// Seals the last chunk and returns the inner writer (flushed).
    pub fn finish(mut self) -> io::Result<W> {
        self.seal_buf(true)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Write for SealWriter<'_, W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        // a full buffer is sealed only once more bytes come: the last chunk is never empty
        if self.buf.len() == self.chunk {
            self.seal_buf(false)?;
        }
        let take = (self.chunk - self.buf.len()).min(data.len());
        self.buf.extend_from_slice(&data[..take]);
        Ok(take)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// Reads a sealed container as its plaintext, with `Seek`: only the chunks read are decrypted
/// (and checked).
pub struct SealedReader<R: Read + Seek, K: AsRef<FileKey>> {
    input: R,
    key: K,
    header: [u8; HEADER_LEN],
    chunk: u64,
    chunks: u64,
    len: u64,
    pos: u64,
    /// The decrypted chunk at `cached`.
    cache: Vec<u8>,
    cached: Option<u64>,
}

impl<R: Read + Seek, K: AsRef<FileKey>> SealedReader<R, K> {
    /// Reads and checks the header (magic, version, chunk size, key id) and the length.
    pub fn open(mut input: R, key: K) -> io::Result<Self> {
        let total = input.seek(SeekFrom::End(0))?;
        input.seek(SeekFrom::Start(0))?;
        let mut header = [0u8; HEADER_LEN];
        input.read_exact(&mut header)?;
        if !is_sealed(&header) || header[8] != VERSION || header[9..12] != [0, 0, 0] {
            return Err(bad("not a sealed file of version 1"));
        }
        if header[16..32] != key.as_ref().id {
            return Err(bad("sealed with another key"));
        }
        let chunk = u32::from_be_bytes([header[12], header[13], header[14], header[15]]);
        if !(MIN_CHUNK..=MAX_CHUNK).contains(&chunk) {
            return Err(bad("chunk size out of range"));
        }
        let (chunk, body) = (u64::from(chunk), total - HEADER_LEN as u64);
        let sealed = chunk + TAG_LEN as u64;
        let chunks = body.div_ceil(sealed);
        let last = body.checked_sub((chunks.max(1) - 1) * sealed);
        let len = match last {
            // the last chunk holds 1..=C bytes, 0 only when it is the only one: an empty last
            // chunk after others is a cut that a read would never check
            Some(l) if chunks == 1 && l >= TAG_LEN as u64 || chunks > 1 && l > TAG_LEN as u64 => {
                (chunks - 1) * chunk + l - TAG_LEN as u64
            }
            _ => return Err(bad("sealed file cut short")),
        };
        Ok(SealedReader {
            input,
            key,
            header,
            chunk,
            chunks,
            len,
            pos: 0,
            cache: Vec::new(),
            cached: None,
        })
    }

    /// The plaintext length.
    pub fn len(&self) -> u64 {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn load(&mut self, index: u64) -> io::Result<()> {
        if self.cached == Some(index) {
            return Ok(());
        }
        self.cached = None;
        let sealed = self.chunk + TAG_LEN as u64;
        let last = index + 1 == self.chunks;
        let size = if last {
            self.len - index * self.chunk + TAG_LEN as u64
        } else {
            sealed
        };
        self.input
            .seek(SeekFrom::Start(HEADER_LEN as u64 + index * sealed))?;
        self.cache.resize(size as usize, 0);
        self.input.read_exact(&mut self.cache)?;
        let n = nonce(&self.header, index)?;
        let a = aad(&self.header, index, last);
        let plain = self
            .key
            .as_ref()
            .key
            .open_in_place(n, Aad::from(&a[..]), &mut self.cache)
            .map_err(|_| bad("sealed chunk does not decrypt (altered, moved, cut or wrong key)"))?
            .len();
        self.cache.truncate(plain);
        self.cached = Some(index);
        Ok(())
    }

    /// Decrypts the whole file, checking every chunk.
    pub fn read_all(&mut self) -> io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(self.len as usize);
        self.seek(SeekFrom::Start(0))?;
        self.read_to_end(&mut out)?;
        if self.len == 0 {
            self.load(0)?; // the one empty chunk is still checked
        }
        Ok(out)
    }
}

impl<R: Read + Seek, K: AsRef<FileKey>> Read for SealedReader<R, K> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.len || out.is_empty() {
            return Ok(0);
        }
        let index = self.pos / self.chunk;
        self.load(index)?;
        let at = (self.pos - index * self.chunk) as usize;
        let n = (self.cache.len() - at).min(out.len());
        out[..n].copy_from_slice(&self.cache[at..at + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read + Seek, K: AsRef<FileKey>> Seek for SealedReader<R, K> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.pos)
    }
}

/// Seals `plain` into a container in memory.
pub fn seal_bytes(key: &FileKey, plain: &[u8]) -> io::Result<Vec<u8>> {
    let mut w = SealWriter::new(Vec::new(), key, CHUNK)?;
    w.write_all(plain)?;
    w.finish()
}

/// Opens a container in memory, checking every chunk.
pub fn open_bytes(key: &FileKey, sealed: &[u8]) -> io::Result<Vec<u8>> {
    SealedReader::open(io::Cursor::new(sealed), key)?.read_all()
}

#[cfg(test)]
#[path = "sealed_tests.rs"]
mod tests;
