//! The serial console's terminal, in plain Rust (no DOM, so all of it is unit-tested):
//!
//! - [`emulator`]: VT100/ANSI bytes in, a screen of cells out, with dirty-row tracking.
//! - [`cell`]: cells, styles and the 16-colour palette.
//! - [`charset`]: DEC line drawing and code page 437.
//! - [`render`]: rows as runs of styled text for the page.
//! - [`keys`]: keyboard events, toolbar keys and pasted text as bytes for the host.
//! - [`link`]: the connection's status line and reconnect policy.
//!
//! The Leptos page ([`crate::pages::console`]) only wires these to the WebSocket and the DOM.

pub mod cell;
pub mod charset;
pub mod emulator;
pub mod keys;
pub mod link;
pub mod render;

pub use emulator::Terminal;
