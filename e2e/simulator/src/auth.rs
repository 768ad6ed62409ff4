//! Authentication and authorization as AMT does them (reference §1.1, §3).
//!
//! * The admin account authenticates by Digest only.
//! * ACL Digest users authenticate by Digest with their HA1; entries that are disabled or
//!   local-only (AccessPermission 0) are refused over the network.
//! * Kerberos users send `Authorization: Negotiate <base64>`; the ticket is checked by a
//!   [`TicketVerifier`] ([`KeytabVerifier`], the real GSSAPI acceptor; tests may use a stand-in), then by the device:
//!   generation size limit, clock tolerance, target SPN `HTTP/<fqdn>:<port>`, and the PAC
//!   SIDs against the ACL's Kerberos entries. Rights are the union of the realms of every
//!   matching entry ("least restrictive", DEPLOY; not confirmed by Intel).
//!
//! Nothing here logs tokens, passwords or Digest responses.

use std::sync::Arc;

use crate::state::Initiator;
use crate::state::{DeviceState, realm};
use amt::digest::{Credentials, NonceCheck, NonceIssuer};

/// Seconds a Digest nonce stays valid.
pub const NONCE_LIFETIME_SECS: u64 = 300;

/// Who is calling, with their realms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Identity.
    pub who: Who,
    /// Realm bitmask (bit n = realm n).
    pub realms: u32,
}

/// The identity part of a principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// The admin account.
    Admin(String),
    /// An ACL Digest user.
    Digest(String),
    /// A Kerberos user: the SID that matched (the user's own when it is in the ACL) and
    /// the client principal name.
    Kerberos {
        /// User SID from the PAC.
        sid: String,
        /// `user@REALM`.
        client: String,
    },
}

/// Realms as a bitmask.
pub fn realm_mask(realms: &[u8]) -> u32 {
    realms.iter().filter(|r| **r < 32).fold(0, |m, r| m | (1u32 << r))
}

impl Principal {
    /// True when the principal holds `r` (PT Administration implies every realm).
    pub fn has_realm(&self, r: u8) -> bool {
        let admin = 1u32 << realm::PT_ADMINISTRATION;
        self.realms & admin != 0 || (r < 32 && self.realms & (1u32 << r) != 0)
    }

    /// The audit log initiator for this principal.
    pub fn initiator(&self) -> Initiator {
        match &self.who {
            Who::Admin(u) | Who::Digest(u) => Initiator::Digest { user: u.clone() },
            Who::Kerberos { sid, .. } => Initiator::Kerberos {
                sid: sid.clone(),
                user_in_domain: 0,
            },
        }
    }

    /// A short name for logs.
    pub fn name(&self) -> String {
        match &self.who {
            Who::Admin(u) | Who::Digest(u) => u.clone(),
            Who::Kerberos { client, .. } => client.clone(),
        }
    }
}

/// What a Kerberos acceptor found in a ticket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifiedTicket {
    /// `user@REALM`.
    pub client: String,
    /// Target service, e.g. `HTTP/amt1.example.test:16992@EXAMPLE.TEST`.
    pub target: Option<String>,
    /// PAC user SID.
    pub user_sid: Option<String>,
    /// PAC group SIDs.
    pub group_sids: Vec<String>,
    /// GSS response token for mutual authentication.
    pub response_token: Option<Vec<u8>>,
}

/// Verifies Negotiate tokens (blocking; called through `spawn_blocking`).
pub trait TicketVerifier: Send + Sync + 'static {
    /// Accepts a token (SPNEGO or raw krb5); `Err` carries a plain reason.
    fn verify(&self, token: &[u8]) -> Result<VerifiedTicket, String>;
}

/// The real verifier: the project's GSSAPI acceptor (`kerberos::Acceptor`) over a keytab.
pub struct KeytabVerifier(pub kerberos::Acceptor);

impl KeytabVerifier {
    /// Loads the keytab with MIT's default replay cache.
    pub fn from_keytab(path: &std::path::Path) -> Result<Self, kerberos::Error> {
        Self::from_keytab_with_rcache(path, None)
    }

    /// Loads the keytab with the replay cache `rcache` (e.g. `file2:/tmp/sim.rcache2`).
    pub fn from_keytab_with_rcache(path: &std::path::Path, rcache: Option<&str>) -> Result<Self, kerberos::Error> {
        kerberos::Acceptor::from_keytab_with_rcache(path, rcache).map(KeytabVerifier)
    }
}

impl TicketVerifier for KeytabVerifier {
    fn verify(&self, token: &[u8]) -> Result<VerifiedTicket, String> {
        let a = self.0.accept(token).map_err(|e| format!("{e} [{}]", e.code()))?;
        // `target` is the ticket's own sname (kerberos::token), not the keytab entry MIT picked:
        // every SPN of one AD account (HTTP/amt1:16992 … :16995) shares that key.
        let target = a.target;
        let (user_sid, group_sids) = match a.pac {
            Some(p) => (Some(p.user_sid), p.group_sids),
            None => (None, Vec::new()),
        };
        Ok(VerifiedTicket {
            client: a.client,
            target,
            user_sid,
            group_sids,
            response_token: a.response_token,
        })
    }
}

/// Why authentication failed (all answered with the same 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No usable Authorization header.
    #[error("no credentials")]
    Missing,
    /// Digest nonce expired: challenge with stale=true.
    #[error("stale nonce")]
    Stale,
    /// Wrong user, password, realm or nonce.
    #[error("digest credentials rejected")]
    BadDigest,
    /// Kerberos refused, with the reason.
    #[error("kerberos refused: {0}")]
    Kerberos(String),
}

/// Checks an `Authorization: Digest` header value (after `Digest `).
pub fn check_digest(st: &DeviceState, nonces: &NonceIssuer, params: &str, now: u64) -> Result<Principal, AuthError> {
    let creds = Credentials::parse(params).ok_or(AuthError::BadDigest)?;
    if creds.realm != st.digest_realm {
        return Err(AuthError::BadDigest);
    }
    let (ha1, principal) = if creds.username == st.admin_user {
        (
            st.admin_ha1.as_str(),
            Principal {
                who: Who::Admin(creds.username.clone()),
                realms: u32::MAX,
            },
        )
    } else {
        let entry = st
            .acl
            .iter()
            .find(|e| e.username.as_deref() == Some(creds.username.as_str()))
            .filter(|e| e.network_allowed())
            .ok_or(AuthError::BadDigest)?;
        (
            entry.ha1.as_deref().unwrap_or_default(),
            Principal {
                who: Who::Digest(creds.username.clone()),
                realms: realm_mask(&entry.realms),
            },
        )
    };
    if !creds.verify(ha1, "POST") {
        return Err(AuthError::BadDigest);
    }
    match nonces.check(&creds.nonce, now, NONCE_LIFETIME_SECS) {
        NonceCheck::Valid => Ok(principal),
        NonceCheck::Stale => Err(AuthError::Stale),
        NonceCheck::Invalid => Err(AuthError::BadDigest),
    }
}

/// Device-side checks that come before the ticket is decrypted.
pub fn precheck_negotiate(st: &DeviceState, token_b64: &str) -> Result<(), AuthError> {
    if !st.kerberos.enabled {
        return Err(AuthError::Kerberos("Kerberos is not enabled on this device".into()));
    }
    if let Some(limit) = st.max_ticket_b64()
        && token_b64.len() > limit
    {
        return Err(AuthError::Kerberos(format!(
            "ticket of {} bytes (base64) exceeds the {limit}-byte limit of AMT {}",
            token_b64.len(),
            st.amt_version
        )));
    }
    let tolerance = st.kerberos.max_clock_tolerance as i64 * 60;
    if st.clock_offset_secs.abs() > tolerance {
        return Err(AuthError::Kerberos(format!(
            "device clock is {} s off, beyond MaximumClockTolerance of {} min",
            st.clock_offset_secs, st.kerberos.max_clock_tolerance
        )));
    }
    Ok(())
}

/// Device-side checks of an accepted ticket: target SPN and ACL match.
pub fn authorize_ticket(st: &DeviceState, port: u16, t: &VerifiedTicket) -> Result<Principal, AuthError> {
    let spn = format!("HTTP/{}:{port}", st.fqdn);
    let target = t.target.as_deref().unwrap_or_default();
    let target_service = target.split('@').next().unwrap_or_default();
    if !target_service.eq_ignore_ascii_case(&spn) {
        return Err(AuthError::Kerberos(format!(
            "ticket is for {target_service:?}, this device is {spn}"
        )));
    }
    let user_sid = t
        .user_sid
        .clone()
        .ok_or_else(|| AuthError::Kerberos("ticket has no PAC".into()))?;
    let sids: Vec<&str> = std::iter::once(user_sid.as_str())
        .chain(t.group_sids.iter().map(String::as_str))
        .collect();
    let mut realms = 0u32;
    let mut matched = false;
    for e in st.acl.iter().filter(|e| e.network_allowed()) {
        if let Some(sid) = &e.sid
            && sids.iter().any(|s| s.eq_ignore_ascii_case(sid))
        {
            matched = true;
            realms |= realm_mask(&e.realms);
        }
    }
    if !matched {
        return Err(AuthError::Kerberos(format!(
            "no ACL entry for {} or its groups",
            t.client
        )));
    }
    Ok(Principal {
        who: Who::Kerberos {
            sid: user_sid,
            client: t.client.clone(),
        },
        realms,
    })
}

/// A shared verifier.
pub type SharedVerifier = Arc<dyn TicketVerifier>;

/// The `WWW-Authenticate` value for a Digest challenge.
pub fn digest_challenge(st: &DeviceState, nonces: &NonceIssuer, now: u64, stale: bool) -> String {
    nonces.challenge(&st.digest_realm, now, stale).to_header()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{AclSeed, DeviceSeed};

    fn st() -> DeviceState {
        DeviceState::from_seed(
            1,
            &DeviceSeed {
                krb_enabled: Some(true),
                acl: Some(vec![
                    AclSeed {
                        sid: Some("S-1-5-21-1-2-3-1104".into()),
                        realms: vec![13],
                        ..AclSeed::default()
                    },
                    AclSeed {
                        sid: Some("S-1-5-21-1-2-3-513".into()),
                        realms: vec![5],
                        ..AclSeed::default()
                    },
                ]),
                ..DeviceSeed::default()
            },
        )
    }

    fn ticket(target: &str, groups: &[&str]) -> VerifiedTicket {
        VerifiedTicket {
            client: "alice@EXAMPLE.TEST".into(),
            target: Some(target.into()),
            user_sid: Some("S-1-5-21-1-2-3-1104".into()),
            group_sids: groups.iter().map(|s| s.to_string()).collect(),
            response_token: None,
        }
    }

    #[test]
    fn realms_are_the_union_of_matching_entries() {
        let s = st();
        let p = authorize_ticket(
            &s,
            16992,
            &ticket("HTTP/amt1.example.test:16992@EXAMPLE.TEST", &["S-1-5-21-1-2-3-513"]),
        )
        .unwrap();
        assert!(p.has_realm(13) && p.has_realm(5) && !p.has_realm(4));
        let p = authorize_ticket(&s, 16992, &ticket("HTTP/amt1.example.test:16992", &[])).unwrap();
        assert!(!p.has_realm(5));
    }

    #[test]
    fn wrong_spn_and_clock_are_refused() {
        let mut s = st();
        assert!(authorize_ticket(&s, 16992, &ticket("HTTP/amt2.example.test:16992", &[])).is_err());
        assert!(authorize_ticket(&s, 16993, &ticket("HTTP/amt1.example.test:16992", &[])).is_err());
        s.clock_offset_secs = 301;
        assert!(precheck_negotiate(&s, "abc").is_err());
        s.clock_offset_secs = -300;
        assert!(precheck_negotiate(&s, "abc").is_ok());
    }

    #[test]
    fn old_generation_ticket_limit() {
        let mut s = st();
        s.amt_version = "5.2.10".into();
        assert!(precheck_negotiate(&s, &"A".repeat(4096)).is_ok());
        assert!(precheck_negotiate(&s, &"A".repeat(4097)).is_err());
        s.amt_version = "12.0.67".into();
        assert!(precheck_negotiate(&s, &"A".repeat(9000)).is_ok());
    }
}
