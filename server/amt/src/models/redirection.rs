//! Enabling redirection and user consent: `AMT_RedirectionService` (EnabledState
//! 32768..32771, ListenerEnabled, RequestStateChange) and `IPS_OptInService` (§2.6).

use crate::models::{model, scalar_enum};
use crate::props_struct;
use crate::realm::num_enum;
use crate::wsman::{Properties, Request};

num_enum! {
    /// `AMT_RedirectionService.EnabledState` / `RequestStateChange` values.
    RedirectionState: u32 {
        /// 32768.
        Disabled = 32768 => "IDER and SOL disabled",
        /// 32769.
        IderOnly = 32769 => "IDER enabled, SOL disabled",
        /// 32770.
        SolOnly = 32770 => "SOL enabled, IDER disabled",
        /// 32771.
        IderAndSol = 32771 => "IDER and SOL enabled",
    }
}
scalar_enum!(RedirectionState);

impl RedirectionState {
    /// From the two switches.
    pub fn from_flags(ider: bool, sol: bool) -> Self {
        Self::from_value(32768 + u32::from(ider) + 2 * u32::from(sol))
    }
    /// Whether SOL is enabled.
    pub fn sol(self) -> bool {
        self.value() >= 32768 && self.value() & 2 != 0
    }
    /// Whether IDER is enabled.
    pub fn ider(self) -> bool {
        self.value() >= 32768 && self.value() & 1 != 0
    }
}

props_struct! {
    /// `AMT_RedirectionService`.
    pub struct RedirectionService {
        /// Access log entries.
        access_log: Vec<String> = "AccessLog",
        /// Key.
        creation_class_name: Option<String> = "CreationClassName",
        /// Element name.
        element_name: Option<String> = "ElementName",
        /// Which of IDER/SOL are enabled.
        enabled_state: Option<RedirectionState> = "EnabledState",
        /// The listener on 16994/16995 is on.
        listener_enabled: Option<bool> = "ListenerEnabled",
        /// Key.
        name: Option<String> = "Name",
        /// Key.
        system_creation_class_name: Option<String> = "SystemCreationClassName",
        /// Key.
        system_name: Option<String> = "SystemName",
    }
}
model!(RedirectionService, "AMT_RedirectionService");

impl RedirectionService {
    /// The Put request (e.g. after setting `listener_enabled`), without AccessLog.
    pub fn put_request(&self) -> Request {
        let mut p = self.to_properties();
        p.remove("AccessLog");
        Request::put("AMT_RedirectionService", p)
    }
}

/// `AMT_RedirectionService.RequestStateChange` (output [`crate::models::ReturnOnly`]).
pub fn redirection_request_state_change(state: RedirectionState) -> Request {
    Request::invoke(
        "AMT_RedirectionService",
        "RequestStateChange",
        Properties::new().text("RequestedState", state.value()),
    )
}

num_enum! {
    /// `IPS_OptInService.OptInRequired`.
    OptInRequired: u32 {
        /// 0.
        None = 0 => "No user consent needed",
        /// 1.
        KvmOnly = 1 => "User consent needed for KVM only",
        /// 4294967295.
        All = 4294967295 => "User consent needed for all redirection and boot actions",
    }
}

num_enum! {
    /// `IPS_OptInService.OptInState`.
    OptInState: u32 {
        /// 0.
        NotStarted = 0 => "Not started",
        /// 1.
        Requested = 1 => "Requested",
        /// 2.
        Displayed = 2 => "Code displayed on the device",
        /// 3.
        Received = 3 => "Consent received",
        /// 4.
        InSession = 4 => "In session",
    }
}
scalar_enum!(OptInRequired, OptInState);

props_struct! {
    /// `IPS_OptInService` (user consent).
    pub struct OptInService {
        /// Whether the policy can be changed.
        can_modify_opt_in_policy: Option<u32> = "CanModifyOptInPolicy",
        /// Key.
        creation_class_name: Option<String> = "CreationClassName",
        /// Element name.
        element_name: Option<String> = "ElementName",
        /// Key.
        name: Option<String> = "Name",
        /// Seconds the code is valid.
        opt_in_code_timeout: Option<u32> = "OptInCodeTimeout",
        /// Seconds the code is displayed.
        opt_in_display_timeout: Option<u32> = "OptInDisplayTimeout",
        /// Policy.
        opt_in_required: Option<OptInRequired> = "OptInRequired",
        /// Current state.
        opt_in_state: Option<OptInState> = "OptInState",
        /// Key.
        system_creation_class_name: Option<String> = "SystemCreationClassName",
        /// Key.
        system_name: Option<String> = "SystemName",
    }
}
model!(OptInService, "IPS_OptInService");

/// `IPS_OptInService.StartOptIn` (shows a code on the device's screen).
pub fn start_opt_in() -> Request {
    Request::invoke("IPS_OptInService", "StartOptIn", Properties::new())
}

/// `IPS_OptInService.SendOptInCode`.
pub fn send_opt_in_code(code: u32) -> Request {
    Request::invoke(
        "IPS_OptInService",
        "SendOptInCode",
        Properties::new().text("OptInCode", code),
    )
}

/// `IPS_OptInService.CancelOptIn`.
pub fn cancel_opt_in() -> Request {
    Request::invoke("IPS_OptInService", "CancelOptIn", Properties::new())
}
