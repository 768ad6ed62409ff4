//! (g) Redirection messages round trip; the decoder fed byte by byte and fed garbage.

use amt::redirection::*;

fn to_device() -> Vec<Message> {
    vec![
        Message::StartRedirectionSession {
            flags: 0,
            protocol: SOL,
        },
        Message::AuthenticateSession(AuthData::Query(vec![])),
        Message::AuthenticateSession(AuthData::digest_initial("admin")),
        Message::AuthenticateSession(AuthData::digest_response(
            "admin",
            "pw",
            "Digest:ABC",
            "nonce",
            "0123456789abcdef0123456789abcdef",
            "00000002",
        )),
        Message::AuthenticateSession(AuthData::Kerberos(b"YIIFbase64token".to_vec())),
        Message::AuthenticateSession(AuthData::UserPassword {
            user: "u".into(),
            password: "p".into(),
        }),
        Message::StartSol {
            seq: 1,
            settings: SolSettings::default(),
        },
        Message::SolSettings27 {
            rest: [1, 0, 0, 0, 0, 0, 0x1B, 0, 0, 0],
        },
        Message::SolDataToHost {
            seq: 0,
            data: b"ls\r".to_vec(),
        },
        Message::Heartbeat { seq: 2 },
        Message::KeepAlivePing { seq: 3 },
        Message::EndSol { seq: 4 },
        Message::EndRedirectionSession,
    ]
}

fn to_console() -> Vec<Message> {
    vec![
        Message::StartRedirectionSessionReply {
            status: 0,
            protocol_version: (1, 0),
            firmware_version: (2, 0),
            iana: 343,
            oem: vec![],
        },
        Message::AuthenticateSessionReply {
            status: 0,
            auth: AuthData::Query(vec![1, 3, 4]),
        },
        Message::AuthenticateSessionReply {
            status: 1,
            auth: AuthData::Digest {
                auth_type: 4,
                fields: vec!["Digest:ABC".into(), "nonce".into(), "auth".into()],
            },
        },
        Message::AuthenticateSessionReply {
            status: 0,
            auth: AuthData::Digest {
                auth_type: 4,
                fields: vec![],
            },
        },
        Message::StartSolReply {
            status: 0,
            rest: [0; 21],
        },
        Message::SolControls {
            seq: 1,
            control: 3,
            status: 4,
        },
        Message::SolDataFromHost {
            seq: 2,
            data: b"login: ".to_vec(),
        },
        Message::Heartbeat { seq: 3 },
        Message::KeepAlivePong { seq: 3 },
        Message::EndSolReply { seq: 4 },
    ]
}

fn round_trip(msgs: Vec<Message>, dir: Direction) {
    let stream: Vec<u8> = msgs.iter().flat_map(Message::encode).collect();
    // Whole buffer.
    let mut d = Decoder::new(dir);
    d.push(&stream);
    let mut got = Vec::new();
    while let Some(m) = d.next_message().expect("decodes") {
        got.push(m);
    }
    assert_eq!(got, msgs);
    assert_eq!(d.pending(), 0);
    // Byte by byte.
    let mut d = Decoder::new(dir);
    let mut got = Vec::new();
    for b in &stream {
        d.push(std::slice::from_ref(b));
        while let Some(m) = d.next_message().expect("decodes") {
            got.push(m);
        }
    }
    assert_eq!(got, msgs);
}

#[test]
fn round_trips_both_directions() {
    round_trip(to_device(), Direction::ToDevice);
    round_trip(to_console(), Direction::ToConsole);
}

#[test]
fn digest_type4_response_is_verifiable() {
    let Message::AuthenticateSession(AuthData::Digest { fields, .. }) = &to_device()[3] else {
        panic!("shape");
    };
    assert_eq!(fields.len(), 8);
    assert_eq!(fields[3], "/RedirectionService");
    let expect =
        amt::digest::redirection_response("admin", "Digest:ABC", "pw", "nonce", "00000002", &fields[4], "auth");
    assert_eq!(fields[6], expect);
}

#[test]
fn garbage_is_an_error_never_a_panic() {
    assert_eq!(decode(&[0xEE], Direction::ToDevice), Err(RedirError::UnknownType(0xEE)));
    assert!(matches!(
        decode(&[0x13, 0, 0, 0, 4, 0xFF, 0xFF, 0xFF, 0xFF], Direction::ToDevice),
        Err(RedirError::TooLong(_))
    ));
    assert_eq!(
        decode(&[0x13, 0, 0, 0, 4, 2, 0, 0, 0, 9, 1], Direction::ToDevice),
        Err(RedirError::BadAuthData)
    );
    assert_eq!(decode(&[], Direction::ToConsole), Ok(None));
    // Pseudo-random bytes: every prefix either decodes, asks for more, or errors.
    let mut x: u32 = 0x1234_5678;
    for _ in 0..2000 {
        let mut buf = Vec::new();
        for _ in 0..64 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            buf.push(x.to_le_bytes()[0]);
        }
        for dir in [Direction::ToDevice, Direction::ToConsole] {
            let mut rest = &buf[..];
            while let Ok(Some((_, used))) = decode(rest, dir) {
                assert!(used > 0 && used <= rest.len());
                rest = &rest[used..];
            }
        }
    }
}
