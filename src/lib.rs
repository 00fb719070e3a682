//! remote-hearing: remote video adjudication of traffic violations. The library holds the
//! whole server; `main.rs` only parses the command line. Start with [`run`].

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod audit;
pub mod booking;
pub mod call;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod error;
pub mod hearing;
pub mod http;
pub mod identity;
pub mod ids;
pub mod jobs;
pub mod kv;
pub mod records;
pub mod secrets;
pub mod sms;
pub mod startup;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod throttle;
pub mod witness;

pub use startup::{bind_ops, build_state, run, run_with_clock, serve, serve_with_ops};
