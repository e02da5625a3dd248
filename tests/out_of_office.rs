//! Story: the desk's mail meets auto-responders. An out-of-office reply is recorded and
//! never answered; a real Sieve vacation responder and the desk do not loop.

mod support;

use chrono::Duration;
use support::MailStack;
use support::desk::*;

/// Approvals wait three days here, so that in the simulated day nothing but answers to
/// the responder could reach it.
const PATIENT: &str =
    "turnaround_minutes = 60\napproval_timeout_hours = 72\noffice_hours = \"07:00-18:00\"\noffice_days = \"mon-fri\"";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_out_of_office_reply_is_not_answered() {
    let stack = MailStack::start(USERS);
    let mut desk = Desk::start(&stack, MONDAY).await;
    let cases: Vec<Vec<u8>> = vec![
        mail_with(
            "ooo@bps.test",
            "Automatic reply: Permohonan",
            "Mon, 05 Jan 2026 08:01:00 +0700",
            "Saya sedang cuti sampai 12 Januari 2026.",
            &[("Auto-Submitted", "auto-replied")],
        ),
        mail(
            "ooo@bps.test",
            "Out of Office: Re: [LKT-2026-0009] Permohonan",
            "Mon, 05 Jan 2026 08:02:00 +0700",
            "I am out of the office until Monday 12 January 2026 09.00.",
        ),
        mail_with(
            "ooo@bps.test",
            "Buletin",
            "Mon, 05 Jan 2026 08:03:00 +0700",
            "Rapat Senin 12 Januari 2026 pukul 09.00",
            &[("Precedence", "bulk"), ("List-Id", "<berita.bps.test>")],
        ),
        mail_with(
            "MAILER-DAEMON@bps.test",
            "Undelivered Mail Returned to Sender",
            "Mon, 05 Jan 2026 08:04:00 +0700",
            "This is the mail system at host bps.test.",
            &[],
        ),
    ];
    for m in &cases {
        send(&stack, "ooo@bps.test", m).await;
    }
    // A human's mail after them is answered: the desk is alive and has read the others.
    send(&stack, "rizki@bps.test", &monday_request("rizki@bps.test", 20)).await;
    expect_mail(&stack, "rizki", "LKT-2026-0001").await;
    let outcomes = desk.sql::<String>("SELECT outcome FROM mails_in WHERE sender <> 'rizki@bps.test' ORDER BY id");
    assert_eq!(outcomes, vec!["ignored"; 4]);
    assert_quiet(&stack, "ooo", 0, std::time::Duration::from_secs(1)).await;
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_sieve_vacation_never_answers_the_desk() {
    let stack = MailStack::start(USERS);
    stack.enable_vacation("dewi", "Sedang cuti", "Saya sedang cuti sampai akhir bulan.");
    let mut desk = Desk::start_with(&stack, MONDAY, PATIENT, REMINDERS, "").await;
    send(&stack, "dewi@bps.test", &monday_request("dewi@bps.test", 20)).await;
    expect_mail(&stack, "dewi", "LKT-2026-0001").await;
    // The responder works (it answers a colleague) but honours the desk's Auto-Submitted.
    let to_dewi =
        b"From: budi@bps.test\r\nTo: dewi@bps.test\r\nSubject: Rapat\r\nMessage-ID: <halo.1@bps.test>\r\n\r\nHalo\r\n";
    stack.send_raw("budi@bps.test", &["dewi@bps.test"], to_dewi).await.expect("send");
    expect_mail(&stack, "budi", "Sedang cuti").await;
    for _ in 0..4 {
        desk.advance(Duration::hours(6));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    assert_eq!(
        stack.count("zoom", "INBOX") + stack.count("zoom", "Processed"),
        1,
        "only Dewi's request reached the desk"
    );
    assert_eq!(desk.sql::<i64>("SELECT count(*) FROM outbox WHERE recipients LIKE '%dewi@bps.test%'"), vec![1]);
    desk.shutdown().await;
}

/// A responder that ignores Auto-Submitted and answers every mail (old servers do).
async fn rude_responder(stack: std::sync::Arc<MailStack>, user: &'static str, rounds: usize) {
    let mut answered = 0;
    for _ in 0..200 {
        let inbox = stack.fetch_all(user, "INBOX").await.unwrap_or_default();
        while answered < inbox.len().min(rounds) {
            let original = &inbox[answered];
            let back = mail_with(
                &format!("{user}@bps.test"),
                &format!("Out of Office: {}", subject(original)),
                "Mon, 05 Jan 2026 08:10:00 +0700",
                "Terima kasih. Saya sedang tidak di kantor sampai Senin, 12 Januari 2026 pukul 09.00 WIB.",
                &[("In-Reply-To", header(original, "Message-ID").as_deref().unwrap_or("<x@y>"))],
            );
            let _ = stack.send_raw(&format!("{user}@bps.test"), &["zoom@bps.test"], &back).await;
            answered += 1;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_responder_without_headers_and_the_desk_exchange_at_most_one_mail_a_day() {
    let stack = std::sync::Arc::new(MailStack::start(USERS));
    let mut desk = Desk::start_with(&stack, MONDAY, PATIENT, REMINDERS, "").await;
    let responder = tokio::spawn(rude_responder(stack.clone(), "dewi", 20));
    send(&stack, "dewi@bps.test", &monday_request("dewi@bps.test", 20)).await;
    expect_mail(&stack, "dewi", "LKT-2026-0001").await;
    stack
        .wait_for("zoom", "Processed", std::time::Duration::from_secs(20), "the auto-reply decided", |m| m.len() >= 2)
        .await
        .expect("the auto-reply reached the desk and was decided");
    // A simulated day.
    for _ in 0..8 {
        desk.advance(Duration::hours(3));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    responder.abort();
    assert_eq!(desk.sql::<i64>("SELECT count(*) FROM outbox WHERE recipients LIKE '%dewi@bps.test%'"), vec![1]);
    let outcomes = desk.sql::<String>("SELECT outcome FROM mails_in WHERE sender = 'dewi@bps.test' ORDER BY id");
    assert_eq!(outcomes, vec!["held".to_string(), "ignored".to_string()]);
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounces_lists_robots_and_the_desks_own_mail_are_never_answered() {
    let stack = MailStack::start(USERS);
    let mut desk = Desk::start(&stack, MONDAY).await;
    let ask = "Mohon pinjam Zoom Senin, 12 Januari 2026 pukul 09.00-10.00 WIB.";
    let date = "Mon, 05 Jan 2026 08:00:00 +0700";
    let report = "From: MAILER-DAEMON@bps.test\r\nTo: ooo@bps.test\r\nSubject: Delivery Status Notification (Failure)\r\nDate: Mon, 05 Jan 2026 08:00:00 +0700\r\nMessage-ID: <dsn.1@bps.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nMohon pinjam Zoom Senin, 12 Januari 2026 pukul 09.00-10.00 WIB.\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; bps.test\r\n\r\nFinal-Recipient: rfc822; x@bps.test\r\nAction: failed\r\nStatus: 5.1.1\r\n--r--\r\n";
    let robots: Vec<(&str, Vec<u8>)> = vec![
        ("ooo@bps.test", mail_with("ooo@bps.test", "Pinjam Zoom", date, ask, &[("Auto-Submitted", "auto-generated")])),
        ("ooo@bps.test", mail_with("ooo@bps.test", "Pinjam Zoom", date, ask, &[("Precedence", "junk")])),
        ("ooo@bps.test", mail_with("ooo@bps.test", "Pinjam Zoom", date, ask, &[("Precedence", "list")])),
        ("ooo@bps.test", mail_with("ooo@bps.test", "Pinjam Zoom", date, ask, &[("List-Id", "Staf <staf.bps.test>")])),
        ("zoom@bps.test", mail_with("Loket Zoom <zoom@bps.test>", "Re: [LKT-2026-0001] Pinjam Zoom", date, ask, &[])),
        ("ooo@bps.test", report.as_bytes().to_vec()),
    ];
    for (from, raw) in &robots {
        send(&stack, from, raw).await;
    }
    // The null sender: Dovecot records Return-Path: <>.
    stack.send_raw("", &["zoom@bps.test"], &mail("ooo@bps.test", "Pinjam Zoom", date, ask)).await.expect("null sender");
    // Auto-Submitted: no is a human: answered.
    send(&stack, "rizki@bps.test", &mail_with("rizki@bps.test", "Pinjam Zoom", date, ask, &[("Auto-Submitted", "no")]))
        .await;
    expect_mail(&stack, "rizki", "LKT-2026-0001").await;
    stack
        .wait_for("zoom", "Processed", std::time::Duration::from_secs(30), "eight decided", |m| m.len() == 8)
        .await
        .expect("all decided");
    let outcomes = desk.sql::<String>("SELECT outcome FROM mails_in ORDER BY id");
    assert_eq!(outcomes.iter().filter(|o| *o == "ignored").count(), 7, "{outcomes:?}");
    assert_eq!(
        desk.sql::<i64>("SELECT count(*) FROM outbox WHERE recipients NOT IN ('rizki@bps.test', 'tip@bps.test')"),
        vec![0]
    );
    assert_quiet(&stack, "ooo", 0, std::time::Duration::from_millis(500)).await;
    desk.shutdown().await;
}
