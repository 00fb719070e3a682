//! The `console` provider (development default): writes each message to the log (phone masked)
//! and appends it as one JSON line `{"to", "text", "code", "at"}` to `DATA_DIR/sms-outbox.jsonl`
//! (API.md, Operations), so that a developer and the tests can read the codes.

use std::path::PathBuf;

use chrono::SecondsFormat;
use tokio::{io::AsyncWriteExt, sync::Mutex};

use crate::clock::SharedClock;

use super::provider::{Accepted, Outgoing, Provider, SendError, SendFuture, mask_phone};

pub struct Console {
    path: PathBuf,
    lock: Mutex<()>,
    clock: SharedClock,
}

impl Console {
    pub fn new(path: PathBuf, clock: SharedClock) -> Console {
        Console {
            path,
            lock: Mutex::new(()),
            clock,
        }
    }

    async fn write(&self, msg: &Outgoing) -> std::io::Result<()> {
        let at = self
            .clock
            .now()
            .to_rfc3339_opts(SecondsFormat::Millis, true);
        let line =
            serde_json::json!({"to": msg.phone, "text": msg.text, "code": msg.code, "at": at});
        let mut bytes = line.to_string().into_bytes();
        bytes.push(b'\n');
        let _guard = self.lock.lock().await;
        let mut f = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .await?;
        f.write_all(&bytes).await?;
        f.flush().await?;
        tracing::info!(to = %mask_phone(&msg.phone), template = %msg.template, "sms (console provider) written to the outbox file");
        Ok(())
    }
}

impl Provider for Console {
    fn name(&self) -> &'static str {
        "console"
    }

    fn send<'a>(&'a self, msg: &'a Outgoing) -> SendFuture<'a> {
        Box::pin(async move {
            self.write(msg)
                .await
                .map_err(|e| SendError::Transport(format!("outbox file: {e}")))?;
            Ok(Accepted {
                provider_message_id: format!("console-{}", msg.message_id),
            })
        })
    }
}
