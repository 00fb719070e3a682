//! The `console` provider: writes each message to the log (phone masked) and appends it as one
//! JSON line `{"to", "text", "code", "at"}` to `DATA_DIR/sms-outbox.jsonl` (API.md, Operations).

use std::path::PathBuf;

use chrono::{DateTime, SecondsFormat, Utc};
use tokio::{io::AsyncWriteExt, sync::Mutex};

use crate::domain::PhoneNumber;

pub struct Console {
    path: PathBuf,
    lock: Mutex<()>,
}

impl Console {
    pub fn new(path: PathBuf) -> Console {
        Console {
            path,
            lock: Mutex::new(()),
        }
    }

    pub async fn send(
        &self,
        to: &PhoneNumber,
        text: &str,
        code: Option<&str>,
        at: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let line = serde_json::json!({
            "to": to.as_str(), "text": text, "code": code, "at": at.to_rfc3339_opts(SecondsFormat::Millis, true),
        });
        let mut bytes = serde_json::to_vec(&line)?;
        bytes.push(b'\n');
        let _guard = self.lock.lock().await;
        let mut f = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .await?;
        f.write_all(&bytes).await?;
        f.flush().await?;
        tracing::info!(to = %to.masked(), "sms (console provider) written to the outbox file");
        Ok(())
    }
}
