//! Simulated Intel AMT devices.
pub mod auth;
pub mod client;
pub mod control;
pub mod fleet;
pub mod model;
pub mod ops;
pub mod seed;
pub mod state;
