//! MS-PAC `KERB_VALIDATION_INFO` (the PAC's logon-info buffer) decoded from its NDR encoding.
//!
//! MIT exposes the buffer as the name attribute `urn:mspac:logon-info` after it has checked the
//! PAC's server signature. We read only what authorization needs: the account and domain names,
//! the user SID and every group SID (domain groups, extra SIDs, resource groups), so that the
//! portal and the simulator can authorize by SID exactly as AMT firmware does. The layout follows
//! [MS-PAC] 2.5 and the NDR rules of [C706] 14: a type-serialization header, then the structure
//! with its pointers, then the deferred pointees in declaration order. Any inconsistency is an
//! error, never a panic.

use std::fmt;

/// A Windows security identifier in its string form, `S-1-5-21-…`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct SidString(pub String);

impl fmt::Display for SidString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The identity facts of a PAC that authorization needs.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Pac {
    /// sAMAccountName of the user (`EffectiveName`).
    pub account_name: String,
    /// Display name of the user, if AD has one.
    pub full_name: String,
    /// NetBIOS domain name (`LogonDomainName`).
    pub domain: String,
    /// The user's SID: domain SID + RID.
    pub user_sid: String,
    /// The primary group's SID.
    pub primary_group_sid: String,
    /// Every group SID in the ticket, in PAC order, without duplicates.
    pub group_sids: Vec<String>,
}

/// Why a logon-info buffer could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PacError {
    /// The buffer ended before a field it announced.
    #[error("PAC logon info is truncated at byte {0}")]
    Truncated(usize),
    /// The NDR serialization header is not the one MS-PAC prescribes.
    #[error("PAC logon info has an unexpected NDR header")]
    BadHeader,
    /// A count or length is not consistent with the rest of the buffer.
    #[error("PAC logon info is inconsistent: {0}")]
    Inconsistent(&'static str),
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], PacError> {
        let end = self.pos.checked_add(n).ok_or(PacError::Truncated(self.pos))?;
        let s = self.buf.get(self.pos..end).ok_or(PacError::Truncated(self.pos))?;
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, PacError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, PacError> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, PacError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn align(&mut self, n: usize) -> Result<(), PacError> {
        let pad = (n - (self.pos % n)) % n;
        self.take(pad).map(|_| ())
    }
    /// RPC_UNICODE_STRING inline part: Length, MaximumLength, pointer.
    fn unicode_header(&mut self) -> Result<(u16, u32), PacError> {
        let len = self.u16()?;
        let _max = self.u16()?;
        let ptr = self.u32()?;
        Ok((len, ptr))
    }
    /// Deferred conformant varying array of UTF-16 code units.
    fn unicode_body(&mut self, header: (u16, u32)) -> Result<String, PacError> {
        if header.1 == 0 {
            return Ok(String::new());
        }
        self.align(4)?;
        let _max = self.u32()?;
        let offset = self.u32()?;
        let actual = self.u32()? as usize;
        if offset != 0 || actual * 2 < header.0 as usize {
            return Err(PacError::Inconsistent("string length"));
        }
        let bytes = self.take(actual * 2)?;
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        Ok(String::from_utf16_lossy(&units[..header.0 as usize / 2]))
    }
    /// Deferred RPC_SID (conformant structure: count first).
    fn sid(&mut self) -> Result<Vec<u8>, PacError> {
        self.align(4)?;
        let count = self.u32()? as usize;
        let revision = self.u8()?;
        let sub_count = self.u8()? as usize;
        if sub_count != count || sub_count > 15 {
            return Err(PacError::Inconsistent("SID sub-authority count"));
        }
        let authority = self.take(6)?;
        let mut out = Vec::with_capacity(8 + 4 * sub_count);
        out.push(revision);
        out.push(sub_count as u8);
        out.extend_from_slice(authority);
        for _ in 0..sub_count {
            out.extend_from_slice(&self.u32()?.to_le_bytes());
        }
        Ok(out)
    }
    /// Deferred array of GROUP_MEMBERSHIP (RelativeId, Attributes).
    fn group_rids(&mut self, count: u32, ptr: u32) -> Result<Vec<u32>, PacError> {
        if ptr == 0 {
            return Ok(Vec::new());
        }
        self.align(4)?;
        let max = self.u32()?;
        if max != count {
            return Err(PacError::Inconsistent("group count"));
        }
        let mut rids = Vec::with_capacity(count.min(4096) as usize);
        for _ in 0..count {
            rids.push(self.u32()?);
            let _attributes = self.u32()?;
        }
        Ok(rids)
    }
}

/// Formats a binary SID (MS-DTYP 2.4.2.2) as `S-1-…`; `extra_rid` is appended when given.
pub fn sid_to_string(bin: &[u8], extra_rid: Option<u32>) -> Option<String> {
    if bin.len() < 8 {
        return None;
    }
    let count = bin[1] as usize;
    if bin.len() != 8 + 4 * count {
        return None;
    }
    let authority = bin[2..8].iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    // One allocation per SID (a large PAC has hundreds): write into a sized string.
    use std::fmt::Write as _;
    let mut s = String::with_capacity(16 + 11 * (count + 1));
    let _ = write!(s, "S-{}-{}", bin[0], authority);
    for c in bin[8..].chunks_exact(4) {
        let _ = write!(s, "-{}", u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
    }
    if let Some(rid) = extra_rid {
        let _ = write!(s, "-{rid}");
    }
    Some(s)
}

/// Decodes a `urn:mspac:logon-info` buffer.
pub fn decode_logon_info(buf: &[u8]) -> Result<Pac, PacError> {
    let mut r = Reader { buf, pos: 0 };
    // Common type header: version 1, little-endian (0x10), length 8, filler.
    let header = r.take(8)?;
    if header[0] != 1 || header[1] != 0x10 || u16::from_le_bytes([header[2], header[3]]) != 8 {
        return Err(PacError::BadHeader);
    }
    let _object_len = r.u32()?;
    let _filler = r.u32()?;
    let top = r.u32()?;
    if top == 0 {
        return Err(PacError::Inconsistent("null logon info"));
    }
    // KERB_VALIDATION_INFO, inline part.
    r.take(6 * 8)?; // six FILETIMEs
    let effective = r.unicode_header()?;
    let full = r.unicode_header()?;
    let script = r.unicode_header()?;
    let profile = r.unicode_header()?;
    let home = r.unicode_header()?;
    let drive = r.unicode_header()?;
    let _logon_count = r.u16()?;
    let _bad_pw = r.u16()?;
    let user_rid = r.u32()?;
    let primary_rid = r.u32()?;
    let group_count = r.u32()?;
    let group_ptr = r.u32()?;
    let _user_flags = r.u32()?;
    r.take(16)?; // UserSessionKey
    let server = r.unicode_header()?;
    let domain = r.unicode_header()?;
    let domain_sid_ptr = r.u32()?;
    r.take(8)?; // Reserved1
    let _uac = r.u32()?;
    let _sub_auth_status = r.u32()?;
    r.take(16)?; // LastSuccessfulILogon, LastFailedILogon
    let _failed = r.u32()?;
    let _reserved3 = r.u32()?;
    let sid_count = r.u32()?;
    let extra_ptr = r.u32()?;
    let resource_domain_ptr = r.u32()?;
    let resource_count = r.u32()?;
    let resource_ptr = r.u32()?;

    // Deferred pointees, in declaration order.
    let account_name = r.unicode_body(effective)?;
    let full_name = r.unicode_body(full)?;
    for h in [script, profile, home, drive] {
        r.unicode_body(h)?;
    }
    let rids = r.group_rids(group_count, group_ptr)?;
    r.unicode_body(server)?;
    let domain_name = r.unicode_body(domain)?;
    if domain_sid_ptr == 0 {
        return Err(PacError::Inconsistent("no logon domain SID"));
    }
    let domain_sid = r.sid()?;
    let mut extra = Vec::new();
    if extra_ptr != 0 {
        r.align(4)?;
        let max = r.u32()?;
        if max != sid_count {
            return Err(PacError::Inconsistent("extra SID count"));
        }
        let mut ptrs = Vec::with_capacity(sid_count.min(4096) as usize);
        for _ in 0..sid_count {
            ptrs.push(r.u32()?);
            let _attributes = r.u32()?;
        }
        for p in ptrs {
            if p != 0 {
                extra.push(r.sid()?);
            }
        }
    }
    let resource_domain = if resource_domain_ptr != 0 { Some(r.sid()?) } else { None };
    let resource_rids = r.group_rids(resource_count, resource_ptr)?;

    let sid = |bin: &[u8], rid: Option<u32>| sid_to_string(bin, rid).ok_or(PacError::Inconsistent("SID"));
    let user_sid = sid(&domain_sid, Some(user_rid))?;
    let primary_group_sid = sid(&domain_sid, Some(primary_rid))?;
    let mut group_sids: Vec<String> = Vec::new();
    let mut push = |s: String| {
        if !group_sids.contains(&s) {
            group_sids.push(s);
        }
    };
    for rid in rids {
        push(sid(&domain_sid, Some(rid))?);
    }
    for e in &extra {
        push(sid(e, None)?);
    }
    if let Some(rd) = &resource_domain {
        for rid in resource_rids {
            push(sid(rd, Some(rid))?);
        }
    }
    Ok(Pac {
        account_name,
        full_name,
        domain: domain_name,
        user_sid,
        primary_group_sid,
        group_sids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sid_formatting() {
        // S-1-5-21-1091816021-962961654-398595893-1110 (Intel's ACL example).
        let bin = [
            1u8, 5, 0, 0, 0, 0, 0, 5, 0x15, 0, 0, 0, 0x55, 0xca, 0x13, 0x41, 0xf6, 0xa0, 0x65, 0x39, 0x35, 0x17, 0xc2,
            0x17, 0x56, 0x04, 0, 0,
        ];
        assert_eq!(
            sid_to_string(&bin, None).as_deref(),
            Some("S-1-5-21-1091816021-962961654-398595893-1110")
        );
        assert_eq!(sid_to_string(&bin[..27], None), None);
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        assert_eq!(decode_logon_info(&[]), Err(PacError::Truncated(0)));
        assert_eq!(decode_logon_info(&[0u8; 8]), Err(PacError::BadHeader));
        let mut b = vec![
            1u8, 0x10, 8, 0, 0xcc, 0xcc, 0xcc, 0xcc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0,
        ];
        b.extend(std::iter::repeat_n(0xffu8, 300));
        assert!(decode_logon_info(&b).is_err());
        // Every prefix of a buffer must fail cleanly, never panic.
        for n in 0..b.len() {
            let _ = decode_logon_info(&b[..n]);
        }
    }
}
