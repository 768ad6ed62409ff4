//! Power: [`PowerState`] values 1..17, `CIM_AssociatedPowerManagementService` (current state),
//! `CIM_PowerManagementCapabilities`, and `RequestPowerStateChange` (§2.1).
//!
//! Names follow DMTF; [`PowerState::amt_action`] says what AMT actually does (5 and 8 are
//! *hard* on AMT, despite the DMTF names).

use crate::models::{model, scalar_enum};
use crate::props_struct;
use crate::realm::num_enum;
use crate::wsman::{EndpointReference, Properties, Request};

num_enum! {
    /// A CIM power state (`PowerState`, `AvailableRequestedPowerStates`, requests).
    PowerState: u16 {
        /// 1.
        Other = 1 => "Other",
        /// 2.
        On = 2 => "On (S0)",
        /// 3.
        SleepLight = 3 => "Sleep - Light (S1/S2)",
        /// 4.
        SleepDeep = 4 => "Sleep - Deep (S3)",
        /// 5.
        PowerCycleOffSoft = 5 => "Power Cycle (Off - Soft)",
        /// 6.
        OffHard = 6 => "Off - Hard (G3)",
        /// 7.
        Hibernate = 7 => "Hibernate (S4)",
        /// 8.
        OffSoft = 8 => "Off - Soft (S5)",
        /// 9.
        PowerCycleOffHard = 9 => "Power Cycle (Off - Hard)",
        /// 10.
        MasterBusReset = 10 => "Master Bus Reset",
        /// 11.
        DiagnosticInterruptNmi = 11 => "Diagnostic Interrupt (NMI)",
        /// 12.
        OffSoftGraceful = 12 => "Off - Soft Graceful",
        /// 13.
        OffHardGraceful = 13 => "Off - Hard Graceful",
        /// 14.
        MasterBusResetGraceful = 14 => "Master Bus Reset Graceful",
        /// 15.
        PowerCycleOffSoftGraceful = 15 => "Power Cycle (Off - Soft Graceful)",
        /// 16.
        PowerCycleOffHardGraceful = 16 => "Power Cycle (Off - Hard Graceful)",
        /// 17 (MC label; not in the MOF ValueMap).
        DiagnosticInterruptInit = 17 => "Diagnostic Interrupt (INIT)",
    }
}
scalar_enum!(PowerState);

impl PowerState {
    /// What AMT does when asked for this state, in plain words; `None` when AMT does not
    /// support requesting it.
    pub fn amt_action(self) -> Option<&'static str> {
        use PowerState::*;
        Some(match self {
            On => "power up",
            PowerCycleOffSoft => "power cycle (hard off, then on)",
            OffSoft => "power down (hard)",
            MasterBusReset => "reset",
            SleepDeep => "sleep (S3; needs the OS agent)",
            Hibernate => "hibernate (S4; needs the OS agent)",
            OffSoftGraceful => "soft power-off through the OS",
            MasterBusResetGraceful => "soft reset through the OS",
            DiagnosticInterruptNmi => "send an NMI",
            _ => return None,
        })
    }

    /// Whether the machine counts as powered on in this state (`None` when unclear).
    pub fn is_on(self) -> Option<bool> {
        use PowerState::*;
        match self {
            On
            | SleepLight
            | SleepDeep
            | PowerCycleOffSoft
            | Hibernate
            | PowerCycleOffHard
            | MasterBusReset
            | MasterBusResetGraceful
            | PowerCycleOffSoftGraceful
            | PowerCycleOffHardGraceful => Some(true),
            OffHard | OffSoft | OffSoftGraceful | OffHardGraceful => Some(false),
            _ => None,
        }
    }

    /// True for power cycle and power off, which AMT rejects during a redirection session.
    pub fn is_cycle_or_off(self) -> bool {
        matches!(self, PowerState::PowerCycleOffSoft | PowerState::OffSoft)
    }
}

props_struct! {
    /// `CIM_AssociatedPowerManagementService`: the current power state.
    pub struct AssociatedPowerManagementService {
        /// States that can be requested now.
        available_requested_power_states: Vec<PowerState> = "AvailableRequestedPowerStates",
        /// Current state.
        power_state: Option<PowerState> = "PowerState",
        /// EPR to `CIM_PowerManagementService`.
        service_provided: Option<EndpointReference> = "ServiceProvided",
        /// EPR to `CIM_ComputerSystem`.
        user_of_service: Option<EndpointReference> = "UserOfService",
    }
}
model!(AssociatedPowerManagementService, "CIM_AssociatedPowerManagementService");

props_struct! {
    /// `CIM_PowerManagementCapabilities`.
    pub struct PowerManagementCapabilities {
        /// Element name.
        element_name: Option<String> = "ElementName",
        /// Key.
        instance_id: Option<String> = "InstanceID",
        /// Other capabilities.
        other_power_change_capabilities: Option<String> = "OtherPowerChangeCapabilities",
        /// Capability codes.
        power_change_capabilities: Vec<u16> = "PowerChangeCapabilities",
        /// Supported states.
        power_states_supported: Vec<PowerState> = "PowerStatesSupported",
        /// States that may be requested.
        requested_power_states_supported: Vec<PowerState> = "RequestedPowerStatesSupported",
    }
}
model!(PowerManagementCapabilities, "CIM_PowerManagementCapabilities");

/// Class of the power service.
pub const POWER_MANAGEMENT_SERVICE: &str = "CIM_PowerManagementService";

/// EPR to the managed `CIM_ComputerSystem` (`Name=ManagedSystem`), as MC and GWM send it.
pub fn managed_system_epr() -> EndpointReference {
    EndpointReference::new(
        "CIM_ComputerSystem",
        &[("CreationClassName", "CIM_ComputerSystem"), ("Name", "ManagedSystem")],
    )
    .with_address(crate::ns::ADDRESSING)
}

/// The `RequestPowerStateChange` request (output: [`crate::models::ReturnOnly`], CIM codes).
pub fn request_power_state_change(state: PowerState) -> Request {
    Request::invoke(
        POWER_MANAGEMENT_SERVICE,
        "RequestPowerStateChange",
        Properties::new()
            .text("PowerState", state.value())
            .epr("ManagedElement", managed_system_epr()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_values_named() {
        for v in 1u16..=17 {
            assert!(!matches!(PowerState::from_value(v), PowerState::Unknown(_)));
        }
        assert_eq!(PowerState::OffSoft.amt_action(), Some("power down (hard)"));
        assert_eq!(PowerState::from_value(8).is_on(), Some(false));
        assert_eq!(PowerState::from_value(40).to_string(), "Unknown (40)");
    }
}
