//! Story: the test servers behave like the office's.
//!
//! Every other story test trusts `tests/support` to be a real mail system: mail sent to
//! the MX port lands in an INBOX, submission insists on STARTTLS and a right password,
//! IMAP speaks TLS both ways, mail survives restarts and outages, and a vacation
//! responder answers once. These tests prove it, so a failure here points at the stack,
//! not at loket.

mod support;

use std::process::Command;
use std::time::Duration;

use anyhow::Context as _;
use data_encoding::BASE64;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor, address::Envelope};
use support::{MailStack, NET_TIMEOUT, subjects};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(15);

fn mail(from: &str, to: &str, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{}@test.invalid>\r\n\
         Date: Mon, 2 Mar 2026 09:00:00 +0700\r\n\r\n{body}\r\n",
        subject.replace(' ', "-")
    )
    .into_bytes()
}

fn has_subject(messages: &[Vec<u8>], subject: &str) -> bool {
    subjects(messages).iter().any(|s| s == subject)
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_to_the_smtp_port_lands_in_the_inbox_and_reads_back_over_imaps() {
    let stack = MailStack::start(&["a", "b"]);
    assert_eq!(stack.domain(), "bps.test");
    assert_eq!(stack.address("a"), "a@bps.test");
    assert_ne!(stack.password("a"), stack.password("b"), "each user has its own password");

    // "From anyone": the sender's domain is not ours, as for a colleague's outside mail.
    let raw = mail("someone@elsewhere.example", "a@bps.test", "hello a", "first line");
    stack
        .send_raw("someone@elsewhere.example", &["a@bps.test"], &raw)
        .await
        .expect("SMTP accepts mail for a@bps.test without AUTH");

    let inbox = stack
        .wait_for("a", "INBOX", WAIT, "the mail 'hello a'", |m| has_subject(m, "hello a"))
        .await
        .expect("mail arrives in a's INBOX");
    assert_eq!(inbox.len(), 1);
    let text = String::from_utf8_lossy(&inbox[0]);
    assert!(text.contains("first line"), "body survives delivery: {text}");
    assert!(text.contains("Return-Path: <someone@elsewhere.example>"), "{text}");
    assert_eq!(stack.count("a", "INBOX"), 1, "doveadm sees the same mail");
    assert_eq!(stack.count("b", "INBOX"), 0, "nothing for b");
    assert_eq!(stack.count("a", "No such folder"), 0);
    assert!(stack.fetch_all("a", "No such folder").await.is_err(), "fetching a missing folder is an error");

    // BODY.PEEK: reading does not mark mail seen, so a second read sees the same.
    let again = stack.fetch_all("a", "INBOX").await.expect("fetch again");
    assert_eq!(again, inbox);

    // Unknown users of our domain are refused at RCPT, like a real MX.
    let err = stack
        .send_raw("someone@elsewhere.example", &["nobody@bps.test"], &raw)
        .await
        .expect_err("no mailbox nobody@bps.test");
    assert!(format!("{err:#}").contains("550"), "{err:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_for_other_domains_is_refused_and_never_leaves() {
    let stack = MailStack::start(&["a"]);
    let raw = mail("a@bps.test", "x@elsewhere.example", "outbound", "no DNS, no internet");
    // Postfix resolves other domains to its `error` transport and so refuses them at RCPT:
    // nothing is queued, nothing is looked up, nothing leaves the machine.
    let err = stack
        .send_raw("a@bps.test", &["x@elsewhere.example"], &raw)
        .await
        .expect_err("mail outside bps.test is refused");
    let err = format!("{err:#}");
    assert!(err.contains("550") && err.contains("no delivery outside bps.test"), "{err}");
    assert!(!queue_listing(&stack).contains("elsewhere.example"), "nothing queued");
}

/// Reads one (possibly multi-line) SMTP reply: its code and full text.
async fn smtp_reply(reader: &mut BufReader<TcpStream>) -> anyhow::Result<(u16, String)> {
    let mut text = String::new();
    loop {
        let mut line = String::new();
        let n = timeout(NET_TIMEOUT, reader.read_line(&mut line)).await.context("SMTP reply timed out")??;
        anyhow::ensure!(n > 0, "SMTP server closed the connection; got so far: {text}");
        text.push_str(&line);
        if line.len() < 4 || line.as_bytes()[3] != b'-' {
            let code = line.get(..3).unwrap_or("").parse().context("SMTP reply code")?;
            return Ok((code, text));
        }
    }
}

async fn smtp_command(reader: &mut BufReader<TcpStream>, command: &str) -> anyhow::Result<(u16, String)> {
    timeout(NET_TIMEOUT, reader.get_mut().write_all(format!("{command}\r\n").as_bytes()))
        .await
        .context("SMTP write timed out")??;
    smtp_reply(reader).await
}

fn submission(stack: &MailStack, user: Option<(&str, &str)>) -> AsyncSmtpTransport<Tokio1Executor> {
    let ca = std::fs::read(stack.ca_file()).expect("read the run's CA");
    let tls = TlsParameters::builder("localhost".to_owned())
        .add_root_certificate(Certificate::from_pem(&ca).expect("CA PEM"))
        .build_rustls()
        .expect("lettre TLS parameters");
    let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(stack.submission_port())
        .tls(Tls::Required(tls))
        .timeout(Some(NET_TIMEOUT));
    match user {
        Some((login, password)) => builder.credentials(Credentials::new(login.to_owned(), password.to_owned())),
        None => builder,
    }
    .build()
}

#[tokio::test(flavor = "multi_thread")]
async fn submission_requires_starttls_before_auth_and_checks_the_password() {
    let stack = MailStack::start(&["a", "b"]);

    // Without TLS: no AUTH offered, AUTH refused, MAIL refused.
    let tcp = TcpStream::connect(("127.0.0.1", stack.submission_port())).await.expect("connect to submission");
    let mut smtp = BufReader::new(tcp);
    let (code, greeting) = smtp_reply(&mut smtp).await.expect("greeting");
    assert_eq!(code, 220, "{greeting}");
    let (code, ehlo) = smtp_command(&mut smtp, "EHLO client.test").await.expect("EHLO");
    assert_eq!(code, 250, "{ehlo}");
    assert!(ehlo.contains("STARTTLS"), "STARTTLS offered: {ehlo}");
    assert!(!ehlo.contains("AUTH"), "no AUTH before STARTTLS: {ehlo}");
    let plain = BASE64.encode(format!("\0a@bps.test\0{}", stack.password("a")).as_bytes());
    let (code, reply) = smtp_command(&mut smtp, &format!("AUTH PLAIN {plain}")).await.expect("AUTH");
    assert!((500..600).contains(&code), "AUTH before STARTTLS refused: {reply}");
    let (code, reply) = smtp_command(&mut smtp, "MAIL FROM:<a@bps.test>").await.expect("MAIL");
    assert_eq!(code, 530, "MAIL before STARTTLS refused: {reply}");
    let _ = smtp_command(&mut smtp, "QUIT").await;

    let raw = mail("a@bps.test", "b@bps.test", "via submission", "hi b");
    let envelope =
        Envelope::new(Some("a@bps.test".parse().expect("address")), vec!["b@bps.test".parse().expect("address")])
            .expect("envelope");

    // TLS but a wrong password: 535, nothing sent.
    let wrong = submission(&stack, Some(("a@bps.test", "not-the-password")));
    let err = timeout(NET_TIMEOUT, wrong.send_raw(&envelope, &raw))
        .await
        .expect("submission with a wrong password timed out")
        .expect_err("a wrong password is refused");
    assert_eq!(err.status().map(|c| c.to_string()).as_deref(), Some("535"), "{err:?}");

    // TLS and no AUTH at all: relaying refused.
    let anonymous = submission(&stack, None);
    let err = timeout(NET_TIMEOUT, anonymous.send_raw(&envelope, &raw))
        .await
        .expect("anonymous submission timed out")
        .expect_err("submission without AUTH is refused");
    assert!(err.is_permanent(), "{err}");

    // TLS and the right password: delivered. Right after a wrong one, and fast: no
    // auth penalty for 127.0.0.1.
    let right = submission(&stack, Some(("a@bps.test", &stack.password("a"))));
    let started = std::time::Instant::now();
    timeout(NET_TIMEOUT, right.send_raw(&envelope, &raw))
        .await
        .expect("submission with the right password timed out")
        .expect("submission with STARTTLS and the right password");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "login after a failed one took {:?}: is the anvil auth penalty on?",
        started.elapsed()
    );
    stack
        .wait_for("b", "INBOX", WAIT, "the submitted mail", |m| has_subject(m, "via submission"))
        .await
        .expect("submitted mail arrives");
}

#[tokio::test(flavor = "multi_thread")]
async fn imap_offers_starttls_and_plaintext_login_on_loopback() {
    let stack = MailStack::start(&["a"]);
    stack
        .send_raw("x@elsewhere.example", &["a@bps.test"], &mail("x@elsewhere.example", "a@bps.test", "one", "1"))
        .await
        .expect("send");
    stack.wait_for("a", "INBOX", WAIT, "one mail", |m| m.len() == 1).await.expect("delivery");

    // Plain IMAP: STARTTLS, then LOGIN inside TLS.
    let tcp = TcpStream::connect(("127.0.0.1", stack.imap_port())).await.expect("connect to IMAP");
    let mut client = async_imap::Client::new(tcp);
    let greeting = timeout(NET_TIMEOUT, client.read_response())
        .await
        .expect("greeting timed out")
        .expect("read greeting")
        .expect("a greeting");
    let greeting = format!("{:?}", greeting.parsed());
    assert!(greeting.contains("STARTTLS"), "STARTTLS in the greeting's capabilities: {greeting}");
    timeout(NET_TIMEOUT, client.run_command_and_check_ok("STARTTLS", None))
        .await
        .expect("STARTTLS timed out")
        .expect("STARTTLS accepted");
    let tls = timeout(
        NET_TIMEOUT,
        stack.tls_connector().connect("localhost".try_into().expect("server name"), client.into_inner()),
    )
    .await
    .expect("TLS handshake timed out")
    .expect("TLS handshake trusting only the run's CA");
    let client = async_imap::Client::new(tls);
    let mut session = timeout(NET_TIMEOUT, client.login("a@bps.test", stack.password("a")))
        .await
        .expect("LOGIN timed out")
        .map_err(|(e, _)| e)
        .expect("LOGIN after STARTTLS");
    let inbox = timeout(NET_TIMEOUT, session.select("INBOX")).await.expect("SELECT timed out").expect("SELECT INBOX");
    assert_eq!(inbox.exists, 1);
    let folders: Vec<_> = timeout(NET_TIMEOUT, async {
        futures::TryStreamExt::try_collect::<Vec<_>>(session.list(None, Some("*")).await?).await
    })
    .await
    .expect("LIST timed out")
    .expect("LIST");
    let names: Vec<&str> = folders.iter().map(|f| f.name()).collect();
    for special in ["INBOX", "Sent", "Drafts", "Trash", "Junk"] {
        assert!(names.contains(&special), "{special} exists like on a real server: {names:?}");
    }
    let _ = timeout(NET_TIMEOUT, session.logout()).await;

    // Without TLS the plaintext login is allowed (loopback test server), and a wrong
    // password is refused.
    let tcp = TcpStream::connect(("127.0.0.1", stack.imap_port())).await.expect("connect to IMAP");
    let mut client = async_imap::Client::new(tcp);
    timeout(NET_TIMEOUT, client.read_response()).await.expect("greeting timed out").expect("read greeting");
    let (_, client) = timeout(NET_TIMEOUT, client.login("a@bps.test", "wrong"))
        .await
        .expect("LOGIN timed out")
        .map(|_| ())
        .expect_err("wrong password refused");
    let started = std::time::Instant::now();
    let mut session = timeout(NET_TIMEOUT, client.login("a@bps.test", stack.password("a")))
        .await
        .expect("LOGIN timed out")
        .map_err(|(e, _)| e)
        .expect("plaintext LOGIN on loopback");
    assert!(started.elapsed() < Duration::from_secs(2), "no auth delay: {:?}", started.elapsed());
    let _ = timeout(NET_TIMEOUT, session.logout()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn restarting_dovecot_keeps_mail_and_ports() {
    let stack = MailStack::start(&["a"]);
    stack
        .send_raw("x@elsewhere.example", &["a@bps.test"], &mail("x@elsewhere.example", "a@bps.test", "kept", "1"))
        .await
        .expect("send");
    let before = stack.wait_for("a", "INBOX", WAIT, "'kept'", |m| m.len() == 1).await.expect("delivery");
    let ports = (stack.imap_port(), stack.imaps_port(), stack.smtp_port(), stack.submission_port());

    let started = std::time::Instant::now();
    stack.restart_dovecot();
    eprintln!("restart_dovecot took {:?}", started.elapsed());

    assert_eq!(ports, (stack.imap_port(), stack.imaps_port(), stack.smtp_port(), stack.submission_port()));
    let after = stack.fetch_all("a", "INBOX").await.expect("IMAPS after restart");
    assert_eq!(after, before, "same mail after the restart");
    stack
        .send_raw("x@elsewhere.example", &["a@bps.test"], &mail("x@elsewhere.example", "a@bps.test", "new", "2"))
        .await
        .expect("send after restart");
    stack
        .wait_for("a", "INBOX", WAIT, "'new' after the restart", |m| has_subject(m, "new"))
        .await
        .expect("delivery after restart");
}

fn queue_listing(stack: &MailStack) -> String {
    let out = Command::new("/usr/sbin/postqueue")
        .arg("-c")
        .arg(stack.dir().join("postfix"))
        .arg("-p")
        .output()
        .expect("run postqueue -p");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_waits_in_postfix_while_dovecot_is_down_and_survives_a_postfix_restart() {
    let stack = MailStack::start(&["a"]);
    stack.stop_dovecot();
    assert!(std::net::TcpStream::connect(("127.0.0.1", stack.imaps_port())).is_err(), "IMAPS is down");
    stack
        .send_raw("x@elsewhere.example", &["a@bps.test"], &mail("x@elsewhere.example", "a@bps.test", "queued", "1"))
        .await
        .expect("Postfix accepts mail while Dovecot is down");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let queue = queue_listing(&stack);
    assert!(queue.contains("a@bps.test"), "mail waits in the queue: {queue}");

    // Postfix goes down with the mail in its queue, Dovecot comes back, then Postfix.
    stack.stop_postfix();
    assert!(std::net::TcpStream::connect(("127.0.0.1", stack.smtp_port())).is_err(), "SMTP is down");
    stack.start_dovecot();
    let started = std::time::Instant::now();
    stack.start_postfix();
    stack
        .wait_for("a", "INBOX", WAIT, "the queued mail", |m| has_subject(m, "queued"))
        .await
        .expect("queued mail delivered after Dovecot and Postfix are back");
    eprintln!("queued mail delivered {:?} after start_postfix", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(5), "the queue flushes promptly: took {:?}", started.elapsed());
    assert!(!queue_listing(&stack).contains("a@bps.test"), "queue is empty again");
}

#[tokio::test(flavor = "multi_thread")]
async fn vacation_replies_once_to_a_sender() {
    let stack = MailStack::start(&["a", "b"]);
    stack.enable_vacation("a", "Out of office", "I am away until Monday.\nAsk \"desk\" instead.");
    for n in 1..=2 {
        let subject = format!("question {n}");
        stack
            .send_raw("b@bps.test", &["a@bps.test"], &mail("b@bps.test", "a@bps.test", &subject, "?"))
            .await
            .expect("send to a");
        stack.wait_for("a", "INBOX", WAIT, &subject, |m| has_subject(m, &subject)).await.expect("a gets the mail");
    }
    let replies = stack
        .wait_for("b", "INBOX", WAIT, "a vacation reply", |m| !m.is_empty())
        .await
        .expect("b gets a vacation reply");
    // Both mails were delivered (Sieve ran twice); give a second reply time to show up.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let replies_later = stack.fetch_all("b", "INBOX").await.expect("fetch b");
    assert_eq!(replies_later.len(), 1, "exactly one reply: {:?}", subjects(&replies_later));
    assert_eq!(subjects(&replies), vec!["Out of office".to_owned()]);
    let text = String::from_utf8_lossy(&replies[0]);
    assert!(text.contains("Auto-Submitted: auto-replied"), "{text}");
    assert!(text.contains("Return-Path: <>"), "null envelope sender: {text}");
    assert!(text.contains("I am away until Monday."), "{text}");
}

#[test]
fn two_stacks_run_side_by_side_without_colliding() {
    let (one, two) = std::thread::scope(|s| {
        let one = s.spawn(|| MailStack::start(&["a"]));
        let two = s.spawn(|| MailStack::start(&["a"]));
        (one.join().expect("first stack"), two.join().expect("second stack"))
    });
    let ports = |s: &MailStack| [s.smtp_port(), s.submission_port(), s.imap_port(), s.imaps_port()];
    for p in ports(&one) {
        assert!(!ports(&two).contains(&p), "port {p} shared: {:?} vs {:?}", ports(&one), ports(&two));
    }
    assert_ne!(one.dir(), two.dir());
    assert_ne!(one.password("a"), two.password("a"));

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    runtime.block_on(async {
        one.send_raw(
            "x@elsewhere.example",
            &["a@bps.test"],
            &mail("x@elsewhere.example", "a@bps.test", "for one", "1"),
        )
        .await
        .expect("send to stack one");
        one.wait_for("a", "INBOX", WAIT, "'for one'", |m| has_subject(m, "for one")).await.expect("stack one delivers");
    });
    assert_eq!(two.count("a", "INBOX"), 0, "stack two saw nothing");
    let dirs = (one.dir().to_path_buf(), two.dir().to_path_buf());
    drop(one);
    drop(two);
    if std::env::var_os("LOKET_KEEP_TESTDIR").is_none() {
        assert!(!dirs.0.exists() && !dirs.1.exists(), "temp dirs removed on drop");
    }
}
