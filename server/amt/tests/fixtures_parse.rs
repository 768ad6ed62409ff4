//! (a) Every captured AMT response parses with the generic namespace-aware parser.

mod common;

use amt::wsman::{Element, Envelope};

#[test]
fn all_297_fixtures_parse() {
    let files = common::all_fixtures();
    assert_eq!(files.len(), 297, "fixture count");
    let mut failures = Vec::new();
    for f in &files {
        let xml = std::fs::read_to_string(f).expect("read");
        match Envelope::parse(&xml) {
            Ok(env) => {
                assert!(!env.header.message_id.is_empty(), "{}", f.display());
                assert!(!env.header.action.is_empty(), "{}", f.display());
            }
            Err(e) => failures.push(format!("{}: {e}", f.display())),
        }
        assert!(Element::parse(&xml).is_ok());
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    for bad in [
        "",
        "<",
        "<a:x/>",
        "<x></y>",
        "<?xml version=\"1.0\"?>",
        "&bogus;",
        "<a>&bogus;</a>",
        "<x xmlns:p='u'><p:y></x>",
    ] {
        assert!(Envelope::parse(bad).is_err(), "{bad:?}");
    }
}
