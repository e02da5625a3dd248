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
