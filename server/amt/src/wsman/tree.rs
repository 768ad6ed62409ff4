//! A small namespace-aware XML element tree, parsed with quick-xml.
//!
//! Every element and attribute name is a `(namespace URI, local name)` pair; prefixes are
//! resolved while parsing and then forgotten, because AMT firmware assigns prefixes per
//! response. Text that looks like a QName (`b:DestinationUnreachable`, as in fault codes) is
//! resolved too, into [`Element::text_qname`]. Whitespace-only text is dropped. Namespace URIs
//! are interned per document as `Arc<str>` so a tree is cheap to build and `Send`.

use std::collections::HashMap;
use std::sync::Arc;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

/// Errors from [`Element::parse`].
#[derive(Debug, thiserror::Error)]
pub enum XmlError {
    /// quick-xml rejected the document (not well-formed, bad encoding, …).
    #[error("malformed XML at byte {position}: {message}")]
    Malformed {
        /// Byte offset where the reader stopped.
        position: u64,
        /// quick-xml's description.
        message: String,
    },
    /// A prefix was used without a declaration in scope.
    #[error("undeclared namespace prefix `{0}`")]
    UnknownPrefix(String),
    /// The document has no root element.
    #[error("the document has no root element")]
    Empty,
    /// An end tag did not match, or the document ended inside an element.
    #[error("unbalanced elements in XML")]
    Unbalanced,
}

/// One attribute: namespace (empty when unqualified), local name, value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// Namespace URI, or "" for an unprefixed attribute.
    pub ns: Arc<str>,
    /// Local name.
    pub local: String,
    /// Unescaped value.
    pub value: String,
}

/// An XML element with resolved names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Namespace URI ("" when none).
    pub ns: Arc<str>,
    /// Local name.
    pub local: String,
    /// Attributes, namespace declarations excluded.
    pub attrs: Vec<Attribute>,
    /// Child elements in document order.
    pub children: Vec<Element>,
    /// Concatenated, unescaped text content (whitespace-only text dropped).
    pub text: String,
    /// When the text is a prefixed name whose prefix is declared in scope: (namespace, local).
    pub text_qname: Option<(Arc<str>, String)>,
}

impl Element {
    /// A new element with no content.
    pub fn new(ns: &str, local: &str) -> Self {
        Element {
            ns: Arc::from(ns),
            local: local.to_owned(),
            attrs: Vec::new(),
            children: Vec::new(),
            text: String::new(),
            text_qname: None,
        }
    }

    /// Parses a whole document and returns its root element.
    pub fn parse(xml: &str) -> Result<Element, XmlError> {
        let mut reader = NsReader::from_str(xml);
        reader.config_mut().trim_text(false);
        let mut interner: HashMap<Vec<u8>, Arc<str>> = HashMap::new();
        let empty: Arc<str> = Arc::from("");
        let mut stack: Vec<Element> = Vec::new();
        let mut root: Option<Element> = None;
        loop {
            let pos = reader.buffer_position();
            let (res, ev) = reader.read_resolved_event().map_err(|e| XmlError::Malformed {
                position: pos,
                message: e.to_string(),
            })?;
            match ev {
                Event::Start(start) => {
                    let ns = intern(&mut interner, &empty, &res)?;
                    let el = open(&reader, &start, ns, &mut interner, &empty, pos)?;
                    stack.push(el);
                }
                Event::Empty(start) => {
                    let ns = intern(&mut interner, &empty, &res)?;
                    let el = open(&reader, &start, ns, &mut interner, &empty, pos)?;
                    stack.push(el);
                    close(&mut stack, &mut root, &reader, &mut interner)?;
                }
                Event::End(_) => close(&mut stack, &mut root, &reader, &mut interner)?,
                Event::Text(t) => {
                    if let Some(top) = stack.last_mut() {
                        let s = t.decode().map_err(|e| XmlError::Malformed {
                            position: pos,
                            message: e.to_string(),
                        })?;
                        top.text.push_str(&s);
                    }
                }
                Event::CData(t) => {
                    if let Some(top) = stack.last_mut() {
                        top.text.push_str(&String::from_utf8_lossy(&t));
                    }
                }
                Event::GeneralRef(r) => {
                    if let Some(top) = stack.last_mut() {
                        let ch = r.resolve_char_ref().map_err(|e| XmlError::Malformed {
                            position: pos,
                            message: e.to_string(),
                        })?;
                        if let Some(c) = ch {
                            top.text.push(c);
                        } else {
                            let name = String::from_utf8_lossy(&r).into_owned();
                            match quick_xml::escape::resolve_predefined_entity(&name) {
                                Some(v) => top.text.push_str(v),
                                None => {
                                    return Err(XmlError::Malformed {
                                        position: pos,
                                        message: format!("unknown entity &{name};"),
                                    });
                                }
                            }
                        }
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if !stack.is_empty() {
            return Err(XmlError::Unbalanced);
        }
        root.ok_or(XmlError::Empty)
    }

    /// True when the element has this namespace and local name.
    pub fn is(&self, ns: &str, local: &str) -> bool {
        &*self.ns == ns && self.local == local
    }

    /// First child with this namespace and local name.
    pub fn child(&self, ns: &str, local: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, local))
    }

    /// All children with this namespace and local name (repeated elements = arrays).
    pub fn children_named<'a>(&'a self, ns: &'a str, local: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(ns, local))
    }

    /// Text of the first child with this name.
    pub fn child_text(&self, ns: &str, local: &str) -> Option<&str> {
        self.child(ns, local).map(|c| c.text.as_str())
    }

    /// Follows a path of (namespace, local) steps from this element.
    pub fn path(&self, steps: &[(&str, &str)]) -> Option<&Element> {
        let mut cur = self;
        for (ns, local) in steps {
            cur = cur.child(ns, local)?;
        }
        Some(cur)
    }

    /// Value of the attribute with this namespace ("" for unqualified) and local name.
    pub fn attr(&self, ns: &str, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| &*a.ns == ns && a.local == local)
            .map(|a| a.value.as_str())
    }

    /// True when the element carries `xsi:nil="true"`.
    pub fn is_nil(&self) -> bool {
        self.attr(crate::ns::XSI, "nil") == Some("true")
    }

    /// Number of elements in this subtree, this one included.
    pub fn count(&self) -> usize {
        1 + self.children.iter().map(Element::count).sum::<usize>()
    }
}

fn open(
    reader: &NsReader<&[u8]>,
    start: &BytesStart<'_>,
    ns: Arc<str>,
    interner: &mut HashMap<Vec<u8>, Arc<str>>,
    empty: &Arc<str>,
    pos: u64,
) -> Result<Element, XmlError> {
    let local = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut el = Element {
        ns,
        local,
        attrs: Vec::new(),
        children: Vec::new(),
        text: String::new(),
        text_qname: None,
    };
    for attr in start.attributes() {
        let attr = attr.map_err(|e| XmlError::Malformed {
            position: pos,
            message: e.to_string(),
        })?;
        let key = attr.key;
        if key.as_namespace_binding().is_some() {
            continue;
        }
        let (ares, alocal) = reader.resolve_attribute(key);
        let ans = intern(interner, empty, &ares)?;
        let value = attr
            .unescape_value()
            .map_err(|e| XmlError::Malformed {
                position: pos,
                message: e.to_string(),
            })?
            .into_owned();
        el.attrs.push(Attribute {
            ns: ans,
            local: String::from_utf8_lossy(alocal.as_ref()).into_owned(),
            value,
        });
    }
    Ok(el)
}

fn intern(
    interner: &mut HashMap<Vec<u8>, Arc<str>>,
    empty: &Arc<str>,
    res: &ResolveResult<'_>,
) -> Result<Arc<str>, XmlError> {
    match res {
        ResolveResult::Unbound => Ok(empty.clone()),
        ResolveResult::Bound(ns) => {
            if let Some(a) = interner.get(ns.as_ref()) {
                return Ok(a.clone());
            }
            let a: Arc<str> = Arc::from(String::from_utf8_lossy(ns.as_ref()).as_ref());
            interner.insert(ns.as_ref().to_vec(), a.clone());
            Ok(a)
        }
        ResolveResult::Unknown(p) => Err(XmlError::UnknownPrefix(String::from_utf8_lossy(p).into_owned())),
    }
}

fn close(
    stack: &mut Vec<Element>,
    root: &mut Option<Element>,
    reader: &NsReader<&[u8]>,
    interner: &mut HashMap<Vec<u8>, Arc<str>>,
) -> Result<(), XmlError> {
    let mut el = stack.pop().ok_or(XmlError::Unbalanced)?;
    if el.text.trim().is_empty() {
        el.text.clear();
    } else {
        // The text is kept exactly as sent: AMT values may end with a space
        // (CIM_PhysicalMemory.PartNumber); only pure whitespace is dropped.
        let t = el.text.trim();
        if let Some((prefix, _)) = t.split_once(':')
            && !prefix.is_empty()
            && !t.contains(['/', ' '])
        {
            let (res, local) = reader.resolve_element(quick_xml::name::QName(t.as_bytes()));
            if let ResolveResult::Bound(ns) = res {
                let nsa = match interner.get(ns.as_ref()) {
                    Some(a) => a.clone(),
                    None => Arc::from(String::from_utf8_lossy(ns.as_ref()).as_ref()),
                };
                el.text_qname = Some((nsa, String::from_utf8_lossy(local.as_ref()).into_owned()));
            }
        }
    }
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => {
            if root.is_some() {
                return Err(XmlError::Unbalanced);
            }
            *root = Some(el);
        }
    }
    Ok(())
}
