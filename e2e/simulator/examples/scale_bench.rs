//! Scale benchmark: start N devices (default 10,000) in one process, report start time and
//! RSS per device, then Digest-authenticated Gets against many devices from an in-process
//! client for a bounded time.
//!
//! Run with `cargo run -p amt-sim --release --example scale_bench -- [devices] [seconds] [clients]`.

use std::time::{Duration, Instant};

use amt_sim::client::WsmanClient;
use amt_sim::fleet::{Fleet, FleetConfig};

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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let devices: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(5).min(60);
    let clients: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(64).max(1);
    let limit = rlimit::increase_nofile_limit(u64::MAX)?;
    println!("open-file limit: {limit}");

    let before = rss_kib();
    let t = Instant::now();
    let fleet = Fleet::start(FleetConfig::for_tests(devices)).await?;
    let start = t.elapsed();
    let after = rss_kib();
    println!(
        "started {devices} devices in {:.2} s; RSS {} MiB -> {} MiB, {:.1} KiB per device",
        start.as_secs_f64(),
        before / 1024,
        after / 1024,
        (after.saturating_sub(before)) as f64 / devices as f64
    );

    let req = amt::wsman::Request::get("AMT_GeneralSettings").to_xml(1);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for k in 0..clients {
        let addrs: Vec<_> = fleet
            .devices()
            .iter()
            .skip(k as usize)
            .step_by(clients as usize)
            .map(|d| d.addr)
            .collect();
        let req = req.clone();
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut failed) = (0u64, 0u64);
            let mut conns: Vec<WsmanClient> = Vec::new();
            // A window of up to 16 devices with one keep-alive connection each; every 200
            // requests the window moves on (new connections, new Digest handshakes).
            let width = addrs.len().min(16);
            let (mut window, mut i) = (0usize, 0usize);
            while Instant::now() < deadline && !addrs.is_empty() {
                let j = i % width;
                if conns.len() <= j {
                    let addr = addrs[(window + j) % addrs.len()];
                    conns.push(WsmanClient::digest(addr, "admin", "P@ssw0rd"));
                }
                match conns[j].post(&req).await {
                    Ok(r) if r.status == 200 => ok += 1,
                    _ => failed += 1,
                }
                i += 1;
                if i == 200 {
                    conns.clear();
                    i = 0;
                    window += width;
                }
            }
            (ok, failed)
        }));
    }
    let (mut ok, mut failed) = (0, 0);
    for t in tasks {
        let (o, f) = t.await?;
        ok += o;
        failed += f;
    }
    println!(
        "{ok} Gets in {seconds} s with {clients} client tasks: {:.0} requests/s ({failed} failed); RSS now {} MiB",
        ok as f64 / seconds as f64,
        rss_kib() / 1024
    );
    fleet.shutdown().await;
    Ok(())
}
