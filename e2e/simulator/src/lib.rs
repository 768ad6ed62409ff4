//! Simulated Intel AMT devices.
pub mod auth;
pub mod model;
pub mod proto;
pub mod seed;
pub mod state;
