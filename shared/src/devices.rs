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
}

impl PowerAction {
    /// Every action, in button order.
    pub const ALL: [PowerAction; 6] = [
        PowerAction::On,
        PowerAction::Off,
        PowerAction::Cycle,
        PowerAction::Reset,
        PowerAction::SoftOff,
        PowerAction::SoftReset,
    ];

    /// The DMTF PowerState value AMT expects.
    pub fn power_state(self) -> u16 {
        match self {
            PowerAction::On => 2,
            PowerAction::Off => 8,
            PowerAction::Cycle => 5,
            PowerAction::Reset => 10,
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
        }
    }

    /// Whether it interrupts a running OS without asking it (the UI asks for confirmation).
    pub fn is_disruptive(self) -> bool {
        !matches!(self, PowerAction::On)
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
