//! Namespace URIs and resource-URI prefixes used by AMT's WS-Management.
//!
//! Only constants and the tiny helper [`resource_uri`] live here, so that every other module
//! names namespaces the same way. Values are from §1.2/§1.5 of the protocol notes.

/// SOAP 1.2 envelope.
pub const SOAP: &str = "http://www.w3.org/2003/05/soap-envelope";
/// WS-Addressing (2004/08).
pub const ADDRESSING: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing";
/// WS-Management (DSP0226).
pub const WSMAN: &str = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd";
/// WS-Transfer (2004/09).
pub const TRANSFER: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer";
/// WS-Enumeration (2004/09).
pub const ENUMERATION: &str = "http://schemas.xmlsoap.org/ws/2004/09/enumeration";
/// WS-Eventing (2004/08).
pub const EVENTING: &str = "http://schemas.xmlsoap.org/ws/2004/08/eventing";
/// WS-Trust (2005/02), declared by AMT in every response.
pub const TRUST: &str = "http://schemas.xmlsoap.org/ws/2005/02/trust";
/// WS-Security extension, declared by AMT in every response.
pub const WSSE: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
/// WS-CIM binding.
pub const CIMBINDING: &str = "http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd";
/// WS-CIM common types (`Datetime`).
pub const COMMON: &str = "http://schemas.dmtf.org/wbem/wscim/1/common";
/// XML Schema instance.
pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// XML Schema.
pub const XSD: &str = "http://www.w3.org/2001/XMLSchema";
/// WS-Man Identify.
pub const IDENTITY: &str = "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd";
/// Anonymous reply-to / to address.
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
/// WS-Transfer Create action.
pub const ACTION_CREATE: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create";
/// WS-Transfer Delete action.
pub const ACTION_DELETE: &str = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete";
/// WS-Enumeration Enumerate action.
pub const ACTION_ENUMERATE: &str = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate";
/// WS-Enumeration Pull action.
pub const ACTION_PULL: &str = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull";
/// WS-Enumeration Release action.
pub const ACTION_RELEASE: &str = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release";
/// Action of an addressing fault (e.g. DestinationUnreachable).
pub const ACTION_ADDRESSING_FAULT: &str = "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault";
/// Action of a WS-Management fault (e.g. InvalidRepresentation, QuotaLimit).
pub const ACTION_WSMAN_FAULT: &str = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault";

/// Full resource URI of a class from its name: `AMT_*`, `CIM_*` and `IPS_*` get their
/// schema prefix; anything else (already a URI) is returned unchanged.
pub fn resource_uri(class: &str) -> String {
    if class.starts_with("AMT_") {
        format!("{AMT_SCHEMA}{class}")
    } else if class.starts_with("CIM_") {
        format!("{CIM_SCHEMA}{class}")
    } else if class.starts_with("IPS_") {
        format!("{IPS_SCHEMA}{class}")
    } else {
        class.to_owned()
    }
}

/// Class name of a resource URI: the part after the last `/`.
pub fn class_name(resource_uri: &str) -> &str {
    resource_uri.rsplit('/').next().unwrap_or(resource_uri)
}

/// Class name of a resource URI in one of the three AMT schemas (`AMT_`, `CIM_`, `IPS_`);
/// `None` for any other URI (a device answers those with DestinationUnreachable).
pub fn class_of(resource_uri: &str) -> Option<&str> {
    [AMT_SCHEMA, CIM_SCHEMA, IPS_SCHEMA]
        .iter()
        .find_map(|p| resource_uri.strip_prefix(p))
        .filter(|c| !c.is_empty() && !c.contains('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_of_known_schemas_only() {
        assert_eq!(
            class_of(&resource_uri("AMT_GeneralSettings")),
            Some("AMT_GeneralSettings")
        );
        assert_eq!(class_of(&resource_uri("IPS_OptInService")), Some("IPS_OptInService"));
        assert_eq!(class_of("http://example.com/x/CIM_Chassis"), None);
        assert_eq!(class_of(CIM_SCHEMA), None);
        assert_eq!(class_of(&format!("{AMT_SCHEMA}a/b")), None);
    }

    #[test]
    fn uri_round_trip() {
        let u = resource_uri("CIM_Chassis");
        assert_eq!(u, "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_Chassis");
        assert_eq!(class_name(&u), "CIM_Chassis");
        assert_eq!(
            resource_uri("IPS_OptInService"),
            format!("{IPS_SCHEMA}IPS_OptInService")
        );
    }
}
