//! SOAP 1.2 faults as returned by AMT (HTTP 400), as a typed [`Fault`].
//!
//! The subcode is matched by namespace URI and local name ([`FaultSubcode`]); its `Display`
//! says in plain English what went wrong. Subcodes captured from AMT: DestinationUnreachable
//! (no instance matches the selectors, or the class is not supported), InvalidRepresentation
//! (detail MissingValues), QuotaLimit. Others are DSP0226's generic table (§1.6).

use std::fmt;

use crate::ns;
use crate::wsman::Element;

/// The fault subcode, matched by namespace and local name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultSubcode {
    /// wsa:DestinationUnreachable.
    DestinationUnreachable,
    /// wxf:InvalidRepresentation (WS-Transfer).
    InvalidRepresentation,
    /// wsman:QuotaLimit.
    QuotaLimit,
    /// wsman:AccessDenied.
    AccessDenied,
    /// wsa:ActionNotSupported.
    ActionNotSupported,
    /// wsman:InvalidSelectors.
    InvalidSelectors,
    /// wsman:InvalidParameter.
    InvalidParameter,
    /// wsman:SchemaValidationError.
    SchemaValidationError,
    /// wsen:InvalidEnumerationContext.
    InvalidEnumerationContext,
    /// wsman:InternalError.
    InternalError,
    /// wsman:TimedOut.
    TimedOut,
    /// wsman:UnsupportedFeature.
    UnsupportedFeature,
    /// wsa:MessageInformationHeaderRequired.
    MessageInformationHeaderRequired,
    /// soap:MustUnderstand (as code or subcode).
    MustUnderstand,
    /// Any other (namespace, local name).
    Other(String, String),
}

impl FaultSubcode {
    /// Classifies a (namespace, local) pair.
    pub fn from_qname(ns_uri: &str, local: &str) -> Self {
        use FaultSubcode::*;
        match (ns_uri, local) {
            (ns::ADDRESSING, "DestinationUnreachable") => DestinationUnreachable,
            (ns::TRANSFER, "InvalidRepresentation") => InvalidRepresentation,
            (ns::WSMAN, "QuotaLimit") => QuotaLimit,
            (ns::WSMAN, "AccessDenied") => AccessDenied,
            (ns::ADDRESSING, "ActionNotSupported") => ActionNotSupported,
            (ns::WSMAN, "InvalidSelectors") => InvalidSelectors,
            (ns::WSMAN, "InvalidParameter") => InvalidParameter,
            (ns::WSMAN, "SchemaValidationError") => SchemaValidationError,
            (ns::ENUMERATION, "InvalidEnumerationContext") => InvalidEnumerationContext,
            (ns::WSMAN, "InternalError") => InternalError,
            (ns::WSMAN, "TimedOut") => TimedOut,
            (ns::WSMAN, "UnsupportedFeature") => UnsupportedFeature,
            (ns::ADDRESSING, "MessageInformationHeaderRequired") => MessageInformationHeaderRequired,
            (ns::SOAP, "MustUnderstand") => MustUnderstand,
            (n, l) => Other(n.to_owned(), l.to_owned()),
        }
    }

    /// (namespace, local name) of this subcode.
    pub fn qname(&self) -> (&str, &str) {
        use FaultSubcode::*;
        match self {
            DestinationUnreachable => (ns::ADDRESSING, "DestinationUnreachable"),
            InvalidRepresentation => (ns::TRANSFER, "InvalidRepresentation"),
            QuotaLimit => (ns::WSMAN, "QuotaLimit"),
            AccessDenied => (ns::WSMAN, "AccessDenied"),
            ActionNotSupported => (ns::ADDRESSING, "ActionNotSupported"),
            InvalidSelectors => (ns::WSMAN, "InvalidSelectors"),
            InvalidParameter => (ns::WSMAN, "InvalidParameter"),
            SchemaValidationError => (ns::WSMAN, "SchemaValidationError"),
            InvalidEnumerationContext => (ns::ENUMERATION, "InvalidEnumerationContext"),
            InternalError => (ns::WSMAN, "InternalError"),
            TimedOut => (ns::WSMAN, "TimedOut"),
            UnsupportedFeature => (ns::WSMAN, "UnsupportedFeature"),
            MessageInformationHeaderRequired => (ns::ADDRESSING, "MessageInformationHeaderRequired"),
            MustUnderstand => (ns::SOAP, "MustUnderstand"),
            Other(n, l) => (n, l),
        }
    }
}

impl fmt::Display for FaultSubcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use FaultSubcode::*;
        let s = match self {
            DestinationUnreachable => {
                "no such instance on the device (the selectors match nothing, or the device does not support this class)"
            }
            InvalidRepresentation => "the device rejected the data sent (invalid or missing values)",
            QuotaLimit => "the device is busy or a table on it is full",
            AccessDenied => "access denied: the account lacks the rights (realm) for this operation",
            ActionNotSupported => "the device does not support this operation",
            InvalidSelectors => "the instance keys (selectors) are wrong or incomplete",
            InvalidParameter => "a parameter has an invalid value",
            SchemaValidationError => "the request does not match the class schema",
            InvalidEnumerationContext => "the enumeration expired or is unknown; start again",
            InternalError => "the device had an internal error",
            TimedOut => "the device timed out",
            UnsupportedFeature => "the device does not support a feature the request uses",
            MessageInformationHeaderRequired => "the request lacks a required addressing header",
            MustUnderstand => "the device does not understand a header marked mustUnderstand",
            Other(n, l) => return write!(f, "fault {l} ({n})"),
        };
        f.write_str(s)
    }
}

/// A SOAP fault from the device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Code value (Sender or Receiver), as (namespace, local).
    pub code: (String, String),
    /// The subcode, when present.
    pub subcode: Option<FaultSubcode>,
    /// Reason text (English).
    pub reason: String,
    /// `FaultDetail` text (e.g. `…/faultDetail/MissingValues`) or other detail text.
    pub detail: Option<String>,
}

impl Fault {
    /// Reads a `Fault` element (SOAP 1.2 namespace).
    pub fn from_element(e: &Element) -> Self {
        let qn = |el: Option<&Element>| -> Option<(String, String)> {
            let el = el?;
            Some(match &el.text_qname {
                Some((n, l)) => (n.to_string(), l.clone()),
                None => (String::new(), el.text.trim().to_owned()),
            })
        };
        let code_el = e.child(ns::SOAP, "Code");
        let code = qn(code_el.and_then(|c| c.child(ns::SOAP, "Value"))).unwrap_or_default();
        let subcode = qn(code_el
            .and_then(|c| c.child(ns::SOAP, "Subcode"))
            .and_then(|s| s.child(ns::SOAP, "Value")))
        .map(|(n, l)| FaultSubcode::from_qname(&n, &l));
        let reason = e
            .child(ns::SOAP, "Reason")
            .and_then(|r| r.child(ns::SOAP, "Text"))
            .map(|t| t.text.trim().to_owned())
            .unwrap_or_default();
        let detail = e.child(ns::SOAP, "Detail").and_then(|d| {
            d.child(ns::WSMAN, "FaultDetail")
                .map(|fd| fd.text.trim().to_owned())
                .or_else(|| d.children.first().map(|c| c.text.trim().to_owned()))
                .or_else(|| Some(d.text.trim().to_owned()))
                .filter(|s| !s.is_empty())
        });
        Fault {
            code,
            subcode,
            reason,
            detail,
        }
    }

    /// True for the "no such instance" fault.
    pub fn is_destination_unreachable(&self) -> bool {
        self.subcode == Some(FaultSubcode::DestinationUnreachable)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.subcode {
            Some(s) => write!(f, "{s}")?,
            None => write!(f, "the device returned a fault ({})", self.code.1)?,
        }
        if !self.reason.is_empty() {
            write!(f, " (device said: {})", self.reason)?;
        }
        if let Some(d) = &self.detail {
            write!(f, " [{}]", d.rsplit('/').next().unwrap_or(d))?;
        }
        Ok(())
    }
}

impl std::error::Error for Fault {}
