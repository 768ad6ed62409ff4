//! WS-Management over SOAP 1.2: element tree, values, request envelopes, response parsing.
//!
//! * [`tree`]: namespace-aware element tree ([`Element`]).
//! * [`value`]: [`Value`], [`EndpointReference`], [`Properties`] and their serialization.
//! * [`envelope`]: client requests ([`Request`]).
//! * [`parse`]: responses ([`Envelope`]), enumeration results, method outputs, faults.

pub mod envelope;
pub mod parse;
pub mod tree;
pub mod value;

pub use envelope::{Operation, Request};
pub use parse::{Envelope, ParseError, PullResult};
pub use tree::{Attribute, Element, XmlError};
pub use value::{EndpointReference, Prefixes, Properties, Value};
