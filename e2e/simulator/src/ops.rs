//! WS-Management operations of a simulated device: Get, Put, Enumerate, Pull and the
//! methods listed in the simulator brief, each changing state as firmware does and writing
//! the audit log with the real initiator.
//!
//! Authorization: every class needs one realm (see `model::class_info`). A user without
//! it gets an HTTP 400 `wsman:AccessDenied` fault. What real AMT answers here is
//! unconfirmed (reference §1.6, §7 item 10); a fault keeps the answer parseable and tells
//! the portal "authenticated but not allowed", which a 401 would not.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use amt::device::{self, IncomingRequest as Request, MessageIds, Reply, enumeration_context, faults};
use amt::wsman::Properties;
use amt::{Fault, ns};

use crate::auth::Principal;
use crate::devkey::{DeviceKey, WrittenKey};
use crate::model::{self, BOOT_SOURCES, BOOT_WRITABLE, Instance};
use crate::state::{AclEntry, DeviceState, realm};

/// Who asks, from where.
pub struct OpCtx<'a> {
    /// The authenticated principal.
    pub principal: &'a Principal,
    /// The peer's address (for audit records).
    pub peer: Option<String>,
}

/// The result of an operation.
pub struct Outcome {
    /// Response body or fault.
    pub body: Result<String, Fault>,
    /// True when the ACL changed (clears cached sessions).
    pub acl_changed: bool,
}

fn ok(body: String) -> Outcome {
    Outcome {
        body: Ok(body),
        acl_changed: false,
    }
}

fn fault(f: fn() -> Fault) -> Outcome {
    Outcome {
        body: Err(f()),
        acl_changed: false,
    }
}

fn matches(instance: &Instance, selectors: &[(String, String)]) -> bool {
    selectors.iter().all(|(k, v)| instance.props.get(k) == Some(v.as_str()))
}

/// Writes responses for one request (AMT's prefix layouts come from `amt::device`).
struct Writer<'a> {
    ids: &'a MessageIds,
    reply: Reply,
}

impl Writer<'_> {
    fn method(&self, method: &str, output: Properties) -> String {
        device::method_response(self.ids, &self.reply, &self.reply.resource_uri, method, &output)
    }
}

/// Handles one authenticated request.
pub fn handle(st: &mut DeviceState, req: &Request, ctx: &OpCtx<'_>, ids: &MessageIds) -> Outcome {
    let Some(class) = ns::class_of(&req.resource_uri) else {
        return fault(faults::destination_unreachable);
    };
    let Some(info) = model::class_info(class, st) else {
        return fault(faults::destination_unreachable);
    };
    if !ctx.principal.has_realm(info.realm) {
        tracing::info!(
            device.index = st.index,
            user.principal = %ctx.principal.name(),
            class,
            realm = info.realm,
            "access denied: missing realm"
        );
        return fault(faults::access_denied);
    }
    let reply = Writer {
        ids,
        reply: req.reply(),
    };
    match req.action.as_str() {
        ns::ACTION_GET => {
            let all = model::instances(class, st);
            let found = if req.selectors.is_empty() {
                all.into_iter().next()
            } else {
                all.into_iter().find(|i| matches(i, &req.selectors))
            };
            match found {
                Some(i) => ok(device::get_response(ids, &reply.reply, &i.class, &i.props)),
                None => fault(faults::destination_unreachable),
            }
        }
        ns::ACTION_ENUMERATE => {
            let ctx_no = st.next_context;
            st.next_context = st.next_context.wrapping_add(1);
            if st.enum_contexts.len() >= 16 {
                st.enum_contexts.remove(0);
            }
            st.enum_contexts.push((ctx_no, class.to_string(), 0));
            ok(device::enumerate_response(
                ids,
                &reply.reply,
                &enumeration_context(ctx_no),
            ))
        }
        ns::ACTION_PULL => pull(st, req, class, info.item_class, &reply),
        ns::ACTION_RELEASE => {
            let ctx_text = req
                .body
                .as_ref()
                .and_then(|b| b.child_text(ns::ENUMERATION, "EnumerationContext"))
                .unwrap_or_default()
                .trim()
                .to_string();
            st.enum_contexts.retain(|(n, _, _)| enumeration_context(*n) != ctx_text);
            ok(device::release_response(ids, &reply.reply))
        }
        ns::ACTION_PUT => put(st, req, class, ctx, &reply),
        action => match action.strip_prefix(&format!("{}/", req.resource_uri)) {
            Some(method) if !method.is_empty() => invoke(st, req, class, method, ctx, &reply),
            _ => fault(faults::action_not_supported),
        },
    }
}

fn pull(st: &mut DeviceState, req: &Request, class: &str, item_class: &str, reply: &Writer<'_>) -> Outcome {
    let Some(body) = req.body.as_ref() else {
        return fault(faults::invalid_enumeration_context);
    };
    let ctx_text = body
        .child_text(ns::ENUMERATION, "EnumerationContext")
        .unwrap_or_default()
        .trim();
    let Some(pos) = st
        .enum_contexts
        .iter()
        .position(|(n, c, _)| enumeration_context(*n) == ctx_text && c == class)
    else {
        return fault(faults::invalid_enumeration_context);
    };
    // Without MaxElements, answer everything at once (MeshCommander sends none and works).
    let max = body
        .child_text(ns::ENUMERATION, "MaxElements")
        .and_then(|m| m.parse::<usize>().ok())
        .unwrap_or(usize::MAX)
        .max(1);
    let all = model::instances(class, st);
    let start = st.enum_contexts[pos].2.min(all.len());
    let end = start.saturating_add(max).min(all.len());
    let items: Vec<Properties> = all[start..end].iter().map(|i| i.props.clone()).collect();
    let next = if end < all.len() {
        st.enum_contexts[pos].2 = end;
        Some(enumeration_context(st.enum_contexts[pos].0))
    } else {
        st.enum_contexts.remove(pos);
        None
    };
    ok(device::pull_response(
        reply.ids,
        &reply.reply,
        item_class,
        &items,
        next.as_deref(),
    ))
}

fn is_bool(v: &str) -> bool {
    v == "true" || v == "false"
}

fn put(st: &mut DeviceState, req: &Request, class: &str, ctx: &OpCtx<'_>, reply: &Writer<'_>) -> Outcome {
    let body = match &req.kind {
        device::RequestKind::Put(b) if b.local == class => Properties::from_element(b),
        _ => return fault(faults::invalid_representation),
    };
    let initiator = ctx.principal.initiator();
    // A new Kerberos key or realm: sessions authenticated before must authenticate again.
    let mut sessions_reset = false;
    match class {
        "AMT_BootSettingData" => {
            let mut changes = Vec::new();
            for (name, default) in BOOT_WRITABLE {
                if let Some(v) = body.get(name) {
                    let valid = if is_bool(default) {
                        is_bool(v)
                    } else {
                        v.parse::<u32>().is_ok()
                    };
                    if !valid {
                        return fault(faults::invalid_representation);
                    }
                    changes.push((name.to_string(), v.to_string(), *default));
                }
            }
            for (name, v, default) in changes {
                if v == default {
                    st.boot.settings.remove(&name);
                } else {
                    st.boot.settings.insert(name, v);
                }
            }
            st.audit(17, 4, initiator, ctx.peer.clone(), Vec::new());
        }
        "AMT_RedirectionService" => {
            let old = st.redirection.enabled_state;
            if let Some(v) = body.get("EnabledState") {
                match v.parse::<u16>() {
                    Ok(s) if (32768..=32771).contains(&s) => st.redirection.enabled_state = s,
                    _ => return fault(faults::invalid_representation),
                }
            }
            if let Some(v) = body.get("ListenerEnabled") {
                if !is_bool(v) {
                    return fault(faults::invalid_representation);
                }
                st.redirection.listener_enabled = v == "true";
            }
            audit_redirection(st, old, ctx);
        }
        // Reading the consent policy needs General Info; changing it, administration.
        "IPS_OptInService" if !ctx.principal.has_realm(realm::PT_ADMINISTRATION) => {
            return fault(faults::access_denied);
        }
        "IPS_OptInService" => match body.get("OptInRequired").map(str::parse::<u32>) {
            None => {}
            Some(Ok(v @ (0 | 1 | 0xFFFF_FFFF))) => st.opt_in_required = v,
            Some(_) => return fault(faults::invalid_representation),
        },
        "AMT_KerberosSettingData" => {
            // MasterKey (RC4) and Passphrase (AES) cannot be combined; a passphrase needs its
            // salt and iteration count; a master key is 16 bytes (reference §2.8).
            let master_key = body.get("MasterKey");
            let passphrase = body.get("Passphrase");
            if master_key.is_some() && passphrase.is_some() {
                return fault(faults::invalid_representation);
            }
            if master_key.is_some_and(|m| B64.decode(m.trim()).map(|k| k.len()) != Ok(16)) {
                return fault(faults::invalid_representation);
            }
            if passphrase.is_some()
                && (body.get("Salt").is_none_or(str::is_empty)
                    || body
                        .get("IterationCount")
                        .and_then(|i| i.parse::<u32>().ok())
                        .is_none_or(|i| i == 0))
            {
                return fault(faults::invalid_representation);
            }
            let k = &mut st.kerberos;
            let enabled = match body.get("KrbEnabled") {
                Some(v) if is_bool(v) => v == "true",
                _ => return fault(faults::invalid_representation),
            };
            if let Some(t) = body.get("MaximumClockTolerance") {
                match t.parse::<u32>() {
                    Ok(t) if (1..=5).contains(&t) => k.max_clock_tolerance = t,
                    _ => return fault(faults::invalid_representation),
                }
            }
            if let Some(r) = body.get("RealmName") {
                k.realm = r.to_string();
            }
            if let Some(v) = body.get("KeyVersion") {
                match v.parse() {
                    Ok(v) => k.key_version = v,
                    Err(_) => return fault(faults::invalid_representation),
                }
            }
            let algs = body.get_all("ConfiguredEncryptionAlgorithms");
            if !algs.is_empty() {
                match algs.iter().map(|a| a.parse::<u16>()).collect::<Result<Vec<_>, _>>() {
                    Ok(a) if a.iter().all(|x| *x <= 2) => k.configured_encryption = a,
                    _ => return fault(faults::invalid_representation),
                }
            }
            if enabled && k.realm.is_empty() {
                return fault(faults::invalid_representation);
            }
            // A written key replaces the shared keytab for this device (crate::devkey).
            let decoded_master = master_key.and_then(|m| B64.decode(m.trim()).ok());
            let written = match (&decoded_master, passphrase) {
                (Some(m), _) => Some(WrittenKey::MasterKey(m)),
                (None, Some(p)) => Some(WrittenKey::Passphrase {
                    passphrase: p,
                    salt: body.get("Salt").unwrap_or_default(),
                    iterations: body.get("IterationCount").and_then(|i| i.parse().ok()).unwrap_or(4096),
                }),
                (None, None) => None,
            };
            if let Some(w) = written {
                match DeviceKey::derive(&st.fqdn, &k.realm, k.key_version, &w, &k.configured_encryption) {
                    Ok(key) => {
                        k.written_key = Some(key.summary.clone());
                        st.device_key = Some(std::sync::Arc::new(key));
                    }
                    Err(e) => {
                        tracing::warn!(device.index = st.index, error = %e, "could not derive the written Kerberos key");
                        return fault(faults::invalid_representation);
                    }
                }
            }
            let k = &mut st.kerberos;
            k.enabled = enabled;
            k.configured = true;
            sessions_reset = true;
            st.audit(16, 13, initiator.clone(), ctx.peer.clone(), Vec::new());
            if body.contains("MasterKey") || body.contains("Passphrase") {
                st.audit(16, 14, initiator, ctx.peer.clone(), Vec::new());
            }
        }
        _ => return fault(faults::action_not_supported),
    }
    let instance = model::instances(class, st).into_iter().next();
    match instance {
        Some(i) => Outcome {
            body: Ok(device::put_response(reply.ids, &reply.reply, &i.class, &i.props)),
            acl_changed: sessions_reset,
        },
        None => fault(faults::destination_unreachable),
    }
}

/// Audits changes of the IDER/SOL bits (18xx: 1802/1803 IDER, 1806/1807 SOL enabled/disabled).
fn audit_redirection(st: &mut DeviceState, old: u16, ctx: &OpCtx<'_>) {
    let new = st.redirection.enabled_state;
    for (bit, on, off) in [(1u16, 2u16, 3u16), (2, 6, 7)] {
        if old & bit != new & bit {
            let ev = if new & bit != 0 { on } else { off };
            st.audit(18, ev, ctx.principal.initiator(), ctx.peer.clone(), Vec::new());
        }
    }
}

fn service_selectors_ok(st: &DeviceState, class: &str, req: &Request) -> bool {
    req.selectors.is_empty() || model::instances(class, st).iter().any(|i| matches(i, &req.selectors))
}

fn arg<'a>(input: &'a Properties, name: &str) -> Option<&'a str> {
    input.get(name)
}

fn invoke(
    st: &mut DeviceState,
    req: &Request,
    class: &str,
    method: &str,
    ctx: &OpCtx<'_>,
    reply: &Writer<'_>,
) -> Outcome {
    if !service_selectors_ok(st, class, req) {
        return fault(faults::destination_unreachable);
    }
    let input = match &req.kind {
        device::RequestKind::Invoke { input, .. } if input.local == format!("{method}_INPUT") => {
            Properties::from_element(input)
        }
        _ => return fault(faults::invalid_parameter),
    };
    let input = &input;
    let initiator = ctx.principal.initiator();
    let peer = ctx.peer.clone();
    match (class, method) {
        ("CIM_PowerManagementService", "RequestPowerStateChange") => {
            let Some(state) = arg(input, "PowerState").and_then(|s| s.parse::<u16>().ok()) else {
                return fault(faults::invalid_parameter);
            };
            let (code, event) = st.request_power_state(state);
            if let Some(ev) = event {
                st.audit(17, ev, initiator, peer, Vec::new());
            }
            tracing::info!(
                device.index = st.index,
                user.principal = %ctx.principal.name(),
                power_state = state,
                return_value = code,
                "power state change"
            );
            ok(reply.method(method, Properties::new().text("ReturnValue", code)))
        }
        ("CIM_BootConfigSetting", "ChangeBootOrder") => {
            let source = input.get_epr("Source");
            match source {
                None => st.boot.boot_source = None,
                Some(epr) => {
                    let id = epr.selector("InstanceID").unwrap_or_default();
                    if !BOOT_SOURCES.contains(&id) {
                        // PT_STATUS_UNSUPPORTED_BOOT_OPTION
                        return ok(reply.method(method, Properties::new().text("ReturnValue", 0x802)));
                    }
                    st.boot.boot_source = Some(id.to_string());
                }
            }
            st.audit(17, 4, initiator, peer, Vec::new());
            ok(reply.method(method, Properties::new().text("ReturnValue", 0)))
        }
        ("CIM_BootService", "SetBootConfigRole") => {
            let role = arg(input, "Role").and_then(|r| r.parse::<u16>().ok());
            let target_ok = input
                .get_epr("BootConfigSetting")
                .and_then(|e| e.selector("InstanceID").map(str::to_string))
                .is_some_and(|id| id == "Intel(r) AMT: Boot Configuration 0");
            let code = match role {
                Some(0 | 1) if target_ok => {
                    st.boot.role_set = true;
                    st.audit(17, 4, initiator, peer, Vec::new());
                    0
                }
                _ => 5, // CIM Invalid Parameter (IsDefault is not supported)
            };
            // The captured response's Action has no "Response" suffix (reference §1.3);
            // reproduce it so clients are tested against the quirk.
            ok(device::method_response_with_action(
                reply.ids,
                &reply.reply,
                &req.resource_uri,
                method,
                &format!("{}/{method}", req.resource_uri),
                &Properties::new().text("ReturnValue", code),
            ))
        }
        ("AMT_RedirectionService", "RequestStateChange") => {
            match arg(input, "RequestedState").and_then(|s| s.parse::<u16>().ok()) {
                Some(s) if (32768..=32771).contains(&s) => {
                    let old = st.redirection.enabled_state;
                    st.redirection.enabled_state = s;
                    audit_redirection(st, old, ctx);
                    ok(reply.method(method, Properties::new().text("ReturnValue", 0)))
                }
                _ => ok(reply.method(method, Properties::new().text("ReturnValue", 5))),
            }
        }
        ("AMT_MessageLog", "PositionToFirstRecord") => ok(reply.method(
            method,
            Properties::new().text("IterationIdentifier", 1).text("ReturnValue", 0),
        )),
        ("AMT_MessageLog", "GetRecords") => {
            let id = arg(input, "IterationIdentifier")
                .and_then(|s| s.parse::<usize>().ok())
                .unwrap_or(0);
            let max = arg(input, "MaxReadRecords")
                .and_then(|s| s.parse::<usize>().ok())
                .unwrap_or(390)
                .clamp(1, 390);
            if id == 0 || id > st.event_log.len() + 1 {
                // PT_STATUS_INVALID_INDEX
                return ok(reply.method(method, Properties::new().text("ReturnValue", 35)));
            }
            let start = id - 1;
            let end = (start + max).min(st.event_log.len());
            let records: Vec<String> = st.event_log[start..end].iter().map(|r| r.to_base64()).collect();
            ok(reply.method(
                method,
                Properties::new()
                    .text("IterationIdentifier", end + 1)
                    .text("NoMoreRecords", end >= st.event_log.len())
                    .list("RecordArray", records)
                    .text("ReturnValue", 0),
            ))
        }
        ("AMT_AuditLog", "ReadRecords") => {
            let start = arg(input, "StartIndex")
                .and_then(|s| s.parse::<usize>().ok())
                .unwrap_or(1);
            let total = st.audit_log.len();
            if start == 0 || (start > total && !(total == 0 && start == 1)) {
                return ok(reply.method(
                    method,
                    Properties::new()
                        .text("TotalRecordCount", total)
                        .text("ReturnValue", 35),
                ));
            }
            let from = start - 1;
            let to = (from + 10).min(total);
            let records: Vec<String> = st.audit_log[from..to].iter().map(|r| r.to_amt().to_base64()).collect();
            ok(reply.method(
                method,
                Properties::new()
                    .text("TotalRecordCount", total)
                    .text("RecordsReturned", records.len())
                    .list("EventRecords", records)
                    .text("ReturnValue", 0),
            ))
        }
        ("AMT_TimeSynchronizationService", "GetLowAccuracyTimeSynch") => ok(reply.method(
            method,
            Properties::new()
                .text("Ta0", st.device_time().max(0))
                .text("ReturnValue", 0),
        )),
        ("AMT_TimeSynchronizationService", "SetHighAccuracyTimeSynch") => {
            let get = |k| arg(input, k).and_then(|s| s.parse::<i64>().ok());
            let (Some(_ta0), Some(tm1), Some(tm2)) = (get("Ta0"), get("Tm1"), get("Tm2")) else {
                return fault(faults::invalid_parameter);
            };
            // Times before 2004-01-01 are refused (PT_STATUS_INVALID_TIME... reported as
            // INVALID_PARAMETER 36 by the MOF's method description).
            if tm1 < 1_072_915_200 || tm2 < 1_072_915_200 {
                return ok(reply.method(method, Properties::new().text("ReturnValue", 36)));
            }
            st.clock_offset_secs = tm2 - crate::state::unix_now();
            st.audit(21, 0, initiator, peer, Vec::new());
            ok(reply.method(method, Properties::new().text("ReturnValue", 0)))
        }
        ("AMT_AuthorizationService", m) => acl_method(st, m, input, ctx, reply),
        _ => fault(faults::action_not_supported),
    }
}

const PT_INVALID_NAME: u32 = 12;
const PT_NOT_PERMITTED: u32 = 16;
const PT_MAX_LIMIT_REACHED: u32 = 23;
const PT_INVALID_PARAMETER: u32 = 36;
const PT_INVALID_HANDLE: u32 = 0x805;
const PT_INVALID_PASSWORD: u32 = 0x806;
const PT_INVALID_REALM: u32 = 0x807;
const PT_DUPLICATE: u32 = 0x80A;
const PT_MAX_KERB_DOMAIN_REACHED: u32 = 0x811;

/// At most 7 Digest users and 32 Kerberos entries (SCS limits, reference §2.9).
const MAX_DIGEST_ENTRIES: usize = 7;
const MAX_KERBEROS_ENTRIES: usize = 32;

/// Reads the identity, permission and realms of Add/UpdateUserAclEntryEx.
fn acl_input(st: &DeviceState, input: &Properties, handle: Option<u32>) -> Result<AclEntry, u32> {
    let access_permission = arg(input, "AccessPermission")
        .and_then(|a| a.parse::<u8>().ok())
        .filter(|a| *a <= 2)
        .ok_or(PT_INVALID_PARAMETER)?;
    let realms: Vec<u8> = input
        .get_all("Realms")
        .iter()
        .map(|r| r.parse::<u8>())
        .collect::<Result<_, _>>()
        .map_err(|_| PT_INVALID_REALM)?;
    if realms.is_empty() || !realms.iter().all(|r| realm::assignable(*r)) {
        return Err(PT_INVALID_REALM);
    }
    let mut e = AclEntry {
        handle: handle.unwrap_or(0),
        username: None,
        ha1: None,
        sid: None,
        access_permission,
        realms,
        enabled: true,
    };
    if let Some(user) = arg(input, "DigestUsername") {
        if user.is_empty() || user.len() > 16 || !user.is_ascii() || user == st.admin_user {
            return Err(PT_INVALID_NAME);
        }
        let pw = arg(input, "DigestPassword")
            .and_then(|p| B64.decode(p).ok())
            .filter(|p| p.len() == 16)
            .ok_or(PT_INVALID_PASSWORD)?;
        e.username = Some(user.to_string());
        e.ha1 = Some(hex::encode(pw));
    } else if let Some(sid_b64) = arg(input, "KerberosUserSid") {
        if !st.kerberos.enabled {
            return Err(PT_NOT_PERMITTED);
        }
        let bytes = B64.decode(sid_b64).map_err(|_| PT_INVALID_PARAMETER)?;
        // 1–28 bytes, a multiple of 4 (LMS): at most 5 sub-authorities (reference §2.9).
        if bytes.len() > 28 {
            return Err(PT_INVALID_PARAMETER);
        }
        e.sid = Some(
            amt::Sid::from_bytes(&bytes)
                .map_err(|_| PT_INVALID_PARAMETER)?
                .to_string(),
        );
    } else {
        return Err(PT_INVALID_PARAMETER);
    }
    Ok(e)
}

fn acl_method(st: &mut DeviceState, method: &str, input: &Properties, ctx: &OpCtx<'_>, reply: &Writer<'_>) -> Outcome {
    let initiator = ctx.principal.initiator();
    let peer = ctx.peer.clone();
    let handle_arg = arg(input, "Handle").and_then(|h| h.parse::<u32>().ok());
    let mut acl_changed = false;
    let outputs: Properties = match method {
        "EnumerateUserAclEntries" => {
            let start = arg(input, "StartIndex")
                .and_then(|s| s.parse::<usize>().ok())
                .unwrap_or(1)
                .max(1);
            let handles: Vec<u32> = st.acl.iter().skip(start - 1).take(50).map(|e| e.handle).collect();
            Properties::new()
                .text("TotalCount", st.acl.len())
                .text("HandlesCount", handles.len())
                .list("Handles", handles)
                .text("ReturnValue", 0)
        }
        "GetUserAclEntryEx" => match st.acl.iter().find(|e| Some(e.handle) == handle_arg) {
            None => Properties::new().text("ReturnValue", PT_INVALID_HANDLE),
            Some(e) => {
                let mut o = Properties::new();
                if let Some(u) = &e.username {
                    o = o.text("DigestUsername", u);
                }
                if let Some(s) = &e.sid {
                    o = o.text(
                        "KerberosUserSid",
                        s.parse::<amt::Sid>().map(|s| s.to_base64()).unwrap_or_default(),
                    );
                }
                o = o.text("AccessPermission", e.access_permission);
                o = o.list("Realms", e.realms.clone());
                o = o.text("ReturnValue", 0);
                o
            }
        },
        "AddUserAclEntryEx" => match acl_input(st, input, None) {
            Err(code) => Properties::new().text("ReturnValue", code),
            Ok(mut e) => {
                let duplicate = st
                    .acl
                    .iter()
                    .any(|x| (e.username.is_some() && x.username == e.username) || (e.sid.is_some() && x.sid == e.sid));
                let digest_count = st.acl.iter().filter(|x| x.username.is_some()).count();
                let krb_count = st.acl.len() - digest_count;
                if duplicate {
                    Properties::new().text("ReturnValue", PT_DUPLICATE)
                } else if e.username.is_some() && digest_count >= MAX_DIGEST_ENTRIES {
                    Properties::new().text("ReturnValue", PT_MAX_LIMIT_REACHED)
                } else if e.sid.is_some() && krb_count >= MAX_KERBEROS_ENTRIES {
                    Properties::new().text("ReturnValue", PT_MAX_KERB_DOMAIN_REACHED)
                } else {
                    e.handle = st.next_acl_handle;
                    st.next_acl_handle += 1;
                    let handle = e.handle;
                    st.acl.push(e);
                    st.audit(16, 2, initiator, peer, Vec::new());
                    acl_changed = true;
                    Properties::new().text("Handle", handle).text("ReturnValue", 0)
                }
            }
        },
        "UpdateUserAclEntryEx" => match st.acl.iter().position(|e| Some(e.handle) == handle_arg) {
            None => Properties::new().text("ReturnValue", PT_INVALID_HANDLE),
            Some(pos) => match acl_input(st, input, handle_arg) {
                Err(code) => Properties::new().text("ReturnValue", code),
                Ok(mut e) => {
                    e.enabled = st.acl[pos].enabled;
                    st.acl[pos] = e;
                    st.audit(16, 3, initiator, peer, Vec::new());
                    acl_changed = true;
                    Properties::new().text("ReturnValue", 0)
                }
            },
        },
        "RemoveUserAclEntry" => match st.acl.iter().position(|e| Some(e.handle) == handle_arg) {
            None => Properties::new().text("ReturnValue", PT_INVALID_HANDLE),
            Some(pos) => {
                if st.acl[pos].username.as_deref().is_some_and(|u| u.starts_with("$$")) {
                    Properties::new().text("ReturnValue", PT_NOT_PERMITTED)
                } else {
                    st.acl.remove(pos);
                    st.audit(16, 4, initiator, peer, Vec::new());
                    acl_changed = true;
                    Properties::new().text("ReturnValue", 0)
                }
            }
        },
        "GetAdminAclEntry" => Properties::new()
            .text("Username", &st.admin_user)
            .text("ReturnValue", 0),
        "SetAdminAclEntryEx" => {
            let user = arg(input, "Username").unwrap_or_default();
            match arg(input, "DigestPassword").and_then(|p| B64.decode(p).ok()) {
                Some(pw) if pw.len() == 16 && !user.is_empty() && user.len() <= 16 => {
                    st.admin_user = user.to_string();
                    st.admin_ha1 = hex::encode(pw);
                    st.audit(16, 3, initiator, peer, Vec::new());
                    acl_changed = true;
                    Properties::new().text("ReturnValue", 0)
                }
                _ => Properties::new().text("ReturnValue", PT_INVALID_PARAMETER),
            }
        }
        _ => return fault(faults::action_not_supported),
    };
    Outcome {
        body: Ok(reply.method(method, outputs)),
        acl_changed,
    }
}

/// The DigestPassword a console sends for `user`/`password` on a device with `realm`.
pub fn digest_password_b64(user: &str, realm: &str, password: &str) -> String {
    B64.encode(amt::digest::ha1(user, realm, password))
}
