//! Fleet benchmark (issue 4): refreshing the power state of N simulated devices (default
//! 10,000) that each answer after a fixed latency (default 50 ms), through the portal's own
//! refresh code (`server::fleet::poll::refresh`), with its concurrency bound; then the fleet
//! list's query times over the same N rows.
//!
//! Run with `cargo run --release -p server --example fleet_bench -- [devices] [latency_ms] [concurrency]`.
//! The simulated devices are Digest-only: 10,000 device SPNs do not exist in the lab AD, so the
//! poller authenticates with Digest here (one extra round trip per device on the first request:
//! the 401 challenge) and with the portal's Kerberos identity in production. Prints figures;
//! asserts nothing about time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use amt::client::Auth;
use amt_sim::fleet::{Fleet as SimFleet, FleetConfig};
use amt_sim::state::Faults;
use server::fleet::Fleet;
use server::fleet::poll::{self, AuthFor, PollSettings};
use server::registry::Device;
use shared::{FleetQuery, Health, SortKey};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

async fn refresh_once(
    fleet: &Arc<Fleet>,
    devices: &Arc<Vec<Device>>,
    auth: &AuthFor,
    settings: PollSettings,
    label: &str,
) {
    let job = fleet
        .begin_refresh(devices.len(), "benchmark")
        .expect("no refresh running");
    let peak = Arc::new(AtomicU64::new(rss_kib()));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, stop) = (peak.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let before = rss_kib();
    let t = Instant::now();
    poll::refresh(fleet.clone(), devices.clone(), auth.clone(), settings, job.clone()).await;
    let took = t.elapsed();
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.await;
    let p = job.progress();
    let page = fleet.page_of(devices, &FleetQuery::default());
    println!(
        "{label}: {} devices in {:.2} s ({:.0} devices/s), {} failed; health: on {}, off {}, unreachable {}, error {}; RSS {} MiB before, peak {} MiB",
        p.total,
        took.as_secs_f64(),
        p.total as f64 / took.as_secs_f64(),
        p.failed,
        page.counts.get(Health::On),
        page.counts.get(Health::Off),
        page.counts.get(Health::Unreachable),
        page.counts.get(Health::Error),
        before / 1024,
        peak.load(Ordering::Relaxed) / 1024
    );
}

fn time_query(fleet: &Fleet, devices: &[Device], label: &str, q: FleetQuery) {
    let rounds = 50;
    let t = Instant::now();
    let mut matching = 0;
    for _ in 0..rounds {
        matching = fleet.page_of(devices, &q).matching;
    }
    println!(
        "query {label:<34} {:>7.2} ms per page ({matching} matching)",
        t.elapsed().as_secs_f64() * 1000.0 / rounds as f64
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let count: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let latency_ms: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let concurrency: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(128);
    let limit = rlimit::increase_nofile_limit(u64::MAX)?;
    println!("open-file limit {limit}; {count} devices, {latency_ms} ms device latency, {concurrency} checks at once");

    let sim = SimFleet::start(FleetConfig::for_tests(count)).await?;
    for d in sim.devices() {
        d.set_faults(Faults {
            latency_ms,
            ..Faults::default()
        });
    }
    let devices: Arc<Vec<Device>> = Arc::new(
        sim.devices()
            .iter()
            .map(|d| Device {
                id: i64::from(d.index),
                fqdn: format!("amt{}.example.test", d.index),
                address: d.addr.ip().to_string(),
                wsman_port: i64::from(d.addr.port()),
                tls: false,
                site: format!("site{}", d.index % 40),
                tags: if d.index.is_multiple_of(3) {
                    "desk".into()
                } else {
                    String::new()
                },
                source: "csv".into(),
            })
            .collect(),
    );
    println!("simulator started; RSS {} MiB", rss_kib() / 1024);
    let auth: AuthFor = Arc::new(|_| Auth::Digest {
        user: "admin".into(),
        password: "P@ssw0rd".into(),
    });
    let settings = PollSettings {
        concurrency,
        timeout: Duration::from_secs(10),
    };
    let fleet = Arc::new(Fleet::default());
    refresh_once(
        &fleet,
        &devices,
        &auth,
        settings,
        "first refresh (power, version, control mode)",
    )
    .await;
    refresh_once(&fleet, &devices, &auth, settings, "second refresh (power only)").await;

    time_query(&fleet, &devices, "first page, by name", FleetQuery::default());
    time_query(
        &fleet,
        &devices,
        "search \"site7 desk\"",
        FleetQuery {
            search: "site7 desk".into(),
            ..FleetQuery::default()
        },
    );
    time_query(
        &fleet,
        &devices,
        "by AMT version, descending",
        FleetQuery {
            sort: SortKey::AmtVersion,
            descending: true,
            ..FleetQuery::default()
        },
    );
    time_query(
        &fleet,
        &devices,
        "state On, page 40 of 100 rows",
        FleetQuery {
            health: Some(Health::On),
            page: 40,
            ..FleetQuery::default()
        },
    );
    sim.shutdown().await;
    Ok(())
}
