//! Story: the approver rejects with a reason; the requester is told why and the slot is
//! free again.

mod support;

use support::MailStack;
use support::desk::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejection_reaches_the_requester_with_its_reason() {
    let stack = MailStack::start(USERS);
    let mut desk = Desk::start(&stack, MONDAY).await;
    let ask = held_request(&stack, "rizki", 80, "LKT-2026-0001").await;

    let no = reply(&ask, "tip@bps.test", "Mon, 05 Jan 2026 09:00:00 +0700", "TOLAK, bentrok dengan rapat pimpinan.");
    send(&stack, "tip@bps.test", &no).await;

    let rejected = expect_mail(&stack, "rizki", "tidak disetujui").await;
    assert!(text(&rejected).contains("bentrok dengan rapat pimpinan"), "{}", text(&rejected));
    assert_eq!(desk.status("LKT-2026-0001"), "rejected");

    // The slot is free: the same request from someone else is held on the same account.
    send(&stack, "dewi@bps.test", &monday_request("dewi@bps.test", 80)).await;
    expect_mail(&stack, "dewi", "LKT-2026-0002").await;
    assert_eq!(desk.status("LKT-2026-0002"), "held");
    desk.shutdown().await;
}
