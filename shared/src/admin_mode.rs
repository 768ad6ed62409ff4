//! The Digest admin mode of one device, as the UI shows it to registry administrators.

use serde::{Deserialize, Serialize};

/// Whether admin mode is possible on a device, and with which account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminModeView {
    /// The user may use admin mode (member of an admin group).
    pub allowed: bool,
    /// Why admin mode is unavailable on this portal, when it is (no secret key configured).
    pub unavailable: Option<String>,
    /// The stored account's user name, when one is stored.
    pub username: Option<String>,
    /// Who stored it and when.
    pub set_by: Option<String>,
    /// When (RFC 3339 UTC).
    pub set_at: Option<String>,
}
