//! Story: the desk hands out credentials, so it is a target. Forged verdicts, strangers
//! and floods get nowhere; secrets never reach the logs.

mod support;

use support::MailStack;
use support::desk::*;

const TRUST: &str = "[trust]\nauthserv_id = \"mail.bps.test\"";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_our_servers_topmost_authentication_results_count() {
    let stack = MailStack::start(USERS);
    let mut desk = Desk::start_with(&stack, MONDAY, POLICY, REMINDERS, TRUST).await;
    let ask = held_request(&stack, "rizki", 20, "LKT-2026-0001").await;
    let reply_with = |top: &str, below: &str| {
        let raw = reply(&ask, "tip@bps.test", "Mon, 05 Jan 2026 08:30:00 +0700", "SETUJU");
        let text = String::from_utf8(raw).expect("utf-8");
        format!("Authentication-Results: {top}\r\nAuthentication-Results: {below}\r\n{text}").into_bytes()
    };
    // Our server says DMARC failed: the right thread and the right words count for nothing.
    send(
        &stack,
        "tip@bps.test",
        &reply_with("mail.bps.test; dmarc=fail header.from=bps.test", "mail.bps.test; dmarc=pass"),
    )
    .await;
    // The sender's own "fail" below our "pass", and another server's verdict: ignored.
    send(&stack, "tip@bps.test", &reply_with("mail.bps.test; dkim=pass; dmarc=pass", "mail.bps.test; dmarc=fail"))
        .await;
    expect_mail(&stack, "rizki", "disetujui").await;
    let outcomes = desk.sql::<String>("SELECT outcome FROM mails_in WHERE sender = 'tip@bps.test' ORDER BY id");
    assert_eq!(outcomes, vec!["auth_failed", "approved"]);
    // The forged mail got no answer (it would go to the person impersonated).
    assert_eq!(stack.count("tip", "INBOX"), 2, "the approval request and the decision note only");
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_is_refused_politely_and_a_flood_is_answered_once() {
    let stack = MailStack::start(USERS);
    let mut desk = Desk::start_with(&stack, MONDAY, POLICY, REMINDERS, "[limits]\nper_sender_per_hour = 3").await;
    // Outside requester_domains: the refusal is written (and, this stack delivering only
    // bps.test, the relay's refusal of it reaches the admins).
    send(
        &stack,
        "someone@gmail.test",
        &mail(
            "Someone <someone@gmail.test>",
            "Pinjam Zoom",
            "Mon, 05 Jan 2026 08:00:00 +0700",
            "Mohon pinjam Zoom Senin, 12 Januari 2026 pukul 09.00-10.00.",
        ),
    )
    .await;
    for i in 0..6 {
        send(
            &stack,
            "budi@bps.test",
            &mail(
                "budi@bps.test",
                &format!("Terima kasih {i}"),
                "Mon, 05 Jan 2026 08:00:00 +0700",
                "Terima kasih atas bantuannya.",
            ),
        )
        .await;
    }
    stack
        .wait_for("zoom", "Processed", std::time::Duration::from_secs(30), "seven decided", |m| m.len() == 7)
        .await
        .expect("all decided");
    assert_quiet(&stack, "budi", 4, std::time::Duration::from_secs(2)).await;
    let budi = stack.fetch_all("budi", "INBOX").await.expect("fetch");
    assert_eq!(budi.iter().filter(|m| subject(m).contains("LKT") || !subject(m).is_empty()).count(), 4);
    let outcomes = desk.sql::<String>("SELECT outcome FROM mails_in ORDER BY id");
    assert_eq!(
        outcomes,
        vec!["not_allowed", "unknown", "unknown", "unknown", "rate_limited", "rate_limited", "rate_limited"]
    );
    let refusal = desk.sql::<String>("SELECT kind FROM outbox WHERE recipients = 'someone@gmail.test'");
    assert_eq!(refusal, vec!["not_allowed"]);
    expect_mail(&stack, "ti", "").await;
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_or_token_ever_reaches_the_logs() {
    let stack = MailStack::start(USERS);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut loket = Process::new(&stack, dir.path(), "");
    loket.start_with_log_level("trace");
    let request = mail(
        "rizki@bps.test",
        "Pinjam Zoom",
        &chrono::Utc::now().to_rfc2822(),
        &format!("Mohon pinjam Zoom {} pukul 10.00-11.00 WIB.", day_in_words(9)),
    );
    send(&stack, "rizki@bps.test", &request).await;
    let ask = expect_mail(&stack, "tip", "LKT-").await;
    let token = subject(&ask).rsplit(' ').next().unwrap_or("").trim_end_matches(')').to_string();
    assert_eq!(token.len(), 26, "the approval request carries its token: {}", subject(&ask));
    send(&stack, "tip@bps.test", &reply(&ask, "tip@bps.test", &chrono::Utc::now().to_rfc2822(), "SETUJU")).await;
    let confirmed = expect_mail(&stack, "rizki", "disetujui").await;
    assert!(text(&confirmed).contains("Sandi-Zoom1-Uji"), "the borrower gets the password");
    assert!(loket.terminate().success());
    let logs = loket.logs();
    assert!(logs.contains("mail decided"), "the logs are there: {}", &logs[..logs.len().min(500)]);
    for secret in [stack.password("zoom"), "Sandi-Zoom1-Uji".to_string(), "Sandi-Zoom2-Uji".to_string(), token] {
        let line = logs.lines().find(|l| l.contains(&secret)).map(|l| l.chars().take(300).collect::<String>());
        assert!(
            line.is_none(),
            "a secret ({}…) is in the logs: {}",
            &secret[..4],
            line.unwrap_or_default().replace(&secret, "<SECRET>")
        );
    }
    // The PLAIN/LOGIN forms of the desk's credentials, base64, are not there either.
    let plain = data_encoding::BASE64.encode(format!("\0zoom@bps.test\0{}", stack.password("zoom")).as_bytes());
    assert!(!logs.contains(&plain));
}
