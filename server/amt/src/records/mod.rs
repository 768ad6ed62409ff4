//! Binary log records: the 21-byte platform event records of `AMT_MessageLog`
//! ([`eventlog`]) and the variable-length records of `AMT_AuditLog` ([`auditlog`]).

pub mod auditlog;
pub mod eventlog;
