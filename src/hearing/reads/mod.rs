//! Who looked at what (issue 15 §4): every successful staff read of a hearing, its decision,
//! transcript, party, proof of service, recordings, evidence or bundle is appended to the
//! access log (`access_log`) and sealed by one `access` entry in the audit log's `access-log`
//! chain, in the same transaction (`log`); the layer that does it for every read route
//! (`api::record`, put on the API router by `startup`) and the auditors' search
//! `GET /api/v1/audit/access` (`api`).

pub mod api;
pub mod log;
pub mod store;

pub use api::{record, router};
