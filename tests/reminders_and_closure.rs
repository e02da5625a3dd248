//! Story: an approved loan runs its course on the clock: reminders a day and an hour
//! before, the recording reminder at the end, the closure task after the turnaround, the
//! escalation when nobody confirms, and the admin's SELESAI closes it.

mod support;

use chrono::Duration;
use support::MailStack;
use support::desk::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_recording_closure_escalation_and_selesai() {
    let stack = MailStack::start(USERS);
    // A short turnaround and escalation, as the issue asks; the clock is the test's.
    let policy = "turnaround_minutes = 15\noffice_hours = \"any\"\noffice_days = \"any\"";
    let reminders = "before = [\"1d\", \"1h\"]\nrecording_after_end = \"0m\"\nclosure_after_end = \"15m\"\nclosure_escalate_after = \"2h\"";
    let mut desk = Desk::start_with(&stack, MONDAY, policy, reminders, "").await;
    let ask = held_request(&stack, "rizki", 50, "LKT-2026-0001").await;
    send(&stack, "tip@bps.test", &reply(&ask, "tip@bps.test", "Mon, 05 Jan 2026 08:30:00 +0700", "SETUJU")).await;
    expect_mail(&stack, "rizki", "disetujui").await;

    desk.clock.set(at("2026-01-11T09:00:00+07:00"));
    expect_mail(&stack, "rizki", "1 hari").await;
    desk.clock.set(at("2026-01-12T08:00:00+07:00"));
    expect_mail(&stack, "rizki", "1 jam").await;
    desk.clock.set(at("2026-01-12T12:00:00+07:00"));
    let recording = expect_mail(&stack, "rizki", "rekaman").await;
    assert_eq!(header(&recording, "Auto-Submitted").as_deref(), Some("auto-generated"));
    desk.clock.set(at("2026-01-12T12:15:00+07:00"));
    let task = expect_mail(&stack, "ti", "penutupan").await;
    assert!(text(&task).contains("loket accounts set-password zoom1"), "{}", text(&task));
    expect_mail(&stack, "rizki", "berakhir").await;
    assert_eq!(desk.status("LKT-2026-0001"), "closing");

    desk.advance(Duration::hours(2));
    let escalation = expect_mail(&stack, "tip", "belum").await;
    assert!(text(&escalation).contains("LKT-2026-0001"));

    send(&stack, "ti@bps.test", &reply(&task, "ti@bps.test", "Mon, 12 Jan 2026 14:30:00 +0700", "SELESAI")).await;
    expect_mail(&stack, "ti", "tercatat").await;
    assert_eq!(desk.status("LKT-2026-0001"), "closed");
    desk.shutdown().await;
}
