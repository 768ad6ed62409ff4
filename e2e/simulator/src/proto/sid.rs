//! Windows SIDs: text form `S-1-5-21-…` and the binary form AMT stores in
//! `KerberosUserSid` and audit records (reference §2.9).

/// Errors reading a SID.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SidError {
    /// Text is not `S-1-<authority>-<sub>…`.
    #[error("not a SID string")]
    BadText,
    /// Bytes are not a binary SID.
    #[error("not a binary SID")]
    BadBinary,
}

/// Text SID to binary: revision, count, 6-byte big-endian authority, LE sub-authorities.
pub fn to_binary(text: &str) -> Result<Vec<u8>, SidError> {
    let mut parts = text.split('-');
    if parts.next() != Some("S") {
        return Err(SidError::BadText);
    }
    let rev: u8 = parts.next().and_then(|p| p.parse().ok()).ok_or(SidError::BadText)?;
    let auth: u64 = parts
        .next()
        .and_then(|p| p.parse().ok())
        .filter(|a| *a < (1u64 << 48))
        .ok_or(SidError::BadText)?;
    let subs: Vec<u32> = parts
        .map(|p| p.parse().map_err(|_| SidError::BadText))
        .collect::<Result<_, _>>()?;
    if subs.len() > 15 {
        return Err(SidError::BadText);
    }
    let mut out = vec![rev, subs.len() as u8];
    out.extend_from_slice(&auth.to_be_bytes()[2..]);
    for s in subs {
        out.extend_from_slice(&s.to_le_bytes());
    }
    Ok(out)
}

/// Binary SID to text.
pub fn to_text(bytes: &[u8]) -> Result<String, SidError> {
    if bytes.len() < 8 {
        return Err(SidError::BadBinary);
    }
    let count = bytes[1] as usize;
    if bytes.len() != 8 + 4 * count {
        return Err(SidError::BadBinary);
    }
    let mut auth = [0u8; 8];
    auth[2..].copy_from_slice(&bytes[2..8]);
    let mut s = format!("S-{}-{}", bytes[0], u64::from_be_bytes(auth));
    for chunk in bytes[8..].chunks_exact(4) {
        s.push_str(&format!(
            "-{}",
            u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]])
        ));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn intel_example_round_trips() {
        let b = base64::engine::general_purpose::STANDARD
            .decode("AQUAAAAAAAUVAAAAVcoTQfagZTk1F8IXVgQAAA==")
            .unwrap();
        let t = to_text(&b).unwrap();
        assert!(t.starts_with("S-1-5-21-"));
        assert_eq!(to_binary(&t).unwrap(), b);
        assert_eq!(b.len(), 28);
    }
}
