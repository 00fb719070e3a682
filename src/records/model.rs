//! The facts of the system of record as this server reads them (the wire shapes of
//! docs/records-api.md) and their validation: an answer with a negative fine, an absurd number,
//! an unknown or repeated record, or a string past its limit is refused, never used. Pure.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::domain::RecordNo;

/// Who the violations are asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Subject {
    /// A driver, by resident ID number.
    Driver { id_number: String },
    /// A vehicle, by plate and plate type (`02` small car, `01` large car, …, GA 24.7).
    Vehicle { plate: String, plate_type: String },
}

/// A driving licence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Driver {
    pub licence_file_no: String,
    pub first_issued: NaiveDate,
    /// `A` normal; anything else (e.g. `D` suspended) as the platform says.
    pub status: String,
    /// Points already counted in the current 12-point cycle.
    pub current_points: i64,
}

/// A registered vehicle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vehicle {
    pub plate: String,
    pub plate_type: String,
    pub registered: NaiveDate,
    pub inspection_due: NaiveDate,
}

/// One unhandled violation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub record_no: String,
    /// The vehicle the violation was recorded on (plate and GA 24.7 plate type).
    pub plate: String,
    pub plate_type: String,
    pub time: DateTime<FixedOffset>,
    pub place: String,
    pub behaviour_code: String,
    pub behaviour: String,
    pub fine_yuan: i64,
    pub points: i64,
    pub camera_captured: bool,
    #[serde(default)]
    pub photos: Vec<String>,
}

/// The answer to a violations query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violations {
    /// The driver's licence points already counted (a driver query; `None` for a vehicle).
    #[serde(default)]
    pub licence_points: Option<i64>,
    pub violations: Vec<Violation>,
}

/// A decision to write back to the platform (idempotent on `decision_no`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub decision_no: String,
    pub record_nos: Vec<String>,
    pub fine_yuan: i64,
    pub points: i64,
    /// The officer's badge number.
    pub officer: String,
    pub decided_at: DateTime<FixedOffset>,
}

/// The platform's answer to a write-back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum WriteBack {
    Accepted,
    Rejected { reason: String },
}

/// An evidence photo as fetched from the platform (JPEG or PNG, checked by its first bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Photo {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// At most this many violations in one answer.
pub const MAX_VIOLATIONS: usize = 100;
/// At most this many evidence photos per violation.
pub const MAX_PHOTOS: usize = 16;
/// Longest text field (characters).
const MAX_TEXT: usize = 200;
/// Longest photo URL (bytes).
const MAX_URL: usize = 1024;

fn text(field: &str, s: &str) -> Result<(), String> {
    if s.trim().is_empty() || s.chars().count() > MAX_TEXT || s.chars().any(char::is_control) {
        return Err(format!(
            "{field} is empty, too long or has control characters"
        ));
    }
    Ok(())
}

fn points(field: &str, p: i64) -> Result<(), String> {
    if !(0..=100).contains(&p) {
        return Err(format!("{field} {p} is out of range 0..=100"));
    }
    Ok(())
}

impl Driver {
    pub fn validate(&self) -> Result<(), String> {
        text("licence_file_no", &self.licence_file_no)?;
        text("status", &self.status)?;
        points("current_points", self.current_points)
    }
}

impl Vehicle {
    pub fn validate(&self) -> Result<(), String> {
        text("plate", &self.plate)?;
        text("plate_type", &self.plate_type)
    }
}

impl Violation {
    pub fn validate(&self) -> Result<(), String> {
        RecordNo::parse(&self.record_no)?;
        text("plate", &self.plate)?;
        text("plate_type", &self.plate_type)?;
        text("place", &self.place)?;
        text("behaviour_code", &self.behaviour_code)?;
        text("behaviour", &self.behaviour)?;
        if !(0..=1_000_000).contains(&self.fine_yuan) {
            return Err(format!(
                "violation {}: fine {} is out of range 0..=1000000",
                self.record_no, self.fine_yuan
            ));
        }
        points("points", self.points)?;
        if self.photos.len() > MAX_PHOTOS {
            return Err(format!("violation {}: too many photos", self.record_no));
        }
        for url in &self.photos {
            let ok =
                url.len() <= MAX_URL && (url.starts_with("https://") || url.starts_with("http://"));
            if !ok {
                return Err(format!(
                    "violation {}: a photo URL is invalid",
                    self.record_no
                ));
            }
        }
        Ok(())
    }
}

impl Violations {
    /// Every violation valid, no record number twice, points in range.
    pub fn validate(&self) -> Result<(), String> {
        if self.violations.len() > MAX_VIOLATIONS {
            return Err("too many violations in one answer".into());
        }
        if let Some(p) = self.licence_points {
            points("licence_points", p)?;
        }
        let mut seen = std::collections::HashSet::new();
        for v in &self.violations {
            v.validate()?;
            if !seen.insert(v.record_no.as_str()) {
                return Err(format!("record {} appears twice", v.record_no));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation() -> Violation {
        Violation {
            record_no: "3701041000123456".into(),
            plate: "鲁A12345".into(),
            plate_type: "02".into(),
            time: DateTime::parse_from_rfc3339("2026-11-20T08:31:00+08:00").unwrap(),
            place: "济南市历下区经十路与舜耕路路口".into(),
            behaviour_code: "13450".into(),
            behaviour: "机动车违反禁止标线指示的".into(),
            fine_yuan: 100,
            points: 3,
            camera_captured: true,
            photos: vec!["http://127.0.0.1:1/p/1.jpg".into()],
        }
    }

    #[test]
    fn a_negative_fine_a_bad_url_or_a_repeated_record_is_refused() {
        assert!(violation().validate().is_ok());
        let mut v = violation();
        v.fine_yuan = -100;
        assert!(v.validate().unwrap_err().contains("fine"));
        let mut v = violation();
        v.photos = vec!["file:///etc/passwd".into()];
        assert!(v.validate().is_err());
        let mut v = violation();
        v.record_no = String::new();
        assert!(v.validate().is_err());
        let twice = Violations {
            licence_points: Some(0),
            violations: vec![violation(), violation()],
        };
        assert!(twice.validate().unwrap_err().contains("twice"));
        let neg = Violations {
            licence_points: Some(-1),
            violations: vec![],
        };
        assert!(neg.validate().is_err());
    }
}
