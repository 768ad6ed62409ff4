//! Devices as the UI shows them: the registry row, the power view, the outcome of an action.

use serde::{Deserialize, Serialize};

/// One registered device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRow {
    /// Registry id.
    pub id: i64,
    /// The device's FQDN (as in its SPNs).
    pub fqdn: String,
    /// Site or location.
    pub site: String,
    /// Tags.
    pub tags: String,
}

/// Power actions a user can ask for, in the words of the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PowerAction {
    /// Power on (2).
    On,
    /// Power off, hard (8).
    Off,
    /// Power cycle, hard (5).
    Cycle,
    /// Reset (10).
    Reset,
    /// Soft off through the OS (12).
    SoftOff,
    /// Soft reset through the OS (14).
    SoftReset,
    /// Power on into BIOS setup (boot option BIOSSetup, then 2).
    BiosSetupOn,
    /// Reset into BIOS setup (boot option BIOSSetup, then 10).
    BiosSetupReset,
    /// Power on to PXE, network boot (forced boot source, then 2).
    PxeOn,
    /// Reset to PXE, network boot (forced boot source, then 10).
    PxeReset,
}

/// Where a boot action sends the machine (AMT boot options, amt-protocol.md §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BootTarget {
    /// The BIOS setup screens (`AMT_BootSettingData.BIOSSetup`).
    BiosSetup,
    /// Network boot (`CIM_BootSourceSetting` "Force PXE Boot").
    Pxe,
}

impl PowerAction {
    /// Every action, in button order.
    pub const ALL: [PowerAction; 10] = [
        PowerAction::On,
        PowerAction::Off,
        PowerAction::Cycle,
        PowerAction::Reset,
        PowerAction::SoftOff,
        PowerAction::SoftReset,
        PowerAction::BiosSetupOn,
        PowerAction::BiosSetupReset,
        PowerAction::PxeOn,
        PowerAction::PxeReset,
    ];

    /// The boot option set before the power change, for boot actions.
    pub fn boot_target(self) -> Option<BootTarget> {
        match self {
            PowerAction::BiosSetupOn | PowerAction::BiosSetupReset => Some(BootTarget::BiosSetup),
            PowerAction::PxeOn | PowerAction::PxeReset => Some(BootTarget::Pxe),
            _ => None,
        }
    }

    /// The DMTF PowerState value AMT expects.
    pub fn power_state(self) -> u16 {
        match self {
            PowerAction::On | PowerAction::BiosSetupOn | PowerAction::PxeOn => 2,
            PowerAction::Off => 8,
            PowerAction::Cycle => 5,
            PowerAction::Reset | PowerAction::BiosSetupReset | PowerAction::PxeReset => 10,
            PowerAction::SoftOff => 12,
            PowerAction::SoftReset => 14,
        }
    }

    /// Button label.
    pub fn label(self) -> &'static str {
        match self {
            PowerAction::On => "Power on",
            PowerAction::Off => "Power off",
            PowerAction::Cycle => "Power cycle",
            PowerAction::Reset => "Reset",
            PowerAction::SoftOff => "Soft off (OS)",
            PowerAction::SoftReset => "Soft reset (OS)",
            PowerAction::BiosSetupOn => "Power on to BIOS setup",
            PowerAction::BiosSetupReset => "Reset to BIOS setup",
            PowerAction::PxeOn => "Power on to PXE",
            PowerAction::PxeReset => "Reset to PXE",
        }
    }

    /// Stable id for URLs and tests.
    pub fn id(self) -> &'static str {
        match self {
            PowerAction::On => "on",
            PowerAction::Off => "off",
            PowerAction::Cycle => "cycle",
            PowerAction::Reset => "reset",
            PowerAction::SoftOff => "soft-off",
            PowerAction::SoftReset => "soft-reset",
            PowerAction::BiosSetupOn => "bios-on",
            PowerAction::BiosSetupReset => "bios-reset",
            PowerAction::PxeOn => "pxe-on",
            PowerAction::PxeReset => "pxe-reset",
        }
    }

    /// Whether it interrupts a running OS without asking it (the UI asks for confirmation).
    pub fn is_disruptive(self) -> bool {
        !matches!(self, PowerAction::On | PowerAction::BiosSetupOn | PowerAction::PxeOn)
    }
}

/// What the device says about its power, read as the signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PowerView {
    /// The device.
    pub device: DeviceRow,
    /// Plain name of the state ("On (S0)", "Off – soft (S5)").
    pub state: String,
    /// Whether the machine is running (for the picture).
    pub on: bool,
    /// Actions the device offers now.
    pub available: Vec<PowerAction>,
    /// How the portal authenticated as the user ("your forwarded ticket", "constrained delegation").
    pub acting_as: String,
}

/// The result of reading or acting on a device: a view, or a refusal explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeviceOutcome<T> {
    /// It worked.
    Ok(T),
    /// It did not; the sentence says why and what to do.
    Refused {
        /// Stable code for tests and logs.
        code: String,
        /// The explanation.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot_actions_map_to_a_boot_option_and_a_power_state() {
        assert_eq!(PowerAction::BiosSetupReset.boot_target(), Some(BootTarget::BiosSetup));
        assert_eq!(PowerAction::BiosSetupReset.power_state(), 10);
        assert_eq!(PowerAction::PxeOn.power_state(), 2);
        assert_eq!(PowerAction::PxeOn.boot_target(), Some(BootTarget::Pxe));
        assert_eq!(PowerAction::Cycle.boot_target(), None);
        assert!(!PowerAction::PxeOn.is_disruptive());
        assert!(PowerAction::PxeReset.is_disruptive());
        let ids: std::collections::HashSet<_> = PowerAction::ALL.iter().map(|a| a.id()).collect();
        assert_eq!(ids.len(), PowerAction::ALL.len(), "ids are unique");
    }
}
