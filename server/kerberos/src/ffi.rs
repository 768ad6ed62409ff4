//! The few MIT GSSAPI calls the `libgssapi` crate does not wrap, and only those.
//!
//! `libgssapi` keeps raw name handles private, so the acceptor side (which needs the client's
//! name handle to read the MS-PAC name attribute, and a keytab chosen per credential with
//! `gss_acquire_cred_from`) is done here. Every `unsafe` block of the workspace lives in this
//! file; each one frees what GSSAPI allocated before returning, on success and on error.
//! Delegated credentials are handed back as `libgssapi::Cred`, which owns and releases them.
//! Also the few krb5 calls behind [`crate::keys`]: string-to-key and `MEMORY:` keytabs.
#![expect(unsafe_code, reason = "FFI to MIT GSSAPI for calls libgssapi does not expose")]

use std::ffi::CString;
use std::ptr;

use libgssapi::credential::Cred;
use libgssapi_sys::gss_import_name;
use libgssapi_sys::{
    _GSS_C_INDEFINITE, _GSS_S_CONTINUE_NEEDED, GSS_C_ACCEPT, GSS_C_BOTH, GSS_C_GSS_CODE, GSS_C_MECH_CODE,
    GSS_S_COMPLETE, OM_uint32, gss_OID, gss_accept_sec_context, gss_acquire_cred_from, gss_buffer_desc, gss_cred_id_t,
    gss_ctx_id_t, gss_delete_sec_context, gss_display_name, gss_display_status, gss_get_name_attribute,
    gss_inquire_context, gss_key_value_element_desc, gss_key_value_set_desc, gss_name_t, gss_release_buffer,
    gss_release_cred, gss_release_name,
};

/// Major and minor status of a failed GSSAPI call, with MIT's own words for both.
#[derive(Debug, Clone)]
pub struct GssFailure {
    /// GSSAPI major status (routine error bits).
    pub major: u32,
    /// `gss_display_status` text of the major and minor codes, joined.
    pub message: String,
}

fn empty_buffer() -> gss_buffer_desc {
    gss_buffer_desc {
        length: 0,
        value: ptr::null_mut(),
    }
}

/// Copies a GSSAPI buffer into a Vec and releases it.
fn take_buffer(buf: &mut gss_buffer_desc) -> Vec<u8> {
    let out = if buf.value.is_null() || buf.length == 0 {
        Vec::new()
    } else {
        // SAFETY: GSSAPI filled `buf` with `length` readable bytes at `value`.
        unsafe { std::slice::from_raw_parts(buf.value as *const u8, buf.length) }.to_vec()
    };
    let mut minor: OM_uint32 = 0;
    // SAFETY: `buf` was allocated by GSSAPI (or is empty, which release accepts).
    unsafe { gss_release_buffer(&mut minor, buf) };
    out
}

fn status_text(code: u32, kind: u32) -> String {
    let mut parts = Vec::new();
    let mut ctx: OM_uint32 = 0;
    loop {
        let mut minor: OM_uint32 = 0;
        let mut buf = empty_buffer();
        // SAFETY: out-parameters are valid; the buffer is released by take_buffer.
        let major = unsafe { gss_display_status(&mut minor, code, kind as i32, ptr::null_mut(), &mut ctx, &mut buf) };
        if major != GSS_S_COMPLETE {
            break;
        }
        let text = String::from_utf8_lossy(&take_buffer(&mut buf)).into_owned();
        if !text.is_empty() {
            parts.push(text);
        }
        if ctx == 0 || parts.len() > 8 {
            break;
        }
    }
    parts.join("; ")
}

fn failure(major: u32, minor: u32) -> GssFailure {
    let mut message = status_text(major, GSS_C_GSS_CODE);
    if minor != 0 {
        let m = status_text(minor, GSS_C_MECH_CODE);
        if !m.is_empty() {
            message = format!("{message}: {m}");
        }
    }
    GssFailure { major, message }
}

fn is_error(major: u32) -> bool {
    // Routine and calling errors live in the top 16 bits; supplementary info below.
    major & 0xffff_0000 != 0
}

/// An acceptor credential from a keytab chosen for this credential only (not `KRB5_KTNAME`).
pub struct AcceptorCredential {
    handle: gss_cred_id_t,
}

// SAFETY: MIT GSSAPI credential handles may be used from several threads at once for
// accept_sec_context; they are never mutated after acquisition.
unsafe impl Send for AcceptorCredential {}
// SAFETY: as above.
unsafe impl Sync for AcceptorCredential {}

impl Drop for AcceptorCredential {
    fn drop(&mut self) {
        let mut minor: OM_uint32 = 0;
        // SAFETY: the handle came from gss_acquire_cred_from and is released once.
        unsafe { gss_release_cred(&mut minor, &mut self.handle) };
    }
}

impl AcceptorCredential {
    /// Acquires a credential that accepts tickets for any principal in `keytab` (all
    /// mechanisms, so SPNEGO works). With `initiate` the same credential can also start
    /// S4U2Self/S4U2Proxy exchanges from that keytab (`client_keytab`).
    pub fn acquire(keytab: &str, rcache: Option<&str>, initiate: bool) -> Result<Self, GssFailure> {
        let bad = |what: &str| GssFailure {
            major: 0,
            message: format!("{what} contains a NUL byte"),
        };
        let keytab_c = CString::new(keytab).map_err(|_| bad("keytab path"))?;
        let rcache_c = match rcache {
            Some(r) => Some(CString::new(r).map_err(|_| bad("replay cache"))?),
            None => None,
        };
        let mut elements = vec![gss_key_value_element_desc {
            key: c"keytab".as_ptr(),
            value: keytab_c.as_ptr(),
        }];
        if initiate {
            elements.push(gss_key_value_element_desc {
                key: c"client_keytab".as_ptr(),
                value: keytab_c.as_ptr(),
            });
            // A private memory cache for the service's own TGT (S4U2Self evidence).
            elements.push(gss_key_value_element_desc {
                key: c"ccache".as_ptr(),
                value: c"MEMORY:amt-portal-service".as_ptr(),
            });
        }
        if let Some(r) = &rcache_c {
            elements.push(gss_key_value_element_desc {
                key: c"rcache".as_ptr(),
                value: r.as_ptr(),
            });
        }
        let store = gss_key_value_set_desc {
            count: elements.len() as u32,
            elements: elements.as_mut_ptr(),
        };
        let mut minor: OM_uint32 = 0;
        let mut handle: gss_cred_id_t = ptr::null_mut();
        let usage = if initiate { GSS_C_BOTH } else { GSS_C_ACCEPT };
        // SAFETY: all pointers are valid for the call; `elements` and the CStrings outlive it.
        let major = unsafe {
            gss_acquire_cred_from(
                &mut minor,
                ptr::null_mut(),
                _GSS_C_INDEFINITE,
                ptr::null_mut(),
                usage as i32,
                &store,
                &mut handle,
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        if is_error(major) {
            return Err(failure(major, minor));
        }
        Ok(AcceptorCredential { handle })
    }
}

/// What one `gss_accept_sec_context` call produced.
pub struct RawAccept {
    /// Display form of the client principal, `user@REALM`.
    pub client: String,
    /// Display form of the service principal the ticket was issued for.
    pub target: Option<String>,
    /// Raw `urn:mspac:logon-info` buffer (NDR), only when MIT marked it authenticated.
    pub logon_info: Option<Vec<u8>>,
    /// Token for the client (mutual authentication), if any.
    pub output_token: Vec<u8>,
    /// Delegated credential handle, if GSSAPI returned one.
    pub delegated: Option<Cred>,
    /// Context flags (GSS_C_DELEG_FLAG and friends).
    pub flags: u32,
    /// Seconds the context (and so the ticket) remains valid.
    pub lifetime_secs: u32,
}

fn display_name(name: gss_name_t) -> Option<String> {
    if name.is_null() {
        return None;
    }
    let mut minor: OM_uint32 = 0;
    let mut buf = empty_buffer();
    let mut oid: gss_OID = ptr::null_mut();
    // SAFETY: `name` is a valid name handle; the buffer is released by take_buffer.
    let major = unsafe { gss_display_name(&mut minor, name, &mut buf, &mut oid) };
    if is_error(major) {
        return None;
    }
    Some(String::from_utf8_lossy(&take_buffer(&mut buf)).into_owned())
}

fn authenticated_attribute(name: gss_name_t, attr: &str) -> Option<Vec<u8>> {
    let attr_bytes = attr.as_bytes();
    let mut attr_buf = gss_buffer_desc {
        length: attr_bytes.len(),
        value: attr_bytes.as_ptr() as *mut _,
    };
    let mut authenticated: i32 = 0;
    let mut complete: i32 = 0;
    let mut value = empty_buffer();
    let mut display = empty_buffer();
    let mut more: i32 = -1;
    let mut minor: OM_uint32 = 0;
    // SAFETY: valid name and buffers; both output buffers are released below.
    let major = unsafe {
        gss_get_name_attribute(
            &mut minor,
            name,
            &mut attr_buf,
            &mut authenticated,
            &mut complete,
            &mut value,
            &mut display,
            &mut more,
        )
    };
    let bytes = take_buffer(&mut value);
    let _ = take_buffer(&mut display);
    if is_error(major) || authenticated == 0 {
        return None;
    }
    Some(bytes)
}

/// Runs one acceptor step on `token`. Kerberos (and SPNEGO wrapping a Kerberos token)
/// completes in one step; a token that needs a second round is reported as an error.
pub fn accept(cred: &AcceptorCredential, token: &[u8]) -> Result<RawAccept, GssFailure> {
    let mut minor: OM_uint32 = 0;
    let mut ctx: gss_ctx_id_t = ptr::null_mut();
    let mut input = gss_buffer_desc {
        length: token.len(),
        value: token.as_ptr() as *mut _,
    };
    let mut src_name: gss_name_t = ptr::null_mut();
    let mut output = empty_buffer();
    let mut flags: OM_uint32 = 0;
    let mut lifetime: OM_uint32 = 0;
    let mut delegated: gss_cred_id_t = ptr::null_mut();
    // SAFETY: every pointer is valid for the call; all outputs are released below.
    let major = unsafe {
        gss_accept_sec_context(
            &mut minor,
            &mut ctx,
            cred.handle,
            &mut input,
            ptr::null_mut(),
            &mut src_name,
            ptr::null_mut(),
            &mut output,
            &mut flags,
            &mut lifetime,
            &mut delegated,
        )
    };
    let output_token = take_buffer(&mut output);
    // Wrap the delegated handle at once so it is released on every path.
    let delegated = if delegated.is_null() {
        None
    } else {
        // SAFETY: GSSAPI gave us ownership of this handle; Cred releases it on drop.
        Some(unsafe { Cred::from_c(delegated) })
    };
    let result = if is_error(major) {
        Err(failure(major, minor))
    } else if major & _GSS_S_CONTINUE_NEEDED != 0 {
        Err(GssFailure {
            major,
            message: "the token needs another round trip (not a Kerberos token)".into(),
        })
    } else {
        let mut target_name: gss_name_t = ptr::null_mut();
        let mut m2: OM_uint32 = 0;
        // SAFETY: ctx is a complete context; only the target name is requested.
        let inq = unsafe {
            gss_inquire_context(
                &mut m2,
                ctx,
                ptr::null_mut(),
                &mut target_name,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
            )
        };
        let target = if is_error(inq) { None } else { display_name(target_name) };
        if !target_name.is_null() {
            // SAFETY: released once.
            unsafe { gss_release_name(&mut m2, &mut target_name) };
        }
        Ok(RawAccept {
            client: display_name(src_name).unwrap_or_default(),
            target,
            logon_info: authenticated_attribute(src_name, "urn:mspac:logon-info"),
            output_token,
            delegated,
            flags,
            lifetime_secs: lifetime,
        })
    };
    if !src_name.is_null() {
        // SAFETY: released once.
        unsafe { gss_release_name(&mut minor, &mut src_name) };
    }
    if !ctx.is_null() {
        // SAFETY: released once; no output token wanted.
        unsafe { gss_delete_sec_context(&mut minor, &mut ctx, ptr::null_mut()) };
    }
    result
}

/// The OID of `GSS_KRB5_NT_PRINCIPAL_NAME` (1.2.840.113554.1.2.2.1).
static KRB5_NT_PRINCIPAL: [u8; 10] = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02, 0x01];

/// An initiator credential for `principal` whose keys come from `keytab` (MIT `client_keytab`),
/// with its tickets in a private `MEMORY:` cache. Used as the service's own identity for
/// S4U2Self/S4U2Proxy. Returned as a `libgssapi::Cred`, which releases it.
pub fn initiator_from_keytab(keytab: &str, principal: &str, ccache: &str) -> Result<Cred, GssFailure> {
    let bad = |what: &str| GssFailure {
        major: 0,
        message: format!("{what} contains a NUL byte"),
    };
    let keytab_c = CString::new(keytab).map_err(|_| bad("keytab path"))?;
    let ccache_c = CString::new(ccache).map_err(|_| bad("ccache name"))?;
    let mut oid = libgssapi_sys::gss_OID_desc {
        length: KRB5_NT_PRINCIPAL.len() as u32,
        elements: KRB5_NT_PRINCIPAL.as_ptr() as *mut _,
    };
    let mut name_buf = gss_buffer_desc {
        length: principal.len(),
        value: principal.as_ptr() as *mut _,
    };
    let mut name: gss_name_t = ptr::null_mut();
    let mut minor: OM_uint32 = 0;
    // SAFETY: valid buffers for the call; the name is released below.
    let major = unsafe { gss_import_name(&mut minor, &mut name_buf, &mut oid, &mut name) };
    if is_error(major) {
        return Err(failure(major, minor));
    }
    let mut elements = [
        gss_key_value_element_desc {
            key: c"client_keytab".as_ptr(),
            value: keytab_c.as_ptr(),
        },
        gss_key_value_element_desc {
            key: c"ccache".as_ptr(),
            value: ccache_c.as_ptr(),
        },
    ];
    let store = gss_key_value_set_desc {
        count: elements.len() as u32,
        elements: elements.as_mut_ptr(),
    };
    let mut handle: gss_cred_id_t = ptr::null_mut();
    // SAFETY: all pointers are valid for the call; the CStrings and elements outlive it.
    let major = unsafe {
        gss_acquire_cred_from(
            &mut minor,
            name,
            _GSS_C_INDEFINITE,
            ptr::null_mut(),
            libgssapi_sys::GSS_C_INITIATE as i32,
            &store,
            &mut handle,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    let mut m2: OM_uint32 = 0;
    // SAFETY: released once.
    unsafe { gss_release_name(&mut m2, &mut name) };
    if is_error(major) {
        return Err(failure(major, minor));
    }
    // SAFETY: we own the handle; Cred releases it on drop.
    Ok(unsafe { Cred::from_c(handle) })
}

// ---- krb5: string-to-key and in-process MEMORY keytabs (for the simulator's device keys) ----

/// `krb5_data`.
#[repr(C)]
struct Krb5Data {
    magic: i32,
    length: u32,
    data: *mut std::ffi::c_char,
}

/// `krb5_keyblock`.
#[repr(C)]
struct Krb5Keyblock {
    magic: i32,
    enctype: i32,
    length: u32,
    contents: *mut u8,
}

/// `krb5_keytab_entry`.
#[repr(C)]
struct Krb5KeytabEntry {
    magic: i32,
    principal: *mut std::ffi::c_void,
    timestamp: i32,
    vno: u32,
    key: Krb5Keyblock,
}

type Krb5Context = *mut std::ffi::c_void;

#[link(name = "krb5")]
unsafe extern "C" {
    fn krb5_init_context(context: *mut Krb5Context) -> i32;
    fn krb5_free_context(context: Krb5Context);
    fn krb5_kt_resolve(context: Krb5Context, name: *const std::ffi::c_char, kt: *mut *mut std::ffi::c_void) -> i32;
    fn krb5_kt_add_entry(context: Krb5Context, kt: *mut std::ffi::c_void, entry: *mut Krb5KeytabEntry) -> i32;
    fn krb5_kt_close(context: Krb5Context, kt: *mut std::ffi::c_void) -> i32;
    fn krb5_parse_name(
        context: Krb5Context,
        name: *const std::ffi::c_char,
        principal: *mut *mut std::ffi::c_void,
    ) -> i32;
    fn krb5_free_principal(context: Krb5Context, principal: *mut std::ffi::c_void);
    fn krb5_get_error_message(context: Krb5Context, code: i32) -> *const std::ffi::c_char;
    fn krb5_free_error_message(context: Krb5Context, msg: *const std::ffi::c_char);
}

#[link(name = "k5crypto")]
unsafe extern "C" {
    fn krb5_c_string_to_key_with_params(
        context: Krb5Context,
        enctype: i32,
        string: *const Krb5Data,
        salt: *const Krb5Data,
        params: *const Krb5Data,
        key: *mut Krb5Keyblock,
    ) -> i32;
    fn krb5_free_keyblock_contents(context: Krb5Context, key: *mut Krb5Keyblock);
}

fn krb5_message(ctx: Krb5Context, code: i32) -> String {
    // SAFETY: ctx is a live context; the message is copied, then freed once.
    unsafe {
        let m = krb5_get_error_message(ctx, code);
        if m.is_null() {
            return format!("krb5 error {code}");
        }
        let text = std::ffi::CStr::from_ptr(m).to_string_lossy().into_owned();
        krb5_free_error_message(ctx, m);
        text
    }
}

fn data_of(bytes: &[u8]) -> Krb5Data {
    Krb5Data {
        magic: 0,
        length: bytes.len() as u32,
        data: bytes.as_ptr() as *mut _,
    }
}

/// An MIT `MEMORY:` keytab, held open (and so alive) until this value is dropped. Keys are
/// copied into MIT's memory; nothing is written to disk.
pub struct MemoryKeytab {
    ctx: Krb5Context,
    kt: *mut std::ffi::c_void,
    name: String,
}

// SAFETY: the context and keytab handle are only used through `&mut self` (adding keys) and
// in Drop; `&self` methods read only `name`. MIT's MEMORY keytabs lock internally.
unsafe impl Send for MemoryKeytab {}
// SAFETY: as above.
unsafe impl Sync for MemoryKeytab {}

impl Drop for MemoryKeytab {
    fn drop(&mut self) {
        // SAFETY: both handles came from krb5 and are released once, keytab first.
        unsafe {
            krb5_kt_close(self.ctx, self.kt);
            krb5_free_context(self.ctx);
        }
    }
}

impl MemoryKeytab {
    /// Creates (or opens) the memory keytab `MEMORY:<tag>`.
    pub fn open(tag: &str) -> Result<MemoryKeytab, String> {
        let name = format!("MEMORY:{tag}");
        let name_c = CString::new(name.clone()).map_err(|_| "keytab name contains a NUL byte".to_owned())?;
        let mut ctx: Krb5Context = ptr::null_mut();
        // SAFETY: out-parameter is valid.
        let code = unsafe { krb5_init_context(&mut ctx) };
        if code != 0 {
            return Err(format!("krb5_init_context failed ({code})"));
        }
        let mut kt: *mut std::ffi::c_void = ptr::null_mut();
        // SAFETY: live context, NUL-terminated name, valid out-parameter.
        let code = unsafe { krb5_kt_resolve(ctx, name_c.as_ptr(), &mut kt) };
        if code != 0 {
            let msg = krb5_message(ctx, code);
            // SAFETY: released once.
            unsafe { krb5_free_context(ctx) };
            return Err(msg);
        }
        Ok(MemoryKeytab { ctx, kt, name })
    }

    /// The name to give GSSAPI (`MEMORY:…`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Adds `key` (raw bytes of enctype `enctype`) for `principal` with key version `kvno`.
    pub fn add_key(&mut self, principal: &str, kvno: u32, enctype: i32, key: &[u8]) -> Result<(), String> {
        let princ_c = CString::new(principal).map_err(|_| "principal contains a NUL byte".to_owned())?;
        let mut princ: *mut std::ffi::c_void = ptr::null_mut();
        // SAFETY: live context, NUL-terminated name, valid out-parameter.
        let code = unsafe { krb5_parse_name(self.ctx, princ_c.as_ptr(), &mut princ) };
        if code != 0 {
            return Err(krb5_message(self.ctx, code));
        }
        let mut entry = Krb5KeytabEntry {
            magic: 0,
            principal: princ,
            timestamp: 0,
            vno: kvno,
            key: Krb5Keyblock {
                magic: 0,
                enctype,
                length: key.len() as u32,
                contents: key.as_ptr() as *mut u8,
            },
        };
        // SAFETY: the entry points at live memory for the call; MEMORY keytabs copy it.
        let code = unsafe { krb5_kt_add_entry(self.ctx, self.kt, &mut entry) };
        // SAFETY: the principal is ours and freed once.
        unsafe { krb5_free_principal(self.ctx, princ) };
        if code != 0 {
            return Err(krb5_message(self.ctx, code));
        }
        Ok(())
    }

    /// Derives the key of `enctype` from `password` and `salt` (RFC 3961 string-to-key; for
    /// AES, RFC 3962 with `iterations`) and adds it as [`MemoryKeytab::add_key`] does.
    pub fn add_password_key(
        &mut self,
        principal: &str,
        kvno: u32,
        enctype: i32,
        password: &[u8],
        salt: &[u8],
        iterations: Option<u32>,
    ) -> Result<(), String> {
        let mut bytes = self.string_to_key(enctype, password, salt, iterations)?;
        let result = self.add_key(principal, kvno, enctype, &bytes);
        bytes.iter_mut().for_each(|b| *b = 0);
        std::hint::black_box(&bytes);
        result
    }

    /// RFC 3961 string-to-key of `enctype` (AES: RFC 3962 with `iterations`).
    pub fn string_to_key(
        &self,
        enctype: i32,
        password: &[u8],
        salt: &[u8],
        iterations: Option<u32>,
    ) -> Result<Vec<u8>, String> {
        let string = data_of(password);
        let salt = data_of(salt);
        let iter_bytes = iterations.map(u32::to_be_bytes);
        let params = iter_bytes.as_ref().map(|b| data_of(b));
        let mut key = Krb5Keyblock {
            magic: 0,
            enctype: 0,
            length: 0,
            contents: ptr::null_mut(),
        };
        // SAFETY: inputs point at live slices for the call; the key's contents are freed below.
        let code = unsafe {
            krb5_c_string_to_key_with_params(
                self.ctx,
                enctype,
                &string,
                &salt,
                params.as_ref().map_or(ptr::null(), |p| p as *const Krb5Data),
                &mut key,
            )
        };
        if code != 0 {
            return Err(krb5_message(self.ctx, code));
        }
        let bytes = if key.contents.is_null() {
            Vec::new()
        } else {
            // SAFETY: krb5 filled `length` bytes at `contents`.
            unsafe { std::slice::from_raw_parts(key.contents, key.length as usize) }.to_vec()
        };
        // SAFETY: contents allocated by krb5, freed once (MIT zeroes them first).
        unsafe { krb5_free_keyblock_contents(self.ctx, &mut key) };
        Ok(bytes)
    }
}
