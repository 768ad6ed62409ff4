//! Windows security identifiers (MS-DTYP §2.4.2): `S-1-5-21-…` text, binary layout, and the
//! base64 form AMT uses for `KerberosUserSid`.
//!
//! Binary layout: byte 0 revision (1), byte 1 sub-authority count, bytes 2–7 identifier
//! authority (48-bit big-endian), then each sub-authority as a little-endian `u32`.
//! [`Sid`] serializes with serde as its `S-…` string.

use std::fmt;
use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

/// Errors reading a SID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SidError {
    /// The text is not `S-<rev>-<authority>(-<sub>)*`.
    #[error("not a SID string: {0:?}")]
    BadString(String),
    /// The bytes are too short, too long or inconsistent with the count byte.
    #[error("binary SID has a bad length ({0} bytes)")]
    BadLength(usize),
    /// More than 15 sub-authorities.
    #[error("a SID has at most 15 sub-authorities")]
    TooManySubAuthorities,
    /// Base64 could not be decoded.
    #[error("SID is not valid base64")]
    BadBase64,
}

/// A Windows SID.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid {
    /// Revision, always 1 in practice.
    pub revision: u8,
    /// Identifier authority (48 bits; 5 = NT Authority).
    pub authority: u64,
    /// Sub-authorities (domain identifiers, then the RID).
    pub sub_authorities: Vec<u32>,
}

impl Sid {
    /// Largest number of sub-authorities MS-DTYP allows.
    pub const MAX_SUB_AUTHORITIES: usize = 15;

    /// Builds a SID; fails on more than 15 sub-authorities or an authority over 48 bits.
    pub fn new(revision: u8, authority: u64, sub_authorities: Vec<u32>) -> Result<Self, SidError> {
        if sub_authorities.len() > Self::MAX_SUB_AUTHORITIES {
            return Err(SidError::TooManySubAuthorities);
        }
        if authority >= 1 << 48 {
            return Err(SidError::BadString(format!("authority {authority}")));
        }
        Ok(Sid {
            revision,
            authority,
            sub_authorities,
        })
    }

    /// Decodes the binary form; the length must match the count byte exactly.
    pub fn from_bytes(b: &[u8]) -> Result<Self, SidError> {
        if b.len() < 8 {
            return Err(SidError::BadLength(b.len()));
        }
        let count = usize::from(b[1]);
        if count > Self::MAX_SUB_AUTHORITIES {
            return Err(SidError::TooManySubAuthorities);
        }
        if b.len() != 8 + 4 * count {
            return Err(SidError::BadLength(b.len()));
        }
        let authority = b[2..8].iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x));
        let sub_authorities = b[8..]
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Ok(Sid {
            revision: b[0],
            authority,
            sub_authorities,
        })
    }

    /// Decodes a SID at the start of `b` and returns it with the number of bytes used
    /// (for SIDs embedded in larger structures).
    pub fn from_prefix(b: &[u8]) -> Result<(Self, usize), SidError> {
        let count = usize::from(*b.get(1).ok_or(SidError::BadLength(b.len()))?);
        let len = 8 + 4 * count;
        let slice = b.get(..len).ok_or(SidError::BadLength(b.len()))?;
        Ok((Self::from_bytes(slice)?, len))
    }

    /// The binary form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + 4 * self.sub_authorities.len());
        out.push(self.revision);
        // Length is bounded by MAX_SUB_AUTHORITIES when built through new/parse.
        out.push(u8::try_from(self.sub_authorities.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(&self.authority.to_be_bytes()[2..8]);
        for s in &self.sub_authorities {
            out.extend_from_slice(&s.to_le_bytes());
        }
        out
    }

    /// The base64 of the binary form, as AMT's `KerberosUserSid`.
    pub fn to_base64(&self) -> String {
        B64.encode(self.to_bytes())
    }

    /// Decodes AMT's base64 form.
    pub fn from_base64(s: &str) -> Result<Self, SidError> {
        let b = B64.decode(s.trim()).map_err(|_| SidError::BadBase64)?;
        Self::from_bytes(&b)
    }

    /// The last sub-authority (the relative identifier of a user or group).
    pub fn rid(&self) -> Option<u32> {
        self.sub_authorities.last().copied()
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S-{}-", self.revision)?;
        if self.authority >= 1 << 32 {
            write!(f, "0x{:012X}", self.authority)?;
        } else {
            write!(f, "{}", self.authority)?;
        }
        for s in &self.sub_authorities {
            write!(f, "-{s}")?;
        }
        Ok(())
    }
}

impl FromStr for Sid {
    type Err = SidError;

    fn from_str(s: &str) -> Result<Self, SidError> {
        let bad = || SidError::BadString(s.to_owned());
        let rest = s.strip_prefix("S-").or_else(|| s.strip_prefix("s-")).ok_or_else(bad)?;
        let mut parts = rest.split('-');
        let revision: u8 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let auth = parts.next().ok_or_else(bad)?;
        let authority = match auth.strip_prefix("0x").or_else(|| auth.strip_prefix("0X")) {
            Some(hex) => u64::from_str_radix(hex, 16).map_err(|_| bad())?,
            None => auth.parse::<u64>().map_err(|_| bad())?,
        };
        let subs = parts
            .map(|p| p.parse::<u32>().map_err(|_| bad()))
            .collect::<Result<Vec<_>, _>>()?;
        Sid::new(revision, authority, subs).map_err(|e| match e {
            SidError::TooManySubAuthorities => e,
            _ => bad(),
        })
    }
}

impl serde::Serialize for Sid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Sid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intel_example() {
        let sid = Sid::from_base64("AQUAAAAAAAUVAAAAVcoTQfagZTk1F8IXVgQAAA==").expect("decodes");
        assert_eq!(sid.to_string(), "S-1-5-21-1091816021-962961654-398595893-1110");
        assert_eq!(sid.to_base64(), "AQUAAAAAAAUVAAAAVcoTQfagZTk1F8IXVgQAAA==");
        assert_eq!(sid.rid(), Some(1110));
        let back: Sid = sid.to_string().parse().expect("parses");
        assert_eq!(back, sid);
        assert_eq!(sid.to_bytes().len(), 28);
    }

    #[test]
    fn rejects_garbage() {
        assert!("S-1".parse::<Sid>().is_err());
        assert!("X-1-5".parse::<Sid>().is_err());
        assert!("S-1-5-abc".parse::<Sid>().is_err());
        assert!(Sid::from_bytes(&[1, 2, 0, 0, 0, 0, 0, 5, 1, 0, 0, 0]).is_err());
        assert!(Sid::from_bytes(&[]).is_err());
        assert!(Sid::from_base64("!!").is_err());
        let many = format!("S-1-5{}", "-1".repeat(16));
        assert_eq!(many.parse::<Sid>(), Err(SidError::TooManySubAuthorities));
    }

    #[test]
    fn well_known_and_big_authority() {
        let s: Sid = "S-1-5-32-544".parse().expect("parses");
        assert_eq!(Sid::from_bytes(&s.to_bytes()).expect("rt"), s);
        let big = Sid::new(1, 0x0102_0304_0506, vec![7]).expect("ok");
        assert_eq!(big.to_string(), "S-1-0x010203040506-7");
        assert_eq!(big.to_string().parse::<Sid>().expect("rt"), big);
    }
}
