//! Reusable pieces of the UI.

pub mod admin_mode;
pub mod groups;
pub mod kerberos;
pub mod topbar;
