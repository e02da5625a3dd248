//! Story: every input the fuzzers ever crashed on is replayed through the whole desk — the
//! parser, the decision, the rendered answers, the store — and each gets an outcome.
//! (`fuzz/` holds the targets; a crash found there is copied into tests/fixtures/fuzz/.)

mod support;

use loket::shell::desk::Desk;
use loket::shell::store::Store;
use std::path::Path;

#[test]
fn every_past_fuzz_crash_is_decided_and_recorded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = support::desk::example_config(dir.path());
    let desk = Desk::new(&config).expect("desk");
    let mut store = Store::open(&config.database).expect("store");
    let now = chrono::DateTime::parse_from_rfc3339("2026-01-05T08:00:00+07:00").expect("time").to_utc();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let mut n = 0;
    for entry in std::fs::read_dir(&fixtures).expect("fixtures") {
        let path = entry.expect("entry").path();
        let raw = std::fs::read(&path).expect("read");
        let handled = desk.handle_mail(&mut store, &raw, now).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!handled.outcome.is_empty(), "{}", path.display());
        n += 1;
    }
    assert!(n >= 2, "the regression inputs are there");
}
