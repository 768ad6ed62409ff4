//! Boot options: `AMT_BootCapabilities`, `AMT_BootSettingData` (read, and Put without the
//! read-only fields), `CIM_BootConfigSetting.ChangeBootOrder`, `CIM_BootService.SetBootConfigRole`
//! (§2.2). Sequence for "boot to PXE/BIOS": ChangeBootOrder (none), Put BootSettingData,
//! SetBootConfigRole(Role 1), ChangeBootOrder(source), RequestPowerStateChange.

use crate::models::model;
use crate::props_struct;
use crate::wsman::{EndpointReference, Properties, Request};

props_struct! {
    /// `AMT_BootCapabilities`.
    pub struct BootCapabilities {
        /// Can pause in BIOS.
        bios_pause: Option<bool> = "BIOSPause",
        /// Can reflash BIOS.
        bios_reflash: Option<bool> = "BIOSReflash",
        /// Secure boot control.
        bios_secure_boot: Option<bool> = "BIOSSecureBoot",
        /// Can enter BIOS setup.
        bios_setup: Option<bool> = "BIOSSetup",
        /// Configuration data reset.
        configuration_data_reset: Option<bool> = "ConfigurationDataReset",
        /// Element name.
        element_name: Option<String> = "ElementName",
        /// Force CD/DVD.
        force_cd_or_dvd_boot: Option<bool> = "ForceCDorDVDBoot",
        /// Force diagnostics.
        force_diagnostic_boot: Option<bool> = "ForceDiagnosticBoot",
        /// Force hard drive.
        force_hard_drive_boot: Option<bool> = "ForceHardDriveBoot",
        /// Force hard drive safe mode.
        force_hard_drive_safe_mode_boot: Option<bool> = "ForceHardDriveSafeModeBoot",
        /// Force PXE.
        force_pxe_boot: Option<bool> = "ForcePXEBoot",
        /// UEFI HTTPS boot (newer firmware).
        force_uefi_https_boot: Option<bool> = "ForceUEFIHTTPSBoot",
        /// Forced progress events.
        forced_progress_events: Option<bool> = "ForcedProgressEvents",
        /// IDE-R.
        ider: Option<bool> = "IDER",
        /// Key.
        instance_id: Option<String> = "InstanceID",
        /// Keyboard lock.
        keyboard_lock: Option<bool> = "KeyboardLock",
        /// Platform erase (newer firmware).
        platform_erase: Option<u32> = "PlatformErase",
        /// Power button lock.
        power_button_lock: Option<bool> = "PowerButtonLock",
        /// Reset button lock.
        reset_button_lock: Option<bool> = "ResetButtonLock",
        /// Serial over LAN.
        sol: Option<bool> = "SOL",
        /// Secure erase.
        secure_erase: Option<bool> = "SecureErase",
        /// Sleep button lock.
        sleep_button_lock: Option<bool> = "SleepButtonLock",
        /// User password bypass.
        user_password_bypass: Option<bool> = "UserPasswordBypass",
        /// Verbosity quiet.
        verbosity_quiet: Option<bool> = "VerbosityQuiet",
        /// Verbosity screen blank.
        verbosity_screen_blank: Option<bool> = "VerbosityScreenBlank",
        /// Verbosity verbose.
        verbosity_verbose: Option<bool> = "VerbosityVerbose",
    }
}
model!(BootCapabilities, "AMT_BootCapabilities");

props_struct! {
    /// `AMT_BootSettingData` (InstanceID `Intel(r) AMT:BootSettingData 0`).
    pub struct BootSettingData {
        /// Read-only: last BIOS status words.
        bios_last_status: Vec<u16> = "BIOSLastStatus",
        /// Pause in BIOS.
        bios_pause: Option<bool> = "BIOSPause",
        /// Enter BIOS setup on next boot.
        bios_setup: Option<bool> = "BIOSSetup",
        /// Boot media index.
        boot_media_index: Option<u32> = "BootMediaIndex",
        /// Read-only: Boot Guard status.
        bootguard_status: Option<u32> = "BootguardStatus",
        /// Configuration data reset.
        configuration_data_reset: Option<bool> = "ConfigurationDataReset",
        /// Element name.
        element_name: Option<String> = "ElementName",
        /// Enforce secure boot.
        enforce_secure_boot: Option<bool> = "EnforceSecureBoot",
        /// Firmware verbosity.
        firmware_verbosity: Option<u32> = "FirmwareVerbosity",
        /// Forced progress events.
        forced_progress_events: Option<bool> = "ForcedProgressEvents",
        /// 0 floppy, 1 CD.
        ider_boot_device: Option<u32> = "IDERBootDevice",
        /// Key.
        instance_id: Option<String> = "InstanceID",
        /// Lock keyboard.
        lock_keyboard: Option<bool> = "LockKeyboard",
        /// Lock power button.
        lock_power_button: Option<bool> = "LockPowerButton",
        /// Lock reset button.
        lock_reset_button: Option<bool> = "LockResetButton",
        /// Lock sleep button.
        lock_sleep_button: Option<bool> = "LockSleepButton",
        /// Read-only: options cleared.
        options_cleared: Option<bool> = "OptionsCleared",
        /// Owning entity.
        owning_entity: Option<String> = "OwningEntity",
        /// Platform erase.
        platform_erase: Option<bool> = "PlatformErase",
        /// Read-only: RPE enabled.
        rpe_enabled: Option<bool> = "RPEEnabled",
        /// Remote secure erase password.
        rse_password: Option<String> = "RSEPassword",
        /// Reflash BIOS.
        reflash_bios: Option<bool> = "ReflashBIOS",
        /// Read-only: secure boot control enabled.
        secure_boot_control_enabled: Option<bool> = "SecureBootControlEnabled",
        /// Secure erase.
        secure_erase: Option<bool> = "SecureErase",
        /// Read-only: UEFI HTTPS boot enabled.
        uefi_https_boot_enabled: Option<bool> = "UEFIHTTPSBootEnabled",
        /// Read-only: UEFI local PBA boot enabled.
        uefi_local_pba_boot_enabled: Option<bool> = "UEFILocalPBABootEnabled",
        /// UEFI boot parameters count.
        uefi_boot_number_of_params: Option<u32> = "UefiBootNumberOfParams",
        /// UEFI boot parameters (base64).
        uefi_boot_parameters_array: Option<String> = "UefiBootParametersArray",
        /// Use IDE-R.
        use_ider: Option<bool> = "UseIDER",
        /// Use SOL.
        use_sol: Option<bool> = "UseSOL",
        /// Safe mode.
        use_safe_mode: Option<bool> = "UseSafeMode",
        /// User password bypass.
        user_password_bypass: Option<bool> = "UserPasswordBypass",
        /// Read-only: WinRE boot enabled.
        win_re_boot_enabled: Option<bool> = "WinREBootEnabled",
    }
}
model!(BootSettingData, "AMT_BootSettingData");

impl BootSettingData {
    /// Properties MeshCommander removes before a Put (the firmware treats them as read-only).
    pub const READ_ONLY: &'static [&'static str] = &[
        "WinREBootEnabled",
        "UEFILocalPBABootEnabled",
        "UEFIHTTPSBootEnabled",
        "SecureBootControlEnabled",
        "BootguardStatus",
        "OptionsCleared",
        "BIOSLastStatus",
        "RPEEnabled",
    ];

    /// The Put request for these settings, without the read-only properties.
    pub fn put_request(&self) -> Request {
        let mut p = self.to_properties();
        for name in Self::READ_ONLY {
            p.remove(name);
        }
        Request::put("AMT_BootSettingData", p).selector("InstanceID", "Intel(r) AMT:BootSettingData 0")
    }
}

/// A forced boot device for `ChangeBootOrder`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BootSource {
    /// No forced device (clears any previous one).
    None,
    /// Network (PXE).
    Pxe,
    /// Hard drive.
    HardDrive,
    /// CD/DVD.
    CdDvd,
}

impl BootSource {
    /// InstanceID of the `CIM_BootSourceSetting`, if any.
    pub fn instance_id(self) -> Option<&'static str> {
        match self {
            BootSource::None => None,
            BootSource::Pxe => Some("Intel(r) AMT: Force PXE Boot"),
            BootSource::HardDrive => Some("Intel(r) AMT: Force Hard-drive Boot"),
            BootSource::CdDvd => Some("Intel(r) AMT: Force CD/DVD Boot"),
        }
    }

    /// From a `CIM_BootSourceSetting` InstanceID.
    pub fn from_instance_id(id: &str) -> Option<Self> {
        [BootSource::Pxe, BootSource::HardDrive, BootSource::CdDvd]
            .into_iter()
            .find(|s| s.instance_id() == Some(id))
    }
}

/// InstanceID of the one `CIM_BootConfigSetting`.
pub const BOOT_CONFIG_SETTING_ID: &str = "Intel(r) AMT: Boot Configuration 0";

/// `CIM_BootConfigSetting.ChangeBootOrder` (output [`crate::models::ReturnOnly`]).
pub fn change_boot_order(source: BootSource) -> Request {
    let mut input = Properties::new();
    if let Some(id) = source.instance_id() {
        input = input.epr(
            "Source",
            EndpointReference::new("CIM_BootSourceSetting", &[("InstanceID", id)]).with_address(crate::ns::ANONYMOUS),
        );
    }
    Request::invoke("CIM_BootConfigSetting", "ChangeBootOrder", input).selector("InstanceID", BOOT_CONFIG_SETTING_ID)
}

/// `CIM_BootService.SetBootConfigRole` with Role 1 (IsNextSingleUse), as MC and MAAS send.
pub fn set_boot_config_role() -> Request {
    Request::invoke(
        "CIM_BootService",
        "SetBootConfigRole",
        Properties::new()
            .epr(
                "BootConfigSetting",
                EndpointReference::new("CIM_BootConfigSetting", &[("InstanceID", BOOT_CONFIG_SETTING_ID)]),
            )
            .text("Role", 1),
    )
    .selector("Name", "Intel(r) AMT Boot Service")
}
