//! Story: the mail server restarts (an upgrade, a reboot) while loket runs. loket notices
//! the dropped connection, reconnects, and answers the mail that arrived meanwhile.

mod support;

use support::MailStack;
use support::desk::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loket_reconnects_after_dovecot_restarts_and_answers_what_came_meanwhile() {
    let stack = MailStack::start(USERS);
    let mut desk = Desk::start(&stack, MONDAY).await;
    send(&stack, "rizki@bps.test", &monday_request("rizki@bps.test", 20)).await;
    expect_mail(&stack, "rizki", "LKT-2026-0001").await;

    // Down: the IDLE connection drops; mail sent now waits in Postfix's queue.
    stack.stop_dovecot();
    send(&stack, "dewi@bps.test", &monday_request("dewi@bps.test", 20)).await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    stack.start_dovecot();
    expect_mail(&stack, "dewi", "LKT-2026-0002").await;

    // And a plain restart while idle.
    stack.restart_dovecot();
    send(&stack, "budi@bps.test", &monday_request("budi@bps.test", 20)).await;
    expect_mail(&stack, "budi", "LKT-2026-0003").await;
    assert_eq!(desk.sql::<i64>("SELECT count(*) FROM mails_in"), vec![3]);
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dovecot_restarted_every_30_seconds_while_requests_arrive_loses_nothing() {
    let stack = std::sync::Arc::new(MailStack::start(USERS));
    let mut desk =
        Desk::start_with(&stack, MONDAY, ANY_TIME, REMINDERS, "[limits]\nper_sender_per_hour = 100000").await;
    let senders = ["rizki", "dewi", "budi"];
    let arriving = tokio::spawn({
        let stack = stack.clone();
        async move {
            let mut ids = Vec::new();
            for i in 0..48u32 {
                let who = senders[i as usize % 3];
                let raw = mail(
                    &format!("{who}@bps.test"),
                    &format!("Permohonan Zoom #{i}"),
                    "Mon, 05 Jan 2026 08:00:00 +0700",
                    &format!(
                        "Mohon pinjam Zoom tanggal {} Januari 2026 pukul {:02}.00-{:02}.30 WIB.",
                        12 + i / 6,
                        8 + 2 * (i % 6) / 2,
                        8 + 2 * (i % 6) / 2
                    ),
                );
                ids.push((who, header(&raw, "Message-ID").expect("id")));
                // Postfix queues what Dovecot cannot take while it restarts.
                stack.send_raw(&format!("{who}@bps.test"), &["zoom@bps.test"], &raw).await.expect("accepted");
                tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
            }
            ids
        }
    });
    for _ in 0..2 {
        tokio::time::sleep(std::time::Duration::from_secs(30)).await;
        stack.restart_dovecot();
    }
    let ids = arriving.await.expect("sent");
    for who in senders {
        let mine: Vec<String> = ids.iter().filter(|(w, _)| *w == who).map(|(_, id)| id.clone()).collect();
        let got = stack
            .wait_for(who, "INBOX", std::time::Duration::from_secs(60), "every request answered", |list| {
                let answered: std::collections::BTreeSet<String> =
                    list.iter().filter_map(|m| header(m, "In-Reply-To")).filter(|r| mine.contains(r)).collect();
                answered.len() == mine.len()
            })
            .await
            .expect("all answered");
        let distinct: std::collections::BTreeSet<String> = got.iter().filter_map(|m| header(m, "Message-ID")).collect();
        assert_eq!(distinct.len(), mine.len(), "{who}: one answer per request");
    }
    assert_eq!(desk.sql::<i64>("SELECT count(*) FROM mails_in"), vec![48]);
    desk.shutdown().await;
}
