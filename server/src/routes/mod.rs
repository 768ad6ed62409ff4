//! Plain axum routes for protocol work, next to the Leptos pages.
//!
//! - [`console`]: `GET /devices/{id}/console`, the serial console's WebSocket.

pub mod console;
