//! ACL management on `AMT_AuthorizationService` (§2.9): enumerate, get, add, update and remove
//! user entries. A user is either Digest (name + base64 raw MD5 of `user:realm:password`) or
//! Kerberos (base64 binary SID). Realms are repeated `<h:Realms>` elements.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use md5::{Digest as _, Md5};

use crate::props_struct;
use crate::realm::{AccessPermission, Realm};
use crate::sid::Sid;
use crate::wsman::{Properties, Request};

/// Class of the service.
pub const AUTHORIZATION_SERVICE: &str = "AMT_AuthorizationService";

/// Who an ACL entry is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AclUser {
    /// A Digest user; `password` is only known when adding/updating.
    Digest {
        /// User name (≤ 16 ASCII characters).
        username: String,
        /// Plain password (not returned by the device).
        password: Option<String>,
    },
    /// A Kerberos user or group SID.
    Kerberos(Sid),
}

/// An ACL entry: user, access permission, realms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclEntry {
    /// The user.
    pub user: AclUser,
    /// Where the entry may be used from.
    pub access: AccessPermission,
    /// Granted realms.
    pub realms: Vec<Realm>,
}

/// `DigestPassword` value: base64 of the raw 16-byte MD5 of `user:realm:password`.
pub fn digest_password(username: &str, digest_realm: &str, password: &str) -> String {
    let mut h = Md5::new();
    h.update(format!("{username}:{digest_realm}:{password}").as_bytes());
    B64.encode(h.finalize())
}

impl AclEntry {
    /// Input properties for Add/UpdateUserAclEntryEx; `digest_realm` hashes the password.
    pub fn to_input(&self, digest_realm: &str) -> Properties {
        let mut p = Properties::new();
        match &self.user {
            AclUser::Digest { username, password } => {
                p = p.text("DigestUsername", username);
                if let Some(pw) = password {
                    p = p.text("DigestPassword", digest_password(username, digest_realm, pw));
                }
            }
            AclUser::Kerberos(sid) => p = p.text("KerberosUserSid", sid.to_base64()),
        }
        p.text("AccessPermission", self.access.value())
            .list("Realms", self.realms.iter().map(|r| r.value()))
    }
}

/// `AddUserAclEntryEx` (output [`AddUserAclEntryExOutput`]).
pub fn add_user_acl_entry_ex(entry: &AclEntry, digest_realm: &str) -> Request {
    Request::invoke(AUTHORIZATION_SERVICE, "AddUserAclEntryEx", entry.to_input(digest_realm))
}

/// `UpdateUserAclEntryEx` (output [`crate::models::ReturnOnly`]).
pub fn update_user_acl_entry_ex(handle: u32, entry: &AclEntry, digest_realm: &str) -> Request {
    let mut p = Properties::new().text("Handle", handle);
    p.0.extend(entry.to_input(digest_realm).0);
    Request::invoke(AUTHORIZATION_SERVICE, "UpdateUserAclEntryEx", p)
}

/// `RemoveUserAclEntry` (output [`crate::models::ReturnOnly`]).
pub fn remove_user_acl_entry(handle: u32) -> Request {
    Request::invoke(
        AUTHORIZATION_SERVICE,
        "RemoveUserAclEntry",
        Properties::new().text("Handle", handle),
    )
}

/// `EnumerateUserAclEntries` from a 1-based index.
pub fn enumerate_user_acl_entries(start_index: u32) -> Request {
    Request::invoke(
        AUTHORIZATION_SERVICE,
        "EnumerateUserAclEntries",
        Properties::new().text("StartIndex", start_index),
    )
}

/// `GetUserAclEntryEx`.
pub fn get_user_acl_entry_ex(handle: u32) -> Request {
    Request::invoke(
        AUTHORIZATION_SERVICE,
        "GetUserAclEntryEx",
        Properties::new().text("Handle", handle),
    )
}

props_struct! {
    /// Output of `EnumerateUserAclEntries`.
    pub struct EnumerateUserAclEntriesOutput {
        /// All entries.
        total_count: Option<u32> = "TotalCount",
        /// Handles in this answer.
        handles_count: Option<u32> = "HandlesCount",
        /// Handles.
        handles: Vec<u32> = "Handles",
        /// PT_STATUS.
        return_value: Option<u32> = "ReturnValue",
    }
}

props_struct! {
    /// Output of `AddUserAclEntryEx`.
    pub struct AddUserAclEntryExOutput {
        /// The new entry's handle.
        handle: Option<u32> = "Handle",
        /// PT_STATUS.
        return_value: Option<u32> = "ReturnValue",
    }
}

props_struct! {
    /// Output of `GetUserAclEntryEx` (and, device side, the input of Add/Update).
    pub struct UserAclEntryExOutput {
        /// Handle (inputs of Update only).
        handle: Option<u32> = "Handle",
        /// Digest user name.
        digest_username: Option<String> = "DigestUsername",
        /// Digest password hash (inputs only).
        digest_password: Option<String> = "DigestPassword",
        /// Base64 SID.
        kerberos_user_sid: Option<String> = "KerberosUserSid",
        /// Access permission.
        access_permission: Option<AccessPermission> = "AccessPermission",
        /// Realms.
        realms: Vec<Realm> = "Realms",
        /// PT_STATUS (outputs only).
        return_value: Option<u32> = "ReturnValue",
    }
}

impl UserAclEntryExOutput {
    /// The entry as a typed value (`None` when neither a user name nor a valid SID is set).
    pub fn entry(&self) -> Option<AclEntry> {
        let user = if let Some(sid) = &self.kerberos_user_sid {
            AclUser::Kerberos(Sid::from_base64(sid).ok()?)
        } else {
            AclUser::Digest {
                username: self.digest_username.clone()?,
                password: None,
            }
        };
        Some(AclEntry {
            user,
            access: self.access_permission.unwrap_or(AccessPermission::NetworkOnly),
            realms: self.realms.clone(),
        })
    }
}
