//! What the server keeps about a citizen and until when (PIPL Art. 44–45: the right to know):
//! each of their hearings with its recordings and personal data — kept until a date, held as
//! evidence, or already deleted — and whether their identity (name, ID number) is on file.

use serde::Serialize;
use utoipa::ToSchema;

use super::RetentionConfig;
use crate::{clock::from_ms, error::ApiResult, hearing::Hearing};

/// The fate of one kind of data of a hearing.
#[derive(Debug, Serialize, ToSchema)]
pub struct Kept {
    /// `kept` (the hearing is still open or within its period), `held` (kept as evidence in a
    /// case until an auditor lifts it) or `deleted`.
    pub state: &'static str,
    /// `kept` after closing: the day it goes (the sweep runs hourly after that).
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// `deleted`: when.
    pub deleted_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// One of the citizen's hearings.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyHearing {
    pub id: String,
    pub booking_id: String,
    pub status: String,
    pub closed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The served decision's number (the decision itself is the case file and is kept).
    pub decision_no: Option<String>,
    /// Recorded files of the call.
    pub recordings: i64,
    pub recordings_kept: Kept,
    pub personal_data_kept: Kept,
}

/// `GET /api/v1/citizens/me/data`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyData {
    /// Days after a hearing closed: recordings, then personal data.
    pub recordings_days: u32,
    pub personal_data_days: u32,
    /// The name and ID number given for the identity step are on file.
    pub identity_on_file: bool,
    /// Newest first, at most 100.
    pub hearings: Vec<MyHearing>,
}

type Row = (
    String,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
    Option<String>,
);

fn kept(closed: Option<i64>, done: Option<i64>, held: bool, days: u32) -> Kept {
    let (state, until) = match (done, held) {
        (Some(_), _) => ("deleted", None),
        (None, true) => ("held", None),
        (None, false) => ("kept", closed.map(|c| c + i64::from(days) * super::DAY_MS)),
    };
    Kept {
        state,
        until: until.map(from_ms),
        deleted_at: done.map(from_ms),
    }
}

pub async fn of(h: &Hearing, cfg: &RetentionConfig, citizen_id: &str) -> ApiResult<MyData> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT h.id, h.booking_id, h.status, h.closed_at, h.recordings_deleted_at, h.anonymised_at, \
         (SELECT COUNT(*) FROM hearing_holds k WHERE k.hearing_id = h.id), \
         (SELECT COUNT(*) FROM recordings r WHERE r.hearing_id = h.id), d.decision_no \
         FROM hearings h LEFT JOIN hearing_decisions d ON d.hearing_id = h.id \
         WHERE h.citizen_id = $1 ORDER BY h.opened_at DESC LIMIT 100",
    )
    .bind(citizen_id)
    .fetch_all(&h.db.read)
    .await?;
    let identity: Option<(Option<String>,)> =
        sqlx::query_as("SELECT real_name_enc FROM citizens WHERE id = $1")
            .bind(citizen_id)
            .fetch_optional(&h.db.read)
            .await?;
    let hearings = rows
        .into_iter()
        .map(|r| {
            let held = r.6 > 0;
            MyHearing {
                recordings_kept: kept(r.3, r.4, held, cfg.recordings_days),
                personal_data_kept: kept(r.3, r.5, held, cfg.personal_data_days),
                id: r.0,
                booking_id: r.1,
                status: r.2,
                closed_at: r.3.map(from_ms),
                recordings: r.7,
                decision_no: r.8,
            }
        })
        .collect();
    Ok(MyData {
        recordings_days: cfg.recordings_days,
        personal_data_days: cfg.personal_data_days,
        identity_on_file: identity.is_some_and(|(n,)| n.is_some()),
        hearings,
    })
}
