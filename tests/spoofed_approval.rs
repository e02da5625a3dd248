//! Story: someone writes "SETUJU" with the approver's address in From but without
//! answering the approval request (no reply headers, no token). Nothing is approved, and
//! the real approver is told that an unverified approval came in.

mod support;

use support::MailStack;
use support::desk::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_that_only_claims_the_approvers_address_approves_nothing() {
    let stack = MailStack::start(USERS);
    let mut desk = Desk::start(&stack, MONDAY).await;
    held_request(&stack, "rizki", 50, "LKT-2026-0001").await;

    // The forger knows the reference (it is in every subject) but not the approval
    // request's Message-ID nor its token.
    let forged = mail(
        "Heru <tip@bps.test>",
        "Re: [LKT-2026-0001] Mohon persetujuan",
        "Mon, 05 Jan 2026 08:40:00 +0700",
        "SETUJU",
    );
    send(&stack, "tip@bps.test", &forged).await;
    // A reference to some other mail of the desk does not help either.
    let other = mail_with(
        "tip@bps.test",
        "Re: [LKT-2026-0001] Permohonan",
        "Mon, 05 Jan 2026 08:41:00 +0700",
        "SETUJU",
        &[("In-Reply-To", "<lkt-2026-0001.ack.guessed@bps.test>")],
    );
    send(&stack, "tip@bps.test", &other).await;

    let warned = stack
        .wait_for("tip", "INBOX", std::time::Duration::from_secs(30), "two warnings", |m| m.len() >= 3)
        .await
        .expect("the approver is warned");
    let warnings: Vec<_> = warned.iter().skip(1).map(|m| text(m)).collect();
    assert_eq!(warnings.len(), 2);
    assert_eq!(desk.status("LKT-2026-0001"), "held");
    let outcomes = desk.sql::<String>("SELECT outcome FROM mails_in WHERE sender = 'tip@bps.test' ORDER BY id");
    assert_eq!(outcomes, vec!["unverified", "unverified"]);
    // The requester got only the acknowledgement: no account.
    let rizki = stack.fetch_all("rizki", "INBOX").await.expect("fetch");
    assert_eq!(rizki.len(), 1, "{:?}", support::subjects(&rizki));
    desk.shutdown().await;
}
