//! `amt-sim`: runs a fleet of simulated AMT devices.
fn main() {}
