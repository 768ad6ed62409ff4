//! `AMT_KerberosSettingData` (§2.8): read and Put. The one instance's InstanceID has a
//! space: `Intel (r) AMT: Kerberos Settings`. MasterKey is write-only.

use crate::models::model;
use crate::props_struct;
use crate::wsman::{Properties, Request};

props_struct! {
    /// `AMT_KerberosSettingData`.
    pub struct KerberosSettingData {
        /// Enabled encryption types (0 RC4, 1 AES128, 2 AES256).
        configured_encryption_algorithms: Vec<u16> = "ConfiguredEncryptionAlgorithms",
        /// `Intel(r) AMT: Kerberos Settings`.
        element_name: Option<String> = "ElementName",
        /// Deprecated, 0 = RC4.
        encryption_algorithm: Option<u16> = "EncryptionAlgorithm",
        /// Key, with the space.
        instance_id: Option<String> = "InstanceID",
        /// RFC 3962 iteration count.
        iteration_count: Option<u32> = "IterationCount",
        /// Stored, not compared with the ticket's kvno.
        key_version: Option<u32> = "KeyVersion",
        /// Kerberos on.
        krb_enabled: Option<bool> = "KrbEnabled",
        /// Base64 16-byte key (write-only).
        master_key: Option<String> = "MasterKey",
        /// Minutes, at most 5.
        maximum_clock_tolerance: Option<u32> = "MaximumClockTolerance",
        /// Passphrase for key generation.
        passphrase: Option<String> = "Passphrase",
        /// Kerberos realm (AD domain).
        realm_name: Option<String> = "RealmName",
        /// Salt for key generation.
        salt: Option<String> = "Salt",
        /// Ignored by AMT.
        service_principal_name: Vec<String> = "ServicePrincipalName",
        /// Ignored by AMT.
        service_principal_protocol: Vec<u16> = "ServicePrincipalProtocol",
        /// Supported encryption types.
        supported_encryption_algorithms: Vec<u16> = "SupportedEncryptionAlgorithms",
    }
}
model!(KerberosSettingData, "AMT_KerberosSettingData");

impl KerberosSettingData {
    /// InstanceID of the one instance (note the space in "Intel (r)").
    pub const INSTANCE_ID: &'static str = "Intel (r) AMT: Kerberos Settings";

    /// The Put request writing these settings.
    pub fn put_request(&self) -> Request {
        Request::put("AMT_KerberosSettingData", self.to_properties()).selector("InstanceID", Self::INSTANCE_ID)
    }
}

props_struct! {
    /// Output of `GetCredentialCacheState`.
    pub struct GetCredentialCacheStateOutput {
        /// Cache on.
        enabled: Option<bool> = "Enabled",
        /// PT_STATUS.
        return_value: Option<u32> = "ReturnValue",
    }
}

/// `SetCredentialCacheState(Enable)` (MOF name `Enable`, not GWM's `Enabled`).
pub fn set_credential_cache_state(enable: bool) -> Request {
    Request::invoke(
        "AMT_KerberosSettingData",
        "SetCredentialCacheState",
        Properties::new().text("Enable", enable),
    )
}
