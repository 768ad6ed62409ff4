//! Response (and incoming request) envelopes read by namespace URI, never by prefix.
//!
//! [`Envelope::parse`] builds the element tree, then exposes the addressing header fields,
//! the body, SOAP faults ([`crate::fault::Fault`]), Enumerate/Pull results and method
//! outputs. The device side parses requests with the same type.

use crate::fault::Fault;
use crate::ns;
use crate::wsman::tree::{Element, XmlError};

/// Errors reading an envelope or a typed value out of it.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The XML itself is broken.
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// The root is not a SOAP 1.2 Envelope.
    #[error("not a SOAP 1.2 envelope (root element {0})")]
    NotEnvelope(String),
    /// An expected element is absent.
    #[error("the response has no {0}")]
    Missing(String),
    /// A value could not be read as the expected type.
    #[error("{field} has an unexpected value {value:?}")]
    BadValue {
        /// Property name.
        field: String,
        /// The text found.
        value: String,
    },
}

/// Addressing and WS-Management header fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Header {
    /// `Action`.
    pub action: String,
    /// `MessageID`.
    pub message_id: String,
    /// `RelatesTo` (responses).
    pub relates_to: Option<String>,
    /// `To`.
    pub to: Option<String>,
    /// `ResourceURI` (missing in some faults and in Identify).
    pub resource_uri: Option<String>,
    /// Header `SelectorSet` (requests).
    pub selectors: Vec<(String, String)>,
}

/// A parsed SOAP envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Header fields.
    pub header: Header,
    /// The `Body` element (its children are the payload).
    pub body: Element,
}

/// Items of an Enumerate (optimized) or Pull response.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PullResult {
    /// The instances in `Items`.
    pub items: Vec<Element>,
    /// A context to pull again, when the sequence is not finished.
    pub context: Option<String>,
    /// `EndOfSequence` was present.
    pub end_of_sequence: bool,
}

impl Envelope {
    /// Parses a SOAP 1.2 envelope.
    pub fn parse(xml: &str) -> Result<Self, ParseError> {
        let root = Element::parse(xml)?;
        Self::from_root(root)
    }

    /// Interprets an already parsed root element.
    pub fn from_root(mut root: Element) -> Result<Self, ParseError> {
        if !root.is(ns::SOAP, "Envelope") {
            return Err(ParseError::NotEnvelope(format!("{{{}}}{}", root.ns, root.local)));
        }
        let mut header = Header::default();
        if let Some(h) = root.child(ns::SOAP, "Header") {
            let text = |local: &str| h.child(ns::ADDRESSING, local).map(|e| e.text.trim().to_owned());
            header.action = text("Action").unwrap_or_default();
            header.message_id = text("MessageID").unwrap_or_default();
            header.relates_to = text("RelatesTo");
            header.to = text("To");
            header.resource_uri = h.child(ns::WSMAN, "ResourceURI").map(|e| e.text.trim().to_owned());
            if let Some(set) = h.child(ns::WSMAN, "SelectorSet") {
                header.selectors = set
                    .children_named(ns::WSMAN, "Selector")
                    .map(|s| (s.attr("", "Name").unwrap_or_default().to_owned(), s.text.clone()))
                    .collect();
            }
        }
        let pos = root
            .children
            .iter()
            .position(|c| c.is(ns::SOAP, "Body"))
            .ok_or_else(|| ParseError::Missing("SOAP Body".into()))?;
        let body = root.children.swap_remove(pos);
        Ok(Envelope { header, body })
    }

    /// The first element of the body (the instance, the method output, the fault, …).
    pub fn payload(&self) -> Option<&Element> {
        self.body.children.first()
    }

    /// The SOAP fault in the body, if any.
    pub fn fault(&self) -> Option<Fault> {
        self.body.child(ns::SOAP, "Fault").map(Fault::from_element)
    }

    /// The instance of a Get/Put/Create response: the body's first child, when it is in
    /// the class namespace `resource_uri`.
    pub fn instance(&self, resource_uri: &str) -> Result<&Element, ParseError> {
        let class = ns::class_name(resource_uri);
        self.body
            .child(resource_uri, class)
            .ok_or_else(|| ParseError::Missing(format!("{class} instance")))
    }

    /// The `EnumerationContext` of an EnumerateResponse.
    pub fn enumeration_context(&self) -> Result<String, ParseError> {
        self.body
            .path(&[
                (ns::ENUMERATION, "EnumerateResponse"),
                (ns::ENUMERATION, "EnumerationContext"),
            ])
            .map(|e| e.text.trim().to_owned())
            .ok_or_else(|| ParseError::Missing("EnumerationContext".into()))
    }

    /// Items, next context and end flag of a PullResponse (or an optimized EnumerateResponse).
    pub fn pull_result(&self) -> Result<PullResult, ParseError> {
        let resp = self
            .body
            .child(ns::ENUMERATION, "PullResponse")
            .or_else(|| self.body.child(ns::ENUMERATION, "EnumerateResponse"))
            .ok_or_else(|| ParseError::Missing("PullResponse".into()))?;
        let items = resp
            .child(ns::ENUMERATION, "Items")
            .or_else(|| resp.child(ns::WSMAN, "Items"))
            .map(|i| i.children.clone())
            .unwrap_or_default();
        let end_of_sequence =
            resp.child(ns::ENUMERATION, "EndOfSequence").is_some() || resp.child(ns::WSMAN, "EndOfSequence").is_some();
        let context = resp
            .child(ns::ENUMERATION, "EnumerationContext")
            .map(|e| e.text.trim().to_owned())
            .filter(|c| !c.is_empty());
        Ok(PullResult {
            items,
            context,
            end_of_sequence,
        })
    }

    /// The `<Method>_OUTPUT` element of a method response.
    pub fn method_output(&self, method: &str) -> Result<&Element, ParseError> {
        let name = format!("{method}_OUTPUT");
        self.body
            .children
            .iter()
            .find(|c| c.local == name)
            .ok_or(ParseError::Missing(name))
    }
}

/// Reads `ReturnValue` of a method output element.
pub fn return_value(output: &Element) -> Result<u32, ParseError> {
    let t = output
        .child(&output.ns, "ReturnValue")
        .map(|e| e.text.trim())
        .ok_or_else(|| ParseError::Missing("ReturnValue".into()))?;
    t.parse().map_err(|_| ParseError::BadValue {
        field: "ReturnValue".into(),
        value: t.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_do_not_matter() {
        let a = r#"<x:Envelope xmlns:x="http://www.w3.org/2003/05/soap-envelope" xmlns:y="http://schemas.xmlsoap.org/ws/2004/08/addressing"><x:Header><y:Action>A</y:Action><y:MessageID>m</y:MessageID></x:Header><x:Body><q:Foo_OUTPUT xmlns:q="urn:c"><q:ReturnValue>2081</q:ReturnValue></q:Foo_OUTPUT></x:Body></x:Envelope>"#;
        let env = Envelope::parse(a).expect("parses");
        assert_eq!(env.header.action, "A");
        let out = env.method_output("Foo").expect("output");
        assert_eq!(return_value(out).expect("rv"), 2081);
    }

    #[test]
    fn wrong_root() {
        assert!(matches!(
            Envelope::parse("<Envelope/>"),
            Err(ParseError::NotEnvelope(_))
        ));
        assert!(Envelope::parse("<a:Envelope>").is_err());
        assert!(Envelope::parse("").is_err());
    }
}
