//! The audit log as a service: the signing key and its origin, signing checkpoints over
//! durable entries, building a hearing's offline bundle (the whole-log check is `verify_log`).
//!
//! Owns `Audit` (held in `AppState`); works on a `Db` so that the CLI and tests can use it
//! without the HTTP server or Redis.

use std::sync::Arc;

use ::audit::store as log;

use super::{
    bundle::Bundle,
    merkle,
    note::Signer,
    rotation::{self, Keyring, Rotation},
    store::{self, AuditError, SqlStore, StoredCheckpoint},
};
use crate::store::{Backend, Db};

/// The whole-log check lives in `verify_log`; kept reachable here for callers.
pub use super::verify_log::verify_log;

/// The log's signing identity and checkpoint policy.
#[derive(Clone, Debug)]
pub struct Audit {
    /// The key this process started with (config).
    pub signer: Arc<Signer>,
    /// Sign a checkpoint once this many entries are unsigned…
    pub every: u64,
    /// …or once the oldest unsigned entry waited this long.
    pub interval: std::time::Duration,
    /// The key in use now and where rotated keys are found (`rotation`).
    pub keyring: Arc<Keyring>,
}

impl Audit {
    /// A log signing with `signer`, following no rotation (tests, tools).
    pub fn new(signer: Arc<Signer>, every: u64, interval: std::time::Duration) -> Audit {
        let keyring = Arc::new(Keyring::new(signer.clone(), None));
        Audit {
            signer,
            every,
            interval,
            keyring,
        }
    }

    pub fn origin(&self) -> &str {
        self.signer.name()
    }

    /// At start: the configured key becomes current unless it was retired by a rotation
    /// (then the current key comes from the key directory): `rotation::adopt`.
    pub async fn register_key(&self, db: &Db, now_ms: i64) -> Result<(), AuditError> {
        let mut tx = db.begin().await?;
        rotation::adopt(&self.keyring, &mut tx, now_ms).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Rotates the signing key now (`rotation::rotate`); the new key signs from the next
    /// checkpoint, in this process and every other one on the data directory.
    /// `by` (role, id) is sealed with it on the `admin` chain, in the same transaction.
    pub async fn rotate_key(
        &self,
        db: &Db,
        by: (&str, &str),
        now_ms: i64,
    ) -> Result<Rotation, crate::error::AppError> {
        let mut tx = db.begin().await?;
        let (r, signer) = rotation::rotate(&self.keyring, &mut tx, now_ms).await?;
        let payload = serde_json::json!({"old_vkey": r.old_vkey, "new_vkey": r.new_vkey,
            "from_size": r.from_size, "endorsement": r.endorsement});
        super::append_on(&mut tx, "admin", "signing_key_rotated", by, now_ms, payload).await?;
        tx.commit().await?;
        db.durable().await?;
        rotation::install(&self.keyring, signer);
        Ok(r)
    }

    /// Signs a checkpoint of everything committed so far, unless the newest one already
    /// covers it; returns the newest checkpoint.
    #[tracing::instrument(skip_all, err)]
    pub async fn sign_checkpoint(
        &self,
        db: &Db,
        now_ms: i64,
    ) -> Result<StoredCheckpoint, AuditError> {
        let head = durable_head(db).await?;
        let mut w = db.write.acquire().await?;
        let signer = rotation::signer_for_signing(&self.keyring, &mut w).await?;
        let (cp, new) = log::sign_checkpoint(&mut SqlStore(&mut w), &signer, head, now_ms).await?;
        if new {
            metrics::counter!("audit_checkpoints_signed_total").increment(1);
        }
        Ok(cp)
    }

    /// The offline bundle of one hearing, proving to the newest checkpoint (signing one first
    /// if some of the hearing's entries are not yet covered).
    #[tracing::instrument(skip_all, err)]
    pub async fn bundle(
        &self,
        db: &Db,
        hearing_id: &str,
        consistency_from: Option<u64>,
        now_ms: i64,
    ) -> Result<Bundle, AuditError> {
        self.bundle_to(db, hearing_id, consistency_from, false, now_ms)
            .await
    }

    /// The citizen's proof file (docs/audit-format.md §13): the hearing's bundle proving to
    /// the checkpoint covering all its entries that most witnesses cosigned (the newest of
    /// those), or to the newest checkpoint while none covering it is cosigned yet.
    #[tracing::instrument(skip_all, err)]
    pub async fn witnessed_bundle(
        &self,
        db: &Db,
        hearing_id: &str,
        now_ms: i64,
    ) -> Result<Bundle, AuditError> {
        self.bundle_to(db, hearing_id, None, true, now_ms).await
    }

    async fn bundle_to(
        &self,
        db: &Db,
        hearing_id: &str,
        consistency_from: Option<u64>,
        witnessed: bool,
        now_ms: i64,
    ) -> Result<Bundle, AuditError> {
        let mut conn = db.read.acquire().await?;
        let rows = store::hearing_entries(&mut conn, hearing_id).await?;
        let Some(last) = rows.iter().map(|r| r.seq).max() else {
            return Err(AuditError::NotFound);
        };
        let mut cp = if witnessed {
            match store::best_witnessed_checkpoint(&mut conn, last + 1).await? {
                Some(cp) => Some(cp),
                None => store::latest_checkpoint(&mut conn).await?,
            }
        } else {
            store::latest_checkpoint(&mut conn).await?
        };
        if cp
            .as_ref()
            .is_none_or(|c| rows.iter().any(|r| r.seq >= c.size))
        {
            drop(conn);
            cp = Some(self.sign_checkpoint(db, now_ms).await?);
            conn = db.read.acquire().await?;
        }
        let cp = cp.ok_or(AuditError::NotFound)?;
        // The checkpoint with the witnesses' cosignatures that have arrived.
        let checkpoint = super::witnessing::cosigned_note(&mut conn, &cp).await?;
        let keys = store::keys(&mut conn)
            .await?
            .into_iter()
            .map(|k| k.vkey)
            .collect();
        let endorsements = store::endorsements(&mut conn).await?;
        log::bundle_of(
            &mut SqlStore(&mut conn),
            self.origin(),
            hearing_id,
            rows,
            &cp,
            consistency_from,
            keys,
        )
        .await
        .map(|mut bundle| {
            bundle.checkpoint = checkpoint;
            bundle.endorsements = endorsements;
            bundle
        })
    }
}

/// The tree head of everything committed, made durable first. On SQLite (WAL with
/// `synchronous=NORMAL`, where a commit is not fsynced by itself) a one-row write transaction
/// committed with `synchronous=FULL` fsyncs the WAL, and with it every earlier commit: the
/// group commit of the entries this checkpoint covers. PostgreSQL commits are durable already.
async fn durable_head(db: &Db) -> Result<(u64, merkle::Hash), AuditError> {
    if db.backend != Backend::Sqlite {
        let mut conn = db.read.acquire().await?;
        return store::current_head(&mut conn).await;
    }
    use sqlx::Connection;
    let mut w = db.write.acquire().await?;
    sqlx::query("PRAGMA synchronous=FULL")
        .execute(&mut *w)
        .await?;
    let head = async {
        let mut tx = w.begin().await?;
        sqlx::query("UPDATE audit_log_state SET size = size WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        let head = store::current_head(&mut tx).await?;
        tx.commit().await?;
        Ok::<_, AuditError>(head)
    }
    .await;
    sqlx::query("PRAGMA synchronous=NORMAL")
        .execute(&mut *w)
        .await?;
    head
}
