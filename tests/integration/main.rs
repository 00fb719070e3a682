//! The one integration-test binary: the real server on port 0, real Redis, real SQLite or
//! PostgreSQL (`TEST_DATABASE_URL`), one module per area.

mod access_log;
mod audit;
mod audit_complete;
mod audit_crosscheck;
mod audit_monitor;
mod audit_proof;
mod audit_tamper;
mod audit_tiles;
mod audit_witness_lag;
mod backup;
mod booking;
mod call;
mod cli;
mod durable;
mod edge_inputs;
mod evidence;
mod hearing;
mod helpers;
mod login_guard;
mod netns;
mod party;
mod records;
mod records_booking;
mod records_photos;
mod records_writeback;
mod scale;
mod sms;
mod sms_providers;
mod sms_wechat;
mod spine;
mod staff_admin;
mod staff_passwords;
mod storage;
mod urgent;
mod urgent_loss;
