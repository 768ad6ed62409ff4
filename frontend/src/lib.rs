//! The portal's browser UI (Leptos).
