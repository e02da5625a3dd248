//! User story: staff send requests in the layouts they already use (a nota dinas, an
//! Outlook table, a forwarded invitation, a calendar invite, a PDF or .txt attachment),
//! and approvers and admins answer from whatever mail client they have. Every fixture in
//! tests/fixtures/parse/ is a mail written for this test with its expected reading beside
//! it (NAME.eml, NAME.json); `make_fixtures.py` there regenerates them.

use chrono::{DateTime, SecondsFormat};
use loket::core::parse::{ParseOptions, Parsed, Problem, parse};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

fn opts() -> ParseOptions {
    ParseOptions {
        timezone: chrono_tz::Asia::Jakarta,
        open_ended_hours: 4,
        now: DateTime::parse_from_rfc3339("2026-01-01T09:00:00+07:00").expect("fixed clock"),
    }
}

fn problem_code(p: &Problem) -> &'static str {
    match p {
        Problem::NoSuchDate { .. } => "no_such_date",
        Problem::EndBeforeStart { .. } => "end_before_start",
        Problem::Ambiguous { .. } => "ambiguous",
        Problem::WeekdayMismatch { .. } => "weekday_mismatch",
        Problem::RangeTooLong { .. } => "range_too_long",
        Problem::PastDate => "past_date",
        Problem::MissingTime => "missing_time",
        Problem::MissingDate => "missing_date",
        Problem::UnreadableAttachment { .. } => "unreadable_attachment",
    }
}

fn check(name: &str, got: &Parsed, want: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    let mut diff = |what: &str, g: String, w: String| {
        if g != w {
            diffs.push(format!("{name}: {what}: got {g}, want {w}"));
        }
    };
    diff("intent", got.intent.as_str().to_string(), want["intent"].as_str().unwrap_or("").to_string());
    let sessions: Vec<String> = got
        .sessions
        .iter()
        .map(|s| {
            let end =
                if s.open_ended() { "open".to_string() } else { s.end().to_rfc3339_opts(SecondsFormat::Secs, false) };
            format!("{} {end}", s.start().to_rfc3339_opts(SecondsFormat::Secs, false))
        })
        .collect();
    let want_sessions: Vec<String> = want["sessions"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| {
                    let end =
                        if s["open_ended"].as_bool() == Some(true) { "open" } else { s["end"].as_str().unwrap_or("") };
                    format!("{} {end}", s["start"].as_str().unwrap_or(""))
                })
                .collect()
        })
        .unwrap_or_default();
    diff("sessions", format!("{sessions:?}"), format!("{want_sessions:?}"));
    diff(
        "participants",
        format!("{:?}", got.participants),
        format!("{:?}", want["participants"].as_u64().map(|n| n as u32)),
    );
    if let Some(reason) = want.get("reason") {
        diff("reason", format!("{:?}", got.reason), format!("{:?}", reason.as_str()));
    }
    if let Some(title) = want.get("title") {
        diff("title", format!("{:?}", got.title), format!("{:?}", title.as_str()));
    }
    if let Some(problems) = want.get("problems") {
        let codes: Vec<&str> = got.problems.iter().map(problem_code).collect();
        let want_codes: Vec<&str> =
            problems.as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        diff("problems", format!("{codes:?}"), format!("{want_codes:?}"));
    }
    if let Some(dates) = want.get("partial_dates") {
        let got_dates: Vec<String> = got.partial.dates.iter().map(|d| d.to_string()).collect();
        let want_dates: Vec<String> = dates
            .as_array()
            .map(|a| a.iter().filter_map(|d| d.as_str().map(String::from)).collect())
            .unwrap_or_default();
        diff("partial dates", format!("{got_dates:?}"), format!("{want_dates:?}"));
    }
    diffs
}

#[test]
fn every_layout_reads_as_expected() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parse");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixture directory")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".eml").map(String::from))
        .collect();
    names.sort();
    assert!(names.len() >= 20, "fixtures missing in {}", dir.display());
    let mut failures = Vec::new();
    for name in &names {
        let raw = std::fs::read(dir.join(format!("{name}.eml"))).expect("fixture mail");
        let want: Value =
            serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.json"))).expect("fixture json"))
                .expect("valid json");
        failures.extend(check(name, &parse(&raw, &opts()), &want));
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

/// Hostile input: every case must come back, quickly, with some reading.
#[test]
fn hostile_mail_returns_quickly() {
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("no headers", b"just text 12 Januari 2026 pukul 09.00".to_vec()),
        ("invalid utf-8", vec![0xff, 0xfe, b'\n', 0xc3, 0x28, b'\n', 0x80]),
        ("no from no date", b"Subject: Pinjam Zoom\r\n\r\nMohon zoom besok pukul 9-11".to_vec()),
        ("unknown charset", b"From: a@b.test\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\n\xe9\xe8 pukul 09.00".to_vec()),
        ("broken base64", b"From: a@b.test\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!====@@@@".to_vec()),
        ("broken ics", b"From: a@b.test\r\nContent-Type: text/calendar\r\n\r\nBEGIN:VEVENT\r\nDTSTART;TZID=\"x:\r\nRRULE:FREQ=DAILY;COUNT=4294967296\r\n".to_vec()),
    ];
    let mut long = b"From: a@b.test\r\nSubject: x\r\n\r\n".to_vec();
    for i in 0..100_000 {
        long.extend_from_slice(
            format!("baris {i}: 12 s.d. 14 Januari 2026 pukul 09.00 - setuju batal tolak 1.000 peserta\n").as_bytes(),
        );
    }
    cases.push(("100,000 lines", long));
    let mut nested = b"From: a@b.test\r\nContent-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n".to_vec();
    for d in 1..=100 {
        nested.extend_from_slice(
            format!("--b{}\r\nContent-Type: multipart/mixed; boundary=\"b{d}\"\r\n\r\n", d - 1).as_bytes(),
        );
    }
    nested.extend_from_slice(b"--b100\r\nContent-Type: text/plain\r\n\r\nSenin, 12 Januari 2026 pukul 09.00-11.00\r\n");
    cases.push(("MIME nested 100 deep", nested));
    let mut big = b"From: a@b.test\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nlihat lampiran\r\n--x\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n".to_vec();
    let line = b"JVBERi0xLjQKJeLjz9MK".repeat(4);
    while big.len() < 25 * 1024 * 1024 {
        big.extend_from_slice(&line);
        big.extend_from_slice(b"\r\n");
    }
    big.extend_from_slice(b"--x--\r\n");
    cases.push(("25 MB attachment", big));
    cases.push(("broken pdf", b"From: a@b.test\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=x.pdf\r\n\r\n%PDF-1.4\n1 0 obj << /Length 99999 >> stream\nxx".to_vec()));
    let html = format!(
        "From: a@b.test\r\nContent-Type: text/html\r\n\r\n{}",
        "<table><tr><td><div><blockquote>".repeat(20_000)
    );
    cases.push(("deep html", html.into_bytes()));
    for (name, raw) in cases {
        let t = Instant::now();
        let p = parse(&raw, &opts());
        let took = t.elapsed();
        assert!(took < Duration::from_secs(3), "{name}: took {took:?}");
        let _ = (p.intent, p.sessions.len());
    }
}
