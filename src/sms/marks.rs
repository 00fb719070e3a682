//! What an attempt at a claimed outbox row decided (sent, retry later, failed), written back to
//! `sms_outbox`: one row alone in one statement, a worker's batch in one transaction (one
//! writer turn for the batch instead of one per message: issue 18 §2). Each update ends the
//! row's lease and only touches a row still `queued`.

use crate::{error::AppError, store::Db};

/// The outcome of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    /// Accepted by `provider` under its own message id.
    Sent {
        provider: String,
        provider_message_id: String,
    },
    /// Back to the queue, to be tried again at `next_at_ms`.
    Retry {
        provider: String,
        error: String,
        next_at_ms: i64,
    },
    /// Given up: rejected, throttled, out of attempts, or nothing to send.
    Failed { provider: String, error: String },
}

/// Writes `marks` (row id, outcome) at `now`: a single mark in one statement, several in one
/// transaction (all or none: on an error none is written, the leases run out and the rows are
/// tried again).
pub async fn record(db: &Db, now: i64, marks: &[(String, Mark)]) -> Result<(), AppError> {
    match marks {
        [] => Ok(()),
        [(id, mark)] => {
            query(now, id, mark).execute(&db.write).await?;
            Ok(())
        }
        _ => {
            let mut tx = db.begin().await?;
            for (id, mark) in marks {
                query(now, id, mark).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        }
    }
}

/// Marks one row sent by `provider` (a reminder delivered in WeChat, say).
pub async fn mark_sent(
    db: &Db,
    now: i64,
    id: &str,
    provider: &str,
    provider_message_id: &str,
) -> Result<(), AppError> {
    let sent = Mark::Sent {
        provider: provider.to_owned(),
        provider_message_id: provider_message_id.to_owned(),
    };
    record(db, now, &[(id.to_owned(), sent)]).await
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

fn query<'q>(now: i64, id: &'q str, mark: &'q Mark) -> Query<'q> {
    match mark {
        Mark::Sent {
            provider,
            provider_message_id,
        } => sqlx::query(
            "UPDATE sms_outbox SET status = 'sent', provider = $1, provider_message_id = $2, \
             sent_at = $3, locked_until = NULL, last_error = NULL, updated_at = $3 \
             WHERE id = $4 AND status = 'queued'",
        )
        .bind(provider.as_str())
        .bind(provider_message_id.as_str())
        .bind(now)
        .bind(id),
        Mark::Retry {
            provider,
            error,
            next_at_ms,
        } => sqlx::query(
            "UPDATE sms_outbox SET provider = $1, last_error = $2, next_attempt_at = $3, \
             locked_until = NULL, updated_at = $4 WHERE id = $5 AND status = 'queued'",
        )
        .bind(provider.as_str())
        .bind(error.as_str())
        .bind(*next_at_ms)
        .bind(now)
        .bind(id),
        Mark::Failed { provider, error } => sqlx::query(
            "UPDATE sms_outbox SET status = 'failed', provider = $1, last_error = $2, \
             locked_until = NULL, updated_at = $3 WHERE id = $4 AND status = 'queued'",
        )
        .bind(provider.as_str())
        .bind(error.as_str())
        .bind(now)
        .bind(id),
    }
}
