//! Property values and property lists: the common currency of requests, responses and models.
//!
//! A [`Properties`] list is ordered and may repeat a name: repeated elements are how
//! WS-Management sends arrays (`<h:Realms>2</h:Realms><h:Realms>3</h:Realms>`). A [`Value`]
//! is plain text, a CIM datetime (written as a `Datetime` child in the WS-CIM common
//! namespace) or an endpoint reference (EPR). [`write_properties`] serializes a list with a
//! given class prefix; the caller chooses whether the addressing/wsman/common namespaces are
//! declared prefixes (device responses) or inline `xmlns` (client requests, as MC/GWM send).

use crate::ns;
use crate::wsman::tree::Element;

/// A WS-Addressing endpoint reference to a CIM instance.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EndpointReference {
    /// `Address`, normally the anonymous role or `…/addressing`.
    pub address: String,
    /// `ReferenceParameters/ResourceURI`.
    pub resource_uri: String,
    /// `ReferenceParameters/SelectorSet/Selector` name/value pairs, in order.
    pub selectors: Vec<(String, String)>,
}

impl EndpointReference {
    /// An EPR with the anonymous address, a resource URI (or class name) and selectors.
    pub fn new(resource_uri_or_class: &str, selectors: &[(&str, &str)]) -> Self {
        EndpointReference {
            address: ns::ANONYMOUS.to_owned(),
            resource_uri: ns::resource_uri(resource_uri_or_class),
            selectors: selectors
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    /// Sets the address (requests from MC/GWM use the addressing namespace URI itself).
    pub fn with_address(mut self, address: &str) -> Self {
        self.address = address.to_owned();
        self
    }

    /// Value of one selector.
    pub fn selector(&self, name: &str) -> Option<&str> {
        self.selectors.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Reads an EPR from an element whose children are `Address` and `ReferenceParameters`
    /// (matched by namespace). Returns `None` when there is no `ReferenceParameters`.
    pub fn from_element(e: &Element) -> Option<Self> {
        let params = e.child(ns::ADDRESSING, "ReferenceParameters")?;
        let address = e
            .child_text(ns::ADDRESSING, "Address")
            .unwrap_or_default()
            .trim()
            .to_owned();
        let resource_uri = params
            .child_text(ns::WSMAN, "ResourceURI")
            .unwrap_or_default()
            .trim()
            .to_owned();
        let selectors = params
            .child(ns::WSMAN, "SelectorSet")
            .map(|set| {
                set.children_named(ns::WSMAN, "Selector")
                    .map(|s| (s.attr("", "Name").unwrap_or_default().to_owned(), s.text.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Some(EndpointReference {
            address,
            resource_uri,
            selectors,
        })
    }
}

/// One property value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Scalar text (numbers, booleans `true`/`false`, strings, base64).
    Text(String),
    /// A CIM datetime such as `2020-08-10T00:00:00Z`, written as a `Datetime` child.
    Datetime(String),
    /// An endpoint reference.
    Epr(EndpointReference),
    /// An explicit null (`xsi:nil="true"`).
    Nil,
}

/// An ordered list of named property values; a repeated name is an array.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Properties(pub Vec<(String, Value)>);

impl Properties {
    /// An empty list.
    pub fn new() -> Self {
        Properties(Vec::new())
    }

    /// Appends a scalar (anything `Display`: numbers, `bool`, strings).
    pub fn text(mut self, name: &str, value: impl std::fmt::Display) -> Self {
        self.0.push((name.to_owned(), Value::Text(value.to_string())));
        self
    }

    /// Appends one element per item (an array).
    pub fn list<T: std::fmt::Display>(mut self, name: &str, values: impl IntoIterator<Item = T>) -> Self {
        for v in values {
            self.0.push((name.to_owned(), Value::Text(v.to_string())));
        }
        self
    }

    /// Appends a datetime child.
    pub fn datetime(mut self, name: &str, value: &str) -> Self {
        self.0.push((name.to_owned(), Value::Datetime(value.to_owned())));
        self
    }

    /// Appends an endpoint reference.
    pub fn epr(mut self, name: &str, epr: EndpointReference) -> Self {
        self.0.push((name.to_owned(), Value::Epr(epr)));
        self
    }

    /// Appends any value.
    pub fn push(&mut self, name: &str, value: Value) {
        self.0.push((name.to_owned(), value));
    }

    /// First scalar text for a name.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find_map(|(k, v)| match v {
            Value::Text(t) | Value::Datetime(t) if k == name => Some(t.as_str()),
            _ => None,
        })
    }

    /// Every scalar text for a name, in order (an array).
    pub fn get_all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter_map(|(k, v)| match v {
                Value::Text(t) if k == name => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The first endpoint reference for a name.
    pub fn get_epr(&self, name: &str) -> Option<&EndpointReference> {
        self.0.iter().find_map(|(k, v)| match v {
            Value::Epr(e) if k == name => Some(e),
            _ => None,
        })
    }

    /// True when any entry has this name (whatever its value).
    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// Removes every entry with this name (e.g. read-only fields before a Put).
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(k, _)| k != name);
    }

    /// Reads the children of an instance element into a list (text, datetime, EPR).
    pub fn from_element(e: &Element) -> Self {
        let mut out = Properties::new();
        for c in &e.children {
            let v = if c.is_nil() {
                Value::Nil
            } else if let Some(dt) = c.child(ns::COMMON, "Datetime") {
                Value::Datetime(dt.text.trim().to_owned())
            } else if let Some(epr) = EndpointReference::from_element(c) {
                Value::Epr(epr)
            } else {
                Value::Text(c.text.clone())
            };
            out.0.push((c.local.clone(), v));
        }
        out
    }
}

/// How namespaces other than the class namespace are written by [`write_properties`].
#[derive(Debug, Clone, Copy)]
pub struct Prefixes<'a> {
    /// Prefix of the class namespace (e.g. `h` in requests, `g`/`h` in responses).
    pub class: &'a str,
    /// Declared prefix of WS-Addressing, or `None` to write inline `xmlns`.
    pub addressing: Option<&'a str>,
    /// Declared prefix of WS-Management, or `None` for inline `xmlns`.
    pub wsman: Option<&'a str>,
    /// Declared prefix of WS-CIM common, or `None` for inline `xmlns`.
    pub common: Option<&'a str>,
}

/// XML-escapes text content or an attribute value.
pub fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(s)
}

fn open_tag(out: &mut String, prefix: Option<&str>, local: &str, ns_uri: &str) {
    out.push('<');
    match prefix {
        Some(p) => {
            out.push_str(p);
            out.push(':');
            out.push_str(local);
        }
        None => {
            out.push_str(local);
            out.push_str(" xmlns=\"");
            out.push_str(ns_uri);
            out.push('"');
        }
    }
    out.push('>');
}

fn close_tag(out: &mut String, prefix: Option<&str>, local: &str) {
    out.push_str("</");
    if let Some(p) = prefix {
        out.push_str(p);
        out.push(':');
    }
    out.push_str(local);
    out.push('>');
}

/// Writes an EPR's children (`Address`, `ReferenceParameters`).
pub fn write_epr(out: &mut String, epr: &EndpointReference, p: &Prefixes<'_>) {
    open_tag(out, p.addressing, "Address", ns::ADDRESSING);
    out.push_str(&escape(&epr.address));
    close_tag(out, p.addressing, "Address");
    open_tag(out, p.addressing, "ReferenceParameters", ns::ADDRESSING);
    open_tag(out, p.wsman, "ResourceURI", ns::WSMAN);
    out.push_str(&escape(&epr.resource_uri));
    close_tag(out, p.wsman, "ResourceURI");
    open_tag(out, p.wsman, "SelectorSet", ns::WSMAN);
    for (k, v) in &epr.selectors {
        out.push('<');
        if let Some(w) = p.wsman {
            out.push_str(w);
            out.push(':');
        }
        out.push_str("Selector Name=\"");
        out.push_str(&escape(k));
        out.push_str("\">");
        out.push_str(&escape(v));
        close_tag(out, p.wsman, "Selector");
    }
    close_tag(out, p.wsman, "SelectorSet");
    close_tag(out, p.addressing, "ReferenceParameters");
}

/// Writes each property as `<class:Name>…</class:Name>`.
pub fn write_properties(out: &mut String, props: &Properties, p: &Prefixes<'_>) {
    for (name, value) in &props.0 {
        let name = escape(name);
        match value {
            Value::Nil => {
                out.push('<');
                out.push_str(p.class);
                out.push(':');
                out.push_str(&name);
                out.push_str(" xsi:nil=\"true\" xmlns:xsi=\"");
                out.push_str(ns::XSI);
                out.push_str("\"/>");
                continue;
            }
            _ => {
                out.push('<');
                out.push_str(p.class);
                out.push(':');
                out.push_str(&name);
                out.push('>');
            }
        }
        match value {
            Value::Text(t) => out.push_str(&escape(t)),
            Value::Datetime(t) => {
                open_tag(out, p.common, "Datetime", ns::COMMON);
                out.push_str(&escape(t));
                close_tag(out, p.common, "Datetime");
            }
            Value::Epr(epr) => write_epr(out, epr, p),
            Value::Nil => {}
        }
        out.push_str("</");
        out.push_str(p.class);
        out.push(':');
        out.push_str(&name);
        out.push('>');
    }
}
