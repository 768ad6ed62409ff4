//! Log methods: `AMT_MessageLog` PositionToFirstRecord/GetRecords (event log, §2.4) and
//! `AMT_AuditLog` ReadRecords (§2.5). Records are decoded by [`crate::records`].

use crate::props_struct;
use crate::wsman::{Properties, Request};

props_struct! {
    /// Output of `AMT_MessageLog.PositionToFirstRecord`.
    pub struct PositionToFirstRecordOutput {
        /// Iterator for GetRecords.
        iteration_identifier: Option<u32> = "IterationIdentifier",
        /// PT_STATUS.
        return_value: Option<u32> = "ReturnValue",
    }
}

props_struct! {
    /// Output of `AMT_MessageLog.GetRecords`.
    pub struct GetRecordsOutput {
        /// Iterator for the next call.
        iteration_identifier: Option<u32> = "IterationIdentifier",
        /// True when the log is exhausted.
        no_more_records: Option<bool> = "NoMoreRecords",
        /// Base64 21-byte records.
        record_array: Vec<String> = "RecordArray",
        /// PT_STATUS.
        return_value: Option<u32> = "ReturnValue",
    }
}

/// `AMT_MessageLog.PositionToFirstRecord`.
pub fn position_to_first_record() -> Request {
    Request::invoke("AMT_MessageLog", "PositionToFirstRecord", Properties::new())
}

/// `AMT_MessageLog.GetRecords` (MC uses 390 records per call).
pub fn get_records(iteration_identifier: u32, max_read_records: u32) -> Request {
    Request::invoke(
        "AMT_MessageLog",
        "GetRecords",
        Properties::new()
            .text("IterationIdentifier", iteration_identifier)
            .text("MaxReadRecords", max_read_records),
    )
}

props_struct! {
    /// Output of `AMT_AuditLog.ReadRecords`.
    pub struct ReadRecordsOutput {
        /// Records in the log.
        total_record_count: Option<u32> = "TotalRecordCount",
        /// Records in this answer (≤ 10).
        records_returned: Option<u32> = "RecordsReturned",
        /// Base64 records.
        event_records: Vec<String> = "EventRecords",
        /// PT_STATUS.
        return_value: Option<u32> = "ReturnValue",
    }
}

/// `AMT_AuditLog.ReadRecords` from a 1-based index.
pub fn read_records(start_index: u32) -> Request {
    Request::invoke(
        "AMT_AuditLog",
        "ReadRecords",
        Properties::new().text("StartIndex", start_index),
    )
}
