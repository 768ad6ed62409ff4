//! Namespace URIs and resource URI prefixes used by AMT (protocol reference §1.2, §1.5).

/// SOAP 1.2 envelope.
pub const SOAP: &str = "http://www.w3.org/2003/05/soap-envelope";
/// WS-Addressing (2004/08).
pub const ADDRESSING: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
/// WS-Management.
pub const WSMAN: &str = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd";
/// WS-Trust, declared by AMT in every response.
pub const TRUST: &str = "http://schemas.xmlsoap.org/ws/2005/02/trust";
/// WS-Security, declared by AMT in every response.
pub const WSSE: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
/// WS-CIM binding.
pub const CIMBINDING: &str = "http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd";
/// WS-Enumeration (2004/09).
pub const ENUMERATION: &str = "http://schemas.xmlsoap.org/ws/2004/09/enumeration";
/// WS-Transfer (2004/09).
pub const TRANSFER: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer";
/// WS-Eventing (2004/08).
pub const EVENTING: &str = "http://schemas.xmlsoap.org/ws/2004/08/eventing";
/// CIM common types (datetimes).
pub const COMMON: &str = "http://schemas.dmtf.org/wbem/wscim/1/common";
/// XML Schema instance.
pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// WS-Management identity (Identify).
pub const WSMID: &str = "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd";
/// The anonymous reply-to address AMT puts in `To`.
pub const ANONYMOUS: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous";

/// Resource URI prefix of `AMT_*` classes.
pub const AMT_SCHEMA: &str = "http://intel.com/wbem/wscim/1/amt-schema/1/";
/// Resource URI prefix of `CIM_*` classes.
pub const CIM_SCHEMA: &str = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/";
/// Resource URI prefix of `IPS_*` classes.
pub const IPS_SCHEMA: &str = "http://intel.com/wbem/wscim/1/ips-schema/1/";

/// WS-Transfer Get action.
pub const ACTION_GET: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get";
/// WS-Transfer Put action.
pub const ACTION_PUT: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Put";
/// WS-Enumeration Enumerate action.
pub const ACTION_ENUMERATE: &str = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate";
/// WS-Enumeration Pull action.
pub const ACTION_PULL: &str = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull";
/// WS-Enumeration Release action.
pub const ACTION_RELEASE: &str = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release";

/// The full resource URI of a class (`AMT_`, `CIM_` or `IPS_` prefix decides the schema).
pub fn resource_uri(class: &str) -> String {
    let base = if class.starts_with("AMT_") {
        AMT_SCHEMA
    } else if class.starts_with("IPS_") {
        IPS_SCHEMA
    } else {
        CIM_SCHEMA
    };
    format!("{base}{class}")
}

/// The class name of a resource URI, when it has one of the three AMT prefixes.
pub fn class_of(resource_uri: &str) -> Option<&str> {
    [AMT_SCHEMA, CIM_SCHEMA, IPS_SCHEMA]
        .iter()
        .find_map(|p| resource_uri.strip_prefix(p))
        .filter(|c| !c.is_empty() && !c.contains('/'))
}
