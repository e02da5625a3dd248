//! Story: the SMTP relay is down for 30 seconds while the desk has replies to send. They
//! wait in the outbox, are retried, and all arrive once the relay is back: none lost,
//! none doubled.

mod support;

use chrono::Duration;
use support::MailStack;
use support::desk::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_wait_out_a_relay_outage_and_are_delivered_once() {
    let stack = MailStack::start(USERS);
    let mut desk = Desk::start(&stack, MONDAY).await;
    stack.stop_postfix();
    append_to_desk(&stack, &monday_request("rizki@bps.test", 20)).await;
    append_to_desk(&stack, &monday_request("dewi@bps.test", 20)).await;

    // Decided and queued, but not deliverable: the attempt failed and a retry is set.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let failed_attempts = desk.sql::<i64>(
            "SELECT count(*) FROM outbox WHERE status = 'pending' AND attempts >= 1 AND last_error IS NOT NULL",
        );
        if failed_attempts == vec![4] {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the desk never tried to send: {failed_attempts:?}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    tokio::time::sleep(std::time::Duration::from_secs(30)).await;
    stack.start_postfix();
    // The backoff's retry moment comes (the desk's clock is the test's).
    desk.advance(Duration::minutes(2));

    expect_mail(&stack, "rizki", "LKT-2026-000").await;
    expect_mail(&stack, "dewi", "LKT-2026-000").await;
    stack
        .wait_for("tip", "INBOX", std::time::Duration::from_secs(20), "two approval requests", |m| m.len() == 2)
        .await
        .expect("both approval requests delivered");
    assert_eq!(desk.sql::<String>("SELECT DISTINCT status FROM outbox"), vec!["sent".to_string()]);
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    for (user, n) in [("rizki", 1), ("dewi", 1), ("tip", 2)] {
        assert_eq!(stack.count(user, "INBOX"), n, "{user}: none lost, none doubled");
    }
    desk.shutdown().await;
}
