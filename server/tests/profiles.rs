//! Against the lab AD: provisioning profiles as an administrator would save them (every SID
//! checked in the directory), refused for others, with the store's rules (33 entries, a user or
//! group that does not resolve, a used profile not deleted), and the directory type-ahead.
//!
//! Run with `KRB5_CLIENT_KTNAME` naming the lab's portal keytab (`./dev test` sets it).

#[allow(dead_code, reason = "shared test helpers: this file uses only some")]
mod common;

use common::TestApp;
use server::auth::SessionUser;
use shared::SignInMethod;
use shared::profiles::{AccessScope, PrincipalKind, Profile, ProfileAclEntry, Realm, SaveOutcome};

fn user_in(name: &str, groups: &[&str]) -> SessionUser {
    SessionUser {
        principal: format!("{name}@EXAMPLE.TEST"),
        account: name.into(),
        display_name: name.into(),
        sid: None,
        group_sids: groups.iter().map(|g| g.to_string()).collect(),
        method: SignInMethod::Password,
        signed_in_at: "2026-12-05T00:00:00Z".into(),
        ticket_bytes: None,
        token_bytes: None,
        cred_handle: None,
        no_delegation_reason: None,
    }
}

fn entry(sid: &str, name: &str, realms: &[Realm]) -> ProfileAclEntry {
    ProfileAclEntry {
        sid: sid.into(),
        name: name.into(),
        kind: PrincipalKind::Group,
        realms: realms.to_vec(),
        access: AccessScope::Both,
    }
}

fn lab_profile(app: &TestApp) -> Profile {
    Profile {
        name: "Lab devices".into(),
        acl: vec![
            entry(
                &app.lab["LAB_SID_AMT_ADMINS"],
                "typed name is replaced",
                &Realm::ADMINISTRATOR,
            ),
            entry(&app.lab["LAB_SID_AMT_HELPDESK"], "AMT Helpdesk", &Realm::HELPDESK),
            entry(&app.lab["LAB_SID_AMT_VIEWERS"], "AMT Viewers", &Realm::READ),
        ],
        device_ou: format!("OU=AMT Devices,{}", app.lab["LAB_BASE_DN"]),
        ..Profile::default()
    }
}

#[tokio::test]
async fn an_admin_saves_a_profile_whose_sids_resolve() {
    let Some(app) = TestApp::new("profiles-save").await else {
        return;
    };
    let alice = user_in("alice", &[&app.lab["LAB_SID_AMT_ADMINS"]]);
    let saved = app.state.save_profile(&alice, lab_profile(&app)).await.unwrap();
    let SaveOutcome::Saved { id, .. } = saved else {
        panic!("{saved:?}")
    };
    let p = app.state.profile(&alice, id).await.unwrap();
    let names: Vec<(&str, PrincipalKind)> = p.acl.iter().map(|e| (e.name.as_str(), e.kind)).collect();
    assert_eq!(
        names,
        [
            ("AMT Admins", PrincipalKind::Group),
            ("AMT Helpdesk", PrincipalKind::Group),
            ("AMT Viewers", PrincipalKind::Group)
        ],
        "names and kinds come from the directory"
    );
    assert_eq!(p.acl[1].realms, Realm::HELPDESK);
    // A user entry (bob) resolves as a user.
    let mut more = p.clone();
    more.acl.push(ProfileAclEntry {
        kind: PrincipalKind::Group,
        ..entry(&app.lab["LAB_SID_BOB"], "bob", &Realm::READ)
    });
    assert!(matches!(
        app.state.save_profile(&alice, more).await.unwrap(),
        SaveOutcome::Saved { .. }
    ));
    let p = app.state.profile(&alice, id).await.unwrap();
    assert_eq!((p.acl[3].name.as_str(), p.acl[3].kind), ("bob", PrincipalKind::User));
    let audit = server::audit::latest(&app.state.pool, 5).await.unwrap();
    assert!(
        audit.iter().any(|e| e.action == "profile: create"
            && e.principal.as_deref() == Some("alice@EXAMPLE.TEST")
            && e.detail.as_deref().is_some_and(|d| d.contains("AMT Helpdesk"))),
        "{audit:?}"
    );
    assert!(audit.iter().any(|e| e.action == "profile: update"));
}

#[tokio::test]
async fn a_sid_that_does_not_resolve_and_a_33rd_entry_are_refused() {
    let Some(app) = TestApp::new("profiles-refused").await else {
        return;
    };
    let alice = user_in("alice", &[&app.lab["LAB_SID_AMT_ADMINS"]]);
    let mut p = lab_profile(&app);
    let ghost = format!("{}-99999", app.lab["LAB_DOMAIN_SID"]);
    p.acl.push(entry(&ghost, "Old Group", &Realm::READ));
    let SaveOutcome::Problems(problems) = app.state.save_profile(&alice, p.clone()).await.unwrap() else {
        panic!("saved with a SID the directory does not know")
    };
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].field, "acl.3");
    assert!(
        problems[0].message.contains("does not resolve") && problems[0].message.contains(&ghost),
        "{}",
        problems[0].message
    );
    // A computer account is not a user or group for a profile.
    let mut p2 = lab_profile(&app);
    p2.acl.push(entry(&app.lab["LAB_SID_AMT1"], "amt1$", &Realm::READ));
    let SaveOutcome::Problems(problems) = app.state.save_profile(&alice, p2).await.unwrap() else {
        panic!("saved with a computer account")
    };
    assert_eq!(problems[0].field, "acl.3");

    p.acl = (0..33)
        .map(|i| {
            entry(
                &format!("{}-{}", app.lab["LAB_DOMAIN_SID"], 5000 + i),
                "g",
                &Realm::READ,
            )
        })
        .collect();
    let SaveOutcome::Problems(problems) = app.state.save_profile(&alice, p).await.unwrap() else {
        panic!("saved 33 entries")
    };
    assert_eq!(problems[0].field, "acl");
    assert!(problems[0].message.contains("at most 32"), "{}", problems[0].message);
    assert!(
        server::profiles::list(&app.state.pool).await.unwrap().is_empty(),
        "nothing half-saved"
    );
    let audit = server::audit::latest(&app.state.pool, 3).await.unwrap();
    assert!(
        audit
            .iter()
            .all(|e| e.action == "profile: save" && e.result == "refused")
    );
}

#[tokio::test]
async fn only_admins_and_a_used_profile_is_not_deleted() {
    let Some(app) = TestApp::new("profiles-delete").await else {
        return;
    };
    server::registry::import_csv(&app.state.pool, "fqdn\namt1.example.test\namt2.example.test\n")
        .await
        .unwrap();
    let alice = user_in("alice", &[&app.lab["LAB_SID_AMT_ADMINS"]]);
    let bob = user_in("bob", &[&app.lab["LAB_SID_AMT_HELPDESK"]]);
    let e = app.state.save_profile(&bob, lab_profile(&app)).await.unwrap_err();
    assert!(e.contains("only members of AMT Admins"), "{e}");
    assert!(app.state.profiles_list(&bob).await.is_err());
    assert!(app.state.search_principals(&bob, "AMT").await.is_err());
    assert!(app.state.assign_profile(&bob, None, &[1]).await.is_err());
    assert!(!app.state.device_profile(&bob, 1).await.unwrap().allowed);

    let SaveOutcome::Saved { id, .. } = app.state.save_profile(&alice, lab_profile(&app)).await.unwrap() else {
        panic!()
    };
    let m = app.state.assign_profile(&alice, Some(id), &[1]).await.unwrap();
    assert!(m.contains("amt1.example.test"), "{m}");
    assert_eq!(
        server::profiles::for_device(&app.state.pool, 1)
            .await
            .unwrap()
            .unwrap()
            .id,
        id
    );
    let view = app.state.device_profile(&alice, 1).await.unwrap();
    assert_eq!((view.allowed, view.current), (true, Some(id)));
    let e = app.state.delete_profile(&alice, id).await.unwrap_err();
    assert!(e.contains("used by amt1.example.test"), "{e}");
    app.state.assign_profile(&alice, None, &[1]).await.unwrap();
    assert!(app.state.delete_profile(&alice, id).await.unwrap().contains("deleted"));
    let audit = server::audit::latest(&app.state.pool, 10).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.action == "profile: delete" && e.result == "refused")
    );
    assert!(audit.iter().any(|e| e.action == "profile: delete" && e.result == "ok"));
    assert!(
        audit
            .iter()
            .any(|e| e.action == "profile: assign" && e.target.as_deref() == Some("amt1.example.test"))
    );
}

#[tokio::test]
async fn the_directory_finds_users_and_groups_by_prefix() {
    let Some(app) = TestApp::new("profiles-search").await else {
        return;
    };
    let dir = app.state.directory.clone().expect("directory configured");
    let found = dir.search_principals("AMT Help").await.unwrap();
    let helpdesk = found
        .iter()
        .find(|p| p.name == "AMT Helpdesk")
        .expect("AMT Helpdesk found");
    assert_eq!(
        (helpdesk.sid.as_str(), helpdesk.kind),
        (app.lab["LAB_SID_AMT_HELPDESK"].as_str(), PrincipalKind::Group)
    );
    let found = dir.search_principals("bo").await.unwrap();
    let bob = found.iter().find(|p| p.name == "bob").expect("bob found");
    assert_eq!(
        (bob.sid.as_str(), bob.kind),
        (app.lab["LAB_SID_BOB"].as_str(), PrincipalKind::User)
    );
    let amt = dir.search_principals("amt").await.unwrap();
    assert!(amt.iter().any(|p| p.name == "AMT Viewers"));
    assert!(
        amt.iter().all(|p| !p.name.ends_with('$')),
        "computers are not offered: {amt:?}"
    );
    assert!(amt.len() <= server::directory::MAX_SEARCH_RESULTS);
    assert!(dir.search_principals("*").await.unwrap().is_empty(), "a * is literal");
    assert!(dir.search_principals(")(cn=*").await.unwrap().is_empty());
    assert!(dir.search_principals("  ").await.unwrap().is_empty());
    assert_eq!(
        dir.resolve_sid(&app.lab["LAB_SID_ALICE"]).await.unwrap().unwrap().name,
        "alice"
    );
    assert!(
        dir.resolve_sid(&format!("{}-99999", app.lab["LAB_DOMAIN_SID"]))
            .await
            .unwrap()
            .is_none()
    );
}
