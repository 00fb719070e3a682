//! The witnessing job: submits each new checkpoint to the witnesses of `[[audit.witnesses]]`
//! (c2sp.org/tlog-witness), stores their checked cosignatures in `audit_cosignatures`, and
//! serves checkpoints with them appended. Runs beside the checkpointer, reading the newest
//! checkpoint; a slow or absent witness only delays its own cosignature, never a hearing.
//!
//! Per witness: the size it is at (from our stored cosignatures, corrected by its 409s), and
//! an exponential backoff (1 s … 5 min) after a refusal, a bad answer or a timeout. Gauge
//! `audit_witness_lag{witness}` = newest checkpoint size − the witness's cosigned size; gauge
//! `audit_witness_behind_seconds{witness}` = how long it has lacked the newest checkpoint
//! without cosigning anything new, and past `audit.witness_alert_after_s` one alert (an error
//! line and `audit_witness_behind_alerts_total{witness}`) until it cosigns again.

use std::time::{Duration, Instant};

use sqlx::{AnyConnection, Row};
use tokio::sync::watch;

use super::{
    cosign::{CosignVerifier, Cosignature},
    store::{self, AuditError, StoredCheckpoint},
    witness_client::{self, Outcome, Witness},
};
use crate::{
    clock::{SharedClock, to_ms},
    store::Db,
};

pub use super::config::WitnessConfig;

impl WitnessConfig {
    pub fn parse(&self) -> anyhow::Result<Witness> {
        let key = CosignVerifier::parse(&self.vkey)
            .map_err(|e| anyhow::anyhow!("audit.witnesses {}: vkey: {e}", self.name))?;
        if key.name != self.name {
            anyhow::bail!("audit.witnesses {}: the vkey names {}", self.name, key.name);
        }
        let url = url::Url::parse(&self.url)
            .map_err(|e| anyhow::anyhow!("audit.witnesses {}: url: {e}", self.name))?;
        if !matches!(url.scheme(), "http" | "https") {
            anyhow::bail!("audit.witnesses {}: url must be http(s)", self.name);
        }
        Ok(Witness {
            key,
            url: self.url.trim_end_matches('/').to_string(),
        })
    }
}

/// A cosignature row.
async fn insert(
    conn: &mut AnyConnection,
    w: &Witness,
    cp: &StoredCheckpoint,
    c: &Cosignature,
    now_ms: i64,
) -> Result<(), AuditError> {
    sqlx::query(
        "INSERT INTO audit_cosignatures (witness, key_id, size, root, cosigned_at, line, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (witness, key_id, size) DO NOTHING",
    )
    .bind(&w.key.name)
    .bind(hex::encode(w.key.key_id))
    .bind(i64::try_from(cp.size).map_err(|_| AuditError::Invalid("size"))?)
    .bind(hex::encode(cp.root))
    .bind(i64::try_from(c.timestamp).map_err(|_| AuditError::Invalid("timestamp"))?)
    .bind(&c.line)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The largest size `w` cosigned for us.
async fn witnessed_size(conn: &mut AnyConnection, w: &Witness) -> Result<u64, AuditError> {
    let row = sqlx::query(
        "SELECT MAX(size) AS s FROM audit_cosignatures WHERE witness = $1 AND key_id = $2",
    )
    .bind(&w.key.name)
    .bind(hex::encode(w.key.key_id))
    .fetch_one(&mut *conn)
    .await?;
    let s: Option<i64> = row.try_get("s")?;
    Ok(s.map_or(0, |s| s.max(0) as u64))
}

/// `cp`'s note with the stored cosignatures of its tree appended (one line per witness key).
pub async fn cosigned_note(
    conn: &mut AnyConnection,
    cp: &StoredCheckpoint,
) -> Result<String, AuditError> {
    let rows = sqlx::query(
        "SELECT line FROM audit_cosignatures WHERE size = $1 AND root = $2 ORDER BY witness, key_id",
    )
    .bind(i64::try_from(cp.size).map_err(|_| AuditError::Invalid("size"))?)
    .bind(hex::encode(cp.root))
    .fetch_all(&mut *conn)
    .await?;
    let mut note = cp.note.clone();
    for r in rows {
        note.push_str(&r.try_get::<String, _>("line")?);
        note.push('\n');
    }
    Ok(note)
}

struct Follower {
    w: Witness,
    /// The size the witness is at, as far as we know (None: not read yet).
    at: Option<u64>,
    backoff: Duration,
    next_try: Instant,
    /// The newest checkpoint size seen.
    newest: u64,
    /// Since when the witness lacks the newest checkpoint, and whether that was alerted.
    behind_since: Option<Instant>,
    alerted: bool,
}

const MIN_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(300);

impl Follower {
    fn failed(&mut self, outcome: &Outcome) {
        metrics::counter!("audit_witness_failures_total", "witness" => self.w.key.name.clone(), "reason" => outcome.label()).increment(1);
        tracing::warn!(witness = %self.w.key.name, ?outcome, retry_in_s = self.backoff.as_secs(), "witness did not cosign");
        self.next_try = Instant::now() + self.backoff;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
    }

    /// It cosigned something new: a stall (if any) is over.
    fn progressed(&mut self) {
        if self.alerted {
            tracing::info!(witness = %self.w.key.name, size = self.newest, "witness cosigning again");
        }
        self.behind_since = None;
        self.alerted = false;
    }

    /// The behind gauge (time without progress while lacking the newest checkpoint: under a
    /// steady append rate a live witness is always a checkpoint or two behind, but it moves)
    /// and one alert per stall longer than `alert_after`.
    fn track(&mut self, alert_after: Duration) {
        let name = self.w.key.name.clone();
        let behind = self.at.is_some_and(|a| a < self.newest);
        if !behind {
            self.progressed();
            metrics::gauge!("audit_witness_behind_seconds", "witness" => name).set(0.0);
            return;
        }
        let for_ = self.behind_since.get_or_insert_with(Instant::now).elapsed();
        metrics::gauge!("audit_witness_behind_seconds", "witness" => name.clone())
            .set(for_.as_secs_f64());
        if for_ >= alert_after && !self.alerted {
            self.alerted = true;
            metrics::counter!("audit_witness_behind_alerts_total", "witness" => name.clone())
                .increment(1);
            tracing::error!(witness = %name, behind_s = for_.as_secs(), at = ?self.at, newest = self.newest, "witness is behind: it has not cosigned the newest checkpoint");
        }
    }
}

/// What the job needs: the database, the clock, the witnesses and timings.
pub struct Job {
    pub db: Db,
    pub clock: SharedClock,
    pub witnesses: Vec<WitnessConfig>,
    /// Timeout of one request.
    pub timeout: Duration,
    /// How often the newest checkpoint is looked at.
    pub poll: Duration,
    /// Alert once a witness lacks the newest checkpoint this long.
    pub alert_after: Duration,
}

/// Runs until `stop`; does nothing without witnesses.
pub async fn run(job: Job, mut stop: watch::Receiver<bool>) {
    let mut followers: Vec<Follower> = Vec::new();
    for c in &job.witnesses {
        match c.parse() {
            Ok(w) => followers.push(Follower {
                w,
                at: None,
                backoff: MIN_BACKOFF,
                next_try: Instant::now(),
                newest: 0,
                behind_since: None,
                alerted: false,
            }),
            Err(e) => tracing::error!(error = %e, "audit witness ignored"),
        }
    }
    if followers.is_empty() {
        return;
    }
    let http = reqwest::Client::new();
    loop {
        let round = futures::future::join_all(followers.iter_mut().map(|f| step(&job, &http, f)));
        tokio::select! {
            _ = round => {}
            _ = stop.changed() => break,
        }
        if !crate::jobs::tick(&mut stop, job.poll).await {
            break;
        }
    }
}

async fn step(job: &Job, http: &reqwest::Client, f: &mut Follower) {
    if Instant::now() >= f.next_try
        && let Err(e) = try_step(job, http, f).await
    {
        tracing::warn!(witness = %f.w.key.name, error = %e, "audit witnessing");
        f.next_try = Instant::now() + f.backoff;
    }
    f.track(job.alert_after);
}

async fn try_step(job: &Job, http: &reqwest::Client, f: &mut Follower) -> Result<(), AuditError> {
    let mut conn = job.db.read.acquire().await?;
    let Some(cp) = store::latest_checkpoint(&mut conn).await? else {
        return Ok(());
    };
    let mut at = match f.at {
        Some(a) => a,
        None => witnessed_size(&mut conn, &f.w).await?,
    };
    f.at = Some(at);
    f.newest = cp.size;
    let lag = |at: u64| cp.size.saturating_sub(at) as f64;
    metrics::gauge!("audit_witness_lag", "witness" => f.w.key.name.clone()).set(lag(at));
    if at == cp.size {
        return Ok(());
    }
    // At most: one try, one resend after a 409.
    for _ in 0..2 {
        if at > cp.size {
            let o = Outcome::BadAnswer(format!(
                "the witness says it is at size {at}, beyond our newest checkpoint {}",
                cp.size
            ));
            tracing::error!(witness = %f.w.key.name, at, size = cp.size, "witness is ahead of the log: restored database or fork?");
            f.failed(&o);
            return Ok(());
        }
        let proof = if at == 0 || at == cp.size {
            vec![]
        } else {
            store::consistency_proof(&mut conn, at, cp.size).await?
        };
        let started = Instant::now();
        let outcome =
            witness_client::add_checkpoint(http, &f.w, at, &proof, &cp.note, job.timeout).await;
        match outcome {
            Outcome::Cosigned(c) => {
                metrics::histogram!("audit_witness_cosign_seconds", "witness" => f.w.key.name.clone())
                    .record(started.elapsed().as_secs_f64());
                drop(conn);
                let mut w = job.db.write.acquire().await?;
                insert(&mut w, &f.w, &cp, &c, to_ms(job.clock.now())).await?;
                f.at = Some(cp.size);
                f.backoff = MIN_BACKOFF;
                f.progressed();
                metrics::gauge!("audit_witness_lag", "witness" => f.w.key.name.clone())
                    .set(lag(cp.size));
                tracing::debug!(witness = %f.w.key.name, size = cp.size, "checkpoint cosigned");
                return Ok(());
            }
            Outcome::Conflict(n) => {
                tracing::info!(witness = %f.w.key.name, from = at, witness_at = n, "witness at another size; resending");
                // From its size (if it is at ours already, its cosignature was lost to us:
                // resending with no proof gets a fresh one).
                at = n;
                f.at = Some(n);
            }
            other => {
                f.failed(&other);
                return Ok(());
            }
        }
    }
    f.failed(&Outcome::BadAnswer("repeated 409".into()));
    Ok(())
}
