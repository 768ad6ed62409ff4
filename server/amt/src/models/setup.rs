//! Provisioning: `IPS_HostBasedSetupService` (control mode) and
//! `AMT_SetupAndConfigurationService` (provisioning state and mode) (§2.3).

use crate::models::{model, scalar_enum};
use crate::props_struct;
use crate::realm::num_enum;

num_enum! {
    /// `CurrentControlMode` / `AllowedControlModes`.
    ControlMode: u32 {
        /// 0.
        NotProvisioned = 0 => "Not provisioned",
        /// 1: Client Control Mode (user consent needed for redirection and boot).
        Client = 1 => "Client Control Mode",
        /// 2: Admin Control Mode.
        Admin = 2 => "Admin Control Mode",
    }
}

num_enum! {
    /// `ProvisioningState`.
    ProvisioningState: u32 {
        /// 0.
        Pre = 0 => "Pre-provisioning",
        /// 1.
        In = 1 => "In provisioning",
        /// 2.
        Post = 2 => "Post-provisioning (provisioned)",
    }
}

num_enum! {
    /// `ProvisioningMode`.
    ProvisioningMode: u32 {
        /// 1: Admin (enterprise).
        Admin = 1 => "Admin (enterprise)",
        /// 4: Client.
        Client = 4 => "Client",
    }
}

num_enum! {
    /// `PasswordModel`.
    PasswordModel: u32 {
        /// 0.
        Coupled = 0 => "Coupled",
        /// 1.
        Separate = 1 => "Separate",
        /// 2.
        SeparateHash = 2 => "Separate hash",
    }
}

scalar_enum!(ControlMode, ProvisioningState, ProvisioningMode, PasswordModel);

props_struct! {
    /// `IPS_HostBasedSetupService`.
    pub struct HostBasedSetupService {
        /// Modes the device may be provisioned into.
        allowed_control_modes: Vec<ControlMode> = "AllowedControlModes",
        /// 0/1/2.
        cert_chain_status: Option<u32> = "CertChainStatus",
        /// Base64 nonce.
        configuration_nonce: Option<String> = "ConfigurationNonce",
        /// Key.
        creation_class_name: Option<String> = "CreationClassName",
        /// Current control mode.
        current_control_mode: Option<ControlMode> = "CurrentControlMode",
        /// Element name.
        element_name: Option<String> = "ElementName",
        /// Key.
        name: Option<String> = "Name",
        /// Key.
        system_creation_class_name: Option<String> = "SystemCreationClassName",
        /// Key.
        system_name: Option<String> = "SystemName",
    }
}
model!(HostBasedSetupService, "IPS_HostBasedSetupService");

props_struct! {
    /// `AMT_SetupAndConfigurationService`.
    pub struct SetupAndConfigurationService {
        /// Key.
        creation_class_name: Option<String> = "CreationClassName",
        /// Element name.
        element_name: Option<String> = "ElementName",
        /// Enabled state.
        enabled_state: Option<u32> = "EnabledState",
        /// Key.
        name: Option<String> = "Name",
        /// Password model.
        password_model: Option<PasswordModel> = "PasswordModel",
        /// Provisioning mode.
        provisioning_mode: Option<ProvisioningMode> = "ProvisioningMode",
        /// Base64 OTP.
        provisioning_server_otp: Option<String> = "ProvisioningServerOTP",
        /// Provisioning state.
        provisioning_state: Option<ProvisioningState> = "ProvisioningState",
        /// Requested state.
        requested_state: Option<u32> = "RequestedState",
        /// Key.
        system_creation_class_name: Option<String> = "SystemCreationClassName",
        /// Key.
        system_name: Option<String> = "SystemName",
        /// Zero-touch configuration.
        zero_touch_configuration_enabled: Option<bool> = "ZeroTouchConfigurationEnabled",
    }
}
model!(SetupAndConfigurationService, "AMT_SetupAndConfigurationService");
