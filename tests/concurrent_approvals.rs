//! Story: several desks share one database (two loket processes by mistake, or one
//! under heavy load) and decide overlapping requests and their approvals at the same
//! moment. `BEGIN IMMEDIATE` serialises every decision: no account is ever booked twice.

mod support;

use loket::shell::config::Config;
use loket::shell::desk::Desk;
use loket::shell::store::Store;
use std::path::Path;
use std::sync::{Arc, Barrier};

const THREADS: usize = 8;

fn config(dir: &Path) -> Config {
    support::desk::example_config(dir)
}

fn request(i: usize) -> Vec<u8> {
    // Four groups of requests; inside a group every slot overlaps every other.
    let (day, start) = (12 + i % 4, if i.is_multiple_of(2) { "09.00" } else { "09.30" });
    format!(
        "From: staff{i}@bps.test\r\nTo: zoom@bps.test\r\nSubject: Pinjam Zoom {i}\r\nDate: Mon, 05 Jan 2026 08:00:00 +0700\r\nMessage-ID: <req{i}@bps.test>\r\n\r\nMohon pinjam Zoom tanggal {day} Januari 2026 pukul {start}-10.30 WIB, 20 peserta.\r\n"
    )
    .into_bytes()
}

fn approval(i: usize, answers: &str) -> Vec<u8> {
    format!(
        "From: tip@bps.test\r\nTo: zoom@bps.test\r\nSubject: Re: persetujuan\r\nDate: Mon, 05 Jan 2026 08:30:00 +0700\r\nMessage-ID: <ok{i}@bps.test>\r\nIn-Reply-To: <{answers}>\r\nReferences: <{answers}>\r\n\r\nSETUJU\r\n"
    )
    .into_bytes()
}

/// Runs `mails` through THREADS desks at once, each with its own connection.
fn decide_concurrently(config: &Config, mails: Vec<Vec<u8>>) {
    let now = chrono::DateTime::parse_from_rfc3339("2026-01-05T08:00:00+07:00").expect("t").to_utc();
    let mails = Arc::new(mails);
    let start = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let (config, mails, start) = (config.clone(), mails.clone(), start.clone());
            std::thread::spawn(move || {
                let desk = Desk::new(&config).expect("desk");
                let mut store = Store::open(&config.database).expect("store");
                start.wait();
                for raw in mails.iter().skip(t).step_by(THREADS) {
                    desk.handle_mail(&mut store, raw, now).expect("decided");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("no panic");
    }
}

#[test]
fn overlapping_requests_and_approvals_decided_at_once_never_double_book() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = config(dir.path());
    drop(Store::open(&config.database).expect("create"));
    // 64 requests over four slots, three accounts: three held per slot, the rest clash.
    decide_concurrently(&config, (0..64).map(request).collect());
    let c = rusqlite::Connection::open(&config.database).expect("db");
    let q = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).expect(sql) };
    assert_eq!(q("SELECT count(*) FROM mails_in"), 64);
    assert_eq!(q("SELECT count(*) FROM requests WHERE status = 'held'"), 12, "three accounts × four slots");

    // Every held request approved at once, while a second wave of overlapping requests
    // arrives on the same desks.
    let asks: Vec<(i64, String)> = {
        let mut st = c
            .prepare("SELECT r.number, o.message_id FROM outbox o JOIN requests r USING (reference) WHERE o.kind = 'approval_request'")
            .expect("query");
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).expect("rows").collect::<Result<_, _>>().expect("asks")
    };
    let mut wave: Vec<Vec<u8>> = asks.iter().map(|(n, id)| approval(*n as usize, id)).collect();
    wave.extend((64..128).map(request));
    decide_concurrently(&config, wave);

    assert_eq!(q("SELECT count(*) FROM requests WHERE status = 'approved'"), 12);
    assert_eq!(q("SELECT count(*) FROM requests WHERE status = 'held'"), 0, "no second-wave request found room");
    let breaches = loket::shell::check::check(
        &mut Store::open(&config.database).expect("store"),
        config.rules.policy.turnaround,
        config.retry_horizon,
        // The desk's clock, not the wall's: these mails were never meant to be sent.
        chrono::DateTime::parse_from_rfc3339("2026-01-05T09:00:00+07:00").expect("t").to_utc(),
    )
    .expect("check");
    assert!(breaches.is_empty(), "{breaches:?}");
}
