//! What an attempt at a claimed outbox row decided (sent, retry later, failed), written back to
//! `sms_outbox`: a worker's batch in one transaction whose sent rows are one statement (one
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

/// Writes `marks` (row id, outcome) at `now`: the sent ones in one statement, each retry or
/// failure (rare) in its own; more than one statement in one transaction (all or none: on an
/// error none is written, the leases run out and the rows are tried again).
pub async fn record(db: &Db, now: i64, marks: &[(String, Mark)]) -> Result<(), AppError> {
    let sent: Vec<(&str, &str, &str)> = marks
        .iter()
        .filter_map(|(id, m)| match m {
            Mark::Sent {
                provider,
                provider_message_id,
            } => Some((id.as_str(), provider.as_str(), provider_message_id.as_str())),
            _ => None,
        })
        .collect();
    // the statements: the sent rows together, then each other mark
    let mut queries: Vec<Query<'_>> = Vec::new();
    if !sent.is_empty() {
        queries.push(sent_query(now, &sent));
    }
    for (id, mark) in marks
        .iter()
        .filter(|(_, m)| !matches!(m, Mark::Sent { .. }))
    {
        queries.push(query(now, id, mark));
    }
    if queries.len() <= 1 {
        for q in queries {
            q.execute(&db.write).await?;
        }
        return Ok(());
    }
    let mut tx = db.begin().await?;
    for q in queries {
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Every sent row of a batch in one UPDATE: each row's provider and message id chosen by its id.
fn sent_query<'q>(now: i64, sent: &[(&'q str, &'q str, &'q str)]) -> Query<'q> {
    // $1 now; row i: $(3i+2) id, $(3i+3) provider, $(3i+4) provider message id
    let p = |i: usize, k: usize| format!("${}", 3 * i + k);
    let case = |k: usize| {
        let whens: String = (0..sent.len())
            .map(|i| format!(" WHEN {} THEN {}", p(i, 2), p(i, k)))
            .collect();
        format!("CASE id{whens} END")
    };
    let ids: Vec<String> = (0..sent.len()).map(|i| p(i, 2)).collect();
    let sql = format!(
        "UPDATE sms_outbox SET status = 'sent', provider = {}, provider_message_id = {}, \
         sent_at = $1, locked_until = NULL, last_error = NULL, updated_at = $1 \
         WHERE id IN ({}) AND status = 'queued'",
        case(3),
        case(4),
        ids.join(", ")
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now);
    for (id, provider, message_id) in sent {
        q = q.bind(*id).bind(*provider).bind(*message_id);
    }
    q
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
        } => sent_query(now, &[(id, provider, provider_message_id)]),
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
