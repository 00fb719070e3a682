//! The decision document (公安交通管理行政处罚决定书): what it says ([`fields`], pure), the
//! print-ready A4 HTML ([`html`]) and PDF with an embedded CJK font ([`pdf`]), the brigade's
//! electronic seal ([`seal`], Ed25519 signed notes), the brigade facts it names ([`facts`]),
//! issuing it inside the `service` transaction ([`issue`]) and the offline check
//! `remote-hearing decision verify FILE` (`crate::cli::decision`).
//!
//! Nothing on the document falls back to a default: a missing brigade fact, party field, time
//! zone, per-record fact or a corrupt stored record is [`Incomplete`] (409
//! `decision_incomplete` naming the field), and no decision is issued.

pub mod facts;
pub mod fields;
pub mod html;
pub mod issue;
pub mod pdf;
pub mod seal;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use fields::{DecisionFields, Incomplete, Inputs, Party, RecordFact, build, decision_no};
pub use issue::issue;

/// Days to apply for administrative review (行政复议法 第二十条).
pub const REVIEW_DAYS: i64 = 60;
/// Months to bring an administrative lawsuit (行政诉讼法 第四十六条).
pub const LITIGATION_MONTHS: u32 = 6;
/// Days to pay (行政处罚法 第六十七条).
pub const PAY_DAYS: i64 = 15;

/// `[decision]` in the configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct DecisionConfig {
    /// Directory of the brigades' seal keys, `<brigade id>.p8` (PKCS#8 Ed25519, made with
    /// `remote-hearing decision keygen`). Required in production; empty in development: keys
    /// are generated on first use in `DATA_DIR/decision-keys/`.
    pub keys_dir: PathBuf,
    /// The CJK TrueType font (or collection) embedded, subset, in the PDF.
    pub font_path: PathBuf,
    /// The face of a collection (`.ttc`) to use.
    pub font_index: u32,
}

impl Default for DecisionConfig {
    fn default() -> Self {
        DecisionConfig {
            keys_dir: PathBuf::new(),
            font_path: PathBuf::from("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
            font_index: 0,
        }
    }
}
