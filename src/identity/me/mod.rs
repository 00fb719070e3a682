//! The citizen's own identity data (`/api/v1/citizens/me/identity`): handlers in [`routes`]; the
//! rules and storage are `super::citizens`.

mod routes;

pub use routes::router;
