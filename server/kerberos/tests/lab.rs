//! Against the real lab Active Directory (Samba AD DC): see e2e/lab/README.md.
//!
//! Needs `KRB5_CONFIG` and `LAB_ENV` (the lab's `lab.env`) in the environment, as the README's
//! test command sets them. Without them the tests say so and pass only when `REQUIRE_LAB` is
//! unset (a developer's quick `cargo test`); CI sets `REQUIRE_LAB=1`, so nothing is skipped there.

use std::collections::HashMap;
use std::path::PathBuf;

use kerberos::{Acceptor, Error, password_sign_in, token_for};

fn lab() -> Option<HashMap<String, String>> {
    lab_env::load()
}

fn acceptor(env: &HashMap<String, String>) -> Acceptor {
    Acceptor::from_keytab(&PathBuf::from(&env["LAB_PORTAL_KEYTAB"])).expect("portal keytab usable")
}

#[test]
fn password_sign_in_is_verified_and_carries_pac_sids() {
    let Some(env) = lab() else { return };
    let acc = acceptor(&env);
    let (accepted, tgt) =
        password_sign_in(&acc, &env["LAB_PORTAL_SPN"], "alice", &env["LAB_PASSWORD"]).expect("alice signs in");
    assert_eq!(accepted.client, "alice@EXAMPLE.TEST");
    let pac = accepted.pac.expect("AD tickets carry a PAC");
    assert_eq!(pac.account_name, "alice");
    assert_eq!(pac.user_sid, env["LAB_SID_ALICE"]);
    assert!(
        pac.group_sids.contains(&env["LAB_SID_AMT_ADMINS"]),
        "{:?}",
        pac.group_sids
    );
    assert!(!pac.group_sids.contains(&env["LAB_SID_AMT_VIEWERS"]));
    assert!(tgt.lifetime.as_secs() > 60);
    assert!(accepted.token.ticket_bytes.unwrap_or(0) > 500);

    // The user's TGT works for a device SPN (what the portal does for every device call).
    let tok = token_for(&tgt.cred, "HTTP/amt1.example.test:16992", false).expect("service ticket for amt1");
    assert!(tok.len() > 500);
}

#[test]
fn wrong_password_and_unknown_user_are_told_apart() {
    let Some(env) = lab() else { return };
    let acc = acceptor(&env);
    let e = password_sign_in(&acc, &env["LAB_PORTAL_SPN"], "bob", "not-his-password").unwrap_err();
    assert_eq!(e, Error::BadPassword, "{e}");
    let e = password_sign_in(&acc, &env["LAB_PORTAL_SPN"], "nobody-such", "x").unwrap_err();
    assert_eq!(e, Error::UnknownUser, "{e}");
}

#[test]
fn bad_tokens_get_plain_reasons() {
    let Some(env) = lab() else { return };
    let acc = acceptor(&env);
    assert_eq!(acc.accept(b"").unwrap_err(), Error::NoToken);
    assert_eq!(
        acc.accept(b"NTLMSSP\0\x01\0\0\0\x07\x82\x08\xa2").unwrap_err(),
        Error::Ntlm
    );
    assert!(matches!(
        acc.accept(b"\x60\x03garbage").unwrap_err(),
        Error::Malformed { .. }
    ));

    // A ticket for another service (a device), offered to the portal.
    let (_, tgt) = password_sign_in(&acc, &env["LAB_PORTAL_SPN"], "erin", &env["LAB_PASSWORD"]).unwrap();
    let other = token_for(&tgt.cred, "HTTP/amt2.example.test:16992", false).unwrap();
    assert!(matches!(acc.accept(&other).unwrap_err(), Error::WrongService { .. }));

    // Replay: the same token twice.
    let tok = token_for(&tgt.cred, &env["LAB_PORTAL_SPN"], false).unwrap();
    acc.accept(&tok).expect("first use accepted");
    assert_eq!(acc.accept(&tok).unwrap_err(), Error::Replay);

    // Truncated.
    let e = acc.accept(&tok[..tok.len() / 2]).unwrap_err();
    assert!(matches!(e, Error::Malformed { .. }), "{e:?}");
}

#[test]
fn frank_has_a_ticket_over_amts_old_limit() {
    let Some(env) = lab() else { return };
    let acc = acceptor(&env);
    let (accepted, _) = password_sign_in(&acc, &env["LAB_PORTAL_SPN"], "frank", &env["LAB_PASSWORD"]).unwrap();
    let ticket = accepted.token.ticket_bytes.expect("ticket measured");
    assert!(
        kerberos::token::base64_len(ticket) > 4096,
        "frank's ticket is {ticket} bytes"
    );
    assert!(accepted.pac.unwrap().group_sids.len() > 400);
}

#[test]
fn constrained_delegation_acts_as_the_user_where_the_domain_allows_it() {
    let Some(env) = lab() else { return };
    let keytab = PathBuf::from(&env["LAB_PORTAL_KEYTAB"]);
    let svc = kerberos::ServiceIdentity::from_keytab(&keytab, &env["LAB_PORTAL_SPN"]).expect("service identity");

    // alice -> amt1: allowed. The device (devices keytab) sees alice's own PAC.
    let tok = svc
        .token_as("alice@EXAMPLE.TEST", "HTTP/amt1.example.test:16992")
        .expect("S4U2Proxy to amt1");
    let device = Acceptor::from_keytab(&PathBuf::from(&env["LAB_DEVICES_KEYTAB"])).unwrap();
    let seen = device.accept(&tok).expect("amt1 accepts the proxied ticket");
    assert_eq!(seen.client, "alice@EXAMPLE.TEST");
    let pac = seen.pac.expect("PAC");
    assert_eq!(pac.user_sid, env["LAB_SID_ALICE"]);
    assert!(pac.group_sids.contains(&env["LAB_SID_AMT_ADMINS"]));

    // Repeated use: the impersonation credential is cached, so S4U2Self is not asked again.
    let before = svc.s4u2self_requests();
    for _ in 0..5 {
        let tok = svc
            .token_as("alice@EXAMPLE.TEST", "HTTP/amt1.example.test:16992")
            .expect("again");
        assert_eq!(
            device.accept(&tok).expect("fresh authenticator each time").client,
            "alice@EXAMPLE.TEST"
        );
    }
    assert_eq!(svc.s4u2self_requests(), before, "no new S4U2Self for a cached user");

    // sam is "sensitive and cannot be delegated": refused, with the reason spelled out.
    let e = svc
        .token_as("sam@EXAMPLE.TEST", "HTTP/amt1.example.test:16992")
        .unwrap_err();
    assert_eq!(e.code(), "delegation_refused", "{e}");
    assert!(e.to_string().contains("sensitive and cannot be delegated"));

    // An SPN the service account may not delegate to: refused.
    let e = svc.token_as("alice@EXAMPLE.TEST", "host/dc1.example.test").unwrap_err();
    assert_eq!(e.code(), "delegation_refused", "{e}");
}
