//! Parse throughput over all captured fixtures.
//!
//! Run with `cargo run --release -p amt --example parse_bench`. Prints MB/s and responses/s
//! for the generic envelope parser; no assertions (timings vary by machine).

use std::time::Instant;

#[path = "../tests/common/mod.rs"]
mod common;

fn main() {
    let files = common::all_fixtures();
    let docs: Vec<String> = files.iter().filter_map(|f| std::fs::read_to_string(f).ok()).collect();
    let bytes: usize = docs.iter().map(String::len).sum();
    let rounds = 200;
    let start = Instant::now();
    let mut elements = 0usize;
    for _ in 0..rounds {
        for d in &docs {
            if let Ok(env) = amt::wsman::Envelope::parse(d) {
                elements += env.body.count();
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let total = (docs.len() * rounds) as f64;
    println!(
        "{} fixtures ({} bytes) x {rounds} rounds in {secs:.3} s: {:.1} MB/s, {:.0} responses/s ({elements} body elements)",
        docs.len(),
        bytes,
        (bytes * rounds) as f64 / secs / 1e6,
        total / secs
    );
}
