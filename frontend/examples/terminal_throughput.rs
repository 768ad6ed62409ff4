//! How fast the console's terminal emulator eats serial output: feeds about 1 MB of what a
//! busy console sends (coloured text, cursor moves, clears, scrolling regions, UTF-8, CP437
//! frames) in 4 KB chunks, as WebSocket frames arrive, and prints the rate.
//!
//! Run with `cargo run --release -p frontend --features ssr --example terminal_throughput`.

use frontend::terminal::Terminal;

fn main() {
    let data = sample(1 << 20);
    let mut best = f64::MAX;
    for _ in 0..5 {
        let mut t = Terminal::default();
        let start = std::time::Instant::now();
        for piece in data.chunks(4096) {
            t.feed(piece);
            let _ = t.take_dirty();
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "terminal emulator: {} bytes in {:.2} ms (best of 5) = {:.0} MB/s",
        data.len(),
        best * 1000.0,
        data.len() as f64 / best / 1e6
    );
}

/// At least `size` bytes of mixed console output.
fn sample(size: usize) -> Vec<u8> {
    let mut chunk = Vec::new();
    for i in 0..200 {
        chunk.extend_from_slice(
            format!(
                "\x1b[{};{}H\x1b[1;3{}mItem {i:03}\x1b[0m ─ Grüße ",
                i % 25 + 1,
                i % 60 + 1,
                i % 8
            )
            .as_bytes(),
        );
        chunk.extend_from_slice(b"\xc9\xcd\xcd\xbb plain text for the line, long enough to matter\r\n");
        if i % 50 == 0 {
            chunk.extend_from_slice(b"\x1b[2J\x1b[5;20r\x1b[K\x1b[2L\x1b[3P\x1b[r");
        }
    }
    let mut data = Vec::with_capacity(size + chunk.len());
    while data.len() < size {
        data.extend_from_slice(&chunk);
    }
    data
}
