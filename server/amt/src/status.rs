//! Method return codes: AMT PT_STATUS (§1.7) and CIM method codes, with plain-English
//! `Display`. Unknown codes are kept with their number and still display it.

use std::fmt;

macro_rules! code_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = $val:expr => $text:expr,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vm])* $var,)*
            /// A code not in the table.
            Unknown(u32),
        }
        impl $name {
            /// The enum value for a numeric code.
            pub fn from_code(code: u32) -> Self {
                match code { $($val => $name::$var,)* other => $name::Unknown(other) }
            }
            /// The numeric code.
            pub fn code(self) -> u32 {
                match self { $($name::$var => $val,)* $name::Unknown(c) => c }
            }
            /// Plain-English description.
            pub fn description(self) -> &'static str {
                match self { $($name::$var => $text,)* $name::Unknown(_) => "an unknown error" }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{} (code {})", self.description(), self.code())
            }
        }
        impl std::error::Error for $name {}
        impl From<u32> for $name {
            fn from(c: u32) -> Self { Self::from_code(c) }
        }
    };
}

code_enum! {
    /// AMT PT_STATUS return codes of AMT_/IPS_ methods.
    PtStatus {
        /// 0.
        Success = 0 => "success",
        /// 1.
        InternalError = 1 => "the device had an internal error",
        /// 2.
        NotReady = 2 => "the device is not ready yet; try again shortly",
        /// 3.
        InvalidPtMode = 3 => "the device is in the wrong mode for this action",
        /// 4.
        InvalidMessageLength = 4 => "the request message has an invalid length",
        /// 12.
        InvalidName = 12 => "the name is invalid",
        /// 16.
        NotPermitted = 16 => "the action is not permitted",
        /// 23.
        MaxLimitReached = 23 => "a limit was reached (the table is full)",
        /// 24.
        InvalidAuthType = 24 => "the authentication type is invalid",
        /// 25.
        AuthenticationFailed = 25 => "authentication failed",
        /// 32.
        InvalidProvisioningState = 32 => "the device is not in the right provisioning state for this action",
        /// 34.
        InvalidTime = 34 => "the time given is invalid",
        /// 35.
        InvalidIndex = 35 => "the index or handle is out of range",
        /// 36.
        InvalidParameter = 36 => "a parameter is invalid",
        /// 38.
        FlashWriteLimitExceeded = 38 => "the device's flash write limit was exceeded; wait and retry",
        /// 1024.
        DisabledByPolicy = 1024 => "the action is disabled by policy on the device",
        /// 2050.
        UnsupportedBootOption = 2050 => "the device does not support this boot option",
        /// 2053.
        InvalidHandle = 2053 => "no entry has this handle",
        /// 2054.
        InvalidPassword = 2054 => "the password does not meet the device's rules",
        /// 2055.
        InvalidRealm = 2055 => "one of the realms is not valid",
        /// 2056.
        StorageAclEntryInUse = 2056 => "the ACL entry is in use by storage",
        /// 2057.
        DataMissing = 2057 => "required data is missing",
        /// 2058.
        Duplicate = 2058 => "an entry with the same name or SID already exists",
        /// 2059.
        EventlogFrozen = 2059 => "the event log is frozen",
        /// 2065.
        MaxKerbDomainReached = 2065 => "the maximum number of Kerberos domains was reached",
        /// 2066.
        Unsupported = 2066 => "the device does not support this",
        /// 2068.
        NotFound = 2068 => "not found",
        /// 2075.
        AuditFail = 2075 => "the action could not be recorded in the audit log, so it was refused",
        /// 2076.
        BlockingComponent = 2076 => "a component is blocking the action",
        /// 2081.
        UserConsentRequired = 2081 => "the device requires user consent (a code shown on its screen) before this action",
    }
}

code_enum! {
    /// CIM method return codes (CIM_PowerManagementService, CIM_BootService, …).
    CimStatus {
        /// 0.
        Completed = 0 => "completed",
        /// 1.
        NotSupported = 1 => "not supported by the device",
        /// 2.
        UnknownError = 2 => "the device reported an unknown error",
        /// 3.
        Timeout = 3 => "the device timed out",
        /// 4.
        Failed = 4 => "the device reported failure",
        /// 5.
        InvalidParameter = 5 => "a parameter is invalid",
        /// 6.
        InUse = 6 => "the resource is in use",
        /// 4096.
        JobStarted = 4096 => "the job started",
        /// 4097.
        InvalidStateTransition = 4097 => "the device cannot go to that state from its current state",
        /// 4098.
        TimeoutParameterNotSupported = 4098 => "the timeout parameter is not supported",
        /// 4099.
        Busy = 4099 => "the device is busy",
    }
}

/// Which table a method's return code belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReturnCode {
    /// An AMT_/IPS_ method (PT_STATUS).
    Pt(PtStatus),
    /// A CIM_ method.
    Cim(CimStatus),
}

impl ReturnCode {
    /// Classifies `code` by the class of the method: `CIM_*` methods use CIM codes.
    pub fn for_class(class: &str, code: u32) -> Self {
        if class.starts_with("CIM_") {
            ReturnCode::Cim(CimStatus::from_code(code))
        } else {
            ReturnCode::Pt(PtStatus::from_code(code))
        }
    }

    /// The numeric code.
    pub fn code(self) -> u32 {
        match self {
            ReturnCode::Pt(p) => p.code(),
            ReturnCode::Cim(c) => c.code(),
        }
    }

    /// True for 0.
    pub fn is_success(self) -> bool {
        self.code() == 0
    }
}

impl fmt::Display for ReturnCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReturnCode::Pt(p) => p.fmt(f),
            ReturnCode::Cim(c) => c.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words() {
        assert_eq!(
            PtStatus::from_code(2081).to_string(),
            "the device requires user consent (a code shown on its screen) before this action (code 2081)"
        );
        assert_eq!(PtStatus::from_code(0x80A), PtStatus::Duplicate);
        assert_eq!(PtStatus::from_code(9999).to_string(), "an unknown error (code 9999)");
        assert_eq!(CimStatus::from_code(4097).code(), 4097);
        assert!(matches!(
            ReturnCode::for_class("CIM_BootService", 2),
            ReturnCode::Cim(CimStatus::UnknownError)
        ));
    }
}
