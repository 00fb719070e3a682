//! Indexing finished recording segments in the `recordings` table and sealing their manifests
//! into the audit log through [`RecordingSealer`] (implemented by `hearing::sealer::HearingSealer`,
//! wired in `startup`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use recordings::Manifest;
use serde::Serialize;
use tokio::sync::watch;

use super::Call;

/// One file of a sealed segment.
#[derive(Debug, Clone, Serialize)]
pub struct SealedFile {
    pub id: String,
    pub name: String,
    pub sha256: String,
    pub bytes: u64,
}

/// What is sealed: the manifest (by digest) and the files it lists.
#[derive(Debug, Clone, Serialize)]
pub struct SealRequest {
    pub hearing_id: String,
    pub segment: String,
    /// The recording id of the manifest file.
    pub manifest_id: String,
    pub manifest_sha256: String,
    pub manifest_bytes: u64,
    /// Recovered after a crash.
    pub truncated: bool,
    pub files: Vec<SealedFile>,
}

/// Appends a `recording` entry to the hearing's audit chain. Returns the audit sequence number.
/// The implementation holds what it needs (the server's is built in `startup`).
#[async_trait]
pub trait RecordingSealer: Send + Sync {
    async fn seal(&self, req: &SealRequest) -> anyhow::Result<Option<i64>>;
}

/// A sealer that only logs (tests of the call alone; the server wires `HearingSealer`).
pub struct LogSealer;

#[async_trait]
impl RecordingSealer for LogSealer {
    async fn seal(&self, req: &SealRequest) -> anyhow::Result<Option<i64>> {
        tracing::info!(hearing_id = %req.hearing_id, segment = %req.segment, sha256 = %req.manifest_sha256,
            truncated = req.truncated, "recording manifest sealed (log only)");
        Ok(None)
    }
}

/// The recordings job: indexes segments left by a previous run, then every finished segment.
pub async fn run(call: Call, sealer: Arc<dyn RecordingSealer>, mut stop: watch::Receiver<bool>) {
    let root = call.recordings_dir.clone();
    let sealer = sealer.as_ref();
    if let Err(e) = index_existing(&call, sealer, &root).await {
        tracing::error!(error = %e, "indexing existing recordings failed");
    }
    let Some(mut rx) = call.take_finished() else {
        return;
    };
    let mut sweep = tokio::time::interval(ORPHAN_SWEEP);
    sweep.tick().await; // the first tick is now: the start already recovered
    loop {
        tokio::select! {
            _ = sweep.tick() => {
                if let Err(e) = recover_orphans(&call, sealer).await {
                    tracing::error!(error = %e, "recovering other processes' cut recordings failed");
                }
            }
            seg = rx.recv() => {
                let Some(seg) = seg else { return };
                match seg.result {
                    Ok(m) => {
                        if let Err(e) = index_and_seal(&call, sealer, &root, &seg.dir, &m).await {
                            tracing::error!(error = %e, hearing_id = %seg.hearing_id, "indexing a recording failed");
                        }
                    }
                    Err(e) => tracing::error!(error = %e, hearing_id = %seg.hearing_id, "recording segment failed"),
                }
            }
            _ = stop.changed() => return,
        }
    }
}

/// How often a process finalises the segments of processes that died since (each process's
/// own are recovered when it starts).
const ORPHAN_SWEEP: std::time::Duration = std::time::Duration::from_secs(60);

/// Finalises (truncated), indexes and seals the unfinished segments of processes that are gone
/// (`recordings::owner`); a live process's segments are left alone. Returns how many.
pub async fn recover_orphans(call: &Call, sealer: &dyn RecordingSealer) -> anyhow::Result<usize> {
    let (root, lock) = (call.recordings_dir.clone(), call.node_lock.clone());
    let done =
        tokio::task::spawn_blocking(move || recordings::recover_orphans(&root, &lock)).await??;
    if !done.is_empty() {
        tracing::warn!(
            segments = done.len(),
            "recovered recordings of a process that is gone"
        );
    }
    for (dir, m) in &done {
        index_and_seal(call, sealer, &call.recordings_dir, dir, m).await?;
    }
    Ok(done.len())
}

/// Segments with a manifest that the table does not know yet (crash recovery, or a crash
/// between finalising and indexing).
async fn index_existing(
    call: &Call,
    sealer: &dyn RecordingSealer,
    root: &Path,
) -> anyhow::Result<()> {
    let r = root.to_owned();
    let found =
        tokio::task::spawn_blocking(move || -> std::io::Result<Vec<(PathBuf, Manifest)>> {
            let mut out = Vec::new();
            let Ok(hearings) = std::fs::read_dir(&r) else {
                return Ok(out);
            };
            for h in hearings.flatten() {
                let Ok(segs) = std::fs::read_dir(h.path()) else {
                    continue;
                };
                for s in segs.flatten() {
                    let m = s.path().join(recordings::segment::MANIFEST);
                    if let Ok(bytes) = std::fs::read(&m)
                        && let Ok(man) = serde_json::from_slice::<Manifest>(&bytes)
                    {
                        out.push((s.path(), man));
                    }
                }
            }
            Ok(out)
        })
        .await??;
    for (dir, m) in found {
        index_and_seal(call, sealer, root, &dir, &m).await?;
    }
    Ok(())
}

fn rel(root: &Path, p: &Path) -> anyhow::Result<String> {
    let r = p.strip_prefix(root)?;
    r.to_str()
        .map(|s| s.replace('\\', "/"))
        .ok_or_else(|| anyhow::anyhow!("non-UTF-8 recording path"))
}

/// A listed file: participant, kind, the file, first and last time (unix µs), truncated.
type Listed<'a> = (
    &'a str,
    &'a str,
    &'a recordings::FileEntry,
    Option<i64>,
    Option<i64>,
    bool,
);

/// Encrypts every file the manifest lists in place with the hearing's `recordings` key
/// (`recordings::sealed`; the manifest's digests stay those of the plaintext), before the
/// segment is indexed: a crash in between leaves files sealed or not, each whole, and the next
/// start seals the rest. The manifest itself stays plaintext (roles, counts, times, digests).
async fn seal_files(call: &Call, dir: &Path, m: &Manifest) -> anyhow::Result<()> {
    if m.hearing_id.is_empty() {
        return Ok(());
    }
    let key = call
        .vault
        .key_for(
            &call.db,
            &m.hearing_id,
            crate::store::vault::RECORDINGS,
            call.clock.now_ms(),
        )
        .await?;
    let paths: Vec<PathBuf> = m
        .tracks
        .iter()
        .flat_map(|t| t.files.iter())
        .chain(m.playback.iter().map(|p| &p.file))
        .map(|f| dir.join(&f.name))
        .collect();
    let sealed = tokio::task::spawn_blocking(move || -> std::io::Result<usize> {
        let mut n = 0;
        for p in paths.iter().filter(|p| p.exists()) {
            n += usize::from(recordings::sealed::seal_file(p, &key)?);
        }
        Ok(n)
    })
    .await??;
    metrics::counter!("recording_files_sealed_total").increment(sealed as u64);
    Ok(())
}

/// Inserts the segment's files (and its manifest) into `recordings`, then seals the manifest.
/// Idempotent: a segment already indexed is left alone.
pub async fn index_and_seal(
    call: &Call,
    sealer: &dyn RecordingSealer,
    root: &Path,
    dir: &Path,
    m: &Manifest,
) -> anyhow::Result<()> {
    let manifest_rel = rel(root, &dir.join(recordings::segment::MANIFEST))?;
    let known: Option<(String,)> = sqlx::query_as("SELECT id FROM recordings WHERE rel_path = $1")
        .bind(&manifest_rel)
        .fetch_optional(&call.db.read)
        .await?;
    if known.is_some() {
        return Ok(());
    }
    seal_files(call, dir, m).await?;
    let (manifest_sha256, manifest_bytes) = {
        let p = dir.join(recordings::segment::MANIFEST);
        tokio::task::spawn_blocking(move || recordings::hash_file(&p)).await??
    };
    let now = call.clock.now_ms();
    let ms = |us: Option<i64>| us.map(|u| u / 1000);
    let mut files = Vec::new();
    let mut tx = call.db.begin().await?;
    // every file the manifest lists: each track's capture and copy, each participant's WebM
    let mut listed: Vec<Listed> = Vec::new();
    for t in &m.tracks {
        for f in &t.files {
            let at = (t.first_at_us, t.last_at_us);
            listed.push((&t.participant, &t.kind, f, at.0, at.1, t.truncated));
        }
    }
    for p in &m.playback {
        let truncated = m
            .tracks
            .iter()
            .any(|t| t.participant == p.participant && t.truncated);
        let end = p.start_at_us.map(|s| s + p.duration_ms as i64 * 1000);
        listed.push((
            &p.participant,
            &p.kind,
            &p.file,
            p.start_at_us,
            end,
            truncated,
        ));
    }
    for (participant, kind, f, first_at_us, last_at_us, truncated) in listed {
        let id = crate::ids::new_id();
        sqlx::query(
            "INSERT INTO recordings (id, hearing_id, segment, participant, kind, format, rel_path, bytes, sha256, \
             started_at, ended_at, truncated, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)",
        )
        .bind(&id)
        .bind(&m.hearing_id)
        .bind(&m.segment)
        .bind(participant)
        .bind(kind)
        .bind(&f.format)
        .bind(rel(root, &dir.join(&f.name))?)
        .bind(f.bytes as i64)
        .bind(&f.sha256)
        .bind(ms(first_at_us))
        .bind(ms(last_at_us))
        .bind(i64::from(truncated))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        files.push(SealedFile {
            id,
            name: f.name.clone(),
            sha256: f.sha256.clone(),
            bytes: f.bytes,
        });
    }
    let manifest_id = crate::ids::new_id();
    sqlx::query(
        "INSERT INTO recordings (id, hearing_id, segment, participant, kind, format, rel_path, bytes, sha256, \
         started_at, ended_at, truncated, created_at) VALUES ($1,$2,$3,NULL,'manifest','json',$4,$5,$6,$7,$8,$9,$10)",
    )
    .bind(&manifest_id)
    .bind(&m.hearing_id)
    .bind(&m.segment)
    .bind(&manifest_rel)
    .bind(manifest_bytes as i64)
    .bind(&manifest_sha256)
    .bind(ms(m.started_at_us))
    .bind(ms(m.ended_at_us))
    .bind(i64::from(m.truncated))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    let req = SealRequest {
        hearing_id: m.hearing_id.clone(),
        segment: m.segment.clone(),
        manifest_id: manifest_id.clone(),
        manifest_sha256,
        manifest_bytes,
        truncated: m.truncated,
        files,
    };
    match sealer.seal(&req).await {
        Ok(Some(seq)) => {
            sqlx::query("UPDATE recordings SET audit_seq = $1 WHERE id = $2")
                .bind(seq)
                .bind(&manifest_id)
                .execute(&call.db.write)
                .await?;
        }
        Ok(None) => {}
        Err(e) => {
            tracing::error!(error = %e, hearing_id = %m.hearing_id, "sealing a recording failed")
        }
    }
    metrics::counter!("recording_segments_sealed_total").increment(1);
    Ok(())
}
