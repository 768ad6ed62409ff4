//! Reusable pieces of the UI.

pub mod groups;
pub mod kerberos;
pub mod topbar;
