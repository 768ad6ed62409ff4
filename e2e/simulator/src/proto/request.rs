//! Device-side reading of WS-Management request envelopes (protocol reference §1.2–§1.4).

use super::ns;
use super::xml::{Element, XmlError};

/// Why a request envelope could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// Not XML.
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// XML, but not a SOAP 1.2 envelope with a header and body.
    #[error("not a SOAP 1.2 envelope: {0}")]
    NotEnvelope(&'static str),
}

/// A parsed WS-Management request.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// `a:Action` (empty for Identify).
    pub action: String,
    /// `w:ResourceURI` (empty for Identify).
    pub resource_uri: String,
    /// `a:MessageID`, echoed in `RelatesTo`.
    pub message_id: String,
    /// `w:SelectorSet` as (Name, value) pairs.
    pub selectors: Vec<(String, String)>,
    /// The first element of the Body, if any.
    pub body: Option<Element>,
    /// True when the Body is `wsmid:Identify`.
    pub identify: bool,
}

impl Request {
    /// Reads a request envelope.
    pub fn parse(text: &str) -> Result<Request, RequestError> {
        let root = Element::parse(text)?;
        if root.ns != ns::SOAP || root.name != "Envelope" {
            return Err(RequestError::NotEnvelope("root is not soap:Envelope"));
        }
        let body = root
            .child(ns::SOAP, "Body")
            .ok_or(RequestError::NotEnvelope("no soap:Body"))?;
        let first = body.children.first().cloned();
        let identify = first
            .as_ref()
            .is_some_and(|b| b.ns == ns::WSMID && b.name == "Identify");
        let mut req = Request {
            body: first,
            identify,
            ..Request::default()
        };
        if let Some(header) = root.child(ns::SOAP, "Header") {
            if let Some(a) = header.child(ns::ADDRESSING, "Action") {
                req.action = a.text.clone();
            }
            if let Some(r) = header.child(ns::WSMAN, "ResourceURI") {
                req.resource_uri = r.text.clone();
            }
            if let Some(m) = header.child(ns::ADDRESSING, "MessageID") {
                req.message_id = m.text.clone();
            }
            if let Some(set) = header.child(ns::WSMAN, "SelectorSet") {
                req.selectors = selectors_of(set);
            }
        } else if !identify {
            return Err(RequestError::NotEnvelope("no soap:Header"));
        }
        Ok(req)
    }

    /// A selector value by name.
    pub fn selector(&self, name: &str) -> Option<&str> {
        self.selectors.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

fn selectors_of(set: &Element) -> Vec<(String, String)> {
    set.children
        .iter()
        .filter(|s| s.name == "Selector")
        .map(|s| (s.attr("Name").unwrap_or_default().to_string(), s.text.clone()))
        .collect()
}

/// An endpoint reference argument (`<h:Arg><Address/><ReferenceParameters>…`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Epr {
    /// ResourceURI inside ReferenceParameters.
    pub resource_uri: String,
    /// Selectors inside ReferenceParameters.
    pub selectors: Vec<(String, String)>,
}

impl Epr {
    /// Reads an EPR from the argument element; `None` when it has no ReferenceParameters.
    pub fn from_element(el: &Element) -> Option<Epr> {
        let rp = el.child_local("ReferenceParameters")?;
        Some(Epr {
            resource_uri: rp.text_local("ResourceURI").unwrap_or_default().to_string(),
            selectors: rp.child_local("SelectorSet").map(selectors_of).unwrap_or_default(),
        })
    }

    /// A selector value by name.
    pub fn selector(&self, name: &str) -> Option<&str> {
        self.selectors.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Builds a request envelope in the compact form MeshCommander and go-wsman-messages send
/// (used by the simulator's own client, tests and benchmarks).
pub fn build(action: &str, resource_uri: &str, message_id: u64, selectors: &[(&str, &str)], body: &str) -> String {
    use super::xml::escape;
    let mut sel = String::new();
    if !selectors.is_empty() {
        sel.push_str("<w:SelectorSet>");
        for (k, v) in selectors {
            sel.push_str(&format!(
                "<w:Selector Name=\"{}\">{}</w:Selector>",
                escape(k),
                escape(v)
            ));
        }
        sel.push_str("</w:SelectorSet>");
    }
    let body = if body.is_empty() {
        "<Body/>".to_string()
    } else {
        format!("<Body>{body}</Body>")
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Envelope xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:a=\"{}\" xmlns:w=\"{}\" xmlns=\"{}\"><Header><a:Action>{}</a:Action><a:To>/wsman</a:To><w:ResourceURI>{}</w:ResourceURI><a:MessageID>{}</a:MessageID><a:ReplyTo><a:Address>{}</a:Address></a:ReplyTo><w:OperationTimeout>PT60S</w:OperationTimeout>{}</Header>{}</Envelope>",
        ns::ADDRESSING,
        ns::WSMAN,
        ns::SOAP,
        escape(action),
        escape(resource_uri),
        message_id,
        ns::ANONYMOUS,
        sel,
        body
    )
}

/// Builds a method-invocation body `<h:Method_INPUT xmlns:h="URI">…</h:Method_INPUT>`
/// from (name, value) pairs; repeated names make arrays.
pub fn method_input(resource_uri: &str, method: &str, args: &[(&str, &str)]) -> String {
    use super::xml::escape;
    let mut s = format!("<h:{method}_INPUT xmlns:h=\"{}\">", escape(resource_uri));
    for (k, v) in args {
        s.push_str(&format!("<h:{k}>{}</h:{k}>", escape(v)));
    }
    s.push_str(&format!("</h:{method}_INPUT>"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_of_built_request() {
        let uri = ns::resource_uri("AMT_GeneralSettings");
        let text = build(ns::ACTION_GET, &uri, 7, &[("InstanceID", "x & y")], "");
        let req = Request::parse(&text).unwrap();
        assert_eq!(req.action, ns::ACTION_GET);
        assert_eq!(req.resource_uri, uri);
        assert_eq!(req.message_id, "7");
        assert_eq!(req.selector("InstanceID"), Some("x & y"));
        assert!(req.body.is_none());
    }

    #[test]
    fn identify_without_header() {
        let text = format!(
            "<s:Envelope xmlns:s=\"{}\" xmlns:i=\"{}\"><s:Body><i:Identify/></s:Body></s:Envelope>",
            ns::SOAP,
            ns::WSMID
        );
        assert!(Request::parse(&text).unwrap().identify);
    }
}
