//! A look inside a Negotiate token before GSSAPI sees it, to name what the browser sent.
//!
//! GSSAPI's own errors for NTLM or garbage are cryptic ("An unsupported mechanism was
//! requested"); a helpdesk engineer needs "your browser sent NTLM, not Kerberos". This module
//! walks just enough DER (X.690) to classify the token and to measure the Kerberos ticket inside
//! it, which is the figure AMT's ticket-size limit is about. It never panics on any input.

/// What kind of token the client sent after `Negotiate `.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    /// Raw NTLMSSP (no SPNEGO wrapper).
    RawNtlm,
    /// SPNEGO whose mechanism list offers NTLM and not Kerberos.
    SpnegoNtlmOnly,
    /// SPNEGO offering Kerberos (with or without an optimistic Kerberos token).
    SpnegoKerberos,
    /// A bare Kerberos GSS token (RFC 4121 framing).
    Kerberos,
    /// None of the above: not DER, or DER of something else.
    Unknown,
}

/// What was learned from the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenFacts {
    /// The classification.
    pub kind: TokenKind,
    /// Length in bytes of the Kerberos `Ticket` inside the AP-REQ, when one was found.
    pub ticket_bytes: Option<usize>,
    /// Length in bytes of the encrypted authenticator (large when a TGT is forwarded).
    pub authenticator_bytes: Option<usize>,
    /// The service the ticket was issued for, `HTTP/host:port@REALM`, from the ticket's
    /// clear-text `sname` and `realm`. MIT's acceptor reports the first keytab principal whose
    /// key decrypts the ticket, and all SPNs of one AD account share a key, so only this tells
    /// `HTTP/amt1:16992` from `HTTP/amt1:16993`.
    pub service: Option<String>,
}

const OID_KRB5: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02];
const OID_KRB5_MS: &[u8] = &[0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02];
const OID_NTLM: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a];
const OID_SPNEGO: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];

/// One DER element: tag byte, content, and the total encoded length.
struct Tlv<'a> {
    tag: u8,
    content: &'a [u8],
    total: usize,
}

fn tlv(buf: &[u8]) -> Option<Tlv<'_>> {
    let tag = *buf.first()?;
    let first = *buf.get(1)? as usize;
    let (len, header) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *buf.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let content = buf.get(header..header.checked_add(len)?)?;
    Some(Tlv {
        tag,
        content,
        total: header + len,
    })
}

/// Iterates the elements of a constructed content.
fn children(mut buf: &[u8]) -> impl Iterator<Item = Tlv<'_>> {
    std::iter::from_fn(move || {
        let t = tlv(buf)?;
        buf = &buf[t.total..];
        Some(t)
    })
}

fn child(buf: &[u8], tag: u8) -> Option<Tlv<'_>> {
    children(buf).find(|t| t.tag == tag)
}

/// `sname@realm` of a `Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0], realm [1], sname [2], … }`.
fn ticket_service(ticket: &[u8]) -> Option<String> {
    let t = tlv(ticket).filter(|t| t.tag == 0x61)?;
    let seq = tlv(t.content).filter(|t| t.tag == 0x30)?;
    let realm = tlv(child(seq.content, 0xa1)?.content)?;
    let realm = std::str::from_utf8(realm.content).ok()?;
    // PrincipalName ::= SEQUENCE { name-type [0] Int32, name-string [1] SEQUENCE OF KerberosString }
    let name = tlv(child(seq.content, 0xa2)?.content).filter(|t| t.tag == 0x30)?;
    let strings = tlv(child(name.content, 0xa1)?.content).filter(|t| t.tag == 0x30)?;
    let parts: Vec<&str> = children(strings.content)
        .map(|p| std::str::from_utf8(p.content).ok())
        .collect::<Option<_>>()?;
    (!parts.is_empty()).then(|| format!("{}@{realm}", parts.join("/")))
}

/// Ticket size, authenticator size and ticket service inside an AP-REQ (`[APPLICATION 14]`).
fn ap_req_sizes(ap_req: &[u8]) -> Option<(usize, usize, Option<String>)> {
    let outer = tlv(ap_req)?;
    if outer.tag != 0x6e {
        return None;
    }
    let seq = tlv(outer.content)?;
    let ticket = tlv(child(seq.content, 0xa3)?.content)?;
    let auth = child(seq.content, 0xa4)?;
    let ticket_bytes = &child(seq.content, 0xa3)?.content[..ticket.total];
    Some((ticket.total, tlv(auth.content)?.total, ticket_service(ticket_bytes)))
}

/// Reads a Kerberos GSS token: `[APPLICATION 0] { OID krb5, TOK_ID 01 00, AP-REQ }`.
fn krb5_token_sizes(tok: &[u8]) -> Option<(usize, usize, Option<String>)> {
    let outer = tlv(tok)?;
    if outer.tag != 0x60 {
        return None;
    }
    let oid = tlv(outer.content)?;
    if oid.tag != 0x06 || (oid.content != OID_KRB5 && oid.content != OID_KRB5_MS) {
        return None;
    }
    let rest = &outer.content[oid.total..];
    if rest.get(..2)? != [0x01, 0x00] {
        return None;
    }
    ap_req_sizes(&rest[2..])
}

/// Classifies a Negotiate token and measures the Kerberos ticket it carries.
pub fn inspect(token: &[u8]) -> TokenFacts {
    let unknown = TokenFacts {
        kind: TokenKind::Unknown,
        ticket_bytes: None,
        authenticator_bytes: None,
        service: None,
    };
    if token.starts_with(b"NTLMSSP\0") {
        return TokenFacts {
            kind: TokenKind::RawNtlm,
            ..unknown
        };
    }
    let Some(outer) = tlv(token) else {
        return unknown;
    };
    if outer.tag != 0x60 {
        return unknown;
    }
    let Some(oid) = tlv(outer.content) else {
        return unknown;
    };
    if oid.tag == 0x06 && (oid.content == OID_KRB5 || oid.content == OID_KRB5_MS) {
        let sizes = krb5_token_sizes(token);
        return TokenFacts {
            kind: TokenKind::Kerberos,
            ticket_bytes: sizes.as_ref().map(|s| s.0),
            authenticator_bytes: sizes.as_ref().map(|s| s.1),
            service: sizes.and_then(|s| s.2),
        };
    }
    if oid.tag != 0x06 || oid.content != OID_SPNEGO {
        return unknown;
    }
    // NegotiationToken ::= CHOICE { negTokenInit [0] NegTokenInit, ... }
    let rest = &outer.content[oid.total..];
    let Some(init) = tlv(rest).filter(|t| t.tag == 0xa0) else {
        return unknown;
    };
    let Some(seq) = tlv(init.content).filter(|t| t.tag == 0x30) else {
        return unknown;
    };
    let mechs: Vec<&[u8]> = child(seq.content, 0xa0)
        .and_then(|m| tlv(m.content))
        .map(|list| {
            children(list.content)
                .filter(|t| t.tag == 0x06)
                .map(|t| t.content)
                .collect()
        })
        .unwrap_or_default();
    let offers_krb5 = mechs.iter().any(|m| *m == OID_KRB5 || *m == OID_KRB5_MS);
    if !offers_krb5 {
        let kind = if mechs.contains(&OID_NTLM) {
            TokenKind::SpnegoNtlmOnly
        } else {
            TokenKind::Unknown
        };
        return TokenFacts { kind, ..unknown };
    }
    let sizes = child(seq.content, 0xa2)
        .and_then(|m| tlv(m.content))
        .and_then(|o| krb5_token_sizes(o.content));
    TokenFacts {
        kind: TokenKind::SpnegoKerberos,
        ticket_bytes: sizes.as_ref().map(|s| s.0),
        authenticator_bytes: sizes.as_ref().map(|s| s.1),
        service: sizes.and_then(|s| s.2),
    }
}

/// Length of the base64 text for `n` bytes (what AMT's size limits are measured in).
pub fn base64_len(n: usize) -> usize {
    n.div_ceil(3) * 4
}

#[cfg(test)]
mod tests {
    use super::*;

    fn der(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        let n = content.len();
        if n < 0x80 {
            v.push(n as u8);
        } else if n < 0x100 {
            v.extend([0x81, n as u8]);
        } else {
            v.extend([0x82, (n >> 8) as u8, n as u8]);
        }
        v.extend_from_slice(content);
        v
    }

    fn spnego(mechs: &[&[u8]], mech_token: Option<Vec<u8>>) -> Vec<u8> {
        let list: Vec<u8> = mechs.iter().flat_map(|m| der(0x06, m)).collect();
        let mut seq = der(0xa0, &der(0x30, &list));
        if let Some(t) = mech_token {
            seq.extend(der(0xa2, &der(0x04, &t)));
        }
        let mut body = der(0x06, OID_SPNEGO);
        body.extend(der(0xa0, &der(0x30, &seq)));
        der(0x60, &body)
    }

    fn krb5_token(ticket_len: usize) -> Vec<u8> {
        let mut t = der(0xa0, &der(0x02, &[5]));
        t.extend(der(0xa1, &der(0x1b, b"EXAMPLE.TEST")));
        let names: Vec<u8> = [&b"HTTP"[..], b"amt8.example.test:16993"]
            .iter()
            .flat_map(|n| der(0x1b, n))
            .collect();
        let mut pn = der(0xa0, &der(0x02, &[2]));
        pn.extend(der(0xa1, &der(0x30, &names)));
        t.extend(der(0xa2, &der(0x30, &pn)));
        t.extend(der(0xa3, &der(0x04, &vec![0x55; ticket_len])));
        let ticket = der(0x61, &der(0x30, &t));
        let mut seq = der(0xa0, &der(0x02, &[5]));
        seq.extend(der(0xa1, &der(0x02, &[14])));
        seq.extend(der(0xa3, &ticket));
        seq.extend(der(0xa4, &der(0x30, &[1, 2, 3])));
        let ap_req = der(0x6e, &der(0x30, &seq));
        let mut body = der(0x06, OID_KRB5);
        body.extend([0x01, 0x00]);
        body.extend(ap_req);
        der(0x60, &body)
    }

    #[test]
    fn classifies_and_measures() {
        assert_eq!(inspect(b"NTLMSSP\0\x01\0\0\0").kind, TokenKind::RawNtlm);
        assert_eq!(inspect(&spnego(&[OID_NTLM], None)).kind, TokenKind::SpnegoNtlmOnly);
        let t = inspect(&spnego(&[OID_KRB5_MS, OID_KRB5, OID_NTLM], Some(krb5_token(1000))));
        assert_eq!(t.kind, TokenKind::SpnegoKerberos);
        assert_eq!(t.ticket_bytes, Some(1081));
        assert_eq!(t.authenticator_bytes, Some(5));
        assert_eq!(t.service.as_deref(), Some("HTTP/amt8.example.test:16993@EXAMPLE.TEST"));
        let raw = inspect(&krb5_token(50));
        assert_eq!((raw.kind, raw.ticket_bytes), (TokenKind::Kerberos, Some(123)));
        assert_eq!(raw.service, t.service);
        assert_eq!(inspect(b"garbage").kind, TokenKind::Unknown);
        assert_eq!(base64_len(4), 8);
    }

    #[test]
    fn truncation_never_panics() {
        let t = spnego(&[OID_KRB5], Some(krb5_token(300)));
        for n in 0..t.len() {
            let _ = inspect(&t[..n]);
        }
    }
}
