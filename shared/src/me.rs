//! The signed-in user as the UI shows them: identity, AD groups, and their Kerberos facts.

use serde::{Deserialize, Serialize};

/// How the user signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignInMethod {
    /// HTTP Negotiate (SPNEGO/Kerberos) from the browser, nothing typed.
    Negotiate,
    /// Password form, checked by a Kerberos AS exchange verified against the portal's keytab.
    Password,
}

/// One Active Directory group the user is in (from the ticket's PAC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdGroup {
    /// The group SID, `S-1-5-21-…`.
    pub sid: String,
    /// The group's name from the directory, when it could be resolved.
    pub name: Option<String>,
}

/// The credential the portal holds to act as the user towards devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DelegationView {
    /// "forwarded TGT" or "password sign-in TGT".
    pub kind: String,
    /// When it stops being valid (RFC 3339, UTC).
    pub valid_until: String,
    /// Seconds left, at the time of the request.
    pub seconds_left: i64,
}

/// The "My Kerberos" panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KerberosView {
    /// The user's principal, `alice@EXAMPLE.TEST`.
    pub principal: String,
    /// Size in bytes of the service ticket the portal received (None if not measurable).
    pub ticket_bytes: Option<usize>,
    /// The same ticket as base64 text, the unit AMT's limit is measured in.
    pub ticket_base64_len: Option<usize>,
    /// AMT's limit on old firmware (4096 base64 characters).
    pub amt_limit: usize,
    /// Size in bytes of the whole Negotiate token (includes a forwarded TGT if any).
    pub token_bytes: Option<usize>,
    /// Delegated credential, if the portal holds one.
    pub delegation: Option<DelegationView>,
    /// Why there is none, if there is none.
    pub no_delegation_reason: Option<String>,
    /// Portal clock minus KDC clock, in seconds, if measured.
    pub kdc_clock_offset_secs: Option<i64>,
    /// Why the offset could not be measured.
    pub kdc_clock_problem: Option<String>,
}

/// Everything the home page shows about the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    /// sAMAccountName.
    pub account: String,
    /// Display name from AD, or the account name.
    pub display_name: String,
    /// The user's SID.
    pub sid: Option<String>,
    /// AD groups, named where the directory answered.
    pub groups: Vec<AdGroup>,
    /// How they signed in.
    pub method: SignInMethod,
    /// When (RFC 3339, UTC).
    pub signed_in_at: String,
    /// The Kerberos panel.
    pub kerberos: KerberosView,
}
