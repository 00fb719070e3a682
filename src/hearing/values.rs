//! The values of a step's content that carry rules, parsed once into types ("parse, don't
//! validate"): [`StepText`] (trimmed, not empty, at most [`MAX_TEXT`] characters),
//! [`RightsText`] (a [`StepText`] stating the right to state a case and defend) and [`Amount`]
//! (an integer between 0 and its maximum: [`FineYuan`], [`Points`]). A value that exists is
//! valid; they serialize as the plain string or number, and deserialize (stored payloads)
//! through the same rules.

use std::ops::Deref;

use serde::{Deserialize, Serialize};

/// Longest text field of a step, in characters.
pub const MAX_TEXT: usize = 4000;
/// Highest fine a notice or ruling may carry (yuan).
pub const MAX_FINE_YUAN: i64 = 1000;
/// Most penalty points a notice or ruling may carry.
pub const MAX_POINTS: i64 = 12;

/// A refused field: (field, message) → 422 `invalid_field`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

pub fn field(f: &str, m: impl Into<String>) -> FieldError {
    FieldError {
        field: f.into(),
        message: m.into(),
    }
}

/// A step's free text: trimmed, not empty, at most [`MAX_TEXT`] characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StepText(String);

impl StepText {
    /// Parses field `f` (`None`: the field is missing).
    pub fn parse(f: &str, v: Option<String>) -> Result<StepText, FieldError> {
        let v = v.ok_or_else(|| field(f, "required"))?;
        let t = v.trim();
        if t.is_empty() {
            return Err(field(f, "must not be empty"));
        }
        if t.chars().count() > MAX_TEXT {
            return Err(field(f, format!("at most {MAX_TEXT} characters")));
        }
        Ok(StepText(t.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

impl TryFrom<String> for StepText {
    type Error = String;
    fn try_from(v: String) -> Result<Self, String> {
        StepText::parse("text", Some(v)).map_err(|e| e.message)
    }
}

impl From<StepText> for String {
    fn from(v: StepText) -> String {
        v.0
    }
}

impl Deref for StepText {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<&str> for StepText {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// The rights text of a notice (Administrative Penalty Law Arts. 44–45): a [`StepText`] that
/// states the right to state a case and defend (陈述、申辩).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RightsText(StepText);

impl RightsText {
    /// Parses field `f`; a missing one takes `default`.
    pub fn parse(f: &str, v: Option<String>, default: &str) -> Result<RightsText, FieldError> {
        let Some(v) = v else {
            return Ok(RightsText(StepText(default.to_string())));
        };
        let t = StepText::parse(f, Some(v))?;
        if !(t.contains("陈述") && t.contains("申辩")) {
            return Err(field(
                f,
                "must state the right to state a case and defend (陈述、申辩)",
            ));
        }
        Ok(RightsText(t))
    }
}

impl TryFrom<String> for RightsText {
    type Error = String;
    fn try_from(v: String) -> Result<Self, String> {
        RightsText::parse("rights_text", Some(v), "").map_err(|e| e.message)
    }
}

impl From<RightsText> for String {
    fn from(v: RightsText) -> String {
        v.0.0
    }
}

impl Deref for RightsText {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<&str> for RightsText {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// An integer between 0 and `MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Amount<const MAX: i64>(i64);

/// A fine in yuan, 0..=[`MAX_FINE_YUAN`].
pub type FineYuan = Amount<MAX_FINE_YUAN>;
/// Penalty points, 0..=[`MAX_POINTS`].
pub type Points = Amount<MAX_POINTS>;

impl<const MAX: i64> Amount<MAX> {
    /// Parses field `f` (`None`: the field is missing).
    pub fn parse(f: &str, v: Option<i64>) -> Result<Self, FieldError> {
        let v = v.ok_or_else(|| field(f, "required"))?;
        Self::new(v).ok_or_else(|| field(f, format!("must be between 0 and {MAX}")))
    }
    pub fn new(v: i64) -> Option<Self> {
        (0..=MAX).contains(&v).then_some(Amount(v))
    }
    pub fn get(self) -> i64 {
        self.0
    }
}

impl<const MAX: i64> TryFrom<i64> for Amount<MAX> {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        Self::new(v).ok_or_else(|| format!("must be between 0 and {MAX}"))
    }
}

impl<const MAX: i64> From<Amount<MAX>> for i64 {
    fn from(v: Amount<MAX>) -> i64 {
        v.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_rules() {
        assert_eq!(StepText::parse("f", Some("  a ".into())).unwrap(), "a");
        assert_eq!(StepText::parse("f", None).unwrap_err().message, "required");
        assert_eq!(
            StepText::parse("f", Some(" ".into())).unwrap_err().field,
            "f"
        );
        let long = "字".repeat(MAX_TEXT + 1);
        assert!(StepText::parse("f", Some(long)).is_err());
        assert!(serde_json::from_str::<StepText>("\"  \"").is_err());
        assert_eq!(
            serde_json::to_string(&StepText::parse("f", Some("x".into())).unwrap()).unwrap(),
            "\"x\""
        );
    }

    #[test]
    fn rights_and_amounts() {
        assert_eq!(
            RightsText::parse("r", None, "陈述申辩").unwrap(),
            "陈述申辩"
        );
        assert!(RightsText::parse("r", Some("走吧".into()), "").is_err());
        assert!(FineYuan::new(MAX_FINE_YUAN).is_some());
        assert!(FineYuan::new(MAX_FINE_YUAN + 1).is_none());
        assert!(Points::new(-1).is_none());
        assert!(serde_json::from_str::<Points>("13").is_err());
        assert_eq!(serde_json::from_str::<Points>("12").unwrap().get(), 12);
    }
}
