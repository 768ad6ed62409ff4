//! For tests only: the lab Active Directory's settings, read from the `lab.env` that
//! `e2e/lab/lab.sh up` writes, named by the `LAB_ENV` variable.
//!
//! The rule every lab test follows: without `LAB_ENV` the test says so and returns (a developer's
//! quick `cargo test`), unless `REQUIRE_LAB` is set, as the README's test command (and so CI)
//! does: then a missing lab is a failure, and nothing is skipped. `KRB5_CONFIG` must already be
//! in the environment when the test process starts (MIT reads it once per process).

use std::collections::HashMap;

/// The lab's settings: `LAB_REALM`, `LAB_PASSWORD`, `LAB_SID_ALICE`, … (see e2e/lab/README.md).
pub type Lab = HashMap<String, String>;

/// The lab's settings, or `None` (after saying why) when no lab is configured and none is required.
///
/// # Panics
/// When `REQUIRE_LAB` is set and `LAB_ENV` is not, when `KRB5_CONFIG` is missing, or when the
/// file cannot be read: each is a broken test set-up, reported as such.
pub fn load() -> Option<Lab> {
    let Ok(path) = std::env::var("LAB_ENV") else {
        assert!(
            std::env::var_os("REQUIRE_LAB").is_none(),
            "REQUIRE_LAB is set but LAB_ENV is not: start the lab (e2e/lab/lab.sh up)"
        );
        eprintln!("LAB_ENV not set: lab test not run (run the README's test command)");
        return None;
    };
    assert!(
        std::env::var_os("KRB5_CONFIG").is_some(),
        "KRB5_CONFIG must be exported from lab.env before the tests start"
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("LAB_ENV={path} cannot be read: {e}"));
    Some(parse(&text))
}

/// Parses `export NAME='value'` lines.
pub fn parse(text: &str) -> Lab {
    text.lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.trim_matches('\'').to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_exports() {
        let lab =
            super::parse("# comment\nexport LAB_REALM='EXAMPLE.TEST'\nexport LAB_PASSWORD='Passw0rd!Lab'\nother\n");
        assert_eq!(lab["LAB_REALM"], "EXAMPLE.TEST");
        assert_eq!(lab["LAB_PASSWORD"], "Passw0rd!Lab");
        assert_eq!(lab.len(), 2);
    }
}
