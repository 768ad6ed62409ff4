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
        // MIT names the keytab entry whose key decrypted the ticket; every SPN of one AD
        // account (HTTP/amt1:16992 … :16995) shares that key, so the first entry wins. The
        // service the client asked for is the ticket's own sname.
        let target = ticket_service(token).or(a.target);
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

/// One DER element at `pos`: (tag, content start, content end).
fn der(b: &[u8], pos: usize) -> Option<(u8, usize, usize)> {
    let tag = *b.get(pos)?;
    let first = *b.get(pos + 1)?;
    let mut i = pos + 2;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut l = 0usize;
        for _ in 0..n {
            l = (l << 8) | usize::from(*b.get(i)?);
            i += 1;
        }
        l
    };
    let end = i.checked_add(len).filter(|e| *e <= b.len())?;
    Some((tag, i, end))
}

/// The child with `tag` among the elements in `b[start..end]`.
fn der_child(b: &[u8], start: usize, end: usize, tag: u8) -> Option<(usize, usize)> {
    let mut pos = start;
    while pos < end {
        let (t, cs, ce) = der(b, pos)?;
        if t == tag {
            return Some((cs, ce));
        }
        pos = ce;
    }
    None
}

const KRB5_OID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];
const SPNEGO_OID: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];

/// The service principal (`HTTP/host:port@REALM`) a Kerberos GSS token's ticket was issued
/// for, read from the ticket's clear-text `sname` and `realm` (RFC 4121 §4.1 token framing,
/// RFC 4120 AP-REQ; SPNEGO NegTokenInit is unwrapped).
pub fn ticket_service(token: &[u8]) -> Option<String> {
    let (t, cs, _) = der(token, 0)?;
    if t != 0x60 {
        return None;
    }
    let (t, ocs, oce) = der(token, cs)?;
    if t != 0x06 {
        return None;
    }
    match &token[ocs..oce] {
        oid if oid == SPNEGO_OID => {
            // NegTokenInit [0] SEQUENCE { …, mechToken [2] OCTET STRING }
            let (t, ics, _) = der(token, oce)?;
            let (t2, scs, sce) = der(token, ics)?;
            if t != 0xa0 || t2 != 0x30 {
                return None;
            }
            let (mcs, mce) = der_child(token, scs, sce, 0xa2)?;
            let (t, os, oe) = der(token, mcs)?;
            if t != 0x04 || oe > mce {
                return None;
            }
            ticket_service(&token[os..oe])
        }
        oid if oid == KRB5_OID => {
            // TOK_ID 01 00, then AP-REQ [APPLICATION 14] SEQUENCE { …, ticket [3] Ticket }
            if token.get(oce..oce + 2)? != [0x01, 0x00] {
                return None;
            }
            let (t, acs, _) = der(token, oce + 2)?;
            let (t2, scs, sce) = der(token, acs)?;
            if t != 0x6e || t2 != 0x30 {
                return None;
            }
            let (tcs, _) = der_child(token, scs, sce, 0xa3)?;
            // Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0], realm [1], sname [2], … }
            let (t, kcs, _) = der(token, tcs)?;
            let (t2, qcs, qce) = der(token, kcs)?;
            if t != 0x61 || t2 != 0x30 {
                return None;
            }
            let (rcs, _) = der_child(token, qcs, qce, 0xa1)?;
            let (_, realm_s, realm_e) = der(token, rcs)?;
            let (ncs, _) = der_child(token, qcs, qce, 0xa2)?;
            let (_, pcs, pce) = der(token, ncs)?;
            let (scs, _) = der_child(token, pcs, pce, 0xa1)?;
            let (_, lcs, lce) = der(token, scs)?;
            let mut parts = Vec::new();
            let mut pos = lcs;
            while pos < lce {
                let (_, s, e) = der(token, pos)?;
                parts.push(std::str::from_utf8(&token[s..e]).ok()?);
                pos = e;
            }
            let realm = std::str::from_utf8(&token[realm_s..realm_e]).ok()?;
            (!parts.is_empty()).then(|| format!("{}@{realm}", parts.join("/")))
        }
        _ => None,
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

    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        if content.len() < 0x80 {
            v.push(content.len() as u8);
        } else {
            v.extend([0x82, (content.len() >> 8) as u8, content.len() as u8]);
        }
        v.extend_from_slice(content);
        v
    }

    fn krb5_token(sname: &[&str], realm: &str) -> Vec<u8> {
        let names: Vec<u8> = sname.iter().flat_map(|n| tlv(0x1b, n.as_bytes())).collect();
        let principal = tlv(
            0x30,
            &[tlv(0xa0, &tlv(0x02, &[2])), tlv(0xa1, &tlv(0x30, &names))].concat(),
        );
        let ticket = tlv(
            0x61,
            &tlv(
                0x30,
                &[
                    tlv(0xa0, &tlv(0x02, &[5])),
                    tlv(0xa1, &tlv(0x1b, realm.as_bytes())),
                    tlv(0xa2, &principal),
                    tlv(0xa3, &tlv(0x30, &[0u8; 200])),
                ]
                .concat(),
            ),
        );
        let ap_req = tlv(
            0x6e,
            &tlv(
                0x30,
                &[
                    tlv(0xa0, &tlv(0x02, &[5])),
                    tlv(0xa1, &tlv(0x02, &[14])),
                    tlv(0xa3, &ticket),
                ]
                .concat(),
            ),
        );
        tlv(0x60, &[tlv(0x06, KRB5_OID), vec![1, 0], ap_req].concat())
    }

    #[test]
    fn ticket_service_is_read_from_the_clear_text_sname() {
        let raw = krb5_token(&["HTTP", "amt8.example.test:16993"], "EXAMPLE.TEST");
        assert_eq!(
            ticket_service(&raw).as_deref(),
            Some("HTTP/amt8.example.test:16993@EXAMPLE.TEST")
        );
        let spnego = tlv(
            0x60,
            &[
                tlv(0x06, SPNEGO_OID),
                tlv(0xa0, &tlv(0x30, &tlv(0xa2, &tlv(0x04, &raw)))),
            ]
            .concat(),
        );
        assert_eq!(ticket_service(&spnego), ticket_service(&raw));
        assert_eq!(ticket_service(&raw[..raw.len() - 10]), None);
        assert_eq!(ticket_service(b"NTLMSSP\0"), None);
        assert_eq!(ticket_service(&[]), None);
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
