//! `AMT_TimeSynchronizationService`: read the AMT clock and set it (§2.7).

use crate::models::model;
use crate::props_struct;
use crate::wsman::{Properties, Request};

props_struct! {
    /// `AMT_TimeSynchronizationService`.
    pub struct TimeSynchronizationService {
        /// Key.
        creation_class_name: Option<String> = "CreationClassName",
        /// Element name.
        element_name: Option<String> = "ElementName",
        /// Enabled state.
        enabled_state: Option<u32> = "EnabledState",
        /// 0 default-true, 1 configured-true, 2 false.
        local_time_sync_enabled: Option<u32> = "LocalTimeSyncEnabled",
        /// Key.
        name: Option<String> = "Name",
        /// Requested state.
        requested_state: Option<u32> = "RequestedState",
        /// Key.
        system_creation_class_name: Option<String> = "SystemCreationClassName",
        /// Key.
        system_name: Option<String> = "SystemName",
        /// Time source.
        time_source: Option<u32> = "TimeSource",
    }
}
model!(TimeSynchronizationService, "AMT_TimeSynchronizationService");

props_struct! {
    /// Output of `GetLowAccuracyTimeSynch`.
    pub struct GetLowAccuracyTimeSynchOutput {
        /// AMT time, seconds since 1970 UTC.
        ta0: Option<u32> = "Ta0",
        /// PT_STATUS.
        return_value: Option<u32> = "ReturnValue",
    }
}

/// `GetLowAccuracyTimeSynch()`.
pub fn get_low_accuracy_time_synch() -> Request {
    Request::invoke(
        "AMT_TimeSynchronizationService",
        "GetLowAccuracyTimeSynch",
        Properties::new(),
    )
}

/// `SetHighAccuracyTimeSynch(Ta0, Tm1, Tm2)` (seconds since 1970 UTC).
pub fn set_high_accuracy_time_synch(ta0: u32, tm1: u32, tm2: u32) -> Request {
    Request::invoke(
        "AMT_TimeSynchronizationService",
        "SetHighAccuracyTimeSynch",
        Properties::new().text("Ta0", ta0).text("Tm1", tm1).text("Tm2", tm2),
    )
}
