//! Reusable pieces of the UI.

pub mod admin_mode;
pub mod console_terminal;
pub mod device_profile;
pub mod groups;
pub mod kerberos;
pub mod power;
pub mod provisioning;
pub mod topbar;
pub mod transcripts;
