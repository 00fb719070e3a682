//! The auditors' search of hearings (issue 18 §4, issue 21 "The auditor"): hearings by date
//! (brigade-local), brigade, officer, status, plate and decision number, newest slot first,
//! keyset-paged with an opaque cursor (`cursor`), and one hearing's summary with its actors by
//! name and badge (staff) or masked phone (citizen). Reads the booking, brigade, staff and
//! audit tables in the same SQL (read-only joins; nothing here writes). Routes in `api`, SQL in
//! `store`; the indexes are migration `…204710001_audit_search`.

pub mod api;
pub mod cursor;
pub mod store;

pub use api::router;
