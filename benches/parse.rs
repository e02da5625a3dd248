//! Parse throughput on one thread over a corpus of `.eml` files held in memory.
//!
//! `cargo bench --bench parse` reads every `.eml` under `$LOKET_CORPUS` (default
//! `../shared/corpus/dev` from the crate root) and reports mails per second, separately
//! for mails without and with PDF attachments (PDF text extraction dominates the cost of
//! the latter), and the median time per mail. Target: at least 2,000 mails/s without PDFs.

use chrono::DateTime;
use loket::core::parse::{ParseOptions, parse};
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn has_pdf(raw: &[u8]) -> bool {
    let lower: Vec<u8> = raw.iter().map(u8::to_ascii_lowercase).collect();
    lower.windows(15).any(|w| w == b"application/pdf") || lower.windows(5).any(|w| w == b".pdf\"")
}

fn measure(name: &str, mails: &[Vec<u8>], opts: &ParseOptions) {
    if mails.is_empty() {
        println!("{name}: no mails");
        return;
    }
    // Warm up (regexes compile on first use), then run for about two seconds.
    for m in mails {
        black_box(parse(m, opts));
    }
    let mut per_mail: Vec<Duration> = Vec::new();
    let budget = Duration::from_secs(2);
    let start = Instant::now();
    let mut count = 0usize;
    while start.elapsed() < budget {
        for m in mails {
            let t = Instant::now();
            black_box(parse(black_box(m), opts));
            per_mail.push(t.elapsed());
            count += 1;
        }
    }
    let total = start.elapsed();
    per_mail.sort();
    let median = per_mail[per_mail.len() / 2];
    println!(
        "{name}: {} mails, {count} parses in {:.2?}: {:.0} mails/s, median {:.1?} per mail",
        mails.len(),
        total,
        count as f64 / total.as_secs_f64(),
        median
    );
}

fn main() {
    let dir = std::env::var_os("LOKET_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/dev"));
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => {
            rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect()
        }
        Err(e) => {
            eprintln!("cannot read the corpus {}: {e} (set LOKET_CORPUS to a directory of .eml files)", dir.display());
            return;
        }
    };
    files.sort();
    let mails: Vec<Vec<u8>> = files.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    let (with_pdf, without): (Vec<Vec<u8>>, Vec<Vec<u8>>) = mails.into_iter().partition(|m| has_pdf(m));
    let opts = ParseOptions {
        timezone: chrono_tz::Asia::Jakarta,
        open_ended_hours: 4,
        now: DateTime::parse_from_rfc3339("2026-01-01T09:00:00+07:00").expect("fixed clock"),
    };
    println!("corpus: {}", dir.display());
    measure("without PDF", &without, &opts);
    measure("with PDF", &with_pdf, &opts);
}
