//! The portal's browser UI (Leptos 0.8), rendered on the server and hydrated in the browser.
//!
//! - [`app`]: the HTML shell and the router.
//! - [`pages`]: one module per page.
//! - [`components`]: reusable pieces (the Kerberos panel, the group list).
//! - [`terminal`]: the serial console's terminal emulator and keyboard mapping (no DOM).
//! - [`api`]: the server functions the pages call. They are public POST endpoints: each one
//!   authenticates through the [`api::ssr::Portal`] service the server provides as context,
//!   and holds no logic of its own.
//!
//! Built twice: with `hydrate` for wasm32 (the browser) and with `ssr` into the server. The two
//! features are never enabled together.

pub mod api;
pub mod app;
pub mod components;
pub mod pages;
pub mod terminal;

pub use app::{App, shell};

/// Entry point of the WebAssembly build: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
