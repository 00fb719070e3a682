//! The booking module's JSON shapes (API.md, Booking): the booking request, the booking answer,
//! brigades and slots. Times are RFC 3339 in the brigade's time zone.

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::expiry::UrgentKind;
use crate::{
    clock::from_ms,
    domain::{PhoneNumber, Plate, RecordNo},
};

/// The status of a booking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    Booked,
    Cancelled,
    InHearing,
    Completed,
    NoShow,
    Referred,
    /// The hearing was interrupted: the booking is freed (never a no-show); the officer may
    /// resume the hearing the same local day, and the booking follows it again.
    Interrupted,
    /// The brigade never opened the hearing by the end of the slot (never a no-show).
    MissedByBrigade,
    /// An officer of the brigade cancelled it (with a reason).
    CancelledByBrigade,
}

impl BookingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Booked => "booked",
            BookingStatus::Cancelled => "cancelled",
            BookingStatus::InHearing => "in_hearing",
            BookingStatus::Completed => "completed",
            BookingStatus::NoShow => "no_show",
            BookingStatus::Referred => "referred",
            BookingStatus::Interrupted => "interrupted",
            BookingStatus::MissedByBrigade => "missed_by_brigade",
            BookingStatus::CancelledByBrigade => "cancelled_by_brigade",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "booked" => BookingStatus::Booked,
            "cancelled" => BookingStatus::Cancelled,
            "in_hearing" => BookingStatus::InHearing,
            "completed" => BookingStatus::Completed,
            "no_show" => BookingStatus::NoShow,
            "referred" => BookingStatus::Referred,
            "interrupted" => BookingStatus::Interrupted,
            "missed_by_brigade" => BookingStatus::MissedByBrigade,
            "cancelled_by_brigade" => BookingStatus::CancelledByBrigade,
            _ => return None,
        })
    }
    /// Booked or in a hearing: holds the citizen's one active booking.
    pub fn is_active(self) -> bool {
        matches!(self, BookingStatus::Booked | BookingStatus::InHearing)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ViolationIn {
    pub record_no: RecordNo,
    pub fine_yuan: i64,
    pub points: i64,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct UrgentIn {
    /// `licence` or `inspection`.
    #[schema(value_type = String)]
    pub kind: UrgentKind,
    /// The licence's first-issue or the vehicle's registration date, typed by the citizen:
    /// required when the brigade has no connection to the system of record
    /// (`records.provider = "manual"`), refused otherwise (the date is read from the record).
    #[schema(value_type = Option<String>, format = Date)]
    pub registration_date: Option<NaiveDate>,
    /// With the system of record and `kind: licence`: the licence file number (档案编号) the
    /// licence is looked up by (1 to 32 characters).
    #[schema(min_length = 1, max_length = 32)]
    pub licence_file_no: Option<String>,
    /// With the system of record and `kind: inspection`: the plate type (GA 24.7, default `02`,
    /// small car; 1 to 8 characters).
    #[schema(min_length = 1, max_length = 8)]
    pub plate_type: Option<String>,
}

/// `POST /api/v1/bookings`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateBooking {
    pub brigade_id: String,
    /// RFC 3339, a slot start of the brigade's grid.
    pub slot_start: String,
    /// Needed only while the citizen has no bound phone.
    pub phone: Option<PhoneNumber>,
    /// The vehicle. With the system of record it must be the plate every picked record was
    /// recorded on (`plate` in `GET /api/v1/citizens/me/violations`; 422 `plate_mismatch`).
    pub plate: Plate,
    #[serde(default)]
    pub owner: bool,
    /// The violations as the citizen typed them (`records.provider = "manual"` only; with the
    /// system of record send `record_nos` instead).
    #[serde(default)]
    pub violations: Vec<ViolationIn>,
    /// The violation records picked from `GET /api/v1/citizens/me/violations` (with the system
    /// of record only; 1 to 32, each once): fine, points, camera capture, the licence's points
    /// and the count of unhandled violations are then read from the record, never typed.
    #[schema(min_items = 1, max_items = 32)]
    pub record_nos: Option<Vec<RecordNo>>,
    /// Unhandled violations on the licence (default: the number of `violations`; manual only).
    pub unhandled_count: Option<i64>,
    /// Points already on the licence (default 0; manual only).
    pub current_points: Option<i64>,
    pub urgent: Option<UrgentIn>,
}

/// A booking as clients see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BookingView {
    pub id: String,
    pub status: BookingStatus,
    pub brigade_id: String,
    pub slot_start: String,
    pub slot_end: String,
    /// The brigade's IANA time zone (e.g. `Asia/Shanghai`): the times above are in it, and
    /// pages show dates and "today" in it.
    pub timezone: String,
    pub urgent: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urgent_kind: Option<String>,
    pub plate: String,
    pub owner: bool,
    pub phone_masked: String,
    pub violations: Vec<ViolationView>,
    pub unhandled_count: i64,
    pub current_points: i64,
    /// Where the facts above come from: `citizen` (typed in; no connection to the system of
    /// record) or `records` (read from the traffic management platform).
    pub facts_source: String,
    pub created_at: String,
    /// Why the booking left its course (`interrupted`, `missed_by_brigade`,
    /// `cancelled_by_brigade`, or moved by the brigade): the reason the citizen is shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The slot start the brigade moved this booking from (RFC 3339), when it was moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ViolationView {
    pub record_no: String,
    pub fine_yuan: i64,
    pub points: i64,
    /// From the system of record only: when (RFC 3339), where and what.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behaviour: Option<String>,
}

/// RFC 3339 in `tz`.
pub fn rfc3339(tz: Tz, ms: i64) -> String {
    from_ms(ms).with_timezone(&tz).to_rfc3339()
}

fn mask(phone: &str) -> String {
    PhoneNumber::parse(phone)
        .map(|p| p.masked())
        .unwrap_or_else(|_| "***".into())
}

impl From<&BookingRow> for BookingView {
    fn from(b: &BookingRow) -> Self {
        let tz: Tz = b.timezone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
        BookingView {
            id: b.id.clone(),
            status: BookingStatus::parse(&b.status).unwrap_or(BookingStatus::Booked),
            brigade_id: b.brigade_id.clone(),
            slot_start: rfc3339(tz, b.slot_start),
            slot_end: rfc3339(tz, b.slot_end),
            timezone: tz.name().to_string(),
            urgent: b.urgent,
            deadline: b.deadline.map(|d| rfc3339(tz, d)),
            urgent_kind: b.urgent_kind.clone(),
            plate: b.plate.clone(),
            owner: b.owner,
            phone_masked: mask(&b.phone),
            violations: serde_json::from_str(&b.violations).unwrap_or_default(),
            unhandled_count: b.unhandled_count,
            current_points: b.current_points,
            facts_source: b.facts_source.clone(),
            created_at: rfc3339(tz, b.created_at),
            reason: b.status_reason.clone(),
            moved_from: b.moved_from.map(|m| rfc3339(tz, m)),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BrigadeView {
    pub id: String,
    pub name: String,
    pub address: String,
    pub timezone: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SlotView {
    pub start: String,
    pub end: String,
    pub capacity: i64,
    pub remaining: i64,
}

/// A booking row with its brigade's time zone (flags are stored as BIGINT 0/1).
#[derive(Debug, Clone)]
pub struct BookingRow {
    pub id: String,
    pub citizen_id: String,
    pub brigade_id: String,
    pub slot_start: i64,
    pub slot_end: i64,
    pub slot_date: String,
    pub status: String,
    pub phone: String,
    pub plate: String,
    pub owner: bool,
    pub violations: String,
    pub unhandled_count: i64,
    pub current_points: i64,
    pub urgent: bool,
    pub urgent_kind: Option<String>,
    pub registration_date: Option<String>,
    pub deadline: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub timezone: String,
    /// Why the booking left its course (see [`BookingView::reason`]).
    pub status_reason: Option<String>,
    /// The slot start (ms) the brigade moved it from.
    pub moved_from: Option<i64>,
    /// `citizen` or `records` (see [`BookingView::facts_source`]).
    pub facts_source: String,
}
