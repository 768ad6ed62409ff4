//! One module per page.

pub mod ad_settings;
pub mod audit;
pub mod console;
pub mod device;
pub mod devices;
pub mod health;
pub mod home;
pub mod not_found;
pub mod profiles;
pub mod provisioning;
pub mod requests;
