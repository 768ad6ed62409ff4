//! A small namespace-aware element tree, enough to read WS-Man requests.
//!
//! Elements are identified by namespace URI and local name, never by prefix (clients
//! choose their own prefixes). Text is unescaped; whitespace-only text is dropped.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

/// Errors while reading an XML document.
#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    /// The document is not well-formed XML.
    #[error("malformed XML: {0}")]
    Malformed(String),
    /// The document has no root element.
    #[error("empty XML document")]
    Empty,
    /// The document nests deeper than the reader allows.
    #[error("XML nesting too deep")]
    TooDeep,
}

/// One element with its namespace, attributes (by local name), text and children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// Namespace URI ("" when none).
    pub ns: String,
    /// Local name.
    pub name: String,
    /// Attributes by local name.
    pub attrs: Vec<(String, String)>,
    /// Concatenated, unescaped text content (trimmed).
    pub text: String,
    /// Child elements in document order.
    pub children: Vec<Element>,
}

const MAX_DEPTH: usize = 64;

impl Element {
    /// Parses a document and returns its root element.
    pub fn parse(input: &str) -> Result<Element, XmlError> {
        let mut reader = NsReader::from_str(input);
        let mut stack: Vec<Element> = Vec::new();
        let mut root: Option<Element> = None;
        loop {
            let (res, ev) = reader
                .read_resolved_event()
                .map_err(|e| XmlError::Malformed(e.to_string()))?;
            let ns = match res {
                ResolveResult::Bound(ns) => String::from_utf8_lossy(ns.as_ref()).into_owned(),
                _ => String::new(),
            };
            match ev {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    if root.is_some() {
                        return Err(XmlError::Malformed("content after the root element".into()));
                    }
                    let mut el = Element {
                        ns,
                        name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                        ..Element::default()
                    };
                    for attr in e.attributes() {
                        let attr = attr.map_err(|e| XmlError::Malformed(e.to_string()))?;
                        let value = attr.unescape_value().map_err(|e| XmlError::Malformed(e.to_string()))?;
                        el.attrs.push((
                            String::from_utf8_lossy(attr.key.local_name().as_ref()).into_owned(),
                            value.into_owned(),
                        ));
                    }
                    if matches!(ev, Event::Start(_)) {
                        if stack.len() >= MAX_DEPTH {
                            return Err(XmlError::TooDeep);
                        }
                        stack.push(el);
                    } else {
                        Self::close(&mut stack, &mut root, el);
                    }
                }
                Event::End(_) => {
                    let mut el = stack
                        .pop()
                        .ok_or_else(|| XmlError::Malformed("unbalanced end tag".into()))?;
                    el.text = el.text.trim().to_string();
                    Self::close(&mut stack, &mut root, el);
                }
                Event::Text(t) => {
                    let text = t.decode().map_err(|e| XmlError::Malformed(e.to_string()))?;
                    if let Some(top) = stack.last_mut() {
                        top.text.push_str(&text);
                    } else if !text.trim().is_empty() {
                        return Err(XmlError::Malformed("text outside the root element".into()));
                    }
                }
                Event::CData(t) => {
                    if let Some(top) = stack.last_mut() {
                        top.text.push_str(&String::from_utf8_lossy(&t.into_inner()));
                    }
                }
                Event::GeneralRef(r) => {
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        Ok(None) => {
                            let name = r.decode().map_err(|e| XmlError::Malformed(e.to_string()))?;
                            quick_xml::escape::resolve_predefined_entity(&name)
                                .ok_or_else(|| XmlError::Malformed(format!("unknown entity &{name};")))?
                                .to_string()
                        }
                        Err(e) => return Err(XmlError::Malformed(e.to_string())),
                    };
                    if let Some(top) = stack.last_mut() {
                        top.text.push_str(&resolved);
                    }
                }
                Event::Eof => break,
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
            }
        }
        if !stack.is_empty() {
            return Err(XmlError::Malformed("unexpected end of document".into()));
        }
        root.ok_or(XmlError::Empty)
    }

    fn close(stack: &mut [Element], root: &mut Option<Element>, el: Element) {
        match stack.last_mut() {
            Some(parent) => parent.children.push(el),
            None => *root = Some(el),
        }
    }

    /// The first child with this namespace and local name.
    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.ns == ns && c.name == name)
    }

    /// The first child with this local name, whatever its namespace.
    pub fn child_local(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Texts of all children with this local name (repeated elements are arrays).
    pub fn texts_local(&self, name: &str) -> Vec<&str> {
        self.children
            .iter()
            .filter(|c| c.name == name)
            .map(|c| c.text.as_str())
            .collect()
    }

    /// The text of the first child with this local name.
    pub fn text_local(&self, name: &str) -> Option<&str> {
        self.child_local(name).map(|c| c.text.as_str())
    }

    /// An attribute by local name.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Escapes text for element content and attribute values.
pub fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_namespaces_text_and_entities() {
        let doc =
            r#"<?xml version="1.0"?><a:E xmlns:a="urn:x" xmlns="urn:d"><a:T k="v&amp;w">x &lt; y</a:T><U/></a:E>"#;
        let root = Element::parse(doc).unwrap();
        assert_eq!(root.ns, "urn:x");
        let t = root.child("urn:x", "T").unwrap();
        assert_eq!(t.text, "x < y");
        assert_eq!(t.attr("k"), Some("v&w"));
        assert_eq!(root.child("urn:d", "U").unwrap().name, "U");
    }

    #[test]
    fn rejects_garbage() {
        assert!(Element::parse("<a><b></a>").is_err());
        assert!(Element::parse("").is_err());
        assert!(Element::parse("<a></a><b/>").is_err());
    }
}
