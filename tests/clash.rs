//! Story: a second team asks for a slot that is taken; it gets a clash notice with free
//! alternatives of the same length, and nothing about the other team's meeting.

mod support;

use support::MailStack;
use support::desk::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_slot_is_answered_with_alternatives_and_no_one_elses_details() {
    let stack = MailStack::start(USERS);
    let mut desk = Desk::start(&stack, MONDAY).await;
    let first = mail(
        "rizki@bps.test",
        "Rapat Rahasia Penyusunan Anggaran",
        "Mon, 05 Jan 2026 08:00:00 +0700",
        "Mohon pinjam Zoom untuk Rapat Rahasia Penyusunan Anggaran, Senin 12 Januari 2026 pukul 09.00-12.00 WIB, 250 peserta.",
    );
    send(&stack, "rizki@bps.test", &first).await;
    expect_mail(&stack, "rizki", "LKT-2026-0001").await;

    // 200 people only fit zoom2 (300), which is held 09.00–12.00 (+ 1 h turnaround).
    send(&stack, "dewi@bps.test", &monday_request("dewi@bps.test", 200)).await;
    let clash = expect_mail(&stack, "dewi", "LKT-2026-0002").await;
    let words = text(&clash);
    assert!(
        words.contains("Senin, 12 Januari 2026 pukul 13.00–16.00 WIB"),
        "the first free slot after the turnaround: {words}"
    );
    let alternatives = words.matches("pukul ").count();
    assert!(alternatives >= 3, "{words}");
    for secret in ["Rahasia", "Anggaran", "rizki", "Rizki"] {
        assert!(!words.contains(secret), "the clash notice reveals {secret:?}: {words}");
    }
    assert_eq!(desk.status("LKT-2026-0002"), "declined");

    // Replying with an alternative re-opens the same reference.
    let pick = reply(
        &clash,
        "dewi@bps.test",
        "Mon, 05 Jan 2026 09:00:00 +0700",
        "Baik, kami pilih Senin, 12 Januari 2026 pukul 13.00-16.00 WIB.",
    );
    send(&stack, "dewi@bps.test", &pick).await;
    expect_mail(&stack, "tip", "LKT-2026-0002").await;
    assert_eq!(desk.status("LKT-2026-0002"), "held");
    desk.shutdown().await;
}
