//! Issue 6's benchmark: applying a profile to many simulated devices (docs/BENCHMARKS.md,
//! "Applying a profile"). Prints figures; asserts nothing about time.
//!
//! Run with the lab up (e2e/lab/README.md):
//!
//! ```sh
//! set -a; . .lab/lab.env; set +a
//! LAB_ENV=$LAB_DIR/lab.env KRB5_CLIENT_KTNAME=$LAB_PORTAL_KEYTAB KRB5CCNAME=MEMORY:bench \
//!   cargo run --release -p server --example provision_bench [-- N]
//! ```
//!
//! One process: N (default 1000) fresh simulated devices (never provisioned for Kerberos, only
//! their Digest admin account) named `amt3000…` on 127.1.x.y:16992, registered in a new portal
//! state (`server::AppState`, real SQLite); one profile (AMT Admins: PT Administration, AMT
//! Helpdesk: Remote Control, Redirection and the read realms) in the lab's provisioning OU,
//! assigned to all, each device's Digest admin account stored sealed. alice (password sign-in:
//! the portal holds her TGT) starts an apply run on every device at once; the runner takes them
//! at most `MAX_CONCURRENT_RUNS` at a time, each run doing every step for real: the computer
//! object in AD with a fresh password, the read-back on every DC, the AES key and ACL written
//! to the device, redirection and consent, the clock, and the proof with alice's own ticket.
//!
//! Figures: total time, runs per second, outcome counts, and — from MIT's `KRB5_TRACE` of the
//! process (set before the first Kerberos call: the process runs itself again) — KDC requests
//! and LDAP GSSAPI binds per device. At the end every computer object it created is deleted.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use amt_sim::fleet::{Fleet, FleetConfig};
use amt_sim::seed::FleetSeed;
use leptos::config::LeptosOptions;
use server::AppState;
use server::auth::SessionUser;
use server::config::Config;
use server::provision::Starter;
use shared::profiles::{AccessScope, PrincipalKind, Profile, ProfileAclEntry, Realm};

/// Sealing key of the benchmark's own portal state (a temp directory, deleted after).
const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
/// The simulator's default Digest admin password.
const SIM_ADMIN_PASSWORD: &str = "P@ssw0rd";
/// First simulator index: amt3000 on 127.1.11.184 upwards (clear of the tests' addresses).
const FIRST_INDEX: u32 = 3000;

fn main() -> ExitCode {
    let Some(lab) = lab_env::load() else {
        eprintln!("provision_bench: the lab is not running (LAB_ENV): start it with e2e/lab/lab.sh up");
        return ExitCode::from(2);
    };
    let lab: HashMap<String, String> = lab.into_iter().collect();
    let n: u32 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    // KRB5_TRACE must be set before MIT's first context: run in a fresh process.
    let Ok(trace) = std::env::var("KRB5_TRACE") else {
        let trace = std::env::temp_dir().join(format!("provision-bench-{}.trace", std::process::id()));
        let status = std::process::Command::new(std::env::current_exe().expect("own path"))
            .args(std::env::args().skip(1))
            .env("KRB5_TRACE", &trace)
            .status();
        let _ = std::fs::remove_file(&trace);
        return match status {
            Ok(s) if s.success() => ExitCode::SUCCESS,
            _ => ExitCode::FAILURE,
        };
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match rt.block_on(run(&lab, n, PathBuf::from(trace))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("provision_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn state(lab: &HashMap<String, String>, dir: &std::path::Path) -> Result<AppState, String> {
    let key_file = dir.join("secret.key");
    std::fs::write(&key_file, KEY).map_err(|e| e.to_string())?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).map_err(|e| e.to_string())?;
    }
    let admins = lab["LAB_SID_AMT_ADMINS"].clone();
    let vars: HashMap<&str, String> = HashMap::from([
        ("PORTAL_KEYTAB", lab["LAB_PORTAL_KEYTAB"].clone()),
        ("PORTAL_TLS_CERT", lab["LAB_PORTAL_CERT"].clone()),
        ("PORTAL_TLS_KEY", lab["LAB_PORTAL_KEY"].clone()),
        ("PORTAL_PUBLIC_URL", "https://portal.example.test:8443".to_string()),
        ("PORTAL_DATABASE", dir.join("portal.sqlite").display().to_string()),
        ("PORTAL_LDAP_URL", lab["LAB_LDAP_URL"].clone()),
        ("PORTAL_LDAP_HOST", lab["LAB_DC_HOST"].clone()),
        ("PORTAL_DEVICE_OU", lab["LAB_PROVISION_OU"].clone()),
        ("PORTAL_SECRET_KEY_FILE", key_file.display().to_string()),
        ("PORTAL_ADMIN_GROUPS", admins),
        ("PORTAL_POLL_MINUTES", "0".to_string()),
    ]);
    let config = Config::from_lookup(|k| vars.get(k).cloned()).map_err(|e| e.to_string())?;
    let leptos = LeptosOptions::builder()
        .output_name("portal")
        .site_root("target/site")
        .build();
    AppState::new(config, leptos).await
}

fn alice(lab: &HashMap<String, String>) -> SessionUser {
    SessionUser {
        principal: format!("alice@{}", lab["LAB_REALM"]),
        account: "alice".into(),
        display_name: "alice".into(),
        sid: lab.get("LAB_SID_ALICE").cloned(),
        group_sids: vec![lab["LAB_SID_AMT_ADMINS"].clone()],
        method: shared::SignInMethod::Password,
        signed_in_at: "2026-12-05T00:00:00Z".into(),
        ticket_bytes: None,
        token_bytes: None,
        cred_handle: None,
        no_delegation_reason: None,
    }
}

/// Counts MIT trace lines: requests sent to the KDC, and GSSAPI contexts made for LDAP.
fn count_trace(path: &std::path::Path) -> (usize, usize) {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let kdc = text.lines().filter(|l| l.contains("Sending request")).count();
    let ldap = text
        .lines()
        .filter(|l| l.contains("Creating authenticator for") && l.contains("ldap/"))
        .count();
    (kdc, ldap)
}

async fn run(lab: &HashMap<String, String>, n: u32, trace: PathBuf) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("provision-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let st = state(lab, &dir).await?;

    let mut seed = FleetSeed::with_count(n);
    seed.defaults.fresh = Some(true);
    let t = Instant::now();
    let fleet = Fleet::start(FleetConfig {
        seed,
        port: 16992,
        first_index: FIRST_INDEX,
        ..FleetConfig::for_tests(n)
    })
    .await
    .map_err(|e| format!("simulator: {e}"))?;
    let mut csv = String::from("fqdn,address,port\n");
    let mut fqdns = Vec::new();
    for i in FIRST_INDEX..FIRST_INDEX + n {
        let d = fleet.device(i).ok_or("a simulated device is missing")?;
        let fqdn = format!("amt{i}.{}", lab["LAB_REALM"].to_lowercase());
        csv.push_str(&format!("{fqdn},{},{}\n", d.addr.ip(), d.addr.port()));
        fqdns.push(fqdn);
    }
    let report = server::registry::import_csv(&st.pool, &csv).await?;
    if report.added != n as usize {
        return Err(format!(
            "registered {} of {n} devices: {:?}",
            report.added, report.rejected
        ));
    }
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM devices ORDER BY id")
        .fetch_all(&st.pool)
        .await
        .map_err(|e| e.to_string())?;
    let profile = Profile {
        name: "Bench".into(),
        acl: vec![
            ProfileAclEntry {
                sid: lab["LAB_SID_AMT_ADMINS"].clone(),
                name: "AMT Admins".into(),
                kind: PrincipalKind::Group,
                realms: vec![Realm::PtAdministration],
                access: AccessScope::Both,
            },
            ProfileAclEntry {
                sid: lab["LAB_SID_AMT_HELPDESK"].clone(),
                name: "AMT Helpdesk".into(),
                kind: PrincipalKind::Group,
                realms: Realm::HELPDESK.to_vec(),
                access: AccessScope::Both,
            },
        ],
        device_ou: lab["LAB_PROVISION_OU"].clone(),
        ..Profile::default()
    };
    let pid = server::profiles::save(&st.pool, &profile, "bench")
        .await
        .map_err(|e| format!("profile: {e:?}"))?;
    server::profiles::assign(&st.pool, &ids, Some(pid))
        .await
        .map_err(|e| format!("assign: {e:?}"))?;
    let mut admin = alice(lab);
    for id in &ids {
        st.set_admin_account(&admin, *id, "admin", SIM_ADMIN_PASSWORD).await?;
    }
    let (acc, spn, pw) = (
        st.acceptor.clone(),
        st.config.service_principal.clone(),
        lab["LAB_PASSWORD"].clone(),
    );
    let tgt = tokio::task::spawn_blocking(move || kerberos::password_sign_in(&acc, &spn, "alice", &pw))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("alice's sign-in: {e}"))?
        .1;
    admin.cred_handle = Some(st.creds.insert(tgt));
    println!(
        "setup: {n} fresh simulated devices, registered, profile assigned, admin accounts stored in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let (kdc0, ldap0) = count_trace(&trace);
    let t = Instant::now();
    let mut runs = Vec::with_capacity(ids.len());
    for id in &ids {
        runs.push(
            st.start_run(Starter::User(Box::new(admin.clone())), *id, "apply", None)
                .await?,
        );
    }
    let mut done = 0usize;
    let mut failed = Vec::new();
    for run in &runs {
        loop {
            let v = server::provision::record::get(&st.pool, *run)
                .await
                .map_err(|e| format!("{e:?}"))?
                .ok_or("a run disappeared")?;
            if v.state.finished() {
                if v.state == shared::provision::RunState::Done {
                    done += 1;
                } else {
                    failed.push(v.summary);
                }
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let (kdc1, ldap1) = count_trace(&trace);
    let per = |x: usize| x as f64 / n as f64;
    println!(
        "apply: {n} devices in {secs:.1} s ({:.1} devices/s, {:.0} ms each at {} at a time)",
        n as f64 / secs,
        secs * 1000.0 / n as f64 * server::provision::MAX_CONCURRENT_RUNS as f64,
        server::provision::MAX_CONCURRENT_RUNS
    );
    println!("outcomes: {done} done, {} failed", failed.len());
    for f in failed.iter().take(5) {
        println!("  failed: {f}");
    }
    println!(
        "KDC requests: {} in all, {:.2} per device; LDAP GSSAPI binds: {} in all, {:.2} per device",
        kdc1 - kdc0,
        per(kdc1 - kdc0),
        ldap1 - ldap0,
        per(ldap1 - ldap0)
    );

    // Clean up: the computer objects the runs created.
    let t = Instant::now();
    let (conn, mut ldap) = ldap3::LdapConnAsync::new(&lab["LAB_LDAP_URL"])
        .await
        .map_err(|e| e.to_string())?;
    ldap3::drive!(conn);
    ldap.sasl_gssapi_bind(&lab["LAB_DC_HOST"])
        .await
        .map_err(|e| e.to_string())?
        .success()
        .map_err(|e| e.to_string())?;
    let mut deleted = 0;
    for fqdn in &fqdns {
        let host = fqdn.split('.').next().unwrap_or_default();
        let dn = format!("CN={host},{}", lab["LAB_PROVISION_OU"]);
        if ldap.delete(&dn).await.is_ok_and(|r| r.rc == 0) {
            deleted += 1;
        }
    }
    let _ = ldap.unbind().await;
    println!(
        "cleanup: {deleted} computer objects deleted in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    fleet.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
