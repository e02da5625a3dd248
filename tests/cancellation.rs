//! Story: the requester replies BATAL; the slot is freed and the approver is told. A
//! colleague cannot cancel someone else's booking.

mod support;

use support::MailStack;
use support::desk::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_requester_cancels_and_a_colleague_cannot() {
    let stack = MailStack::start(USERS);
    let mut desk = Desk::start(&stack, MONDAY).await;
    let ask = held_request(&stack, "rizki", 50, "LKT-2026-0001").await;
    send(&stack, "tip@bps.test", &reply(&ask, "tip@bps.test", "Mon, 05 Jan 2026 08:30:00 +0700", "Setuju.")).await;
    let confirmed = expect_mail(&stack, "rizki", "disetujui").await;

    // Budi answers a forwarded copy of the confirmation with BATAL: not his to cancel.
    let theirs = reply(&confirmed, "budi@bps.test", "Mon, 05 Jan 2026 09:00:00 +0700", "BATAL");
    send(&stack, "budi@bps.test", &theirs).await;
    expect_mail(&stack, "budi", "LKT-2026-0001").await;
    assert_eq!(desk.status("LKT-2026-0001"), "approved");

    let cancel = reply(&confirmed, "rizki@bps.test", "Mon, 05 Jan 2026 09:10:00 +0700", "BATAL, kegiatan ditunda.");
    send(&stack, "rizki@bps.test", &cancel).await;
    expect_mail(&stack, "rizki", "dibatalkan").await;
    let notice = expect_mail(&stack, "tip", "dibatalkan").await;
    assert!(text(&notice).contains("LKT-2026-0001"));
    expect_mail(&stack, "ti", "dibatalkan").await;
    assert_eq!(desk.status("LKT-2026-0001"), "cancelled");
    desk.shutdown().await;
}
