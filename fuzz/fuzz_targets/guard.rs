//! The parser runs the PDF library under `catch_unwind`, by design: that library panics on
//! malformed files, and a panic there must cost one attachment, not the mail. libFuzzer's
//! hook turns every panic into an abort; this one lets exactly those caught panics unwind
//! and aborts on any other — a panic in loket's own code is still a crash.

use std::sync::Once;

pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let file = info.location().map(|l| l.file()).unwrap_or("");
            if file.contains("/pdf-extract-") || file.contains("/lopdf-") {
                return;
            }
            eprintln!("{info}");
            std::process::abort();
        }));
    });
}
