//! Device side (for the simulator): parse incoming WS-Man requests and write responses shaped
//! like real AMT firmware.
//!
//! Prefix layouts follow §1.5: Get/Put/method responses declare `a`=soap-envelope,
//! `b`=addressing, `c`=wsman, `d`=trust, `e`=wsse, `f`=cimbinding, `g`=the class URI and `h`=common
//! when a datetime occurs; Enumerate/Pull responses use `g`=enumeration, `h`=the item class,
//! `i`=common; faults use their own layout (`c`=enumeration, `d`=transfer, `e`=wsman, …).
//! Every header carries `b:To` anonymous, `b:RelatesTo` = the request's MessageID,
//! `b:Action a:mustUnderstand="true"` and `b:MessageID uuid:00000000-8086-8086-8086-%012X`.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::fault::{Fault, FaultSubcode};
use crate::ns;
use crate::wsman::parse::{Envelope, ParseError};
use crate::wsman::value::{Prefixes, Value, escape, write_properties};
use crate::wsman::{Element, EndpointReference, Properties};

/// The firmware-style MessageID for a counter value.
pub fn message_id(n: u64) -> String {
    format!("uuid:00000000-8086-8086-8086-{:012X}", n & 0xFFFF_FFFF_FFFF)
}

/// A thread-safe MessageID counter.
#[derive(Debug, Default)]
pub struct MessageIds(AtomicU64);

impl MessageIds {
    /// Starts at `first`.
    pub fn starting_at(first: u64) -> Self {
        MessageIds(AtomicU64::new(first))
    }
    /// The next MessageID.
    pub fn next_id(&self) -> String {
        message_id(self.0.fetch_add(1, Ordering::Relaxed))
    }
}

/// What an incoming request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestKind {
    /// Get.
    Get,
    /// Put with the instance element.
    Put(Element),
    /// Create with the instance element.
    Create(Element),
    /// Delete.
    Delete,
    /// Enumerate.
    Enumerate,
    /// Pull with its context.
    Pull {
        /// The enumeration context.
        context: String,
    },
    /// Release of an enumeration.
    Release,
    /// Method call: name and the `*_INPUT` element (may be empty).
    Invoke {
        /// Method name (the action's last segment).
        method: String,
        /// The input element.
        input: Element,
    },
    /// wsmid:Identify.
    Identify,
    /// Any other action.
    Other,
}

/// A parsed incoming request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingRequest {
    /// Action URI.
    pub action: String,
    /// MessageID (echoed in RelatesTo).
    pub message_id: String,
    /// Resource URI ("" for Identify).
    pub resource_uri: String,
    /// Header selectors.
    pub selectors: Vec<(String, String)>,
    /// The kind and its payload.
    pub kind: RequestKind,
    /// The first element of the Body as sent (e.g. Pull's `MaxElements`, Release's context).
    pub body: Option<Element>,
}

impl IncomingRequest {
    /// Class name of the resource URI.
    pub fn class_name(&self) -> &str {
        ns::class_name(&self.resource_uri)
    }

    /// One header selector.
    pub fn selector(&self, name: &str) -> Option<&str> {
        self.selectors.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The Put/Create instance or method input as a property list.
    pub fn properties(&self) -> Properties {
        match &self.kind {
            RequestKind::Put(e) | RequestKind::Create(e) | RequestKind::Invoke { input: e, .. } => {
                Properties::from_element(e)
            }
            _ => Properties::new(),
        }
    }

    /// The reply context (RelatesTo) for responses to this request.
    pub fn reply(&self) -> Reply {
        Reply {
            relates_to: self.message_id.clone(),
            resource_uri: self.resource_uri.clone(),
        }
    }
}

/// Parses a request envelope.
pub fn parse_request(xml: &str) -> Result<IncomingRequest, ParseError> {
    let env = Envelope::parse(xml)?;
    let h = env.header;
    let payload = env.body.children.first().cloned();
    let resource_uri = h.resource_uri.unwrap_or_default();
    let kind = if env.body.child(ns::IDENTITY, "Identify").is_some() {
        RequestKind::Identify
    } else {
        match h.action.as_str() {
            ns::ACTION_GET => RequestKind::Get,
            ns::ACTION_PUT => RequestKind::Put(payload.ok_or_else(|| ParseError::Missing("Put instance".into()))?),
            ns::ACTION_CREATE => {
                RequestKind::Create(payload.ok_or_else(|| ParseError::Missing("Create instance".into()))?)
            }
            ns::ACTION_DELETE => RequestKind::Delete,
            ns::ACTION_ENUMERATE => RequestKind::Enumerate,
            ns::ACTION_PULL => RequestKind::Pull {
                context: env
                    .body
                    .path(&[(ns::ENUMERATION, "Pull"), (ns::ENUMERATION, "EnumerationContext")])
                    .map(|e| e.text.trim().to_owned())
                    .ok_or_else(|| ParseError::Missing("EnumerationContext".into()))?,
            },
            ns::ACTION_RELEASE => RequestKind::Release,
            a if !resource_uri.is_empty() && a.starts_with(&format!("{resource_uri}/")) => {
                let method = a[resource_uri.len() + 1..].to_owned();
                let input = payload.unwrap_or_else(|| Element::new(&resource_uri, &format!("{method}_INPUT")));
                RequestKind::Invoke { method, input }
            }
            _ => RequestKind::Other,
        }
    };
    Ok(IncomingRequest {
        action: h.action,
        message_id: h.message_id,
        resource_uri,
        selectors: h.selectors,
        kind,
        body: env.body.children.first().cloned(),
    })
}

/// Reply context: what the response relates to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The request's MessageID.
    pub relates_to: String,
    /// The request's resource URI.
    pub resource_uri: String,
}

const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

fn envelope_open(out: &mut String, decls: &[(&str, &str)]) {
    out.push_str(XML_DECL);
    out.push_str("<a:Envelope");
    for (p, uri) in decls {
        out.push_str(" xmlns:");
        out.push_str(p);
        out.push_str("=\"");
        out.push_str(&escape(uri));
        out.push('"');
    }
    out.push_str(" xmlns:xsi=\"");
    out.push_str(ns::XSI);
    out.push_str("\">");
}

fn header(out: &mut String, ids: &MessageIds, reply: &Reply, action: &str, wsman: &str) {
    out.push_str("<a:Header><b:To>");
    out.push_str(ns::ANONYMOUS);
    out.push_str("</b:To><b:RelatesTo>");
    out.push_str(&escape(&reply.relates_to));
    out.push_str("</b:RelatesTo><b:Action a:mustUnderstand=\"true\">");
    out.push_str(&escape(action));
    out.push_str("</b:Action><b:MessageID>");
    out.push_str(&ids.next_id());
    out.push_str("</b:MessageID>");
    if !reply.resource_uri.is_empty() {
        out.push('<');
        out.push_str(wsman);
        out.push_str(":ResourceURI>");
        out.push_str(&escape(&reply.resource_uri));
        out.push_str("</");
        out.push_str(wsman);
        out.push_str(":ResourceURI>");
    }
    out.push_str("</a:Header>");
}

fn has_datetime(props: &Properties) -> bool {
    props.0.iter().any(|(_, v)| matches!(v, Value::Datetime(_)))
}

fn base_decls(class_or_enum: &str) -> Vec<(&str, &str)> {
    vec![
        ("a", ns::SOAP),
        ("b", ns::ADDRESSING),
        ("c", ns::WSMAN),
        ("d", ns::TRUST),
        ("e", ns::WSSE),
        ("f", ns::CIMBINDING),
        ("g", class_or_enum),
    ]
}

/// Writes a Get/Put-style response: `<g:CLASS>` with the properties, action `action`.
fn instance_response(
    ids: &MessageIds,
    reply: &Reply,
    action: &str,
    class_uri: &str,
    element: &str,
    props: &Properties,
) -> String {
    let mut out = String::with_capacity(2048);
    let mut decls = base_decls(class_uri);
    let dt = has_datetime(props);
    if dt {
        decls.push(("h", ns::COMMON));
    }
    envelope_open(&mut out, &decls);
    header(&mut out, ids, reply, action, "c");
    out.push_str("<a:Body><g:");
    out.push_str(element);
    out.push('>');
    let p = Prefixes {
        class: "g",
        addressing: Some("b"),
        wsman: Some("c"),
        common: if dt { Some("h") } else { None },
    };
    write_properties(&mut out, props, &p);
    out.push_str("</g:");
    out.push_str(element);
    out.push_str("></a:Body></a:Envelope>");
    out
}

/// A Get response for an instance of `class_uri` (class name or full URI).
pub fn get_response(ids: &MessageIds, reply: &Reply, class_uri: &str, props: &Properties) -> String {
    let uri = ns::resource_uri(class_uri);
    let action = format!("{}Response", ns::ACTION_GET);
    instance_response(ids, reply, &action, &uri, ns::class_name(&uri), props)
}

/// A Put response (echoes the instance as AMT does).
pub fn put_response(ids: &MessageIds, reply: &Reply, class_uri: &str, props: &Properties) -> String {
    let uri = ns::resource_uri(class_uri);
    let action = format!("{}Response", ns::ACTION_PUT);
    instance_response(ids, reply, &action, &uri, ns::class_name(&uri), props)
}

/// A method response: `<g:Method_OUTPUT>` with the outputs (put `ReturnValue` last),
/// action `class_uri/MethodResponse`.
pub fn method_response(ids: &MessageIds, reply: &Reply, class_uri: &str, method: &str, output: &Properties) -> String {
    let uri = ns::resource_uri(class_uri);
    let action = format!("{uri}/{method}Response");
    instance_response(ids, reply, &action, &uri, &format!("{method}_OUTPUT"), output)
}

/// A method response with an explicit Action, for firmware quirks: AMT answers
/// `CIM_BootService.SetBootConfigRole` with Action `…/SetBootConfigRole`, no `Response` suffix.
pub fn method_response_with_action(
    ids: &MessageIds,
    reply: &Reply,
    class_uri: &str,
    method: &str,
    action: &str,
    output: &Properties,
) -> String {
    let uri = ns::resource_uri(class_uri);
    instance_response(ids, reply, action, &uri, &format!("{method}_OUTPUT"), output)
}

/// A method response carrying only `ReturnValue`.
pub fn return_value_response(ids: &MessageIds, reply: &Reply, class_uri: &str, method: &str, code: u32) -> String {
    method_response(
        ids,
        reply,
        class_uri,
        method,
        &Properties::new().text("ReturnValue", code),
    )
}

/// A Create response carrying the new instance's EPR (`ResourceCreated`, WS-Transfer).
pub fn create_response(ids: &MessageIds, reply: &Reply, created: &EndpointReference) -> String {
    let mut out = String::with_capacity(2048);
    let decls = base_decls(ns::TRANSFER);
    envelope_open(&mut out, &decls);
    header(&mut out, ids, reply, &format!("{}Response", ns::ACTION_CREATE), "c");
    out.push_str("<a:Body><g:ResourceCreated>");
    let p = Prefixes {
        class: "g",
        addressing: Some("b"),
        wsman: Some("c"),
        common: None,
    };
    crate::wsman::value::write_epr(&mut out, created, &p);
    out.push_str("</g:ResourceCreated></a:Body></a:Envelope>");
    out
}

/// A ReleaseResponse (WS-Enumeration; empty body).
pub fn release_response(ids: &MessageIds, reply: &Reply) -> String {
    let mut out = String::with_capacity(1024);
    envelope_open(&mut out, &base_decls(ns::ENUMERATION));
    header(&mut out, ids, reply, &format!("{}Response", ns::ACTION_RELEASE), "c");
    out.push_str("<a:Body></a:Body></a:Envelope>");
    out
}

/// An enumeration context formatted the way AMT does: `DD020000-0000-0000-0000-000000000000`
/// for counter 0x2DD (the counter's bytes little-endian in the first group).
pub fn enumeration_context(counter: u32) -> String {
    format!("{:08X}-0000-0000-0000-000000000000", counter.swap_bytes())
}

/// A Delete response (empty body).
pub fn delete_response(ids: &MessageIds, reply: &Reply) -> String {
    let mut out = String::with_capacity(1024);
    envelope_open(&mut out, &base_decls(ns::TRANSFER)[..6]);
    header(&mut out, ids, reply, &format!("{}Response", ns::ACTION_DELETE), "c");
    out.push_str("<a:Body></a:Body></a:Envelope>");
    out
}

/// An EnumerateResponse with a context.
pub fn enumerate_response(ids: &MessageIds, reply: &Reply, context: &str) -> String {
    let mut out = String::with_capacity(1024);
    envelope_open(&mut out, &base_decls(ns::ENUMERATION));
    header(&mut out, ids, reply, &format!("{}Response", ns::ACTION_ENUMERATE), "c");
    out.push_str("<a:Body><g:EnumerateResponse><g:EnumerationContext>");
    out.push_str(&escape(context));
    out.push_str("</g:EnumerationContext></g:EnumerateResponse></a:Body></a:Envelope>");
    out
}

/// A PullResponse with items of class `item_class` (class name or URI; may differ from the
/// request's resource URI, as for `CIM_ServiceAvailableToElement`). `next_context` = `None`
/// writes `EndOfSequence`.
pub fn pull_response(
    ids: &MessageIds,
    reply: &Reply,
    item_class: &str,
    items: &[Properties],
    next_context: Option<&str>,
) -> String {
    let uri = ns::resource_uri(item_class);
    let class = ns::class_name(&uri);
    let mut out = String::with_capacity(1024 + 1024 * items.len());
    let mut decls = base_decls(ns::ENUMERATION);
    decls.push(("h", &uri));
    decls.push(("i", ns::COMMON));
    envelope_open(&mut out, &decls);
    header(&mut out, ids, reply, &format!("{}Response", ns::ACTION_PULL), "c");
    out.push_str("<a:Body><g:PullResponse><g:Items>");
    let p = Prefixes {
        class: "h",
        addressing: Some("b"),
        wsman: Some("c"),
        common: Some("i"),
    };
    for item in items {
        out.push_str("<h:");
        out.push_str(class);
        out.push('>');
        write_properties(&mut out, item, &p);
        out.push_str("</h:");
        out.push_str(class);
        out.push('>');
    }
    out.push_str("</g:Items>");
    match next_context {
        Some(c) => {
            out.push_str("<g:EnumerationContext>");
            out.push_str(&escape(c));
            out.push_str("</g:EnumerationContext>");
        }
        None => out.push_str("<g:EndOfSequence></g:EndOfSequence>"),
    }
    out.push_str("</g:PullResponse></a:Body></a:Envelope>");
    out
}

/// An IdentifyResponse (`ProductVersion` should start with `AMT <major>`).
pub fn identify_response(product_vendor: &str, product_version: &str) -> String {
    format!(
        "{XML_DECL}<a:Envelope xmlns:a=\"{}\" xmlns:b=\"{}\"><a:Header></a:Header><a:Body><b:IdentifyResponse><b:ProtocolVersion>{}</b:ProtocolVersion><b:ProductVendor>{}</b:ProductVendor><b:ProductVersion>{}</b:ProductVersion></b:IdentifyResponse></a:Body></a:Envelope>",
        ns::SOAP,
        ns::IDENTITY,
        ns::WSMAN,
        escape(product_vendor),
        escape(product_version)
    )
}

/// Fault layout prefixes (§1.5).
const FAULT_DECLS: [(&str, &str); 9] = [
    ("a", ns::SOAP),
    ("b", ns::ADDRESSING),
    ("c", ns::ENUMERATION),
    ("d", ns::TRANSFER),
    ("e", ns::WSMAN),
    ("f", ns::EVENTING),
    ("g", ns::CIMBINDING),
    ("h", ns::TRUST),
    ("i", ns::WSSE),
];

fn fault_prefix(uri: &str) -> Option<&'static str> {
    FAULT_DECLS.iter().find(|(_, u)| *u == uri).map(|(p, _)| *p)
}

/// The HTTP status AMT sends with a fault: 400 (openwsman's table for the rest).
pub fn fault_http_status(fault: &Fault) -> u16 {
    match fault.subcode {
        Some(FaultSubcode::AccessDenied) => 401,
        Some(FaultSubcode::ActionNotSupported) => 501,
        Some(FaultSubcode::InternalError) => 500,
        Some(FaultSubcode::TimedOut) => 408,
        _ => 400,
    }
}

/// A fault response in the firmware's fault layout. The Action is `…/addressing/fault` for
/// addressing subcodes and `…/wsman/fault` otherwise.
pub fn fault_response(ids: &MessageIds, relates_to: &str, fault: &Fault) -> String {
    let mut out = String::with_capacity(2048);
    envelope_open(&mut out, &FAULT_DECLS);
    let (sub_ns, sub_local) = fault.subcode.as_ref().map(|s| s.qname()).unwrap_or((ns::SOAP, ""));
    let action = if sub_ns == ns::ADDRESSING {
        ns::ACTION_ADDRESSING_FAULT
    } else {
        ns::ACTION_WSMAN_FAULT
    };
    let reply = Reply {
        relates_to: relates_to.to_owned(),
        resource_uri: String::new(),
    };
    header(&mut out, ids, &reply, action, "e");
    out.push_str("<a:Body><a:Fault><a:Code><a:Value>");
    let code_local = if fault.code.1.is_empty() {
        "Sender"
    } else {
        &fault.code.1
    };
    out.push_str("a:");
    out.push_str(&escape(code_local));
    out.push_str("</a:Value>");
    if !sub_local.is_empty() {
        out.push_str("<a:Subcode><a:Value>");
        match fault_prefix(sub_ns) {
            Some(p) => {
                out.push_str(p);
                out.push(':');
                out.push_str(&escape(sub_local));
            }
            None => {
                // Unknown namespace: declare it on the element.
                out.truncate(out.len() - "<a:Value>".len());
                out.push_str("<a:Value xmlns:x=\"");
                out.push_str(&escape(sub_ns));
                out.push_str("\">x:");
                out.push_str(&escape(sub_local));
            }
        }
        out.push_str("</a:Value></a:Subcode>");
    }
    out.push_str("</a:Code><a:Reason><a:Text xml:lang=\"en-US\">");
    out.push_str(&escape(&fault.reason));
    out.push_str("</a:Text></a:Reason><a:Detail>");
    if let Some(d) = &fault.detail {
        out.push_str("<e:FaultDetail>");
        out.push_str(&escape(d));
        out.push_str("</e:FaultDetail>");
    }
    out.push_str("</a:Detail></a:Fault></a:Body></a:Envelope>");
    out
}

/// Fault builders with the reason texts captured from AMT.
pub mod faults {
    use super::*;

    fn make(subcode: FaultSubcode, reason: &str, detail: Option<&str>) -> Fault {
        Fault {
            code: (ns::SOAP.to_owned(), "Sender".to_owned()),
            subcode: Some(subcode),
            reason: reason.to_owned(),
            detail: detail.map(str::to_owned),
        }
    }

    /// No instance matches (or class unsupported).
    pub fn destination_unreachable() -> Fault {
        make(
            FaultSubcode::DestinationUnreachable,
            "No route can be determined to reach the destination role defined by the WSAddressing To.",
            None,
        )
    }

    /// Invalid or duplicate data (detail MissingValues).
    pub fn invalid_representation() -> Fault {
        make(
            FaultSubcode::InvalidRepresentation,
            "The XML content is not valid.",
            Some("http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/MissingValues"),
        )
    }

    /// Table full / busy.
    pub fn quota_limit() -> Fault {
        make(
            FaultSubcode::QuotaLimit,
            "The service is busy servicing other requests.",
            None,
        )
    }

    /// Access denied (not captured from AMT; DSP0226 wording).
    pub fn access_denied() -> Fault {
        make(
            FaultSubcode::AccessDenied,
            "The sender was not authorized to access the resource.",
            None,
        )
    }

    /// Unknown action.
    pub fn action_not_supported() -> Fault {
        make(
            FaultSubcode::ActionNotSupported,
            "The action is not supported by the service.",
            None,
        )
    }

    /// Bad or missing selectors.
    pub fn invalid_selectors() -> Fault {
        make(
            FaultSubcode::InvalidSelectors,
            "The Selectors for the resource are not valid.",
            None,
        )
    }

    /// The request is not a valid envelope (or not XML at all).
    pub fn schema_validation() -> Fault {
        make(
            FaultSubcode::SchemaValidationError,
            "The supplied SOAP violates the corresponding XML Schema definition.",
            None,
        )
    }

    /// A method's arguments are missing or unusable.
    pub fn invalid_parameter() -> Fault {
        make(
            FaultSubcode::InvalidParameter,
            "An operation parameter is not valid.",
            None,
        )
    }

    /// Bad enumeration context.
    pub fn invalid_enumeration_context() -> Fault {
        make(
            FaultSubcode::InvalidEnumerationContext,
            "The supplied enumeration context is invalid.",
            None,
        )
    }

    /// mustUnderstand header not understood.
    pub fn must_understand() -> Fault {
        Fault {
            code: (ns::SOAP.to_owned(), "MustUnderstand".to_owned()),
            subcode: None,
            reason: "Header not understood.".to_owned(),
            detail: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert_eq!(message_id(0x2E4), "uuid:00000000-8086-8086-8086-0000000002E4");
        let ids = MessageIds::starting_at(1);
        assert!(ids.next_id().ends_with("000000000001"));
        assert!(ids.next_id().ends_with("000000000002"));
    }

    #[test]
    fn fault_round_trip() {
        let ids = MessageIds::default();
        for f in [
            faults::destination_unreachable(),
            faults::invalid_representation(),
            faults::quota_limit(),
            faults::access_denied(),
            faults::must_understand(),
            faults::schema_validation(),
            faults::invalid_parameter(),
            faults::invalid_enumeration_context(),
        ] {
            let xml = fault_response(&ids, "5", &f);
            let env = Envelope::parse(&xml).expect("parses");
            assert_eq!(env.header.relates_to.as_deref(), Some("5"));
            let back = env.fault().expect("fault");
            assert_eq!(back.subcode, f.subcode);
            assert_eq!(back.reason, f.reason);
            assert_eq!(back.detail, f.detail);
        }
    }

    #[test]
    fn enumeration_contexts_quirky_actions_and_release() {
        assert_eq!(enumeration_context(0x2DD), "DD020000-0000-0000-0000-000000000000");
        let ids = MessageIds::starting_at(7);
        let uri = ns::resource_uri("CIM_BootService");
        let reply = Reply {
            relates_to: "3".into(),
            resource_uri: uri.clone(),
        };
        let action = format!("{uri}/SetBootConfigRole");
        let xml = method_response_with_action(
            &ids,
            &reply,
            &uri,
            "SetBootConfigRole",
            &action,
            &Properties::new().text("ReturnValue", 0),
        );
        let env = Envelope::parse(&xml).expect("parses");
        assert_eq!(env.header.action, action);
        let out = env.method_output("SetBootConfigRole").expect("output");
        assert_eq!(crate::wsman::parse::return_value(out).expect("ReturnValue"), 0);
        let env = Envelope::parse(&release_response(&ids, &reply)).expect("parses");
        assert_eq!(env.header.action, format!("{}Response", ns::ACTION_RELEASE));
        assert!(env.body.children.is_empty());
    }

    #[test]
    fn request_keeps_its_body() {
        let req = crate::wsman::Request::pull("CIM_SoftwareIdentity", "DD020000-0000-0000-0000-000000000000");
        let r = parse_request(&req.to_xml(4)).expect("parses");
        assert_eq!(
            r.kind,
            RequestKind::Pull {
                context: "DD020000-0000-0000-0000-000000000000".into()
            }
        );
        let body = r.body.expect("body");
        assert_eq!(body.child_text(ns::ENUMERATION, "MaxElements"), Some("999"));
    }
}
