//! Kerberos for the portal and the simulator, on MIT GSSAPI.
//!
//! - [`Acceptor`]: accepts Negotiate tokens from a keytab, with the client's SIDs from the PAC
//!   and any forwarded TGT ([`acceptor`]).
//! - [`password_sign_in`]: AS exchange verified against our own keytab ([`initiator`]).
//! - [`token_for`]: a token for another service (an AMT device) from a user's credential.
//! - [`ServiceIdentity`]: constrained delegation (S4U2Self + S4U2Proxy) when the user delegated nothing.
//! - [`keys`]: keys derived from a password, held in a `MEMORY:` keytab (the simulator's devices).
//! - [`pac`]: MS-PAC logon-info decoding; [`token`]: what a Negotiate token contains.
//!
//! All GSSAPI calls block; async code runs them on `spawn_blocking`. Credentials stay in
//! memory (GSSAPI handles), are never written to a ccache file and never logged.

pub mod acceptor;
pub mod error;
mod ffi;
pub mod initiator;
pub mod keys;
pub mod pac;
pub mod s4u;
pub mod token;

pub use acceptor::{Accepted, Acceptor, Delegated, DelegationKind};
pub use error::Error;
pub use initiator::{password_sign_in, token_for};
/// A GSSAPI credential (a user's TGT or an impersonation credential), in memory.
pub use libgssapi::credential::Cred;
pub use pac::Pac;
pub use s4u::ServiceIdentity;
pub use token::{TokenFacts, TokenKind};
