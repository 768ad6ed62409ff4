//! Simulated Intel AMT devices.
pub mod auth;
pub mod client;
pub mod control;
pub mod devkey;
pub mod fleet;
pub mod host;
pub mod model;
pub mod ops;
pub mod redir;
pub mod seed;
pub mod state;
