//! Story: a team emails a nota dinas; the desk acknowledges it and asks the approver; the
//! approver replies SETUJU; the requester gets the account with an .ics and the admin the
//! assignment — all through a real Postfix and Dovecot.

mod support;

use mail_parser::MimeHeaders;
use support::MailStack;
use support::desk::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_acknowledged_approved_and_the_account_handed_over() {
    let stack = MailStack::start(USERS);
    let mut desk = Desk::start(&stack, MONDAY).await;

    let request = mail(
        "Rizki Pratama <rizki@bps.test>",
        "Nota Dinas Permohonan Peminjaman Lisensi Zoom - Rakortek",
        "Mon, 05 Jan 2026 08:00:00 +0700",
        "Yth. Tim Loket Zoom,\n\nNomor   : B-024/17000/VS.100/01/2026\nTanggal : 5 Januari 2026\n\n    hari/tanggal : Senin, 12 Januari 2026\n    pukul        : 09.00 - 12.00 WIB\n    peserta      : 150 orang\n\nRizki\nNIP. 19730305 200102 1 007\n",
    );
    send(&stack, "rizki@bps.test", &request).await;

    let ack = expect_mail(&stack, "rizki", "LKT-2026-0001").await;
    let words = text(&ack);
    // The acknowledgement restates what was understood, in words.
    assert!(words.contains("Senin, 12 Januari 2026 pukul 09.00–12.00 WIB"), "{words}");
    assert!(words.contains("150"), "{words}");
    assert_eq!(header(&ack, "Auto-Submitted").as_deref(), Some("auto-replied"));
    let request_id = header(&request, "Message-ID").expect("id");
    assert_eq!(header(&ack, "In-Reply-To").as_deref(), Some(request_id.as_str()));

    let ask = expect_mail(&stack, "tip", "LKT-2026-0001").await;
    let ask_words = text(&ask);
    for fact in ["Rizki", "150", "Senin, 12 Januari 2026", "zoom2"] {
        assert!(ask_words.contains(fact), "approval request lacks {fact}: {ask_words}");
    }
    assert!(!ask_words.contains("Sandi-Zoom2-Uji"), "no password before approval");
    assert_eq!(desk.status("LKT-2026-0001"), "held");

    send(&stack, "tip@bps.test", &reply(&ask, "Heru <tip@bps.test>", "Mon, 05 Jan 2026 08:30:00 +0700", "SETUJU"))
        .await;

    let confirmed = expect_mail(&stack, "rizki", "disetujui").await;
    let body = text(&confirmed);
    assert!(body.contains("zoom2@bps.test") && body.contains("Sandi-Zoom2-Uji"), "{body}");
    let parsed = mail_parser::MessageParser::default().parse(&confirmed).expect("parses");
    let ics = parsed.attachments().find(|a| a.attachment_name().is_some_and(|n| n.ends_with(".ics"))).expect("an .ics");
    let cal = String::from_utf8_lossy(ics.contents());
    assert!(cal.contains("DTSTART:20260112T020000Z") && cal.contains("DTEND:20260112T050000Z"), "{cal}");

    let notice = expect_mail(&stack, "ti", "LKT-2026-0001").await;
    assert!(text(&notice).contains("zoom2"));
    assert!(!text(&notice).contains("Sandi-Zoom2-Uji"), "the admin's notice carries no password");
    assert_eq!(desk.status("LKT-2026-0001"), "approved");

    // The request was moved out of the inbox, and only the desk's folders changed.
    stack
        .wait_for("zoom", "Processed", std::time::Duration::from_secs(10), "two processed mails", |m| m.len() == 2)
        .await
        .expect("both mails moved to Processed");
    assert_eq!(stack.count("zoom", "INBOX"), 0);
    desk.shutdown().await;
}
