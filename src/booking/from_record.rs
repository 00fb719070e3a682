//! The facts a booking is decided on, and where they come from (issue 16). With
//! `records.provider = "manual"` the citizen types them (`violations`, `unhandled_count`,
//! `current_points`, `urgent.registration_date`: `facts_source = "citizen"`). With `fake` or
//! `http` the citizen only picks `record_nos`, and every fact the rules decide on — each
//! violation's fine, points and camera capture, the licence's current points, the count of
//! unhandled violations, the licence's first-issue date or the vehicle's inspection due date — is
//! read from the system of record through the adapter before anything is written
//! (`facts_source = "records"`; the platform down is 503 `records_unavailable`, nothing written).
//! Typed facts are refused there (422), so a typed number can never decide; the typed `plate`
//! must be the vehicle every picked record was recorded on (422 `plate_mismatch` otherwise).

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::{
    Booking,
    expiry::{self, UrgentGrant, UrgentKind},
    model::{CreateBooking, ViolationView},
    rules::{Refusal, ViolationFacts},
};
use axum::http::StatusCode;

use crate::{
    domain::Plate,
    error::{ApiResult, AppError},
    records::{
        RecordsError, eligibility,
        model::{Subject, Violation},
    },
};

/// `facts_source` of typed-in facts.
pub const CITIZEN: &str = "citizen";
/// `facts_source` of facts read from the system of record.
pub const RECORDS: &str = "records";
/// The plate type looked up when the citizen names none (GA 24.7: small car).
const DEFAULT_PLATE_TYPE: &str = "02";

/// What the urgent expiry is derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryBasis {
    /// The next anniversary of this date (typed registration date; the licence's first issue).
    Anniversary(NaiveDate),
    /// This very date (the vehicle's inspection due date in the record).
    Due(NaiveDate),
}

/// An urgent request with what its expiry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Urgent {
    pub kind: UrgentKind,
    pub basis: ExpiryBasis,
}

impl Urgent {
    /// The date stored as the booking's `registration_date`.
    pub fn date(&self) -> NaiveDate {
        match self.basis {
            ExpiryBasis::Anniversary(d) | ExpiryBasis::Due(d) => d,
        }
    }

    /// The grant (`not_urgent_eligible` when the expiry is not within the window).
    pub fn grant(
        &self,
        tz: Tz,
        today: NaiveDate,
        window_days: u32,
        slot_start: DateTime<Utc>,
    ) -> Result<UrgentGrant, Refusal> {
        match self.basis {
            ExpiryBasis::Anniversary(d) => {
                expiry::grant_urgent(tz, d, today, window_days, slot_start)
            }
            ExpiryBasis::Due(d) => expiry::grant_expiry(tz, d, today, window_days, slot_start),
        }
    }
}

/// The case the booking rules decide on.
#[derive(Debug, Clone)]
pub struct Case {
    /// [`CITIZEN`] or [`RECORDS`].
    pub facts_source: &'static str,
    /// As stored on the booking.
    pub violations: Vec<ViolationView>,
    pub unhandled: i64,
    pub current_points: i64,
    pub urgent: Option<Urgent>,
    /// The first picked record the platform's facts make ineligible (checked where the case
    /// rules are, after the date rules).
    pub refusal: Option<Refusal>,
}

impl Case {
    pub fn facts(&self) -> Vec<ViolationFacts> {
        self.violations
            .iter()
            .map(|v| ViolationFacts {
                fine_yuan: v.fine_yuan,
                points: v.points,
            })
            .collect()
    }

    /// The record numbers a records booking claims (none for typed facts).
    pub fn claimed(&self) -> Vec<String> {
        match self.facts_source {
            RECORDS => self
                .violations
                .iter()
                .map(|v| v.record_no.clone())
                .collect(),
            _ => vec![],
        }
    }
}

fn unprocessable(field: &str, message: &str) -> AppError {
    AppError::unprocessable(field, message)
}

/// The case of `req`, from the citizen's typing or from the system of record.
pub async fn case(state: &Booking, citizen: &str, req: &CreateBooking) -> ApiResult<Case> {
    if state.records.adapter.provider() == "manual" {
        typed(req)
    } else {
        from_records(state, citizen, req).await
    }
}

fn typed(req: &CreateBooking) -> ApiResult<Case> {
    if req.record_nos.is_some() {
        return Err(RecordsError::Manual.into());
    }
    let urgent = match &req.urgent {
        None => None,
        Some(u) => Some(Urgent {
            kind: u.kind,
            basis: ExpiryBasis::Anniversary(u.registration_date.ok_or_else(|| {
                unprocessable(
                    "urgent.registration_date",
                    "the registration date is required",
                )
            })?),
        }),
    };
    let violations = req
        .violations
        .iter()
        .map(|v| ViolationView {
            record_no: v.record_no.as_str().to_string(),
            fine_yuan: v.fine_yuan,
            points: v.points,
            time: None,
            place: None,
            behaviour: None,
        })
        .collect::<Vec<_>>();
    Ok(Case {
        facts_source: CITIZEN,
        unhandled: req.unhandled_count.unwrap_or(violations.len() as i64),
        current_points: req.current_points.unwrap_or(0),
        violations,
        urgent,
        refusal: None,
    })
}

/// 422 for any fact typed where the record decides, and for a bad pick.
fn check_request(req: &CreateBooking) -> ApiResult<Vec<String>> {
    const TYPED: &str = "this brigade reads the facts from the traffic management system: pick record_nos from GET /api/v1/citizens/me/violations";
    if !req.violations.is_empty() {
        return Err(unprocessable("violations", TYPED));
    }
    if req.unhandled_count.is_some() {
        return Err(unprocessable("unhandled_count", TYPED));
    }
    if req.current_points.is_some() {
        return Err(unprocessable("current_points", TYPED));
    }
    if req
        .urgent
        .as_ref()
        .is_some_and(|u| u.registration_date.is_some())
    {
        return Err(unprocessable("urgent.registration_date", TYPED));
    }
    let picked = req.record_nos.as_deref().unwrap_or_default();
    if picked.is_empty() {
        return Err(unprocessable(
            "record_nos",
            "pick at least one violation record",
        ));
    }
    if picked.len() > 32 {
        return Err(unprocessable("record_nos", "at most 32 violation records"));
    }
    let mut out: Vec<String> = Vec::with_capacity(picked.len());
    for r in picked {
        if out.iter().any(|o| o == r.as_str()) {
            return Err(unprocessable("record_nos", "a record is picked twice"));
        }
        out.push(r.as_str().to_string());
    }
    Ok(out)
}

fn short_text(field: &str, s: &str, max: usize) -> ApiResult<String> {
    let t = s.trim();
    let n = t.chars().count();
    if n == 0 || n > max || t.chars().any(char::is_control) {
        return Err(unprocessable(
            field,
            &format!("1 to {max} characters, no control characters"),
        ));
    }
    Ok(t.to_string())
}

/// The booking's plate must be the vehicle the picked record was recorded on (the plate is
/// never typed-and-trusted): 422 `plate_mismatch` on `plate` otherwise, naming the record and
/// its plate (the caller's own record, listed to them by `GET /api/v1/citizens/me/violations`).
fn same_plate(req: &CreateBooking, v: &Violation) -> ApiResult<()> {
    let recorded = Plate::parse(&v.plate)
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|_| v.plate.trim().to_uppercase());
    if recorded == req.plate.as_str() {
        return Ok(());
    }
    Err(AppError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "plate_mismatch",
        format!(
            "record {} was recorded on {recorded}: book it with that plate",
            v.record_no
        ),
    )
    .with_field("plate")
    .with_params(serde_json::json!({"record_no": v.record_no, "record_plate": recorded})))
}

async fn from_records(state: &Booking, citizen: &str, req: &CreateBooking) -> ApiResult<Case> {
    let picked = check_request(req)?;
    let r = &state.records;
    let party = crate::identity::citizens::party(&r.db, &r.identity_key, citizen)
        .await?
        .ok_or_else(|| {
            AppError::conflict(
                "identity_missing",
                "give your real name and ID number first (PUT /api/v1/citizens/me/identity)",
            )
        })?;
    let urgent_in = match &req.urgent {
        None => None,
        Some(u) => Some(match u.kind {
            UrgentKind::Licence => {
                let no = u.licence_file_no.as_deref().ok_or_else(|| {
                    unprocessable(
                        "urgent.licence_file_no",
                        "the licence file number is required",
                    )
                })?;
                (
                    u.kind,
                    short_text("urgent.licence_file_no", no, 32)?,
                    String::new(),
                )
            }
            UrgentKind::Inspection => {
                let t = u.plate_type.as_deref().unwrap_or(DEFAULT_PLATE_TYPE);
                (
                    u.kind,
                    String::new(),
                    short_text("urgent.plate_type", t, 8)?,
                )
            }
        }),
    };
    let subject = Subject::Driver {
        id_number: party.id_number.clone(),
    };
    let log = |e: &RecordsError| {
        tracing::warn!(citizen, id_number = %party.id_number_masked, error = %e,
            "records look-up for a booking failed");
    };
    let facts = r.adapter.violations(&subject).await.inspect_err(log)?;
    for v in facts
        .violations
        .iter()
        .filter(|v| picked.contains(&v.record_no))
    {
        same_plate(req, v)?;
    }
    let urgent = match urgent_in {
        None => None,
        Some((kind @ UrgentKind::Licence, file_no, _)) => {
            let d = r
                .adapter
                .driver(&party.id_number, &file_no)
                .await
                .inspect_err(log)?;
            Some(Urgent {
                kind,
                basis: ExpiryBasis::Anniversary(d.first_issued),
            })
        }
        Some((kind, _, plate_type)) => {
            let v = r
                .adapter
                .vehicle(req.plate.as_str(), &plate_type)
                .await
                .inspect_err(log)?;
            Some(Urgent {
                kind,
                basis: ExpiryBasis::Due(v.inspection_due),
            })
        }
    };
    let points = facts.licence_points.unwrap_or(0);
    let unhandled = facts.violations.len();
    let mut violations = Vec::with_capacity(picked.len());
    let mut refusal = None;
    for no in &picked {
        let v: &Violation = facts
            .violations
            .iter()
            .find(|v| &v.record_no == no)
            .ok_or_else(|| {
                unprocessable(
                    "record_nos",
                    &format!("{no} is not one of your unhandled violations"),
                )
            })?;
        if refusal.is_none()
            && let Some(why) = eligibility::reason(v, points, unhandled, r.limits)
        {
            refusal = Some(Refusal::IneligibleCase {
                why: format!("record {no}: {}", why.as_str()),
                limits: super::rules::CaseLimits {
                    max_fine_per_violation: r.limits.max_fine_per_violation,
                    max_unhandled: r.limits.max_unhandled,
                    points_ceiling: r.limits.points_ceiling,
                },
            });
        }
        violations.push(ViolationView {
            record_no: v.record_no.clone(),
            fine_yuan: v.fine_yuan,
            points: v.points,
            time: Some(v.time.to_rfc3339()),
            place: Some(v.place.clone()),
            behaviour: Some(v.behaviour.clone()),
        });
    }
    Ok(Case {
        facts_source: RECORDS,
        violations,
        unhandled: i64::try_from(unhandled).unwrap_or(i64::MAX),
        current_points: points,
        urgent,
        refusal,
    })
}
