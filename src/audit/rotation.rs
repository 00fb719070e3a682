//! Rotating the log's signing key without a restart (issue 15 §1).
//!
//! `audit_keys` says which key is current (the row whose range is open). Rotated keys live as
//! PKCS#8 files in the key directory (`audit.key_dir`, default `<data_dir>/audit-keys`, each
//! `<key id hex>.p8`, mode 0600), shared by every process on the data directory. Before it
//! signs, a process reads the current key from the table: its own, it signs; another, it loads
//! that key's file and signs with it; no such file, it refuses (`KeyRetired`), so an old
//! process never signs past its key's range. A rotation writes the new key's file first, then
//! in one transaction closes the old range, opens the new one and stores the endorsement: a
//! signed note naming both keys, signed by the old key and the new one, which lets an auditor
//! who pinned the old key accept the new one (docs/audit-format.md); offline verifiers follow it with `audit::endorse`.
//!
//! At start ([`adopt`]): the configured key becomes current on an empty table or when it is
//! new (a rotation by restart, as before); a configured key that was already retired is never
//! current again — the process takes the current key from the key directory, or refuses to
//! start.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;
use sqlx::AnyConnection;

use super::note::Signer;
use super::store::{self, AuditError};

/// The key this process signs with, and where rotated keys are found.
#[derive(Debug)]
pub struct Keyring {
    dir: Option<PathBuf>,
    current: ArcSwap<Signer>,
}

impl Keyring {
    /// A process that follows rotations through `dir`.
    pub fn new(signer: Arc<Signer>, dir: Option<PathBuf>) -> Keyring {
        Keyring {
            dir,
            current: ArcSwap::new(signer),
        }
    }

    /// The key in use now.
    pub fn current(&self) -> Arc<Signer> {
        self.current.load_full()
    }

    fn file_of(&self, vkey: &str) -> Option<PathBuf> {
        let id = key_id_hex(vkey)?;
        self.dir.as_ref().map(|d| d.join(format!("{id}.p8")))
    }

    /// Loads the private key of verifier key `vkey` from the key directory, if it is there
    /// and really is that key.
    fn load(&self, vkey: &str) -> Option<Signer> {
        let path = self.file_of(vkey)?;
        let der = std::fs::read(&path).ok()?;
        let name = self.current().name().to_string();
        let s = Signer::from_pkcs8(&name, &der).ok()?;
        (s.verifier().to_string() == vkey).then_some(s)
    }
}

/// The key id (hex) of a verifier key `name+keyid+base64`.
fn key_id_hex(vkey: &str) -> Option<String> {
    let id = vkey.split('+').nth(1)?;
    (id.len() == 8 && id.bytes().all(|b| b.is_ascii_hexdigit())).then(|| id.to_string())
}

async fn current_vkey(conn: &mut AnyConnection) -> Result<Option<String>, AuditError> {
    Ok(
        sqlx::query_scalar("SELECT vkey FROM audit_keys WHERE to_size IS NULL")
            .fetch_optional(&mut *conn)
            .await?,
    )
}

/// The signer for the next checkpoint (on the writer connection, so no rotation slips in
/// between): the table's current key, loaded from the key directory if this process was
/// signing with another; `KeyRetired` if it cannot have it.
pub async fn signer_for_signing(
    ring: &Keyring,
    conn: &mut AnyConnection,
) -> Result<Arc<Signer>, AuditError> {
    let mine = ring.current();
    let Some(vkey) = current_vkey(conn).await? else {
        return Ok(mine);
    };
    if vkey == mine.verifier().to_string() {
        return Ok(mine);
    }
    let Some(next) = ring.load(&vkey) else {
        metrics::counter!("audit_sign_refused_total").increment(1);
        tracing::error!(current = %vkey, mine = %mine.verifier(), "the audit key was rotated and its file is not in the key directory: not signing");
        return Err(AuditError::KeyRetired(vkey));
    };
    tracing::info!(vkey = %vkey, "signing with the rotated audit key");
    let next = Arc::new(next);
    ring.current.store(next.clone());
    Ok(next)
}

/// At start: makes the configured key current unless it was retired (see the module doc).
pub async fn adopt(
    ring: &Keyring,
    conn: &mut AnyConnection,
    now_ms: i64,
) -> Result<(), AuditError> {
    let configured = ring.current().verifier().to_string();
    let current = current_vkey(conn).await?;
    if current.is_none() || current.as_deref() == Some(configured.as_str()) {
        return store::ensure_current_key(conn, &configured, now_ms).await;
    }
    let known: Option<i64> = sqlx::query_scalar("SELECT from_size FROM audit_keys WHERE vkey = $1")
        .bind(&configured)
        .fetch_optional(&mut *conn)
        .await?;
    if known.is_none() {
        return store::ensure_current_key(conn, &configured, now_ms).await;
    }
    signer_for_signing(ring, conn).await.map(|_| ())
}

/// A finished rotation.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub old_vkey: String,
    pub new_vkey: String,
    /// The tree size the new key's range starts at.
    pub from_size: u64,
    /// The signed note naming both keys (signed by the old key, then the new one).
    pub endorsement: String,
}

/// The endorsement's text (docs/audit-format.md "Key rotation").
pub fn endorsement_text(origin: &str, old: &str, new: &str, from_size: u64) -> String {
    ::audit::endorse::text(origin, old, new, from_size)
}

/// Generates a key, writes its file, and makes it current with its endorsement; the caller's
/// transaction `conn` commits it. `now_ms` is when.
pub async fn rotate(
    ring: &Keyring,
    conn: &mut AnyConnection,
    now_ms: i64,
) -> Result<(Rotation, Arc<Signer>), AuditError> {
    let old = signer_for_signing(ring, conn).await?;
    let dir = ring
        .dir
        .as_deref()
        .ok_or(AuditError::Invalid("this process has no key directory"))?;
    let der = Signer::generate_pkcs8().map_err(|_| AuditError::Invalid("key generation"))?;
    let new = Signer::from_pkcs8(old.name(), &der).map_err(|_| AuditError::Invalid("new key"))?;
    let new_vkey = new.verifier().to_string();
    let path = ring
        .file_of(&new_vkey)
        .ok_or(AuditError::Invalid("new key id"))?;
    write_key(dir, &path, &der)?;
    store::ensure_current_key(conn, &new_vkey, now_ms).await?;
    let from: i64 = sqlx::query_scalar("SELECT from_size FROM audit_keys WHERE vkey = $1")
        .bind(&new_vkey)
        .fetch_one(&mut *conn)
        .await?;
    let from_size = u64::try_from(from).map_err(|_| AuditError::Corrupt("from_size".into()))?;
    let old_vkey = old.verifier().to_string();
    let body = endorsement_text(old.name(), &old_vkey, &new_vkey, from_size);
    let endorsement = format!(
        "{body}\n{}\n{}\n",
        old.signature_line(&body),
        new.signature_line(&body)
    );
    sqlx::query("UPDATE audit_keys SET endorsement = $1 WHERE vkey = $2")
        .bind(&endorsement)
        .bind(&new_vkey)
        .execute(&mut *conn)
        .await?;
    let r = Rotation {
        old_vkey,
        new_vkey,
        from_size,
        endorsement,
    };
    Ok((r, Arc::new(new)))
}

/// Makes `signer` the key in use (after the rotation's transaction committed).
pub fn install(ring: &Keyring, signer: Arc<Signer>) {
    ring.current.store(signer);
}

fn write_key(dir: &Path, path: &Path, der: &[u8]) -> Result<(), AuditError> {
    let io = |e: std::io::Error| AuditError::Corrupt(format!("writing the new audit key: {e}"));
    std::fs::create_dir_all(dir).map_err(io)?;
    super::keys::write_private(path, der).map_err(|e| AuditError::Corrupt(format!("{e:#}")))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_come_from_the_verifier_key() {
        assert_eq!(
            key_id_hex("a.example/log+0a1b2c3d+AAAA").as_deref(),
            Some("0a1b2c3d")
        );
        assert_eq!(key_id_hex("a.example/log+../x+AAAA"), None);
        assert_eq!(key_id_hex("nokey"), None);
    }

    #[test]
    fn the_endorsement_names_both_keys_and_the_size() {
        let t = endorsement_text("o", "o+1+a", "o+2+b", 7);
        assert_eq!(
            t,
            "remote-hearing audit key rotation\no\nold o+1+a\nnew o+2+b\nfrom 7\n"
        );
    }
}
