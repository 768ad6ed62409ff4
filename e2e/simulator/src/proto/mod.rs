//! Protocol pieces the simulator needs before the `amt` crate (server/amt) provides them.
//!
//! Everything here is device-side WS-Management and AMT record encoding, written to the
//! shapes of the captured firmware responses in `server/amt/tests/fixtures/`. It is kept
//! apart from the simulator's behaviour so it can move into `amt` (`device.rs`,
//! `digest.rs`, `sid.rs`, `records.rs`) without touching the fleet code.

pub mod ns;
pub mod request;
pub mod response;
pub mod xml;
