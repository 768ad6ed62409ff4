//! Shared helpers for integration tests: reading the in-repo fixtures.
// `allow`, not `expect`: each test crate uses a different subset, so an expectation would be
// unfulfilled in some of them.
#![allow(dead_code, reason = "each test crate uses a different subset of the helpers")]

use std::path::{Path, PathBuf};

/// The fixture folder inside the repository.
pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Reads one fixture (path relative to the fixture folder).
pub fn fixture(rel: &str) -> String {
    let p = fixture_dir().join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

/// All `.xml` fixtures, sorted.
pub fn all_fixtures() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "xml") {
                out.push(p);
            }
        }
    }
    let mut v = Vec::new();
    walk(&fixture_dir(), &mut v);
    v.sort();
    v
}
