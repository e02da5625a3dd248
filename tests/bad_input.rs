//! Story: people and machines send the desk broken, huge, hostile and impossible mail.
//! Each gets a clear outcome — an answer to a human sender, or the Failed folder — is
//! recorded, and the service goes on answering the next mail.
//!
//! The desk runs in-process on its embedded default (a real Maildir, `.eml` files out,
//! SQLite): what is under test here is the desk, not the mail servers.

mod support;

use chrono::{DateTime, Utc};
use loket::shell::clock::{Clock, ManualClock};
use loket::shell::config::{Config, InboxConfig, OutboxConfig};
use loket::shell::db::Db;
use loket::shell::desk::Desk;
use loket::shell::sender::file::FileSender;
use loket::shell::service::{self, RunOptions};
use loket::shell::source::maildir::{self, Maildir};
use loket::shell::store::Store;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Case {
    name: &'static str,
    raw: Vec<u8>,
    /// The outcomes that are right for it (the record's `outcome`).
    outcomes: &'static [&'static str],
    /// Whether the sender gets an answer (false: machine mail or nobody to answer).
    answered: bool,
}

const DATE: &str = "Mon, 05 Jan 2026 08:00:00 +0700";

fn text_mail(id: &str, subject: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Rizki <rizki@bps.test>\r\nTo: zoom@bps.test\r\nSubject: {subject}\r\nDate: {DATE}\r\nMessage-ID: <{id}@bps.test>\r\n{headers}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

fn with_attachment(id: &str, body: &str, content_type: &str, name: &str, data: &[u8]) -> Vec<u8> {
    use std::fmt::Write as _;
    let mut b64 = String::new();
    for chunk in data_encoding::BASE64.encode(data).as_bytes().chunks(76) {
        let _ = write!(b64, "{}\r\n", String::from_utf8_lossy(chunk));
    }
    format!(
        "From: Rizki <rizki@bps.test>\r\nTo: zoom@bps.test\r\nSubject: Nota dinas terlampir\r\nDate: {DATE}\r\nMessage-ID: <{id}@bps.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n--b1\r\nContent-Type: {content_type}; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{b64}--b1--\r\n"
    )
    .into_bytes()
}

fn nested(depth: usize) -> Vec<u8> {
    let mut body = String::from(
        "Content-Type: text/plain; charset=utf-8\r\n\r\nMohon pinjam Zoom tanggal 16 Januari 2026 pukul 16.00-17.00 WIB.\r\n",
    );
    for d in 0..depth {
        body = format!("Content-Type: multipart/mixed; boundary=\"n{d}\"\r\n\r\n--n{d}\r\n{body}\r\n--n{d}--\r\n");
    }
    format!("From: Rizki <rizki@bps.test>\r\nTo: zoom@bps.test\r\nSubject: Bersarang\r\nDate: {DATE}\r\nMessage-ID: <nested@bps.test>\r\nMIME-Version: 1.0\r\n{body}").into_bytes()
}

/// An ordinary request in slot `n`: no two cases ask for the same hour.
fn request(n: u32) -> String {
    format!(
        "Mohon pinjam Zoom untuk rapat tanggal {} Januari 2026 pukul {:02}.00-{:02}.30 WIB, 20 peserta.",
        12 + n / 4,
        8 + 2 * (n % 4),
        8 + 2 * (n % 4)
    )
}

fn cases() -> Vec<Case> {
    let mut big = vec![0u8; 25 * 1024 * 1024];
    for (i, b) in big.iter_mut().enumerate() {
        *b = (i * 7 + i / 13) as u8;
    }
    let long_body: String =
        (0..100_000).map(|i| format!("baris {i} tanpa tanggal\r\n")).collect::<String>() + &request(1);
    vec![
        Case { name: "empty mail", raw: vec![], outcomes: &["not_mail"], answered: false },
        Case {
            name: "no From",
            raw: format!("To: zoom@bps.test\r\nSubject: Pinjam Zoom\r\nDate: {DATE}\r\nMessage-ID: <nofrom@bps.test>\r\n\r\n{}\r\n", request(5)).into_bytes(),
            outcomes: &["set_aside"],
            answered: false,
        },
        Case {
            name: "no Date",
            raw: b"From: Rizki <rizki@bps.test>\r\nTo: zoom@bps.test\r\nSubject: Pinjam Zoom\r\nMessage-ID: <nodate@bps.test>\r\n\r\nMohon pinjam Zoom besok pukul 09.00-10.00 WIB.\r\n".to_vec(),
            outcomes: &["held"],
            answered: true,
        },
        Case {
            name: "undecodable charset",
            raw: format!("From: Rizki <rizki@bps.test>\r\nTo: zoom@bps.test\r\nSubject: Pinjam Zoom\r\nDate: {DATE}\r\nMessage-ID: <charset@bps.test>\r\nContent-Type: text/plain; charset=\"x-klingon-2000\"\r\n\r\n{}\r\n", request(6)).into_bytes(),
            outcomes: &["held"],
            answered: true,
        },
        Case {
            name: "invalid UTF-8",
            raw: [text_mail("badutf8", "Pinjam \u{fffd}Zoom", "", &request(2)), b"\xff\xfe\xc3\x28 \xe2\x82\r\n".to_vec()].concat(),
            outcomes: &["held"],
            answered: true,
        },
        Case { name: "25 MB attachment", raw: with_attachment("big", &request(3), "application/octet-stream", "data.bin", &big), outcomes: &["held"], answered: true },
        // The parser reads a bounded prefix of a body: a request after 100,000 lines is
        // not found, and the answer says so (with the form).
        Case { name: "100,000-line body", raw: text_mail("longbody", "Pinjam Zoom", "", &long_body), outcomes: &["incomplete"], answered: true },
        Case { name: "MIME nested 100 deep", raw: nested(100), outcomes: &["held"], answered: true },
        Case {
            name: "broken .ics",
            raw: with_attachment("ics", "Terlampir undangan rapat, mohon pinjam Zoom.", "text/calendar", "invite.ics", b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;TZID=Asia/Jakarta:2026XX12T0900\r\nDTEND:garbage\r\n"),
            outcomes: &["incomplete"],
            answered: true,
        },
        Case {
            name: "broken PDF",
            raw: with_attachment("pdf", "Terlampir nota dinas permohonan peminjaman Zoom.", "application/pdf", "nd.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\nxref\ngarbage"),
            outcomes: &["incomplete"],
            answered: true,
        },
        Case {
            name: "a date in the past",
            raw: text_mail("past", "Pinjam Zoom", "", "Mohon pinjam Zoom hari Senin, 15 Desember 2025 pukul 09.00-10.00 WIB."),
            outcomes: &["refused", "incomplete"],
            answered: true,
        },
        Case {
            name: "30 Februari",
            raw: text_mail("feb30", "Pinjam Zoom", "", "Mohon pinjam Zoom tanggal 30 Februari 2026 pukul 09.00-10.00 WIB."),
            outcomes: &["incomplete"],
            answered: true,
        },
        Case {
            name: "an end before its start",
            raw: text_mail("backwards", "Pinjam Zoom", "", "Mohon pinjam Zoom Senin, 12 Januari 2026 pukul 14.00 s.d. 10.00 WIB."),
            outcomes: &["incomplete"],
            answered: true,
        },
        Case {
            name: "a 40-hour meeting",
            raw: text_mail("long", "Pinjam Zoom", "", "Mohon pinjam Zoom mulai Senin, 12 Januari 2026 pukul 08.00 WIB sampai Rabu, 14 Januari 2026 pukul 00.00 WIB tanpa henti."),
            outcomes: &["refused", "incomplete"],
            answered: true,
        },
        Case {
            name: "5,000 participants",
            raw: text_mail("crowd", "Pinjam Zoom", "", "Mohon pinjam Zoom Senin, 12 Januari 2026 pukul 09.00-10.00 WIB untuk 5.000 peserta."),
            outcomes: &["refused"],
            answered: true,
        },
        Case {
            name: "outside the booking window",
            raw: text_mail("far", "Pinjam Zoom", "", "Mohon pinjam Zoom Senin, 12 Juli 2027 pukul 09.00-10.00 WIB."),
            outcomes: &["refused"],
            answered: true,
        },
        Case {
            name: "a subject with CR/LF",
            raw: text_mail("crlf", "=?utf-8?q?Pinjam_Zoom=0D=0ABcc:_victim@evil.test=0D=0A=0D=0Ahi?=", "", &request(4)),
            outcomes: &["held"],
            answered: true,
        },
        Case {
            name: "HTML with scripts",
            raw: format!("From: Rizki <rizki@bps.test>\r\nTo: zoom@bps.test\r\nSubject: <script>alert(1)</script>\r\nDate: {DATE}\r\nMessage-ID: <script@bps.test>\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><script>alert('x')</script><p>Kegiatan: <b>Rapat</b><script>steal()</script></p><p>{}</p></body></html>\r\n", request(7)).into_bytes(),
            outcomes: &["held"],
            answered: true,
        },
    ]
}

fn config(dir: &Path) -> Config {
    support::desk::example_config(dir)
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("time").to_utc()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_gets_a_clear_outcome_and_the_service_goes_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = config(dir.path());
    let InboxConfig::Maildir { path: inbox, .. } = cfg.inbox.clone() else { panic!("maildir") };
    let OutboxConfig::File { path: outbox } = cfg.outbox.clone() else { panic!("file outbox") };
    let desk = Arc::new(Desk::new(&cfg).expect("desk"));
    let db = Db::new(Store::open(&cfg.database).expect("store"));
    let source = Maildir::open(&inbox, Duration::from_millis(20)).expect("maildir");
    let sender = Arc::new(FileSender::new(&outbox).expect("outbox"));
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(at("2026-01-05T08:00:00+07:00")));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let service = tokio::spawn(service::run(
        desk,
        db,
        source,
        sender,
        clock,
        RunOptions { tick: Duration::from_millis(50) },
        async {
            let _ = stop_rx.await;
        },
    ));

    let cases = cases();
    for c in &cases {
        maildir::deliver(&inbox, &c.raw).expect("deliver");
    }
    // After all of them, an ordinary request: the service must still answer it.
    maildir::deliver(
        &inbox,
        &text_mail("after", "Pinjam Zoom lagi", "", "Mohon pinjam Zoom tanggal 13 Januari 2026 pukul 17.00-17.30 WIB."),
    )
    .expect("deliver");

    let db_path: PathBuf = cfg.database.clone();
    let count = || -> i64 {
        rusqlite::Connection::open(&db_path)
            .and_then(|c| c.query_row("SELECT count(*) FROM mails_in", [], |r| r.get(0)))
            .unwrap_or(0)
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while count() < cases.len() as i64 + 1 {
        assert!(Instant::now() < deadline, "only {} of {} mails recorded", count(), cases.len() + 1);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let the outbox drain.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = stop_tx.send(());
    tokio::time::timeout(Duration::from_secs(30), service).await.expect("stops").expect("no panic");

    let c = rusqlite::Connection::open(&cfg.database).expect("db");
    let outcome_of = |key: &str| -> Option<(String, Option<String>)> {
        c.query_row("SELECT outcome, reference FROM mails_in WHERE message_id = ?1", [key], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .ok()
    };
    let replies_to = |reference: &str| -> Vec<Vec<u8>> {
        let mut st =
            c.prepare("SELECT raw FROM outbox WHERE reference = ?1 AND recipients = 'rizki@bps.test'").expect("query");
        st.query_map([reference], |r| r.get(0)).expect("rows").collect::<Result<_, _>>().expect("raw")
    };
    let mut report = Vec::new();
    for case in &cases {
        let key = match case.name {
            "empty mail" => loket::shell::desk::mail_key(None, &case.raw),
            _ => {
                let m = mail_parser::MessageParser::default()
                    .parse(&case.raw)
                    .and_then(|m| m.message_id().map(str::to_string));
                loket::shell::desk::mail_key(m.as_deref(), &case.raw)
            }
        };
        let (outcome, reference) = outcome_of(&key).unwrap_or_else(|| panic!("{}: not recorded", case.name));
        report.push(format!("{}: {outcome}", case.name));
        eprintln!("{}: {outcome}", case.name);
        assert!(
            case.outcomes.contains(&outcome.as_str()),
            "{}: outcome {outcome}, expected one of {:?}",
            case.name,
            case.outcomes
        );
        let replies = reference.as_deref().map(replies_to).unwrap_or_default();
        if case.answered {
            assert_eq!(replies.len(), 1, "{}: the sender gets exactly one answer", case.name);
            let raw = String::from_utf8_lossy(&replies[0]);
            let head = raw.split("\r\n\r\n").next().unwrap_or("");
            assert!(
                !head.contains("\r\nBcc:") && !raw.contains("victim@evil.test>"),
                "{}: header injection\n{head}",
                case.name
            );
            // Plain text may quote "<script>" as words; HTML must never carry it as markup.
            let parsed = mail_parser::MessageParser::default().parse(&replies[0]).expect("reply parses");
            let html = parsed.body_html(0).unwrap_or_default();
            assert!(!html.to_lowercase().contains("<script"), "{}: a script echoed as HTML", case.name);
        } else {
            assert!(replies.is_empty(), "{}: must not be answered", case.name);
        }
    }
    eprintln!("{}", report.join("\n"));
    // The machine-unreadable ones sit in the Failed folder, the rest in Processed.
    let failed = std::fs::read_dir(inbox.join(".Failed/cur")).expect("failed dir").count();
    let processed = std::fs::read_dir(inbox.join(".Processed/cur")).expect("processed dir").count();
    assert_eq!(failed, 2, "empty mail and no From");
    assert_eq!(processed, cases.len() + 1 - 2);
    let after: String = c
        .query_row("SELECT outcome FROM mails_in WHERE message_id = 'after@bps.test'", [], |r| r.get(0))
        .expect("after");
    assert_eq!(after, "held", "the service kept answering");
}

/// The real parser, except that it panics on mail that says so.
fn parser_that_panics(raw: &[u8], opts: &loket::core::parse::ParseOptions) -> loket::core::parse::Parsed {
    if raw.windows(11).any(|w| w == b"PANIC-HERE!") {
        panic!("a parser bug, on purpose");
    }
    loket::core::parse::parse(raw, opts)
}

#[test]
fn a_panic_in_the_parser_quarantines_that_one_mail() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cfg = config(dir.path());
    let desk = Desk::new(&cfg).expect("desk").with_parser(parser_that_panics);
    let mut store = Store::open(&cfg.database).expect("store");
    let now = at("2026-01-05T08:00:00+07:00");
    let poison = text_mail("poison", "Pinjam Zoom", "", "PANIC-HERE! tanggal 12 Januari 2026 pukul 09.00-10.00 WIB");
    let handled = desk.handle_mail(&mut store, &poison, now).expect("recorded, not an error");
    assert_eq!(handled.outcome, "quarantined");
    assert_eq!(handled.disposition, loket::shell::desk::Disposition::Failed);
    // Seen again (the move failed, a restart), it is not decided twice.
    assert_eq!(desk.handle_mail(&mut store, &poison, now).expect("again").outcome, "duplicate");
    let next =
        desk.handle_mail(&mut store, &text_mail("fine", "Pinjam Zoom", "", &request(9)), now).expect("next mail");
    assert_eq!(next.outcome, "held", "the next mail is decided as usual");
    let c = rusqlite::Connection::open(&cfg.database).expect("db");
    let told: Vec<String> = {
        let mut st = c.prepare("SELECT recipients FROM outbox WHERE kind = 'set_aside'").expect("q");
        st.query_map([], |r| r.get(0)).expect("rows").collect::<Result<_, _>>().expect("rows")
    };
    assert_eq!(told, vec!["ti@bps.test".to_string()], "the admins are told");
}
