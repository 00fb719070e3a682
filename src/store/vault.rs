//! Per-hearing data keys for files at rest (issue 15 §3, docs/operations.md "Encryption at
//! rest"): each hearing gets one random AES-256 key per retention class (`recordings`,
//! `personal_data`, `case_file`), drawn when its first file of that class is stored, kept in
//! `hearing_keys` wrapped (AES-256-GCM) by the master key of `[storage] master_key_file`.
//! Files are sealed with `recordings::sealed`; the key id in each file's header finds its row.
//! Deleting a row is crypto-shredding: every copy of the class's files, backups included,
//! stops decrypting. Each row names the master key that wrapped it (`master_id`), and
//! `storage_master` the one the data directory is under: a process holding another refuses to
//! start or to draw keys; `rotate_master` re-wraps every row under a new master key in one
//! transaction. Owns `hearing_keys` and `storage_master`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use base64::Engine;
use recordings::sealed::FileKey;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use sqlx::AnyPool;

use super::Tx;

#[path = "vault_rotate.rs"]
mod rotate;
pub use rotate::{MasterRotation, rotate_master};

/// The class of a hearing's call recordings (deleted after `retention.recordings_days`).
pub const RECORDINGS: &str = "recordings";
/// The class of a hearing's personal files: the ID-card still, signatures (erased after
/// `retention.personal_data_days`).
pub const PERSONAL_DATA: &str = "personal_data";
/// The class of the violations' evidence photos shown at the notice: part of the case file,
/// kept like the decision (never shredded by the retention sweep).
pub const CASE_FILE: &str = "case_file";
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// `[storage]`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct StorageConfig {
    /// A file holding the 32-byte master key (64 hex characters or base64). Required in
    /// production; empty in development: generated once into `DATA_DIR/storage-master.key`.
    pub master_key_file: PathBuf,
}

/// The master key and the `hearing_keys` table.
pub struct Vault {
    master: LessSafeKey,
    /// The master key's public id (`master_id`).
    id: String,
    rng: SystemRandom,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(<redacted>)")
    }
}

impl Vault {
    /// The master key of `cfg`; in development an empty path means a key generated once into
    /// `data_dir` (mode 0600). Production refuses to start without one.
    pub fn from_config(
        cfg: &StorageConfig,
        production: bool,
        data_dir: &Path,
    ) -> anyhow::Result<Vault> {
        let text = if !cfg.master_key_file.as_os_str().is_empty() {
            std::fs::read_to_string(&cfg.master_key_file).with_context(|| {
                format!(
                    "cannot read storage.master_key_file {}",
                    cfg.master_key_file.display()
                )
            })?
        } else if production {
            anyhow::bail!(
                "storage.master_key_file must be set in production (RH_STORAGE__MASTER_KEY_FILE: a \
                 file with 32 bytes as 64 hex characters, e.g. `openssl rand -hex 32`); it wraps the \
                 keys of every recording and evidence file"
            );
        } else {
            String::from_utf8(crate::secrets::dev_secret(data_dir, "storage-master.key")?)?
        };
        Ok(Vault::new(&crate::secrets::key_32(
            &text,
            "storage.master_key_file",
        )?))
    }

    /// A master key file's key (64 hex characters or base64 of 32 bytes).
    pub fn from_file(path: &Path) -> anyhow::Result<Vault> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the master key file {}", path.display()))?;
        Ok(Vault::new(&crate::secrets::key_32(
            &text,
            &path.display().to_string(),
        )?))
    }

    /// The master key's id: the first 8 bytes of SHA-256 over a label and the key, hex. It
    /// names the key in tables and logs and reveals nothing of it.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Refuses a master key other than the one the data directory is under (after a
    /// rotation, a process still configured with the old key file): called at start.
    pub async fn check_current(&self, pool: &AnyPool) -> anyhow::Result<()> {
        let current: Option<String> =
            sqlx::query_scalar("SELECT master_id FROM storage_master WHERE id = 1")
                .fetch_optional(pool)
                .await?;
        self.is_current(current.as_deref())
    }

    fn is_current(&self, current: Option<&str>) -> anyhow::Result<()> {
        match current {
            Some(c) if c != self.id => anyhow::bail!(
                "storage: the data directory's hearing keys are under master key {c}, but \
                 storage.master_key_file holds key {}: the master key was rotated \
                 (`remote-hearing storage rotate-master-key`); configure the new key file",
                self.id
            ),
            _ => Ok(()),
        }
    }

    pub fn new(raw: &[u8; 32]) -> Vault {
        let unbound = match UnboundKey::new(&AES_256_GCM, raw) {
            Ok(k) => k,
            Err(_) => unreachable!("32 bytes are an AES-256 key"),
        };
        let mut label = b"remote-hearing storage master key id\n".to_vec();
        label.extend_from_slice(raw);
        let digest = ring::digest::digest(&ring::digest::SHA256, &label);
        Vault {
            master: LessSafeKey::new(unbound),
            id: hex::encode(&digest.as_ref()[..8]),
            rng: SystemRandom::new(),
        }
    }

    pub(crate) fn aad(hearing_id: &str, class: &str, key_id: &str) -> String {
        format!("hearing_keys|{hearing_id}|{class}|{key_id}")
    }

    pub(crate) fn wrap(&self, aad: &str, raw: &[u8; 32]) -> anyhow::Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| anyhow::anyhow!("rng failed"))?;
        let mut buf = raw.to_vec();
        self.master
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut buf,
            )
            .map_err(|_| anyhow::anyhow!("wrapping a key failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(B64.encode(out))
    }

    pub(crate) fn unwrap_key(&self, aad: &str, wrapped: &str) -> anyhow::Result<[u8; 32]> {
        let mut raw = B64.decode(wrapped)?;
        if raw.len() != NONCE_LEN + 32 + 16 {
            anyhow::bail!("a wrapped key of the wrong length");
        }
        let nonce = Nonce::try_assume_unique_for_key(&raw[..NONCE_LEN])
            .map_err(|_| anyhow::anyhow!("bad nonce"))?;
        let plain = self
            .master
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut raw[NONCE_LEN..])
            .map_err(|_| {
                anyhow::anyhow!(
                    "a hearing key does not unwrap: another master key, or an altered row"
                )
            })?;
        plain
            .try_into()
            .map_err(|_| anyhow::anyhow!("a wrapped key of the wrong length"))
    }

    fn file_key(
        &self,
        hearing_id: &str,
        class: &str,
        id: &str,
        (wrapped, master): (&str, Option<&str>),
    ) -> anyhow::Result<FileKey> {
        if let Some(m) = master.filter(|m| *m != self.id) {
            anyhow::bail!(
                "hearing key {id} is wrapped by master key {m}, this process holds {}: restart it \
                 with the current storage.master_key_file",
                self.id
            );
        }
        let raw = self.unwrap_key(&Self::aad(hearing_id, class, id), wrapped)?;
        let id: [u8; 16] = hex::decode(id)?
            .try_into()
            .map_err(|_| anyhow::anyhow!("a key id of the wrong length"))?;
        Ok(FileKey::new(id, &raw))
    }

    /// The hearing's key of `class`, drawn and stored on first use, inside `tx` (concurrent
    /// first uses agree on one row); an existing key costs one read.
    pub async fn key_in(
        &self,
        tx: &mut Tx,
        hearing_id: &str,
        class: &str,
        now_ms: i64,
    ) -> anyhow::Result<Arc<FileKey>> {
        if let Some(k) = self.stored_key(&mut **tx, hearing_id, class).await? {
            return Ok(k);
        }
        let (mut raw, mut id) = ([0u8; 32], [0u8; 16]);
        self.rng
            .fill(&mut raw)
            .and_then(|_| self.rng.fill(&mut id))
            .map_err(|_| anyhow::anyhow!("rng failed"))?;
        let id_hex = hex::encode(id);
        // The first key ever names the data directory's master; a retired one draws nothing.
        sqlx::query(
            "INSERT INTO storage_master (id, master_id, since) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&self.id)
        .bind(now_ms)
        .execute(&mut **tx)
        .await?;
        let current: String =
            sqlx::query_scalar("SELECT master_id FROM storage_master WHERE id = 1")
                .fetch_one(&mut **tx)
                .await?;
        self.is_current(Some(&current))?;
        let wrapped = self.wrap(&Self::aad(hearing_id, class, &id_hex), &raw)?;
        sqlx::query(
            "INSERT INTO hearing_keys (key_id, hearing_id, class, wrapped, created_at, master_id) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (hearing_id, class) DO NOTHING",
        )
        .bind(&id_hex)
        .bind(hearing_id)
        .bind(class)
        .bind(&wrapped)
        .bind(now_ms)
        .bind(&self.id)
        .execute(&mut **tx)
        .await?;
        self.stored_key(&mut **tx, hearing_id, class)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the hearing key just stored is missing"))
    }

    /// The hearing's stored key of `class`, if there is one (opened only under the master key
    /// that wrapped it).
    async fn stored_key<'e, E>(
        &self,
        db: E,
        hearing_id: &str,
        class: &str,
    ) -> anyhow::Result<Option<Arc<FileKey>>>
    where
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        let row: Option<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT key_id, wrapped, master_id FROM hearing_keys WHERE hearing_id = $1 AND class = $2",
        )
        .bind(hearing_id)
        .bind(class)
        .fetch_optional(db)
        .await?;
        row.map(|(id, w, m)| {
            self.file_key(hearing_id, class, &id, (&w, m.as_deref()))
                .map(Arc::new)
        })
        .transpose()
    }

    /// [`Vault::key_in`] in its own transaction.
    pub async fn key_for(
        &self,
        db: &super::Db,
        hearing_id: &str,
        class: &str,
        now_ms: i64,
    ) -> anyhow::Result<Arc<FileKey>> {
        let mut tx = db.begin().await?;
        let k = self.key_in(&mut tx, hearing_id, class, now_ms).await?;
        tx.commit().await?;
        Ok(k)
    }

    /// The key of id `key_id` if it still exists and belongs to `hearing_id` (None once the
    /// retention sweep destroyed it); `db` is a pool or a transaction's connection.
    pub async fn key_by_id<'e, E>(
        &self,
        db: E,
        hearing_id: &str,
        key_id: &[u8; 16],
    ) -> anyhow::Result<Option<Arc<FileKey>>>
    where
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        let id = hex::encode(key_id);
        let row: Option<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT class, wrapped, master_id FROM hearing_keys WHERE key_id = $1 AND hearing_id = $2",
        )
        .bind(&id)
        .bind(hearing_id)
        .fetch_optional(db)
        .await?;
        row.map(|(class, w, m)| {
            self.file_key(hearing_id, &class, &id, (&w, m.as_deref()))
                .map(Arc::new)
        })
        .transpose()
    }

    /// Destroys the hearing's key of `class` inside `tx` (crypto-shredding); its id (hex) when
    /// there was one.
    pub async fn destroy(
        tx: &mut Tx,
        hearing_id: &str,
        class: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT key_id FROM hearing_keys WHERE hearing_id = $1 AND class = $2",
        )
        .bind(hearing_id)
        .bind(class)
        .fetch_optional(&mut **tx)
        .await?;
        sqlx::query("DELETE FROM hearing_keys WHERE hearing_id = $1 AND class = $2")
            .bind(hearing_id)
            .bind(class)
            .execute(&mut **tx)
            .await?;
        Ok(id)
    }

    /// Seals a blob (an evidence image) for the hearing's `class` key, inside `tx`.
    pub async fn seal_blob(
        &self,
        tx: &mut Tx,
        hearing_id: &str,
        class: &str,
        now_ms: i64,
        plain: &[u8],
    ) -> anyhow::Result<Vec<u8>> {
        let key = self.key_in(tx, hearing_id, class, now_ms).await?;
        Ok(recordings::sealed::seal_bytes(&key, plain)?)
    }

    /// A stored blob as plaintext: opened when sealed, passed through when it was stored before
    /// encryption. An error when its key is gone or it does not decrypt. `db` is a pool or a
    /// transaction's connection.
    pub async fn open_blob<'e, E>(
        &self,
        db: E,
        hearing_id: &str,
        stored: Vec<u8>,
    ) -> anyhow::Result<Vec<u8>>
    where
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        let Some(id) = recordings::sealed::key_id(&stored) else {
            return Ok(stored);
        };
        let key = self
            .key_by_id(db, hearing_id, &id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the key of this sealed file was destroyed"))?;
        Ok(recordings::sealed::open_bytes(&key, &stored)?)
    }
}

#[cfg(test)]
#[path = "vault_tests.rs"]
mod tests;
