//! The call's [`RecordingSealer`]: a finished recording segment (its manifest and files, by
//! SHA-256) becomes a `recordings_sealed` entry of the hearing's audit chain, in one
//! transaction with the hearing's event list. And the records outbox's [`OutcomeSealer`]: the
//! platform's final answer to a decision's write-back becomes a `write_back` event of the
//! hearing, in the transaction that marks the outbox row (issue 16).

use async_trait::async_trait;
use serde_json::json;

use super::Hearing;
use super::{
    lifecycle,
    ports::{self, SealedFile},
    service::{SYSTEM, record},
    store,
};
use crate::{
    call::sealer::{RecordingSealer, SealRequest},
    error::AppError,
    records::outbox::OutcomeSealer,
    store::Tx,
};

pub struct HearingSealer(pub Hearing);

fn digest(hex_str: &str) -> anyhow::Result<[u8; 32]> {
    let v = hex::decode(hex_str)?;
    <[u8; 32]>::try_from(v.as_slice()).map_err(|_| anyhow::anyhow!("sha256 of {} bytes", v.len()))
}

#[async_trait]
impl RecordingSealer for HearingSealer {
    async fn seal(&self, req: &SealRequest) -> anyhow::Result<Option<i64>> {
        let state = &self.0;
        let mut files = vec![SealedFile {
            id: req.manifest_id.clone(),
            sha256: digest(&req.manifest_sha256)?,
            bytes: req.manifest_bytes,
        }];
        for f in &req.files {
            files.push(SealedFile {
                id: f.id.clone(),
                sha256: digest(&f.sha256)?,
                bytes: f.bytes,
            });
        }
        let names: Vec<_> = req
            .files
            .iter()
            .map(|f| json!({"id": f.id, "name": f.name}))
            .collect();
        let payload = json!({
            "segment": req.segment,
            "manifest_id": req.manifest_id,
            "truncated": req.truncated,
            "files": names,
        });
        Ok(lifecycle::seal_entry(state, &req.hearing_id, &files, payload).await?)
    }
}

#[async_trait]
impl OutcomeSealer for HearingSealer {
    async fn seal_write_back(
        &self,
        tx: &mut Tx,
        hearing_id: &str,
        payload: serde_json::Value,
        at_ms: i64,
    ) -> Result<(), AppError> {
        let state = &self.0;
        match store::lock(tx, hearing_id).await? {
            Some(h) => {
                record(
                    state,
                    tx,
                    &h,
                    "event",
                    "write_back",
                    SYSTEM,
                    at_ms,
                    payload,
                    &[],
                )
                .await?;
            }
            // No hearing row (a queued decision of a removed hearing): still sealed in the log.
            None => {
                ports::audit_append(
                    tx,
                    hearing_id,
                    "write_back",
                    SYSTEM.0,
                    SYSTEM.1,
                    at_ms,
                    payload,
                    &[],
                )
                .await?;
            }
        }
        Ok(())
    }
}
