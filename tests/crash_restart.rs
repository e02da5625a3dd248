//! Story: the machine loses power (SIGKILL) while loket is deciding and sending, again
//! and again. Restarted, every request has exactly one outcome and one answer; a mail
//! sent twice (the unavoidable crash between the relay's 250 and our commit) carries the
//! same Message-ID both times.

mod support;

use rand::RngExt;
use std::collections::{BTreeMap, BTreeSet};
use support::MailStack;
use support::desk::*;

const REQUESTS: usize = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_loses_nothing_and_doubles_nothing() {
    let stack = MailStack::start(USERS);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut loket = Process::new(&stack, dir.path(), "");
    loket.start();

    let senders = ["rizki", "dewi", "budi"];
    let mut sent: BTreeMap<String, &str> = BTreeMap::new();
    for i in 0..REQUESTS {
        let who = senders[i % senders.len()];
        let body = format!(
            "Mohon pinjam Zoom untuk rapat #{i} pada {} pukul {:02}.00-{:02}.30 WIB, {} peserta.",
            day_in_words(10 + (i / 6) as i64),
            8 + i % 6,
            8 + i % 6,
            10 + i
        );
        let raw = mail(
            &format!("{who}@bps.test"),
            &format!("Permohonan Zoom rapat #{i}"),
            &chrono::Utc::now().to_rfc2822(),
            &body,
        );
        sent.insert(header(&raw, "Message-ID").expect("id"), who);
        send(&stack, &format!("{who}@bps.test"), &raw).await;
    }
    // Kill it at random moments while it works through them.
    for _ in 0..6 {
        let ms = rand::rng().random_range(50..700);
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        loket.kill();
        loket.start();
    }

    // Every request answered: each requester holds one reply per request.
    for who in senders {
        let expected = sent.values().filter(|w| **w == who).count();
        let mine: BTreeSet<String> = sent.iter().filter(|(_, w)| **w == who).map(|(id, _)| id.clone()).collect();
        let got = stack
            .wait_for(who, "INBOX", std::time::Duration::from_secs(90), "one answer per request", |list| {
                let answered: BTreeSet<String> =
                    list.iter().filter_map(|m| header(m, "In-Reply-To")).filter(|r| mine.contains(r)).collect();
                answered.len() == expected
            })
            .await
            .unwrap_or_else(|e| panic!("{e:#}\n{}", loket.logs()));
        let mut by_request: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for m in &got {
            if let (Some(r), Some(id)) = (header(m, "In-Reply-To"), header(m, "Message-ID")) {
                by_request.entry(r).or_default().insert(id);
            }
        }
        for (request, ids) in &by_request {
            assert_eq!(ids.len(), 1, "request {request} got {} different answers", ids.len());
        }
    }
    let status = loket.terminate();
    assert!(status.success(), "loket stops cleanly on SIGTERM: {status:?}");

    let c = rusqlite::Connection::open(dir.path().join("loket.db")).expect("db");
    let recorded: i64 = c.query_row("SELECT count(*) FROM mails_in", [], |r| r.get(0)).expect("count");
    assert_eq!(recorded as usize, REQUESTS, "every request recorded once");
    let undecided: i64 =
        c.query_row("SELECT count(*) FROM mails_in WHERE outcome = ''", [], |r| r.get(0)).expect("count");
    assert_eq!(undecided, 0);
    let pending: i64 =
        c.query_row("SELECT count(*) FROM outbox WHERE status <> 'sent'", [], |r| r.get(0)).expect("count");
    assert_eq!(pending, 0, "the outbox drained");
    assert_eq!(stack.count("zoom", "INBOX"), 0, "every mail moved out of the inbox");
    let (ok, report) = loket.check_db();
    assert!(ok, "check-db: {report}");
}
