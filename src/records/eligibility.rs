//! Which of the platform's unhandled violations may be handled remotely (seed 000 and 003,
//! issue 16), computed from the facts of the record only: captured by camera, a fine of at
//! most 200 yuan, at most 5 unhandled violations in all, and the licence's points plus the
//! violation's staying below 12. Also the citizen's view of them. Pure.

use serde::Serialize;
use utoipa::ToSchema;

use super::model::{Violation, Violations};

/// The limits (from `[booking]`, the same numbers the typed-in path checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_fine_per_violation: i64,
    pub max_unhandled: i64,
    /// Points after handling must stay below this (12).
    pub points_ceiling: i64,
}

/// Why a violation cannot be handled remotely (the first rule it fails, in this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IneligibleReason {
    /// Not captured by a camera (seed 003: only those are remote-eligible).
    NotCameraCaptured,
    /// The fine is over the limit (200 yuan).
    FineOverLimit,
    /// The driver has more unhandled violations than the limit (5).
    TooManyUnhandled,
    /// The licence's points plus this violation's would reach the ceiling (12).
    PointsLimit,
}

impl IneligibleReason {
    /// The stable snake_case name (as serialised).
    pub fn as_str(self) -> &'static str {
        match self {
            IneligibleReason::NotCameraCaptured => "not_camera_captured",
            IneligibleReason::FineOverLimit => "fine_over_limit",
            IneligibleReason::TooManyUnhandled => "too_many_unhandled",
            IneligibleReason::PointsLimit => "points_limit",
        }
    }
}

/// One unhandled violation as the citizen sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ViolationView {
    pub record_no: String,
    /// The vehicle it was recorded on: a booking of it names this plate.
    pub plate: String,
    pub plate_type: String,
    /// RFC 3339 with the platform's offset, e.g. `2026-11-20T08:31:00+08:00`.
    pub time: String,
    pub place: String,
    pub behaviour_code: String,
    pub behaviour: String,
    pub fine_yuan: i64,
    pub points: i64,
    pub camera_captured: bool,
    /// How many evidence photos the record holds (shown at the notice, not here).
    pub photo_count: usize,
    pub eligible: bool,
    pub ineligible_reason: Option<IneligibleReason>,
}

/// `GET /api/v1/citizens/me/violations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MyViolations {
    /// `fake` or `http`: where the facts come from.
    pub facts_source: String,
    /// Points already counted on the licence in the current cycle.
    pub licence_points: i64,
    pub unhandled_count: usize,
    pub max_fine_yuan: i64,
    pub max_unhandled: i64,
    pub points_ceiling: i64,
    pub violations: Vec<ViolationView>,
}

/// The first rule `v` fails, given the licence's points and the count of unhandled violations.
pub fn reason(
    v: &Violation,
    licence_points: i64,
    unhandled: usize,
    limits: Limits,
) -> Option<IneligibleReason> {
    if !v.camera_captured {
        Some(IneligibleReason::NotCameraCaptured)
    } else if v.fine_yuan > limits.max_fine_per_violation {
        Some(IneligibleReason::FineOverLimit)
    } else if i64::try_from(unhandled).unwrap_or(i64::MAX) > limits.max_unhandled {
        Some(IneligibleReason::TooManyUnhandled)
    } else if licence_points.saturating_add(v.points) >= limits.points_ceiling {
        Some(IneligibleReason::PointsLimit)
    } else {
        None
    }
}

/// The citizen's view of a driver's answer.
pub fn assess(facts: &Violations, limits: Limits, facts_source: &str) -> MyViolations {
    let points = facts.licence_points.unwrap_or(0);
    let unhandled = facts.violations.len();
    let violations = facts
        .violations
        .iter()
        .map(|v| {
            let why = reason(v, points, unhandled, limits);
            ViolationView {
                record_no: v.record_no.clone(),
                plate: v.plate.clone(),
                plate_type: v.plate_type.clone(),
                time: v.time.to_rfc3339(),
                place: v.place.clone(),
                behaviour_code: v.behaviour_code.clone(),
                behaviour: v.behaviour.clone(),
                fine_yuan: v.fine_yuan,
                points: v.points,
                camera_captured: v.camera_captured,
                photo_count: v.photos.len(),
                eligible: why.is_none(),
                ineligible_reason: why,
            }
        })
        .collect();
    MyViolations {
        facts_source: facts_source.to_string(),
        licence_points: points,
        unhandled_count: unhandled,
        max_fine_yuan: limits.max_fine_per_violation,
        max_unhandled: limits.max_unhandled,
        points_ceiling: limits.points_ceiling,
        violations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use IneligibleReason::*;

    const LIMITS: Limits = Limits {
        max_fine_per_violation: 200,
        max_unhandled: 5,
        points_ceiling: 12,
    };

    fn v(fine: i64, points: i64, camera: bool) -> Violation {
        Violation {
            record_no: format!("R{fine}{points}{camera}"),
            plate: "鲁A12345".into(),
            plate_type: "02".into(),
            time: chrono::DateTime::parse_from_rfc3339("2026-11-20T08:31:00+08:00").unwrap(),
            place: "济南市市中区二环南路".into(),
            behaviour_code: "13450".into(),
            behaviour: "机动车违反禁止标线指示的".into(),
            fine_yuan: fine,
            points,
            camera_captured: camera,
            photos: vec![],
        }
    }

    #[test]
    fn each_rule_at_its_boundary() {
        assert_eq!(reason(&v(200, 3, true), 0, 1, LIMITS), None);
        assert_eq!(reason(&v(201, 3, true), 0, 1, LIMITS), Some(FineOverLimit));
        assert_eq!(
            reason(&v(100, 3, false), 0, 1, LIMITS),
            Some(NotCameraCaptured)
        );
        assert_eq!(reason(&v(100, 3, true), 0, 5, LIMITS), None);
        assert_eq!(
            reason(&v(100, 3, true), 0, 6, LIMITS),
            Some(TooManyUnhandled)
        );
        assert_eq!(reason(&v(100, 3, true), 8, 1, LIMITS), None);
        assert_eq!(reason(&v(100, 3, true), 9, 1, LIMITS), Some(PointsLimit));
        assert_eq!(reason(&v(100, 0, true), 11, 1, LIMITS), None);
    }

    #[test]
    fn assess_marks_each_violation() {
        let facts = Violations {
            licence_points: Some(6),
            violations: vec![v(100, 3, true), v(500, 3, true), v(50, 6, true)],
        };
        let view = assess(&facts, LIMITS, "fake");
        let got: Vec<_> = view
            .violations
            .iter()
            .map(|x| (x.eligible, x.ineligible_reason))
            .collect();
        assert_eq!(
            got,
            vec![
                (true, None),
                (false, Some(FineOverLimit)),
                (false, Some(PointsLimit))
            ]
        );
        assert_eq!(view.unhandled_count, 3);
        assert_eq!(view.licence_points, 6);
    }
}
