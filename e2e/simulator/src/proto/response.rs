//! Device-side writing of WS-Management responses with AMT's namespace prefix layouts
//! (protocol reference §1.5) and SOAP faults (§1.6).
//!
//! Layouts, copied from the captured responses:
//! * Get / Put / method response: a soap, b addressing, c wsman, d trust, e wsse,
//!   f cimbinding, g the class URI, h common (datetimes only).
//! * Enumerate / Pull response: the same a–f, g enumeration, h the class URI, i common.
//! * Fault: a soap, b addressing, c enumeration, d transfer, e wsman, f eventing,
//!   g cimbinding, h trust, i wsse.

use super::ns;
use super::xml::escape;

/// A property value of a CIM/AMT instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A scalar, written as text.
    Text(String),
    /// An array, written as repeated elements (none when empty).
    List(Vec<String>),
    /// A CIM datetime, written as `<common:Datetime>`.
    Datetime(String),
    /// An endpoint reference.
    Epr {
        /// Resource URI of the referenced instance.
        resource_uri: String,
        /// Its key selectors.
        selectors: Vec<(String, String)>,
    },
    /// An empty element (`<g:Name/>`).
    Empty,
}

impl Value {
    /// A text value from anything displayable.
    pub fn text(v: impl ToString) -> Value {
        Value::Text(v.to_string())
    }

    /// A list value from displayable items.
    pub fn list<T: ToString>(items: impl IntoIterator<Item = T>) -> Value {
        Value::List(items.into_iter().map(|i| i.to_string()).collect())
    }

    /// The scalar text, if this is a text value.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// One instance of a class, properties in the order AMT writes them (alphabetical).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// Class name, e.g. `AMT_GeneralSettings`; the element name in responses.
    pub class: String,
    /// Properties.
    pub props: Vec<(String, Value)>,
}

impl Instance {
    /// An empty instance of a class.
    pub fn new(class: &str) -> Instance {
        Instance {
            class: class.to_string(),
            props: Vec::new(),
        }
    }

    /// Adds a property (builder style).
    pub fn with(mut self, name: &str, value: Value) -> Instance {
        self.props.push((name.to_string(), value));
        self
    }

    /// Adds a text property (builder style).
    pub fn t(self, name: &str, value: impl ToString) -> Instance {
        self.with(name, Value::text(value))
    }

    /// A property by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.props.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Writes the instance as `<p:Class>…</p:Class>`; `common` is the prefix for datetimes.
    pub fn write(&self, out: &mut String, p: &str, common: &str) {
        out.push_str(&format!("<{p}:{}>", self.class));
        write_props(out, p, common, &self.props);
        out.push_str(&format!("</{p}:{}>", self.class));
    }

    fn has_datetime(&self) -> bool {
        self.props.iter().any(|(_, v)| matches!(v, Value::Datetime(_)))
    }
}

fn write_props(out: &mut String, p: &str, common: &str, props: &[(String, Value)]) {
    for (name, value) in props {
        match value {
            Value::Text(t) => out.push_str(&format!("<{p}:{name}>{}</{p}:{name}>", escape(t))),
            Value::List(items) => {
                for t in items {
                    out.push_str(&format!("<{p}:{name}>{}</{p}:{name}>", escape(t)));
                }
            }
            Value::Datetime(t) => out.push_str(&format!(
                "<{p}:{name}><{common}:Datetime>{}</{common}:Datetime></{p}:{name}>",
                escape(t)
            )),
            Value::Epr {
                resource_uri,
                selectors,
            } => {
                out.push_str(&format!(
                    "<{p}:{name}><b:Address>{}</b:Address><b:ReferenceParameters><c:ResourceURI>{}</c:ResourceURI><c:SelectorSet>",
                    ns::ANONYMOUS,
                    escape(resource_uri)
                ));
                for (k, v) in selectors {
                    out.push_str(&format!(
                        "<c:Selector Name=\"{}\">{}</c:Selector>",
                        escape(k),
                        escape(v)
                    ));
                }
                out.push_str(&format!("</c:SelectorSet></b:ReferenceParameters></{p}:{name}>"));
            }
            Value::Empty => out.push_str(&format!("<{p}:{name}/>")),
        }
    }
}

/// Formats AMT's MessageID from a counter: `uuid:00000000-8086-8086-8086-%012X`.
pub fn message_id(counter: u64) -> String {
    format!("uuid:00000000-8086-8086-8086-{:012X}", counter & 0xFFFF_FFFF_FFFF)
}

/// Formats an enumeration context the way AMT does (`DD020000-0000-0000-0000-000000000000`:
/// the counter's bytes little-endian in the first group).
pub fn enumeration_context(counter: u32) -> String {
    format!("{:08X}-0000-0000-0000-000000000000", counter.swap_bytes())
}

/// Addressing data common to every response.
#[derive(Debug, Clone)]
pub struct Reply<'a> {
    /// The response's MessageID (already formatted).
    pub message_id: &'a str,
    /// The request's MessageID.
    pub relates_to: &'a str,
    /// The request's resource URI.
    pub resource_uri: &'a str,
}

const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

impl Reply<'_> {
    fn open(&self, out: &mut String, g: &str, h: Option<&str>, i: Option<&str>, action: &str) {
        out.push_str(XML_DECL);
        out.push_str(&format!(
            "<a:Envelope xmlns:a=\"{}\" xmlns:b=\"{}\" xmlns:c=\"{}\" xmlns:d=\"{}\" xmlns:e=\"{}\" xmlns:f=\"{}\" xmlns:g=\"{}\"",
            ns::SOAP,
            ns::ADDRESSING,
            ns::WSMAN,
            ns::TRUST,
            ns::WSSE,
            ns::CIMBINDING,
            g
        ));
        if let Some(h) = h {
            out.push_str(&format!(" xmlns:h=\"{h}\""));
        }
        if let Some(i) = i {
            out.push_str(&format!(" xmlns:i=\"{i}\""));
        }
        out.push_str(&format!(
            " xmlns:xsi=\"{}\"><a:Header><b:To>{}</b:To><b:RelatesTo>{}</b:RelatesTo><b:Action a:mustUnderstand=\"true\">{}</b:Action><b:MessageID>{}</b:MessageID><c:ResourceURI>{}</c:ResourceURI></a:Header><a:Body>",
            ns::XSI,
            ns::ANONYMOUS,
            escape(self.relates_to),
            escape(action),
            self.message_id,
            escape(self.resource_uri)
        ));
    }

    fn close(out: &mut String) {
        out.push_str("</a:Body></a:Envelope>");
    }

    /// A WS-Transfer response (`GetResponse`, `PutResponse`) carrying one instance.
    pub fn transfer(&self, kind: &str, instance: &Instance) -> String {
        let mut out = String::with_capacity(2048);
        let common = instance.has_datetime().then_some(ns::COMMON);
        self.open(
            &mut out,
            self.resource_uri,
            common,
            None,
            &format!("{}/{kind}", ns::TRANSFER),
        );
        instance.write(&mut out, "g", "h");
        Self::close(&mut out);
        out
    }

    /// A method response: action `URI/MethodResponse`, body `<g:Method_OUTPUT>`.
    pub fn method(&self, method: &str, outputs: &[(String, Value)]) -> String {
        self.method_with_action(method, &format!("{}/{method}Response", self.resource_uri), outputs)
    }

    /// A method response with an explicit action (for firmware quirks).
    pub fn method_with_action(&self, method: &str, action: &str, outputs: &[(String, Value)]) -> String {
        let mut out = String::with_capacity(1024);
        self.open(&mut out, self.resource_uri, None, None, action);
        out.push_str(&format!("<g:{method}_OUTPUT>"));
        write_props(&mut out, "g", "h", outputs);
        out.push_str(&format!("</g:{method}_OUTPUT>"));
        Self::close(&mut out);
        out
    }

    /// An EnumerateResponse with its context.
    pub fn enumerate(&self, context: &str) -> String {
        let mut out = String::with_capacity(1024);
        self.open(
            &mut out,
            ns::ENUMERATION,
            None,
            None,
            &format!("{}/EnumerateResponse", ns::ENUMERATION),
        );
        out.push_str(&format!(
            "<g:EnumerateResponse><g:EnumerationContext>{context}</g:EnumerationContext></g:EnumerateResponse>"
        ));
        Self::close(&mut out);
        out
    }

    /// A PullResponse; `next` is the context to pull again, `None` for EndOfSequence.
    /// `item_uri` is the namespace of the items (the class URI, or the item class's URI
    /// for association classes such as `CIM_ServiceAvailableToElement`).
    pub fn pull(&self, item_uri: &str, items: &[Instance], next: Option<&str>) -> String {
        let mut out = String::with_capacity(4096);
        self.open(
            &mut out,
            ns::ENUMERATION,
            Some(item_uri),
            Some(ns::COMMON),
            &format!("{}/PullResponse", ns::ENUMERATION),
        );
        out.push_str("<g:PullResponse><g:Items>");
        for item in items {
            item.write(&mut out, "h", "i");
        }
        out.push_str("</g:Items>");
        match next {
            Some(ctx) => out.push_str(&format!("<g:EnumerationContext>{ctx}</g:EnumerationContext>")),
            None => out.push_str("<g:EndOfSequence></g:EndOfSequence>"),
        }
        out.push_str("</g:PullResponse>");
        Self::close(&mut out);
        out
    }
}

/// A SOAP fault as AMT sends it (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// `a:Sender` or `a:Receiver`.
    pub code: &'static str,
    /// Subcode with its fault-layout prefix, e.g. `b:DestinationUnreachable`.
    pub subcode: &'static str,
    /// The fault action URI.
    pub action: &'static str,
    /// Reason text.
    pub reason: &'static str,
    /// Optional `e:FaultDetail` URI.
    pub detail: Option<&'static str>,
}

const ADDRESSING_FAULT: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault";
const WSMAN_FAULT: &str = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault";
const ENUMERATION_FAULT: &str = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault";

impl Fault {
    /// The selector matches no instance, or the class is not supported (captured).
    pub const DESTINATION_UNREACHABLE: Fault = Fault {
        code: "a:Sender",
        subcode: "b:DestinationUnreachable",
        action: ADDRESSING_FAULT,
        reason: "No route can be determined to reach the destination role defined by the WSAddressing To.",
        detail: None,
    };
    /// The action is not supported for the resource.
    pub const ACTION_NOT_SUPPORTED: Fault = Fault {
        code: "a:Sender",
        subcode: "b:ActionNotSupported",
        action: ADDRESSING_FAULT,
        reason: "The action is not supported by the service.",
        detail: None,
    };
    /// The request body is not valid XML or not a valid envelope.
    pub const SCHEMA_VALIDATION: Fault = Fault {
        code: "a:Sender",
        subcode: "e:SchemaValidationError",
        action: WSMAN_FAULT,
        reason: "The supplied SOAP violates the corresponding XML Schema definition.",
        detail: None,
    };
    /// Put with unusable content (captured text).
    pub const INVALID_REPRESENTATION: Fault = Fault {
        code: "a:Sender",
        subcode: "d:InvalidRepresentation",
        action: WSMAN_FAULT,
        reason: "The XML content is not valid.",
        detail: Some("http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidValues"),
    };
    /// The device is busy (captured text).
    pub const QUOTA_LIMIT: Fault = Fault {
        code: "a:Sender",
        subcode: "e:QuotaLimit",
        action: WSMAN_FAULT,
        reason: "The service is busy servicing other requests.",
        detail: None,
    };
    /// The authenticated user lacks the realm the operation needs.
    pub const ACCESS_DENIED: Fault = Fault {
        code: "a:Sender",
        subcode: "e:AccessDenied",
        action: WSMAN_FAULT,
        reason: "The sender was not authorized to access the resource.",
        detail: None,
    };
    /// Pull with an unknown or expired context.
    pub const INVALID_ENUMERATION_CONTEXT: Fault = Fault {
        code: "a:Receiver",
        subcode: "c:InvalidEnumerationContext",
        action: ENUMERATION_FAULT,
        reason: "The supplied enumeration context is invalid.",
        detail: None,
    };
    /// A method's arguments are missing or unusable.
    pub const INVALID_PARAMETER: Fault = Fault {
        code: "a:Sender",
        subcode: "e:InvalidParameter",
        action: WSMAN_FAULT,
        reason: "An operation parameter is not valid.",
        detail: None,
    };

    /// The local part of the subcode (e.g. `DestinationUnreachable`).
    pub fn subcode_name(&self) -> &'static str {
        self.subcode.split(':').nth(1).unwrap_or(self.subcode)
    }

    /// Writes the fault envelope.
    pub fn write(&self, message_id: &str, relates_to: &str) -> String {
        let detail = match self.detail {
            Some(d) => format!("<a:Detail><e:FaultDetail>{d}</e:FaultDetail></a:Detail>"),
            None => "<a:Detail></a:Detail>".to_string(),
        };
        format!(
            "{XML_DECL}<a:Envelope xmlns:a=\"{}\" xmlns:b=\"{}\" xmlns:c=\"{}\" xmlns:d=\"{}\" xmlns:e=\"{}\" xmlns:f=\"{}\" xmlns:g=\"{}\" xmlns:h=\"{}\" xmlns:i=\"{}\" xmlns:xsi=\"{}\"><a:Header><b:To>{}</b:To><b:RelatesTo>{}</b:RelatesTo><b:Action a:mustUnderstand=\"true\">{}</b:Action><b:MessageID>{}</b:MessageID></a:Header><a:Body><a:Fault><a:Code><a:Value>{}</a:Value><a:Subcode><a:Value>{}</a:Value></a:Subcode></a:Code><a:Reason><a:Text xml:lang=\"en-US\">{}</a:Text></a:Reason>{}</a:Fault></a:Body></a:Envelope>",
            ns::SOAP,
            ns::ADDRESSING,
            ns::ENUMERATION,
            ns::TRANSFER,
            ns::WSMAN,
            ns::EVENTING,
            ns::CIMBINDING,
            ns::TRUST,
            ns::WSSE,
            ns::XSI,
            ns::ANONYMOUS,
            escape(relates_to),
            self.action,
            message_id,
            self.code,
            self.subcode,
            self.reason,
            detail
        )
    }
}

/// The IdentifyResponse (DSP0226). Its exact AMT form is unconfirmed (reference §1.4).
pub fn identify(product_version: &str) -> String {
    format!(
        "{XML_DECL}<a:Envelope xmlns:a=\"{}\" xmlns:b=\"{}\"><a:Header></a:Header><a:Body><b:IdentifyResponse><b:ProtocolVersion>{}</b:ProtocolVersion><b:ProductVendor>Intel Corporation</b:ProductVendor><b:ProductVersion>{}</b:ProductVersion></b:IdentifyResponse></a:Body></a:Envelope>",
        ns::SOAP,
        ns::WSMID,
        ns::WSMAN,
        escape(product_version)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_formatted_like_amt() {
        assert_eq!(message_id(0x2E4), "uuid:00000000-8086-8086-8086-0000000002E4");
        assert_eq!(enumeration_context(0x2DD), "DD020000-0000-0000-0000-000000000000");
    }
}
