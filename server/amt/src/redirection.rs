//! The AMT redirection protocol (ports 16994/16995, §4): session, authentication and SOL
//! messages as typed values, encoded and decoded for both sides.
//!
//! All integers are little-endian; byte 0 is the message type. [`decode`] takes a byte
//! buffer and returns `Ok(Some((message, used)))`, `Ok(None)` when more bytes are needed, or
//! an error for an unknown type or an impossible length; it never panics. Because some
//! types share codes by direction (e.g. 0x40/0x41 for IDER and KVM), decoding is told which
//! side is reading ([`Direction`]).

/// Errors decoding redirection messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirError {
    /// A type byte this decoder does not know.
    #[error("unknown redirection message type {0:#04x}")]
    UnknownType(u8),
    /// A length field beyond the allowed maximum.
    #[error("redirection message too long ({0} bytes)")]
    TooLong(usize),
    /// A string in an auth message overruns its data.
    #[error("malformed authentication data")]
    BadAuthData,
}

/// Which side reads the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Console → AMT (the device decodes).
    ToDevice,
    /// AMT → console (the console decodes).
    ToConsole,
}

/// Largest auth data or SOL payload accepted.
pub const MAX_DATA: usize = 64 * 1024;

/// Session protocol tags.
pub const SOL: [u8; 4] = *b"SOL ";
/// IDE redirection tag.
pub const IDER: [u8; 4] = *b"IDER";
/// KVM tag.
pub const KVM: [u8; 4] = *b"KVMR";

/// SOL timing settings of StartSOLRedirection (amtterm's defaults in [`Default`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SolSettings {
    /// MaxTxBuffer.
    pub max_tx_buffer: u16,
    /// TxBufferTimeout (ms).
    pub tx_buffer_timeout: u16,
    /// TxOverflowTimeout (ms).
    pub tx_overflow_timeout: u16,
    /// HostSessionRxTimeout (ms).
    pub host_session_rx_timeout: u16,
    /// HostFifoRxFlushTimeout (ms).
    pub host_fifo_rx_flush_timeout: u16,
    /// HeartbeatInterval (ms).
    pub heartbeat_interval: u16,
}

impl Default for SolSettings {
    fn default() -> Self {
        SolSettings {
            max_tx_buffer: 1000,
            tx_buffer_timeout: 100,
            tx_overflow_timeout: 0,
            host_session_rx_timeout: 10000,
            host_fifo_rx_flush_timeout: 0,
            heartbeat_interval: 5000,
        }
    }
}

/// Authentication payloads of AuthenticateSession (0x13) and its reply (0x14).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthData {
    /// Type 0: query (request, empty) or the supported types (reply).
    Query(Vec<u8>),
    /// Type 1: user/password (deprecated).
    UserPassword {
        /// User.
        user: String,
        /// Password.
        password: String,
    },
    /// Type 2: Kerberos token (the base64 text clients send after `Negotiate `).
    Kerberos(Vec<u8>),
    /// Type 3 (RFC 2069) or 4 (RFC 2617): length-prefixed strings
    /// (request: user, realm, nonce, uri, cnonce, nc, response[, qop];
    /// challenge reply: realm, nonce, qop).
    Digest {
        /// 3 or 4.
        auth_type: u8,
        /// The strings in order.
        fields: Vec<String>,
    },
    /// Any other type with raw data.
    Other(u8, Vec<u8>),
}

impl AuthData {
    /// The auth type byte.
    pub fn auth_type(&self) -> u8 {
        match self {
            AuthData::Query(_) => 0,
            AuthData::UserPassword { .. } => 1,
            AuthData::Kerberos(_) => 2,
            AuthData::Digest { auth_type, .. } => *auth_type,
            AuthData::Other(t, _) => *t,
        }
    }

    fn encode_data(&self) -> Vec<u8> {
        fn strs<'a>(it: impl IntoIterator<Item = &'a str>) -> Vec<u8> {
            let mut out = Vec::new();
            for s in it {
                let b = &s.as_bytes()[..s.len().min(255)];
                out.push(u8::try_from(b.len()).unwrap_or(u8::MAX));
                out.extend_from_slice(b);
            }
            out
        }
        match self {
            AuthData::Query(v) | AuthData::Kerberos(v) | AuthData::Other(_, v) => v.clone(),
            AuthData::UserPassword { user, password } => strs([user.as_str(), password.as_str()]),
            AuthData::Digest { fields, .. } => strs(fields.iter().map(String::as_str)),
        }
    }

    fn decode_data(auth_type: u8, data: &[u8]) -> Result<Self, RedirError> {
        fn strs(mut d: &[u8]) -> Result<Vec<String>, RedirError> {
            let mut out = Vec::new();
            while let Some((&n, rest)) = d.split_first() {
                let s = rest.get(..usize::from(n)).ok_or(RedirError::BadAuthData)?;
                out.push(String::from_utf8_lossy(s).into_owned());
                d = &rest[usize::from(n)..];
            }
            Ok(out)
        }
        Ok(match auth_type {
            0 => AuthData::Query(data.to_vec()),
            1 => {
                let f = strs(data)?;
                match f.as_slice() {
                    [u, p] => AuthData::UserPassword {
                        user: u.clone(),
                        password: p.clone(),
                    },
                    _ => return Err(RedirError::BadAuthData),
                }
            }
            2 => AuthData::Kerberos(data.to_vec()),
            3 | 4 => AuthData::Digest {
                auth_type,
                fields: strs(data)?,
            },
            t => AuthData::Other(t, data.to_vec()),
        })
    }

    /// Type 4 first request: user, empty realm/nonce, URI `/RedirectionService`, empty rest.
    pub fn digest_initial(user: &str) -> Self {
        let mut f = vec![user.to_owned(), String::new(), String::new()];
        f.push("/RedirectionService".into());
        f.extend([String::new(), String::new(), String::new(), String::new()]);
        AuthData::Digest {
            auth_type: 4,
            fields: f,
        }
    }

    /// Type 4 full request with the computed response (see [`crate::digest::redirection_response`]).
    pub fn digest_response(user: &str, password: &str, realm: &str, nonce: &str, cnonce: &str, nc: &str) -> Self {
        let response = crate::digest::redirection_response(user, realm, password, nonce, nc, cnonce, "auth");
        AuthData::Digest {
            auth_type: 4,
            fields: [user, realm, nonce, "/RedirectionService", cnonce, nc, &response, "auth"]
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        }
    }
}

/// A redirection message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// 0x10: protocol tag, byte 1 (1 for KVM).
    StartRedirectionSession {
        /// Byte 1.
        flags: u8,
        /// `SOL `, `IDER` or `KVMR`.
        protocol: [u8; 4],
    },
    /// 0x11.
    StartRedirectionSessionReply {
        /// 0 ok, 1 unknown type, 2 busy, 3 unsupported, 0xFF error.
        status: u8,
        /// Protocol version (major, minor).
        protocol_version: (u8, u8),
        /// Firmware version (major, minor).
        firmware_version: (u8, u8),
        /// OEM IANA number.
        iana: u32,
        /// OEM data.
        oem: Vec<u8>,
    },
    /// 0x12.
    EndRedirectionSession,
    /// 0x13.
    AuthenticateSession(AuthData),
    /// 0x14: status 0 success, 1 failure/challenge, 2 not supported.
    AuthenticateSessionReply {
        /// Status.
        status: u8,
        /// Payload.
        auth: AuthData,
    },
    /// 0x20.
    StartSol {
        /// Console sequence number.
        seq: u32,
        /// Settings.
        settings: SolSettings,
    },
    /// 0x21 (23 bytes).
    StartSolReply {
        /// 0 = success.
        status: u8,
        /// Bytes 2..23 as received.
        rest: [u8; 21],
    },
    /// 0x22.
    EndSol {
        /// Sequence.
        seq: u32,
    },
    /// 0x23.
    EndSolReply {
        /// Sequence.
        seq: u32,
    },
    /// 0x24 keep-alive ping.
    KeepAlivePing {
        /// Sequence.
        seq: u32,
    },
    /// 0x25 keep-alive pong.
    KeepAlivePong {
        /// Sequence.
        seq: u32,
    },
    /// 0x27 (undocumented; 14 bytes), accepted and ignored.
    SolSettings27 {
        /// Bytes 4..14.
        rest: [u8; 10],
    },
    /// 0x28 SOL data to the host (keystrokes).
    SolDataToHost {
        /// Sequence.
        seq: u32,
        /// Data.
        data: Vec<u8>,
    },
    /// 0x29 SOL controls from the host.
    SolControls {
        /// Sequence.
        seq: u32,
        /// RTS=1, DTR=2, BREAK=4.
        control: u8,
        /// Status bits.
        status: u8,
    },
    /// 0x2A SOL data from the host (serial output).
    SolDataFromHost {
        /// Sequence.
        seq: u32,
        /// Data.
        data: Vec<u8>,
    },
    /// 0x2B heartbeat.
    Heartbeat {
        /// Sequence.
        seq: u32,
    },
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

impl Message {
    /// Encodes the message.
    pub fn encode(&self) -> Vec<u8> {
        let hdr8 = |t: u8, seq: u32| {
            let mut v = vec![t, 0, 0, 0];
            v.extend_from_slice(&seq.to_le_bytes());
            v
        };
        match self {
            Message::StartRedirectionSession { flags, protocol } => {
                let mut v = vec![0x10, *flags, 0, 0];
                v.extend_from_slice(protocol);
                v
            }
            Message::StartRedirectionSessionReply {
                status,
                protocol_version,
                firmware_version,
                iana,
                oem,
            } => {
                let mut v = vec![
                    0x11,
                    *status,
                    0,
                    0,
                    protocol_version.0,
                    protocol_version.1,
                    firmware_version.0,
                    firmware_version.1,
                ];
                v.extend_from_slice(&iana.to_le_bytes());
                let n = oem.len().min(255);
                v.push(u8::try_from(n).unwrap_or(u8::MAX));
                v.extend_from_slice(&oem[..n]);
                v
            }
            Message::EndRedirectionSession => vec![0x12, 0, 0, 0],
            Message::AuthenticateSession(a) => auth_msg(0x13, 0, a),
            Message::AuthenticateSessionReply { status, auth } => auth_msg(0x14, *status, auth),
            Message::StartSol { seq, settings: s } => {
                let mut v = hdr8(0x20, *seq);
                for x in [
                    s.max_tx_buffer,
                    s.tx_buffer_timeout,
                    s.tx_overflow_timeout,
                    s.host_session_rx_timeout,
                    s.host_fifo_rx_flush_timeout,
                    s.heartbeat_interval,
                ] {
                    v.extend_from_slice(&x.to_le_bytes());
                }
                v.extend_from_slice(&[0; 4]);
                v
            }
            Message::StartSolReply { status, rest } => {
                let mut v = vec![0x21, *status];
                v.extend_from_slice(rest);
                v
            }
            Message::EndSol { seq } => hdr8(0x22, *seq),
            Message::EndSolReply { seq } => hdr8(0x23, *seq),
            Message::KeepAlivePing { seq } => hdr8(0x24, *seq),
            Message::KeepAlivePong { seq } => hdr8(0x25, *seq),
            Message::SolSettings27 { rest } => {
                let mut v = vec![0x27, 0, 0, 0];
                v.extend_from_slice(rest);
                v
            }
            Message::SolDataToHost { seq, data } | Message::SolDataFromHost { seq, data } => {
                let t = if matches!(self, Message::SolDataToHost { .. }) {
                    0x28
                } else {
                    0x2A
                };
                let mut v = hdr8(t, *seq);
                let n = data.len().min(usize::from(u16::MAX));
                v.extend_from_slice(&u16::try_from(n).unwrap_or(u16::MAX).to_le_bytes());
                v.extend_from_slice(&data[..n]);
                v
            }
            Message::SolControls { seq, control, status } => {
                let mut v = hdr8(0x29, *seq);
                v.push(*control);
                v.push(*status);
                v
            }
            Message::Heartbeat { seq } => hdr8(0x2B, *seq),
        }
    }
}

fn auth_msg(t: u8, status: u8, a: &AuthData) -> Vec<u8> {
    let data = a.encode_data();
    let mut v = vec![t, status, 0, 0, a.auth_type()];
    v.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_le_bytes());
    v.extend_from_slice(&data);
    v
}

/// Decodes one message from the start of `buf`: `Ok(Some((msg, bytes_used)))`, or `Ok(None)`
/// when more bytes are needed.
pub fn decode(buf: &[u8], dir: Direction) -> Result<Option<(Message, usize)>, RedirError> {
    let Some(&t) = buf.first() else {
        return Ok(None);
    };
    let need = |n: usize| buf.len() < n;
    let seq = |b: &[u8]| le32(b, 4);
    let msg = match (t, dir) {
        (0x10, Direction::ToDevice) => {
            if need(8) {
                return Ok(None);
            }
            let mut protocol = [0u8; 4];
            protocol.copy_from_slice(&buf[4..8]);
            (
                Message::StartRedirectionSession {
                    flags: buf[1],
                    protocol,
                },
                8,
            )
        }
        (0x11, Direction::ToConsole) => {
            if need(13) {
                return Ok(None);
            }
            let n = 13 + usize::from(buf[12]);
            if need(n) {
                return Ok(None);
            }
            (
                Message::StartRedirectionSessionReply {
                    status: buf[1],
                    protocol_version: (buf[4], buf[5]),
                    firmware_version: (buf[6], buf[7]),
                    iana: le32(buf, 8),
                    oem: buf[13..n].to_vec(),
                },
                n,
            )
        }
        (0x12, Direction::ToDevice) => {
            if need(4) {
                return Ok(None);
            }
            (Message::EndRedirectionSession, 4)
        }
        (0x13, Direction::ToDevice) | (0x14, Direction::ToConsole) => {
            if need(9) {
                return Ok(None);
            }
            let len = usize::try_from(le32(buf, 5)).unwrap_or(usize::MAX);
            if len > MAX_DATA {
                return Err(RedirError::TooLong(len));
            }
            if need(9 + len) {
                return Ok(None);
            }
            let auth = AuthData::decode_data(buf[4], &buf[9..9 + len])?;
            let m = if t == 0x13 {
                Message::AuthenticateSession(auth)
            } else {
                Message::AuthenticateSessionReply { status: buf[1], auth }
            };
            (m, 9 + len)
        }
        (0x20, Direction::ToDevice) => {
            if need(24) {
                return Ok(None);
            }
            (
                Message::StartSol {
                    seq: seq(buf),
                    settings: SolSettings {
                        max_tx_buffer: le16(buf, 8),
                        tx_buffer_timeout: le16(buf, 10),
                        tx_overflow_timeout: le16(buf, 12),
                        host_session_rx_timeout: le16(buf, 14),
                        host_fifo_rx_flush_timeout: le16(buf, 16),
                        heartbeat_interval: le16(buf, 18),
                    },
                },
                24,
            )
        }
        (0x21, Direction::ToConsole) => {
            if need(23) {
                return Ok(None);
            }
            let mut rest = [0u8; 21];
            rest.copy_from_slice(&buf[2..23]);
            (Message::StartSolReply { status: buf[1], rest }, 23)
        }
        (0x27, Direction::ToDevice) => {
            if need(14) {
                return Ok(None);
            }
            let mut rest = [0u8; 10];
            rest.copy_from_slice(&buf[4..14]);
            (Message::SolSettings27 { rest }, 14)
        }
        (0x22 | 0x23 | 0x24 | 0x25 | 0x2B, _) => {
            if need(8) {
                return Ok(None);
            }
            let s = seq(buf);
            let m = match t {
                0x22 => Message::EndSol { seq: s },
                0x23 => Message::EndSolReply { seq: s },
                0x24 => Message::KeepAlivePing { seq: s },
                0x25 => Message::KeepAlivePong { seq: s },
                _ => Message::Heartbeat { seq: s },
            };
            (m, 8)
        }
        (0x28, Direction::ToDevice) | (0x2A, Direction::ToConsole) => {
            if need(10) {
                return Ok(None);
            }
            let n = 10 + usize::from(le16(buf, 8));
            if need(n) {
                return Ok(None);
            }
            let data = buf[10..n].to_vec();
            let m = if t == 0x28 {
                Message::SolDataToHost { seq: seq(buf), data }
            } else {
                Message::SolDataFromHost { seq: seq(buf), data }
            };
            (m, n)
        }
        (0x29, Direction::ToConsole) => {
            if need(10) {
                return Ok(None);
            }
            (
                Message::SolControls {
                    seq: seq(buf),
                    control: buf[8],
                    status: buf[9],
                },
                10,
            )
        }
        (other, _) => return Err(RedirError::UnknownType(other)),
    };
    Ok(Some(msg))
}

/// An incremental decoder: push bytes as they arrive, take complete messages out.
#[derive(Debug)]
pub struct Decoder {
    dir: Direction,
    buf: Vec<u8>,
}

impl Decoder {
    /// A decoder for one direction.
    pub fn new(dir: Direction) -> Self {
        Decoder { dir, buf: Vec::new() }
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete message, `Ok(None)` if more bytes are needed.
    pub fn next_message(&mut self) -> Result<Option<Message>, RedirError> {
        match decode(&self.buf, self.dir)? {
            Some((m, used)) => {
                self.buf.drain(..used);
                Ok(Some(m))
            }
            None => Ok(None),
        }
    }

    /// Bytes buffered but not yet decoded.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_bytes() {
        let m = Message::StartRedirectionSession {
            flags: 0,
            protocol: SOL,
        };
        assert_eq!(m.encode(), [0x10, 0, 0, 0, 0x53, 0x4F, 0x4C, 0x20]);
        assert_eq!(
            Message::AuthenticateSession(AuthData::Query(vec![])).encode(),
            [0x13, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        let init = Message::AuthenticateSession(AuthData::digest_initial("admin")).encode();
        assert_eq!(usize::from(init[5]), 5 + 19 + 8);
        assert_eq!(
            Message::StartSol {
                seq: 0,
                settings: SolSettings::default()
            }
            .encode()
            .len(),
            24
        );
        let r = Message::StartSolReply {
            status: 0,
            rest: [0; 21],
        };
        assert_eq!(r.encode().len(), 23);
        assert_eq!(Message::EndRedirectionSession.encode(), [0x12, 0, 0, 0]);
    }
}
