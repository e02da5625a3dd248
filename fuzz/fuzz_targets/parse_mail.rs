//! Raw bytes → the parser: never a panic, never a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod guard;
use loket::core::parse::{ParseOptions, parse};

fuzz_target!(|data: &[u8]| {
    guard::install();
    let opts = ParseOptions {
        timezone: chrono_tz::Asia::Jakarta,
        open_ended_hours: 4,
        now: chrono::DateTime::parse_from_rfc3339("2026-01-05T08:00:00+07:00").expect("time"),
    };
    let _ = parse(data, &opts);
});
