//! Intel AMT protocol library, used by the portal (client side) and the simulator (device side).
//!
//! Layers, bottom up:
//!
//! * [`wsman`]: WS-Management over SOAP 1.2: a namespace-aware element tree
//!   ([`wsman::Element`]), request envelopes ([`wsman::Request`]), response parsing
//!   ([`wsman::Envelope`]) and property lists ([`wsman::Properties`]) shared by both sides.
//! * [`fault`] and [`status`]: SOAP faults and method return codes as typed values whose
//!   `Display` says in plain English what happened.
//! * [`models`]: typed AMT/CIM/IPS classes and method inputs/outputs, read from and written
//!   to property lists.
//! * [`records`]: the binary event log (21-byte) and audit log records.
//! * [`sid`], [`realm`]: Windows SIDs and AMT ACL realms.
//! * [`digest`]: HTTP Digest (client and server side) and the redirection Digest formula.
//! * [`client`]: async WS-Man client (Digest or Negotiate) over HTTP/1.1 ([`http`]), plain
//!   (16992) or TLS (16993, [`tls`]).
//! * [`device`]: device-side parsing of requests and writing of firmware-shaped responses.
//! * [`redirection`]: the redirection (SOL) binary protocol, both directions.
//! * [`sol`]: a Serial-over-LAN console session (client side) over that protocol.
//! * [`provision`]: Kerberos provisioning: device keys, Kerberos settings, ACL sync,
//!   redirection, user consent, clock.
//!
//! Conventions: nothing here panics on input from the network; every decoder returns a
//! `Result` with a thiserror enum. Parsing is by namespace URI, never by prefix.

pub mod client;
pub mod device;
pub mod digest;
pub mod fault;
pub mod http;
pub mod models;
pub mod ns;
pub mod provision;
pub mod realm;
pub mod records;
pub mod redirection;
pub mod sid;
pub mod sol;
pub mod status;
pub mod tls;
pub mod wsman;

pub use fault::Fault;
pub use realm::{AccessPermission, Realm};
pub use sid::Sid;
pub use status::{CimStatus, PtStatus};
pub use wsman::{Element, EndpointReference, Envelope, Properties, Request, Value};
