//! Story: an office's server offers IMAP with STARTTLS (port 143) or, on the same host,
//! plain IMAP: loket reads mail both ways, and refuses plain text to anything but
//! loopback (checked in the config's unit tests).

mod support;

use support::MailStack;
use support::desk::*;

async fn answers_over(stack: &MailStack, tls: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = config_toml(stack, dir.path(), POLICY, REMINDERS, "").replace(
        &format!("port = {}\ntls = \"implicit\"", stack.imaps_port()),
        &format!("port = {}\ntls = \"{tls}\"", stack.imap_port()),
    );
    assert!(text.contains(&format!("tls = \"{tls}\"")), "the inbox section was rewritten");
    let config =
        loket::shell::config::Config::from_toml(&text, std::path::Path::new("t.toml"), &|_| None).expect("config");
    let mut desk = Desk::from_config(config, dir).await;
    send(stack, "rizki@bps.test", &monday_request("rizki@bps.test", 10)).await;
    expect_mail(stack, "rizki", "LKT-2026-0001").await;
    desk.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_with_starttls() {
    let stack = MailStack::start(USERS);
    answers_over(&stack, "starttls").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_imap_on_loopback() {
    let stack = MailStack::start(USERS);
    answers_over(&stack, "none").await;
}
