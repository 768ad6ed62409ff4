//! Client-side request envelopes, in the compact form MeshCommander and go-wsman-messages send
//! (§1.2): SOAP 1.2 default namespace, `a:` = WS-Addressing 2004/08, `w:` = WS-Management,
//! `a:To` = `/wsman`, integer MessageID, `w:OperationTimeout` PT60S, optional header
//! `w:SelectorSet`. Bodies: Put/Create `<r:CLASS xmlns:r="URI">`, methods
//! `<h:Method_INPUT xmlns:h="URI">`, EPR arguments with inline `xmlns` on their children.

use crate::ns;
use crate::wsman::value::{Prefixes, Properties, escape, write_properties};

/// What a request does; decides the action URI and the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// WS-Transfer Get.
    Get,
    /// WS-Transfer Put of a whole instance.
    Put(Properties),
    /// WS-Transfer Create of an instance.
    Create(Properties),
    /// WS-Transfer Delete (selectors in the header).
    Delete,
    /// WS-Enumeration Enumerate.
    Enumerate,
    /// WS-Enumeration Pull with an enumeration context.
    Pull {
        /// Context from the EnumerateResponse or the previous PullResponse.
        context: String,
        /// `MaxElements` (GWM sends 999); `None` leaves it out as MC does.
        max_elements: Option<u32>,
    },
    /// Method invocation with typed inputs (`Method_INPUT`).
    Invoke {
        /// Method name, e.g. `RequestPowerStateChange`.
        method: String,
        /// Input parameters in order; repeated names are arrays.
        input: Properties,
    },
    /// wsmid:Identify (no addressing headers).
    Identify,
}

/// One WS-Management request to be serialized with [`Request::to_xml`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Resource URI (unused for Identify).
    pub resource_uri: String,
    /// Header selectors (`w:SelectorSet`).
    pub selectors: Vec<(String, String)>,
    /// The operation and its body.
    pub operation: Operation,
    /// `w:OperationTimeout` (AMT enforces at least 30 s anyway).
    pub operation_timeout: String,
    /// `a:To`, `/wsman` by default.
    pub to: String,
}

impl Request {
    fn new(class_or_uri: &str, operation: Operation) -> Self {
        Request {
            resource_uri: ns::resource_uri(class_or_uri),
            selectors: Vec::new(),
            operation,
            operation_timeout: "PT60S".to_owned(),
            to: "/wsman".to_owned(),
        }
    }

    /// Get of a class (name such as `AMT_GeneralSettings`, or a full resource URI).
    pub fn get(class_or_uri: &str) -> Self {
        Self::new(class_or_uri, Operation::Get)
    }

    /// Put of a whole instance.
    pub fn put(class_or_uri: &str, instance: Properties) -> Self {
        Self::new(class_or_uri, Operation::Put(instance))
    }

    /// Create of an instance.
    pub fn create(class_or_uri: &str, instance: Properties) -> Self {
        Self::new(class_or_uri, Operation::Create(instance))
    }

    /// Delete; add the key with [`Request::selector`].
    pub fn delete(class_or_uri: &str) -> Self {
        Self::new(class_or_uri, Operation::Delete)
    }

    /// Enumerate.
    pub fn enumerate(class_or_uri: &str) -> Self {
        Self::new(class_or_uri, Operation::Enumerate)
    }

    /// Pull with a context, `MaxElements` 999 (as GWM).
    pub fn pull(class_or_uri: &str, context: &str) -> Self {
        Self::new(
            class_or_uri,
            Operation::Pull {
                context: context.to_owned(),
                max_elements: Some(999),
            },
        )
    }

    /// Method invocation.
    pub fn invoke(class_or_uri: &str, method: &str, input: Properties) -> Self {
        Self::new(
            class_or_uri,
            Operation::Invoke {
                method: method.to_owned(),
                input,
            },
        )
    }

    /// wsmid:Identify.
    pub fn identify() -> Self {
        Request {
            resource_uri: String::new(),
            selectors: Vec::new(),
            operation: Operation::Identify,
            operation_timeout: "PT60S".to_owned(),
            to: "/wsman".to_owned(),
        }
    }

    /// Adds a header selector.
    pub fn selector(mut self, name: &str, value: &str) -> Self {
        self.selectors.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The `a:Action` URI.
    pub fn action(&self) -> String {
        match &self.operation {
            Operation::Get => ns::ACTION_GET.to_owned(),
            Operation::Put(_) => ns::ACTION_PUT.to_owned(),
            Operation::Create(_) => ns::ACTION_CREATE.to_owned(),
            Operation::Delete => ns::ACTION_DELETE.to_owned(),
            Operation::Enumerate => ns::ACTION_ENUMERATE.to_owned(),
            Operation::Pull { .. } => ns::ACTION_PULL.to_owned(),
            Operation::Invoke { method, .. } => format!("{}/{}", self.resource_uri, method),
            Operation::Identify => String::new(),
        }
    }

    /// Serializes the envelope with this MessageID.
    pub fn to_xml(&self, message_id: u64) -> String {
        let mut out = String::with_capacity(1024);
        out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
        if matches!(self.operation, Operation::Identify) {
            out.push_str("<Envelope xmlns=\"");
            out.push_str(ns::SOAP);
            out.push_str("\" xmlns:wsmid=\"");
            out.push_str(ns::IDENTITY);
            out.push_str("\"><Header/><Body><wsmid:Identify/></Body></Envelope>");
            return out;
        }
        out.push_str("<Envelope xmlns:xsi=\"");
        out.push_str(ns::XSI);
        out.push_str("\" xmlns:xsd=\"");
        out.push_str(ns::XSD);
        out.push_str("\" xmlns:a=\"");
        out.push_str(ns::ADDRESSING);
        out.push_str("\" xmlns:w=\"");
        out.push_str(ns::WSMAN);
        out.push_str("\" xmlns=\"");
        out.push_str(ns::SOAP);
        out.push_str("\"><Header><a:Action>");
        out.push_str(&escape(&self.action()));
        out.push_str("</a:Action><a:To>");
        out.push_str(&escape(&self.to));
        out.push_str("</a:To><w:ResourceURI>");
        out.push_str(&escape(&self.resource_uri));
        out.push_str("</w:ResourceURI><a:MessageID>");
        out.push_str(&message_id.to_string());
        out.push_str("</a:MessageID><a:ReplyTo><a:Address>");
        out.push_str(ns::ANONYMOUS);
        out.push_str("</a:Address></a:ReplyTo><w:OperationTimeout>");
        out.push_str(&escape(&self.operation_timeout));
        out.push_str("</w:OperationTimeout>");
        if !self.selectors.is_empty() {
            out.push_str("<w:SelectorSet>");
            for (k, v) in &self.selectors {
                out.push_str("<w:Selector Name=\"");
                out.push_str(&escape(k));
                out.push_str("\">");
                out.push_str(&escape(v));
                out.push_str("</w:Selector>");
            }
            out.push_str("</w:SelectorSet>");
        }
        out.push_str("</Header>");
        let class = ns::class_name(&self.resource_uri);
        let inline = |class_prefix| Prefixes {
            class: class_prefix,
            addressing: None,
            wsman: None,
            common: None,
        };
        match &self.operation {
            Operation::Get | Operation::Delete | Operation::Identify => out.push_str("<Body/>"),
            Operation::Put(props) | Operation::Create(props) => {
                out.push_str("<Body><r:");
                out.push_str(class);
                out.push_str(" xmlns:r=\"");
                out.push_str(&escape(&self.resource_uri));
                out.push_str("\">");
                write_properties(&mut out, props, &inline("r"));
                out.push_str("</r:");
                out.push_str(class);
                out.push_str("></Body>");
            }
            Operation::Enumerate => {
                out.push_str("<Body><Enumerate xmlns=\"");
                out.push_str(ns::ENUMERATION);
                out.push_str("\"/></Body>");
            }
            Operation::Pull { context, max_elements } => {
                out.push_str("<Body><Pull xmlns=\"");
                out.push_str(ns::ENUMERATION);
                out.push_str("\"><EnumerationContext>");
                out.push_str(&escape(context));
                out.push_str("</EnumerationContext>");
                if let Some(m) = max_elements {
                    out.push_str("<MaxElements>");
                    out.push_str(&m.to_string());
                    out.push_str("</MaxElements><MaxCharacters>99999</MaxCharacters>");
                }
                out.push_str("</Pull></Body>");
            }
            Operation::Invoke { method, input } => {
                out.push_str("<Body><h:");
                out.push_str(method);
                out.push_str("_INPUT xmlns:h=\"");
                out.push_str(&escape(&self.resource_uri));
                out.push_str("\">");
                write_properties(&mut out, input, &inline("h"));
                out.push_str("</h:");
                out.push_str(method);
                out.push_str("_INPUT></Body>");
            }
        }
        out.push_str("</Envelope>");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wsman::value::EndpointReference;

    #[test]
    fn invoke_with_epr_and_array() {
        let epr = EndpointReference::new(
            "CIM_ComputerSystem",
            &[("CreationClassName", "CIM_ComputerSystem"), ("Name", "ManagedSystem")],
        )
        .with_address(ns::ADDRESSING);
        let req = Request::invoke(
            "CIM_PowerManagementService",
            "RequestPowerStateChange",
            Properties::new()
                .text("PowerState", 2)
                .epr("ManagedElement", epr)
                .list("X", [1, 2]),
        );
        let xml = req.to_xml(7);
        assert!(xml.contains("<a:Action>http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_PowerManagementService/RequestPowerStateChange</a:Action>"));
        assert!(xml.contains("<h:PowerState>2</h:PowerState><h:ManagedElement><Address xmlns=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\">http://schemas.xmlsoap.org/ws/2004/08/addressing</Address><ReferenceParameters xmlns=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\"><ResourceURI xmlns=\"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd\">"));
        assert!(xml.contains("<h:X>1</h:X><h:X>2</h:X>"));
        let env = crate::wsman::Element::parse(&xml).expect("parses");
        assert_eq!(env.local, "Envelope");
    }
}
