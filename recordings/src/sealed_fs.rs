//! Sealed containers on disk ([`crate::sealed`]): sealing a finished file in place, and opening
//! a stored file as its plaintext whether it was sealed or written before encryption.

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use crate::sealed::{CHUNK, FileKey, HEADER_LEN, SealWriter, SealedReader, is_sealed};

fn bad(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// Reads a file's first [`HEADER_LEN`] bytes (fewer when it is shorter).
pub fn read_header(path: &Path) -> io::Result<Vec<u8>> {
    let mut f = File::open(path)?;
    let mut h = Vec::with_capacity(HEADER_LEN);
    (&mut f).take(HEADER_LEN as u64).read_to_end(&mut h)?;
    Ok(h)
}

/// Encrypts the file at `path` in place (a sealed temporary file renamed over it, synced, the
/// read-only bit kept). A file already sealed is left alone: false.
pub fn seal_file(path: &Path, key: &FileKey) -> io::Result<bool> {
    if is_sealed(&read_header(path)?) {
        return Ok(false);
    }
    let perm = fs::metadata(path)?.permissions();
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let tmp = path.with_file_name(format!(".{name}.sealing"));
    let _ = fs::remove_file(&tmp);
    {
        let mut src = io::BufReader::with_capacity(CHUNK as usize, File::open(path)?);
        let out = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        let mut w = SealWriter::new(io::BufWriter::new(out), key, CHUNK)?;
        io::copy(&mut src, &mut w)?;
        let out = w.finish()?.into_inner().map_err(|e| e.into_error())?;
        out.sync_all()?;
    }
    fs::set_permissions(&tmp, perm)?;
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent()
        && let Ok(d) = File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(true)
}

/// A stored file as its plaintext: a sealed container decrypted, or a plaintext file written
/// before encryption passed through.
pub enum PlainFile<K: AsRef<FileKey>> {
    Plain(File, u64),
    Sealed(SealedReader<File, K>),
}

impl<K: AsRef<FileKey>> PlainFile<K> {
    /// Opens `path`; `key` is asked for the key of the id in a sealed header (None: the file
    /// does not open).
    pub fn open(path: &Path, key: Option<K>) -> io::Result<PlainFile<K>> {
        let header = read_header(path)?;
        let f = File::open(path)?;
        if !is_sealed(&header) {
            let len = f.metadata()?.len();
            return Ok(PlainFile::Plain(f, len));
        }
        let key = key.ok_or_else(|| bad("the key of this sealed file is gone"))?;
        Ok(PlainFile::Sealed(SealedReader::open(f, key)?))
    }
    pub fn len(&self) -> u64 {
        match self {
            PlainFile::Plain(_, n) => *n,
            PlainFile::Sealed(r) => r.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K: AsRef<FileKey>> Read for PlainFile<K> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match self {
            PlainFile::Plain(f, _) => f.read(out),
            PlainFile::Sealed(r) => r.read(out),
        }
    }
}

impl<K: AsRef<FileKey>> Seek for PlainFile<K> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        match self {
            PlainFile::Plain(f, _) => f.seek(to),
            PlainFile::Sealed(r) => r.seek(to),
        }
    }
}
