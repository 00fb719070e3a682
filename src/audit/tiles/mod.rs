//! The log served in the c2sp.org/tlog-tiles read format: the handlers are in [`api`].

mod api;

pub use api::{latest_checkpoint, router};
