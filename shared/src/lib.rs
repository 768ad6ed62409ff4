//! Types shared by the browser and the server. Serde only: this crate must build for
//! `wasm32-unknown-unknown`, so nothing here touches sockets, files, GSSAPI or SQL.

pub mod me;

pub use me::{AdGroup, DelegationView, KerberosView, Me, SignInMethod};

/// AMT firmware of generations 2 to 5 refuses HTTP Negotiate tokens longer than this, measured
/// in base64 characters (Intel vPro Expert blog, 2009; deployment guide: "4 KB").
pub const AMT_OLD_FIRMWARE_TOKEN_LIMIT: usize = 4096;

/// Kerberos and AMT tolerate at most this clock difference, in seconds.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;
