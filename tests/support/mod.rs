//! A private, real mail stack for integration tests: Dovecot (IMAP, IMAPS, LMTP, Sieve)
//! and Postfix (an MX-like SMTP port and a submission port), all on 127.0.0.1, started
//! by the test itself in a fresh temporary directory and stopped when it is dropped.
//! It does not use loket's library, so every story test can rely on it.
//!
//! Use it from any file under `tests/` with `mod support;`:
//!
//! ```ignore
//! mod support;
//! use std::time::Duration;
//! use support::MailStack;
//!
//! #[tokio::test(flavor = "multi_thread")]
//! async fn a_request_gets_an_answer() {
//!     let stack = MailStack::start(&["desk", "ana"]);
//!     let raw = b"From: ana@bps.test\r\nTo: desk@bps.test\r\nSubject: hi\r\n\r\nx\r\n";
//!     stack.send_raw("ana@bps.test", &["desk@bps.test"], raw).await.expect("send");
//!     stack
//!         .wait_for("desk", "INBOX", Duration::from_secs(10), "ana's mail", |m| m.len() == 1)
//!         .await
//!         .expect("delivery");
//! }
//! ```
//!
//! The whole API:
//!
//! ```ignore
//! impl MailStack {
//!     pub fn start(users: &[&str]) -> MailStack;      // domain bps.test; ~0.2-0.5 s; panics with log tails
//!     pub fn domain(&self) -> &str;                    // "bps.test"
//!     pub fn address(&self, user: &str) -> String;     // "user@bps.test" (also the login name)
//!     pub fn password(&self, user: &str) -> String;    // each user's own
//!     pub fn smtp_port(&self) -> u16;                  // MX-like: no AUTH, mail for bps.test from anyone
//!     pub fn submission_port(&self) -> u16;            // STARTTLS required before AUTH (via Dovecot)
//!     pub fn imap_port(&self) -> u16;                  // plain + STARTTLS, plaintext LOGIN allowed
//!     pub fn imaps_port(&self) -> u16;                 // implicit TLS
//!     pub fn ca_file(&self) -> &Path;                  // this run's CA (PEM); cert SAN localhost, 127.0.0.1
//!     pub fn tls_connector(&self) -> TlsConnector;     // tokio-rustls, trusting only that CA
//!     pub fn dir(&self) -> &Path;                      // the temp dir; logs in dir()/log/
//!     pub async fn send_raw(&self, from: &str, to: &[&str], raw: &[u8]) -> anyhow::Result<()>;
//!     pub async fn imap_session(&self, user: &str) -> anyhow::Result<async_imap::Session<TlsStream<TcpStream>>>;
//!     pub async fn fetch_all(&self, user: &str, folder: &str) -> anyhow::Result<Vec<Vec<u8>>>;
//!     pub async fn wait_for(&self, user: &str, folder: &str, within: Duration, what: &str,
//!                           pred: impl Fn(&[Vec<u8>]) -> bool) -> anyhow::Result<Vec<Vec<u8>>>;
//!     pub fn count(&self, user: &str, folder: &str) -> usize;   // doveadm; 0 for a missing folder
//!     pub fn restart_dovecot(&self);                   // same ports, same mail
//!     pub fn stop_dovecot(&self); pub fn start_dovecot(&self);
//!     pub fn stop_postfix(&self); pub fn start_postfix(&self);   // queue survives, flushed on start
//!     pub fn enable_vacation(&self, user: &str, subject: &str, text: &str);  // Sieve, :days 1
//! }
//! pub fn subjects(messages: &[Vec<u8>]) -> Vec<String>;   // decoded Subject of each raw mail
//! pub const NET_TIMEOUT: Duration;                        // wrap your own async-imap calls in it
//! ```
//!
//! Why it is built this way:
//! - Every test gets its own stack (tests in one binary run in parallel threads): ports
//!   are picked by binding `127.0.0.1:0`, a stack only counts as up when its own daemon
//!   holds the listeners, and startup is retried on fresh ports after a collision.
//! - Nothing from `/etc/postfix` or `/etc/dovecot` is read or started: Dovecot runs with
//!   `-c` on a standalone config, Postfix with `-c` on its own `main.cf`/`master.cf`.
//! - No DNS anywhere: `bps.test` goes into Dovecot over LMTP (a unix socket); any other
//!   domain resolves to Postfix's `error` transport and is refused at RCPT (550 5.1.2),
//!   so nothing ever leaves the machine.
//! - Both daemons are children of the test process, stopped by [`Drop`] also when the
//!   test panics (which then prints the logs' tails); a tiny watchdog shell stops them
//!   if the test process dies without unwinding (abort, SIGKILL). `cargo test` leaves no
//!   daemons behind.
//! - `LOKET_KEEP_TESTDIR=1` keeps the temp dir (configs, logs, mail) after the test;
//!   `LOKET_STACK_VERBOSE=1` prints each stack's start and stop times.
//! - A missing binary is a panic naming the package and `scripts/install-test-deps`:
//!   these tests never skip.

// Each test binary includes this module and uses a different part of it.
#![allow(dead_code)]

pub mod desk;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::net::TcpListener;
use std::os::unix::fs::{PermissionsExt as _, chown};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, anyhow, bail};
use futures::TryStreamExt as _;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor, address::Envelope};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, pem::PemObject as _};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// The one mail domain of every stack.
const DOMAIN: &str = "bps.test";
/// Upper bound for any single network step (connect, TLS handshake, one IMAP command).
/// async-imap has no timeouts of its own, so a hung server would otherwise hang the test.
pub const NET_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a daemon may take to listen on its ports: normally < 0.2 s, but a dozen
/// stacks starting at once on 2 cores take ~5 s.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a daemon may take to exit after being told to stop.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Fresh ports are tried this many times when a daemon cannot bind them.
const START_ATTEMPTS: usize = 5;

const DOVECOT: &str = "/usr/sbin/dovecot";
const DOVEADM: &str = "/usr/bin/doveadm";
const POSTFIX: &str = "/usr/sbin/postfix";
const POSTQUEUE: &str = "/usr/sbin/postqueue";
const OPENSSL: &str = "/usr/bin/openssl";
const SIEVE_PLUGIN: &str = "/usr/lib/dovecot/modules/lib90_sieve_plugin.so";
const LMTP: &str = "/usr/lib/dovecot/lmtp";
const IMAP: &str = "/usr/lib/dovecot/imap";
const DH_PARAMS: &str = "/usr/share/dovecot/dh.pem";

/// A running private Dovecot + Postfix. Dropping it stops both and removes the temp dir.
pub struct MailStack {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
    users: BTreeMap<String, String>,
    ports: Ports,
    ca_file: PathBuf,
    /// Our `dovecot -F` (its master). A Mutex so the fault methods take `&self` and a
    /// stack can be shared (e.g. in an `Arc`) with the code under test.
    dovecot: Mutex<Option<Child>>,
    /// Our `postfix start-fg` (the master runs under it).
    postfix: Mutex<Option<Child>>,
    watchdog: Option<(Child, ChildStdin)>,
    tls: TlsConnector,
}

#[derive(Clone, Copy, Debug)]
struct Ports {
    smtp: u16,
    submission: u16,
    imap: u16,
    imaps: u16,
}

impl MailStack {
    /// Starts a private Dovecot and Postfix for the domain `bps.test` with these users
    /// (local parts), each with its own password. Blocks until both accept connections.
    ///
    /// Panics (with the daemons' log tails) when the stack cannot be started: a test
    /// that needs mail must fail loudly rather than pass without it.
    pub fn start(users: &[&str]) -> MailStack {
        require_binaries();
        for user in users {
            assert!(
                !user.is_empty()
                    && user.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c)),
                "MailStack::start: user {user:?} must be a plain lowercase local part (a-z 0-9 . _ -)"
            );
        }
        let started = Instant::now();
        // /tmp, not $TMPDIR: Dovecot's and Postfix's unix socket paths must stay < 100 chars.
        let dir = tempfile::Builder::new()
            .prefix("lk")
            .tempdir_in("/tmp")
            .expect("create a temp dir in /tmp for the mail stack");
        let path = dir.path().to_path_buf();
        let nonce = unique_nonce();
        let users: BTreeMap<String, String> =
            users.iter().map(|u| (u.to_string(), format!("pw-{u}-{nonce:x}"))).collect();

        let mut stack = MailStack {
            ca_file: path.join("tls/ca.pem"),
            dir: Some(dir),
            path,
            users,
            ports: Ports { smtp: 0, submission: 0, imap: 0, imaps: 0 },
            dovecot: Mutex::new(None),
            postfix: Mutex::new(None),
            watchdog: None,
            // Replaced by one trusting the run's CA once `prepare` has made it.
            tls: tls_connector(RootCertStore::empty()),
        };
        if let Err(e) = stack.prepare() {
            panic!("mail stack: preparing {} failed: {e:#}\n{}", stack.path.display(), stack.log_tails());
        }
        stack.tls = stack.make_tls_connector();
        stack.start_watchdog();

        let mut failures = String::new();
        for attempt in 1..=START_ATTEMPTS {
            stack.ports = Ports::pick();
            let result =
                stack.write_configs(nonce).and_then(|()| stack.launch_dovecot()).and_then(|()| stack.launch_postfix());
            match result {
                Ok(()) => {
                    if verbose() {
                        eprintln!(
                            "mail stack in {} up in {:?} ({:?})",
                            stack.path.display(),
                            started.elapsed(),
                            stack.ports
                        );
                    }
                    return stack;
                }
                Err(e) => {
                    let _ = writeln!(failures, "attempt {attempt} with {:?}: {e:#}", stack.ports);
                    stack.stop_all();
                }
            }
        }
        let report = stack.log_tails();
        panic!(
            "mail stack: could not start Dovecot and Postfix in {} after {START_ATTEMPTS} attempts:\n{failures}\n{report}",
            stack.path.display()
        );
    }

    /// `bps.test`.
    pub fn domain(&self) -> &str {
        DOMAIN
    }

    /// `user@bps.test`.
    pub fn address(&self, user: &str) -> String {
        format!("{user}@{DOMAIN}")
    }

    /// The user's IMAP / submission password (login name: [`MailStack::address`]).
    pub fn password(&self, user: &str) -> String {
        self.users
            .get(user)
            .unwrap_or_else(|| panic!("no user {user:?} in this MailStack (users: {:?})", self.users.keys()))
            .clone()
    }

    /// Postfix's port-25-like listener: no AUTH, accepts mail for `bps.test` from anyone
    /// (this is how users' mail reaches the desk). STARTTLS is offered, not required.
    pub fn smtp_port(&self) -> u16 {
        self.ports.smtp
    }

    /// Postfix submission: STARTTLS is required before AUTH (SASL via Dovecot); after
    /// AUTH it relays to `bps.test` (other domains are refused at RCPT).
    pub fn submission_port(&self) -> u16 {
        self.ports.submission
    }

    /// Dovecot IMAP without TLS; STARTTLS offered; plaintext login allowed (loopback).
    pub fn imap_port(&self) -> u16 {
        self.ports.imap
    }

    /// Dovecot IMAPS (implicit TLS).
    pub fn imaps_port(&self) -> u16 {
        self.ports.imaps
    }

    /// PEM of the CA made for this stack; the server certificate has SAN `localhost` and
    /// `IP:127.0.0.1`.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }

    /// The stack's temp dir (short, under /tmp). Logs are in `dir()/log/`.
    pub fn dir(&self) -> &Path {
        &self.path
    }

    /// A TLS connector that trusts exactly this stack's CA (use server name `localhost`).
    pub fn tls_connector(&self) -> TlsConnector {
        self.tls.clone()
    }

    /// Submits a raw RFC 5322 message over SMTP ([`MailStack::smtp_port`], no TLS, no AUTH)
    /// with this envelope. An empty `from` is the null sender `<>` (as bounces use).
    pub async fn send_raw(&self, from: &str, to: &[&str], raw: &[u8]) -> anyhow::Result<()> {
        let from = if from.is_empty() {
            None
        } else {
            Some(from.parse().with_context(|| format!("envelope sender {from:?}"))?)
        };
        let to = to
            .iter()
            .map(|t| t.parse().with_context(|| format!("envelope recipient {t:?}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let envelope = Envelope::new(from, to).context("envelope")?;
        let smtp = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(self.ports.smtp)
            .timeout(Some(NET_TIMEOUT))
            .build();
        timeout(NET_TIMEOUT, smtp.send_raw(&envelope, raw))
            .await
            .with_context(|| format!("SMTP to 127.0.0.1:{} timed out", self.ports.smtp))?
            .with_context(|| format!("SMTP to 127.0.0.1:{}", self.ports.smtp))?;
        Ok(())
    }

    /// A logged-in IMAP session for `user` over IMAPS, trusting the run's CA. Every call
    /// on it should be wrapped in `tokio::time::timeout` (async-imap has none).
    pub async fn imap_session(&self, user: &str) -> anyhow::Result<async_imap::Session<TlsStream<TcpStream>>> {
        let port = self.ports.imaps;
        let tcp = timeout(NET_TIMEOUT, TcpStream::connect(("127.0.0.1", port)))
            .await
            .with_context(|| format!("IMAPS connect to 127.0.0.1:{port} timed out"))?
            .with_context(|| format!("IMAPS connect to 127.0.0.1:{port}"))?;
        let tls = timeout(NET_TIMEOUT, self.tls.connect(localhost(), tcp))
            .await
            .context("IMAPS TLS handshake timed out")?
            .context("IMAPS TLS handshake")?;
        let mut client = async_imap::Client::new(tls);
        timeout(NET_TIMEOUT, client.read_response())
            .await
            .context("IMAP greeting timed out")?
            .context("IMAP greeting")?
            .ok_or_else(|| anyhow!("IMAP server closed the connection before its greeting"))?;
        let session = timeout(NET_TIMEOUT, client.login(self.address(user), self.password(user)))
            .await
            .context("IMAP LOGIN timed out")?
            .map_err(|(e, _)| anyhow!("IMAP LOGIN as {}: {e}", self.address(user)))?;
        Ok(session)
    }

    /// All messages in a user's folder over IMAPS (`BODY.PEEK[]`, so nothing is marked
    /// seen), oldest first. A folder that does not exist is an error.
    pub async fn fetch_all(&self, user: &str, folder: &str) -> anyhow::Result<Vec<Vec<u8>>> {
        let mut session = self.imap_session(user).await?;
        let mailbox = timeout(NET_TIMEOUT, session.examine(folder))
            .await
            .context("IMAP EXAMINE timed out")?
            .with_context(|| format!("IMAP EXAMINE {folder:?} as {user}"))?;
        let mut messages = Vec::new();
        if mailbox.exists > 0 {
            let fetches: Vec<_> =
                timeout(NET_TIMEOUT, async { session.fetch("1:*", "BODY.PEEK[]").await?.try_collect().await })
                    .await
                    .context("IMAP FETCH timed out")?
                    .with_context(|| format!("IMAP FETCH 1:* BODY.PEEK[] in {folder:?} as {user}"))?;
            let mut numbered: Vec<(u32, Vec<u8>)> =
                fetches.iter().filter_map(|f| f.body().map(|b| (f.message, b.to_vec()))).collect();
            numbered.sort_by_key(|(seq, _)| *seq);
            messages = numbered.into_iter().map(|(_, body)| body).collect();
        }
        let _ = timeout(NET_TIMEOUT, session.logout()).await;
        Ok(messages)
    }

    /// Polls [`MailStack::fetch_all`] until `pred` holds for the list or `within` passes.
    /// Returns the list, or an error naming `what` it waited for and what it saw
    /// (the subjects, or the last IMAP error, e.g. a folder that was never created).
    pub async fn wait_for(
        &self,
        user: &str,
        folder: &str,
        within: Duration,
        what: &str,
        pred: impl Fn(&[Vec<u8>]) -> bool,
    ) -> anyhow::Result<Vec<Vec<u8>>> {
        let deadline = Instant::now() + within;
        loop {
            let seen = match self.fetch_all(user, folder).await {
                Ok(messages) if pred(&messages) => return Ok(messages),
                Ok(messages) => format!("{} message(s): {:?}", messages.len(), subjects(&messages)),
                Err(e) => format!("error: {e:#}"),
            };
            if Instant::now() >= deadline {
                bail!(
                    "waited {within:?} for {what} in {user}'s {folder:?}; last saw {seen}\n(logs: {})",
                    self.path.join("log").display()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// How many messages are in a user's folder, read with `doveadm` (no IMAP involved).
    /// A folder that does not exist has 0.
    pub fn count(&self, user: &str, folder: &str) -> usize {
        let out = Command::new(DOVEADM)
            .arg("-c")
            .arg(self.dovecot_conf())
            .args(["-f", "tab", "mailbox", "status", "-u"])
            .arg(self.address(user))
            .args(["messages", folder])
            .output()
            .expect("run doveadm (package dovecot-core; run scripts/install-test-deps)");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            if stderr.contains("Mailbox doesn't exist") {
                return 0;
            }
            panic!("doveadm mailbox status for {user} {folder:?} failed ({}): {stderr}", out.status);
        }
        stdout
            .lines()
            .last()
            .and_then(|l| l.split('\t').next_back()?.trim().parse().ok())
            .unwrap_or_else(|| panic!("doveadm mailbox status: unexpected output {stdout:?}"))
    }

    /// Stops Dovecot and starts it again: same ports, same mail, same passwords.
    pub fn restart_dovecot(&self) {
        self.stop_dovecot();
        self.start_dovecot();
    }

    /// Stops Dovecot (IMAP and LMTP go away; Postfix keeps mail for `bps.test` queued).
    pub fn stop_dovecot(&self) {
        if let Err(e) = self.halt_dovecot() {
            panic!("stopping Dovecot: {e:#}\n{}", self.log_tails());
        }
    }

    /// Starts Dovecot again after [`MailStack::stop_dovecot`], on the same ports.
    pub fn start_dovecot(&self) {
        assert!(lock(&self.dovecot).is_none(), "start_dovecot: Dovecot is already running");
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            // A port can still be held for a moment by the old instance's children.
            match self.launch_dovecot() {
                Ok(()) => return,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("restarting Dovecot: {e:#}\n{}", self.log_tails()),
            }
        }
    }

    /// Stops Postfix: no SMTP or submission until [`MailStack::start_postfix`]. Mail
    /// already queued stays in the queue.
    pub fn stop_postfix(&self) {
        if let Err(e) = self.halt_postfix() {
            panic!("stopping Postfix: {e:#}\n{}", self.log_tails());
        }
    }

    /// Starts Postfix again on the same ports and flushes its queue at once.
    pub fn start_postfix(&self) {
        assert!(lock(&self.postfix).is_none(), "start_postfix: Postfix is already running");
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            match self.launch_postfix() {
                Ok(()) => break,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("restarting Postfix: {e:#}\n{}", self.log_tails()),
            }
        }
        let out = Command::new(POSTQUEUE)
            .arg("-c")
            .arg(self.path.join("postfix"))
            .arg("-f")
            .output()
            .expect("run postqueue -f (package postfix)");
        assert!(out.status.success(), "postqueue -f failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// A Sieve vacation auto-reply for `user` (`:days 1`): the first mail from each sender
    /// gets one reply with this subject and text, sent back through Postfix's SMTP port
    /// from `user@bps.test` with the null envelope sender and `Auto-Submitted: auto-replied`.
    /// Like a real responder, it only answers mail that names `user` in To/Cc.
    pub fn enable_vacation(&self, user: &str, subject: &str, text: &str) {
        let _ = self.password(user); // panics on an unknown user
        let home = self.home(user);
        let script = format!(
            "require [\"vacation\"];\nvacation :days 1 :subject {} {};\n",
            sieve_string(subject),
            sieve_string(text)
        );
        let file = home.join(".dovecot.sieve");
        fs::write(&file, script).expect("write the user's .dovecot.sieve");
        chown_to(&file, "mail");
    }

    // ----- internals -------------------------------------------------------------------

    fn dovecot_conf(&self) -> PathBuf {
        self.path.join("dovecot/dovecot.conf")
    }

    fn home(&self, user: &str) -> PathBuf {
        self.path.join("home").join(DOMAIN).join(user)
    }

    fn make_tls_connector(&self) -> TlsConnector {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(&self.ca_file).expect("read the run's CA PEM") {
            roots.add(cert.expect("parse the run's CA PEM")).expect("add the run's CA to the rustls root store");
        }
        tls_connector(roots)
    }

    /// Directories (with the owners the daemons insist on), users, and the TLS files.
    fn prepare(&self) -> anyhow::Result<()> {
        let p = &self.path;
        // The daemons' users (postfix, mail, dovecot) must reach sockets and files inside.
        fs::set_permissions(p, fs::Permissions::from_mode(0o755))?;
        for sub in ["tls", "dovecot", "run", "state", "log", "postfix", "queue", "pfdata", "mail", "home"] {
            fs::create_dir_all(p.join(sub))?;
        }
        // Postfix: queue dir root 755, data dir postfix 700, and the queue's subfolders
        // as /etc/postfix/postfix-files has them. Making them here instead of running
        // `postfix check` saves 0.3 s per stack; `quick-start` then skips the start-up
        // self-check (see launch_postfix).
        fs::set_permissions(p.join("queue"), fs::Permissions::from_mode(0o755))?;
        let (postfix_uid, _) = user_ids("postfix");
        let postdrop_gid = group_id("postdrop");
        for (sub, gid, mode) in [
            ("active", 0, 0o700),
            ("bounce", 0, 0o700),
            ("corrupt", 0, 0o700),
            ("defer", 0, 0o700),
            ("deferred", 0, 0o700),
            ("flush", 0, 0o700),
            ("hold", 0, 0o700),
            ("incoming", 0, 0o700),
            ("private", 0, 0o700),
            ("saved", 0, 0o700),
            ("trace", 0, 0o700),
            ("maildrop", postdrop_gid, 0o730),
            ("public", postdrop_gid, 0o710),
        ] {
            let dir = p.join("queue").join(sub);
            fs::create_dir(&dir)?;
            chown(&dir, Some(postfix_uid), Some(gid))?;
            fs::set_permissions(&dir, fs::Permissions::from_mode(mode))?;
        }
        fs::create_dir(p.join("queue/pid"))?;
        fs::set_permissions(p.join("queue/pid"), fs::Permissions::from_mode(0o755))?;
        chown_to(&p.join("pfdata"), "postfix");
        fs::set_permissions(p.join("pfdata"), fs::Permissions::from_mode(0o700))?;
        // Mail and homes are written by Dovecot as the `mail` user.
        chown_to(&p.join("mail"), "mail");
        chown_to(&p.join("home"), "mail");
        let domain_home = p.join("home").join(DOMAIN);
        fs::create_dir_all(&domain_home)?;
        chown_to(&domain_home, "mail");
        let mut passwd = String::new();
        let mut vmailbox = String::new();
        for (user, password) in &self.users {
            let home = self.home(user);
            fs::create_dir_all(&home)?;
            chown_to(&home, "mail");
            let _ = writeln!(passwd, "{user}@{DOMAIN}:{{PLAIN}}{password}::::::");
            let _ = writeln!(vmailbox, "{user}@{DOMAIN} OK");
        }
        fs::write(p.join("dovecot/users"), passwd)?;
        fs::write(p.join("postfix/vmailbox"), vmailbox)?;
        make_certificates(&p.join("tls"))
    }

    /// Dovecot's and Postfix's configs for the current ports.
    fn write_configs(&self, nonce: u64) -> anyhow::Result<()> {
        let p = self.path.display();
        let Ports { smtp, submission, imap, imaps } = self.ports;
        let dovecot = format!(
            r#"# Standalone: includes nothing from /etc/dovecot.
instance_name = lk{nonce:x}
base_dir = {p}/run
state_dir = {p}/state
log_path = {p}/log/dovecot.log
hostname = mx.{DOMAIN}
protocols = imap lmtp
listen = 127.0.0.1
ssl = yes
ssl_cert = <{p}/tls/server.pem
ssl_key = <{p}/tls/server.key
ssl_dh = <{DH_PARAMS}
# Loopback-only test server: plaintext logins are fine and must not be slowed down.
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
auth_verbose = yes
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{p}/mail/%d/%n
# Speed: tests do not survive power loss anyway. Production keeps the default.
mail_fsync = never
postmaster_address = postmaster@{DOMAIN}
# Sieve (vacation) submits its replies through our Postfix, like a real server.
submission_host = 127.0.0.1:{smtp}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {p}/dovecot/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {p}/dovecot/users
  default_fields = uid=mail gid=mail home={p}/home/%d/%n
}}
namespace inbox {{
  inbox = yes
  mailbox Drafts {{
    special_use = \Drafts
    auto = subscribe
  }}
  mailbox Sent {{
    special_use = \Sent
    auto = subscribe
  }}
  mailbox Junk {{
    special_use = \Junk
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \Trash
    auto = subscribe
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
}}
service auth {{
  unix_listener auth-postfix {{
    mode = 0660
    user = postfix
    group = postfix
  }}
}}
# One deliberate wrong password must not slow every later login from 127.0.0.1.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
protocol lmtp {{
  mail_plugins = $mail_plugins sieve
}}
plugin {{
  sieve = file:~/sieve;active=~/.dovecot.sieve
}}
"#
        );
        fs::write(self.dovecot_conf(), dovecot)?;

        let main_cf = format!(
            r#"# Standalone instance: never touches /etc/postfix's queue or config.
compatibility_level = 3.6
queue_directory = {p}/queue
data_directory = {p}/pfdata
maillog_file = {p}/log/postfix.log
maillog_file_prefixes = {p}
myhostname = mx.{DOMAIN}
mydomain = {DOMAIN}
myorigin = {DOMAIN}
mydestination =
relayhost =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
biff = no
# No DNS at all.
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtpd_peername_lookup = no
# bps.test goes into Dovecot; everything else bounces here and never leaves.
virtual_mailbox_domains = {DOMAIN}
virtual_mailbox_maps = texthash:{p}/postfix/vmailbox
virtual_transport = lmtp:unix:{p}/run/lmtp
default_transport = error:5.1.2 no delivery outside {DOMAIN} in tests
relay_transport = error:5.1.2 no delivery outside {DOMAIN} in tests
smtpd_tls_cert_file = {p}/tls/server.pem
smtpd_tls_key_file = {p}/tls/server.key
smtpd_tls_security_level = may
smtpd_sasl_type = dovecot
smtpd_sasl_path = {p}/run/auth-postfix
# Fault tests: no sleeping after errors, quick retries of deferred mail.
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
"#
        );
        fs::write(self.path.join("postfix/main.cf"), main_cf)?;

        let master_cf = format!(
            r#"# service type private unpriv chroot wakeup maxproc command
127.0.0.1:{smtp} inet n - n - - smtpd
127.0.0.1:{submission} inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
tlsmgr unix - - n 1000? 1 tlsmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
lmtp unix - - n - - lmtp
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"#
        );
        fs::write(self.path.join("postfix/master.cf"), master_cf)?;
        // Postfix treats files modified within the last second or so as "being edited":
        // the `postfix` command waits ~2 s on a fresh main.cf, and every daemon that opens
        // the texthash vmailbox retries it for ~1 s. Backdating them keeps startup fast.
        for file in ["main.cf", "master.cf", "vmailbox"] {
            fs::File::options()
                .write(true)
                .open(self.path.join("postfix").join(file))?
                .set_modified(SystemTime::now() - Duration::from_secs(10))?;
        }
        Ok(())
    }

    /// Starts `dovecot -F` as our child and waits for IMAP and IMAPS to accept.
    fn launch_dovecot(&self) -> anyhow::Result<()> {
        let mut child = Command::new(DOVECOT)
            .arg("-F")
            .arg("-c")
            .arg(self.dovecot_conf())
            .stdin(Stdio::null())
            .stdout(self.append_log("dovecot.out")?)
            .stderr(self.append_log("dovecot.out")?)
            .spawn()
            .context("spawn dovecot")?;
        let ports = [self.ports.imap, self.ports.imaps];
        // With -F the master is our child itself, and it holds the listeners.
        let master = child.id();
        let result = wait_listening("Dovecot", &mut child, &ports, || Some(master));
        *lock(&self.dovecot) = Some(child);
        if result.is_err() {
            let _ = self.halt_dovecot();
        }
        result
    }

    /// Starts Postfix in the foreground (`postfix start-fg`, a child of ours) and waits for
    /// its two SMTP ports. The `quick-start` file makes `postfix-script` skip its
    /// integrity check (0.3 s): the queue was laid out by `prepare`, and
    /// `postfix -c DIR check` on a kept test dir validates the same setup.
    fn launch_postfix(&self) -> anyhow::Result<()> {
        let conf = self.path.join("postfix");
        fs::write(self.path.join("queue/quick-start"), "")?;
        let mut child = Command::new(POSTFIX)
            .arg("-c")
            .arg(&conf)
            .arg("start-fg")
            .stdin(Stdio::null())
            .stdout(self.append_log("postfix.out")?)
            .stderr(self.append_log("postfix.out")?)
            .spawn()
            .context("spawn postfix start-fg")?;
        let ports = [self.ports.smtp, self.ports.submission];
        // Our child is the `postfix` command; the master (which holds the listeners)
        // runs under it and names itself in its pid file.
        let pid_file = self.path.join("queue/pid/master.pid");
        let master = || fs::read_to_string(&pid_file).ok()?.trim().parse::<u32>().ok();
        let result = wait_listening("Postfix", &mut child, &ports, master);
        *lock(&self.postfix) = Some(child);
        if result.is_err() {
            let _ = self.halt_postfix();
        }
        result
    }

    /// SIGTERM to Dovecot's master (our child), then wait until it and its ports are gone.
    ///
    /// Dovecot's master ends with a fixed 1 s sleep after it has stopped its services, to
    /// let its log process drain (it has told it to finish). When the services that were
    /// running at SIGTERM have all exited and only the log process is left, the master
    /// has done all its work (it wrote its instance list before stopping them), so it is
    /// ended right there: that saves a second per restart and per test. Right after a
    /// start, when nothing but the log process runs yet, the normal path is taken.
    fn halt_dovecot(&self) -> anyhow::Result<()> {
        let Some(mut child) = lock(&self.dovecot).take() else {
            return Ok(());
        };
        let master = child.id();
        if child.try_wait()?.is_none() {
            let services_at_term = non_log_children(master);
            signal(master, "TERM");
            let deadline = Instant::now() + STOP_TIMEOUT;
            while !services_at_term.is_empty() && child.try_wait()?.is_none() && Instant::now() < deadline {
                let services_now = non_log_children(master);
                if services_at_term.iter().all(|pid| !services_now.contains(pid))
                    && !self.path.join("state/instances.lock").exists()
                {
                    signal(master, "KILL");
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        wait_exit("Dovecot", &mut child)?;
        wait_ports_free("Dovecot", &[self.ports.imap, self.ports.imaps])
    }

    /// Stops our Postfix the way `postfix -c DIR stop` does (SIGTERM to the master named
    /// in its pid file; the master takes its children down), without that script's fixed
    /// 1 s sleep; then waits for our `postfix start-fg` child and for the ports to close.
    fn halt_postfix(&self) -> anyhow::Result<()> {
        let Some(mut child) = lock(&self.postfix).take() else {
            return Ok(());
        };
        let pid_file = self.path.join("queue/pid/master.pid");
        let master = fs::read_to_string(&pid_file).ok().and_then(|s| s.trim().parse::<u32>().ok());
        if child.try_wait()?.is_none() {
            match master {
                Some(master) => signal(master, "TERM"),
                // Not far enough to have written its pid: end our own child.
                None => signal(child.id(), "TERM"),
            }
        }
        wait_exit("Postfix", &mut child)?;
        // The master signals its children (its own process group) and exits without
        // waiting for them: wait here, so no smtpd or qmgr outlives the stack.
        if let Some(master) = master {
            wait_group_gone("Postfix", master)?;
        }
        wait_ports_free("Postfix", &[self.ports.smtp, self.ports.submission])
    }

    fn stop_all(&self) {
        let _ = self.halt_postfix();
        let _ = self.halt_dovecot();
    }

    /// A shell that stops the daemons and removes the temp dir if this process dies
    /// without running Drop (abort, SIGKILL, a second panic): it waits on a pipe that
    /// only this process holds; EOF without the word "done" means we are gone.
    fn start_watchdog(&mut self) {
        let p = self.path.display();
        let cleanup_dir = if keep_testdir() { String::new() } else { format!("rm -rf '{p}'") };
        let script = format!(
            r#"trap '' INT TERM HUP
read -r word
[ "$word" = done ] && exit 0
{POSTFIX} -c '{p}/postfix' stop >/dev/null 2>&1 &
[ -f '{p}/run/master.pid' ] && kill -TERM "$(cat '{p}/run/master.pid')" 2>/dev/null
sleep 2
{cleanup_dir}
"#
        );
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the mail stack's watchdog shell (/bin/sh)");
        let stdin = child.stdin.take().expect("watchdog stdin pipe");
        self.watchdog = Some((child, stdin));
    }

    fn append_log(&self, name: &str) -> anyhow::Result<fs::File> {
        fs::File::options()
            .create(true)
            .append(true)
            .open(self.path.join("log").join(name))
            .with_context(|| format!("open log {name}"))
    }

    /// The last lines of every log, for panic messages.
    fn log_tails(&self) -> String {
        let mut report = String::new();
        let log_dir = self.path.join("log");
        let mut files: Vec<_> =
            fs::read_dir(&log_dir).map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect()).unwrap_or_default();
        files.sort();
        for file in files {
            let text = fs::read_to_string(&file).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(25)..];
            let _ = writeln!(report, "--- tail of {} ---", file.display());
            for line in tail {
                let _ = writeln!(report, "{line}");
            }
        }
        if !keep_testdir() {
            let _ = writeln!(report, "(set LOKET_KEEP_TESTDIR=1 to keep {} after the test)", self.path.display());
        }
        report
    }
}

impl Drop for MailStack {
    /// Stops exactly what this stack started (our Postfix master from its pid file, as
    /// `postfix -c DIR stop` would; our Dovecot by its own pid), releases the watchdog, then removes the temp dir unless
    /// `LOKET_KEEP_TESTDIR=1`. Never panics: it also runs while a failing test unwinds.
    fn drop(&mut self) {
        let failing = std::thread::panicking();
        let started = Instant::now();
        let _ = self.halt_postfix();
        let postfix_stopped = started.elapsed();
        let _ = self.halt_dovecot();
        let dovecot_stopped = started.elapsed();
        if let Some((mut child, mut stdin)) = self.watchdog.take() {
            let _ = stdin.write_all(b"done\n");
            drop(stdin);
            let _ = child.wait();
        }
        if verbose() {
            eprintln!(
                "mail stack in {} stopped: Postfix after {postfix_stopped:?}, Dovecot after {dovecot_stopped:?}, all after {:?}",
                self.path.display(),
                started.elapsed()
            );
        }
        if failing {
            eprintln!("mail stack logs for the failing test:\n{}", self.log_tails());
        }
        if let Some(dir) = self.dir.take()
            && keep_testdir()
        {
            let kept = dir.keep();
            eprintln!("LOKET_KEEP_TESTDIR: mail stack kept in {}", kept.display());
        }
    }
}

impl Ports {
    /// Four distinct free ports on 127.0.0.1, chosen by the kernel.
    fn pick() -> Ports {
        let listeners: Vec<TcpListener> =
            (0..4).map(|_| TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0 to pick a free port")).collect();
        let port = |i: usize| listeners[i].local_addr().expect("local address of a just-bound listener").port();
        Ports { smtp: port(0), submission: port(1), imap: port(2), imaps: port(3) }
    }
}

/// Locks a daemon slot; a panic elsewhere must not keep Drop from stopping the daemon.
fn lock(slot: &Mutex<Option<Child>>) -> MutexGuard<'_, Option<Child>> {
    slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A rustls client with ring named explicitly: the process-wide default provider is
/// ambiguous as soon as any dependency also enables aws-lc-rs.
fn tls_connector(roots: RootCertStore) -> TlsConnector {
    let config = ClientConfig::builder_with_provider(Arc::new(tokio_rustls::rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("rustls: default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

fn localhost() -> ServerName<'static> {
    ServerName::try_from("localhost").expect("'localhost' is a valid server name")
}

/// `LOKET_STACK_VERBOSE=1`: print each stack's startup and shutdown times to stderr.
fn verbose() -> bool {
    std::env::var("LOKET_STACK_VERBOSE").is_ok_and(|v| !v.is_empty() && v != "0")
}

fn keep_testdir() -> bool {
    std::env::var("LOKET_KEEP_TESTDIR").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Distinct per stack within a process and across processes (instance names, passwords).
fn unique_nonce() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    (u64::from(std::process::id()) << 32) ^ (u64::from(nanos) << 8) ^ n
}

/// Panics with the package to install when a binary the stack runs is missing.
fn require_binaries() {
    let needed = [
        (POSTFIX, "postfix"),
        (POSTQUEUE, "postfix"),
        (DOVECOT, "dovecot-core"),
        (DOVEADM, "dovecot-core"),
        (IMAP, "dovecot-imapd"),
        (LMTP, "dovecot-lmtpd"),
        (SIEVE_PLUGIN, "dovecot-sieve"),
        (OPENSSL, "openssl"),
    ];
    let missing: Vec<String> = needed
        .iter()
        .filter(|(file, _)| !Path::new(file).exists())
        .map(|(file, pkg)| format!("{file} (package {pkg})"))
        .collect();
    assert!(
        missing.is_empty(),
        "the mail stack needs {}: run scripts/install-test-deps (as root) to install them",
        missing.join(", ")
    );
}

/// The numeric uid/gid of a system user, from /etc/passwd (no libc needed).
fn user_ids(name: &str) -> (u32, u32) {
    let passwd = fs::read_to_string("/etc/passwd").expect("read /etc/passwd");
    passwd
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() > 3 && f[0] == name)
        .and_then(|f| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
        .unwrap_or_else(|| {
            panic!("no system user {name:?}: install postfix and dovecot-core with scripts/install-test-deps")
        })
}

/// The numeric gid of a system group, from /etc/group.
fn group_id(name: &str) -> u32 {
    let group = fs::read_to_string("/etc/group").expect("read /etc/group");
    group
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() > 2 && f[0] == name)
        .and_then(|f| f[2].parse().ok())
        .unwrap_or_else(|| panic!("no system group {name:?}: install postfix with scripts/install-test-deps"))
}

fn chown_to(path: &Path, user: &str) {
    let (uid, gid) = user_ids(user);
    chown(path, Some(uid), Some(gid))
        .unwrap_or_else(|e| panic!("chown {} to {user}: {e} (the mail stack needs root)", path.display()));
}

/// A CA and a server certificate (SAN localhost, 127.0.0.1) made with the openssl CLI.
/// EC P-256 keys: generating them takes milliseconds, RSA would take a second.
fn make_certificates(tls: &Path) -> anyhow::Result<()> {
    fs::write(
        tls.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )?;
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    run_openssl(
        tls,
        &[
            &["req", "-x509"],
            &ec[..],
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "3",
                "-subj",
                "/CN=loket test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ]
        .concat(),
    )?;
    run_openssl(
        tls,
        &[&["req"], &ec[..], &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"]].concat(),
    )?;
    run_openssl(
        tls,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "3",
            "-extfile",
            "server.ext",
        ],
    )?;
    Ok(())
}

fn run_openssl(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    let out = Command::new(OPENSSL)
        .current_dir(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("run openssl (package openssl; run scripts/install-test-deps)")?;
    if !out.status.success() {
        bail!("openssl {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// `kill -SIG pid` for a process we started (std has no kill(2) with a signal choice).
fn signal(pid: u32, sig: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Live children of Dovecot's master other than its log process.
fn non_log_children(master: u32) -> Vec<u32> {
    live_children(master)
        .into_iter()
        .filter(|kid| {
            // Dovecot's children name themselves "dovecot-INSTANCE/SERVICE".
            !fs::read(format!("/proc/{kid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).trim_end_matches('\0').ends_with("/log"))
        })
        .collect()
}

/// Waits until no running process is left in process group `pgid` (our Postfix master
/// made itself a session and group leader; its children stay in its group).
fn wait_group_gone(name: &str, pgid: u32) -> anyhow::Result<()> {
    let deadline = Instant::now() + STOP_TIMEOUT;
    loop {
        let left = live_processes(|_, pgrp| pgrp == pgid);
        if left.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            for pid in &left {
                signal(*pid, "KILL");
            }
            bail!("{name}: processes {left:?} outlived their master for {STOP_TIMEOUT:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Processes whose parent is `pid` and that still run (zombies don't count), from /proc.
fn live_children(pid: u32) -> Vec<u32> {
    live_processes(|ppid, _| ppid == pid)
}

/// Running (not zombie) processes for which `keep(ppid, pgrp)` holds, read from /proc.
fn live_processes(keep: impl Fn(u32, u32) -> bool) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            // /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may contain spaces.
            let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
                return false;
            };
            let fields: Vec<&str> = rest.split_whitespace().take(3).collect();
            let [state, ppid, pgrp] = fields[..] else {
                return false;
            };
            let (Ok(ppid), Ok(pgrp)) = (ppid.parse(), pgrp.parse()) else {
                return false;
            };
            state != "Z" && state != "X" && keep(ppid, pgrp)
        })
        .collect()
}

/// The socket inode of the listener on 127.0.0.1:`port`, from /proc/net/tcp.
fn listener_inode(port: u16) -> Option<u64> {
    let table = fs::read_to_string("/proc/net/tcp").ok()?;
    let local = format!("0100007F:{port:04X}");
    table.lines().skip(1).find_map(|line| {
        // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
        let f: Vec<&str> = line.split_whitespace().collect();
        (f.len() > 9 && f[1] == local && f[3] == "0A").then(|| f[9].parse().ok())?
    })
}

/// Whether process `pid` holds the socket with this inode.
fn holds_socket(pid: u32, inode: u64) -> bool {
    let wanted = format!("socket:[{inode}]");
    fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
        fds.filter_map(|fd| fs::read_link(fd.ok()?.path()).ok()).any(|target| target.as_os_str() == wanted.as_str())
    })
}

/// Waits until every port has a listener on 127.0.0.1 held by `owner()` (the daemon's
/// master process, once known). Checking ownership, not just "something answers",
/// catches the rare case where another test's daemon got the same port first; a
/// daemon that cannot bind exits, which ends the wait early. Reading /proc instead
/// of connecting keeps probe connections out of the daemons' logs.
fn wait_listening(name: &str, child: &mut Child, ports: &[u16], owner: impl Fn() -> Option<u32>) -> anyhow::Result<()> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait()? {
            bail!("{name} exited during startup ({status}); a port may be taken");
        }
        let ours = |port: &u16| owner().zip(listener_inode(*port)).is_some_and(|(pid, inode)| holds_socket(pid, inode));
        if ports.iter().all(ours) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            let taken: Vec<u16> = ports.iter().copied().filter(|p| listener_inode(*p).is_some() && !ours(p)).collect();
            bail!(
                "{name} did not listen on 127.0.0.1 ports {ports:?} within {READY_TIMEOUT:?} \
                 (held by another process: {taken:?})"
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn wait_exit(name: &str, child: &mut Child) -> anyhow::Result<()> {
    let deadline = Instant::now() + STOP_TIMEOUT;
    while child.try_wait()?.is_none() {
        if Instant::now() >= deadline {
            signal(child.id(), "KILL");
            let _ = child.wait();
            bail!("{name} (pid {}) did not stop within {STOP_TIMEOUT:?}; killed", child.id());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(())
}

/// Waits until nothing listens on `ports` any more (children of a stopped master can
/// hold a listening socket for a moment), so a restart can bind them again.
fn wait_ports_free(name: &str, ports: &[u16]) -> anyhow::Result<()> {
    let deadline = Instant::now() + STOP_TIMEOUT;
    loop {
        let busy: Vec<u16> = ports.iter().copied().filter(|p| listener_inode(*p).is_some()).collect();
        if busy.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("{name} stopped but ports {busy:?} still have listeners");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A Sieve quoted string (RFC 5228: only `"` and `\` need escaping; newlines are fine).
fn sieve_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The decoded subjects of raw messages, for error messages.
pub fn subjects(messages: &[Vec<u8>]) -> Vec<String> {
    messages
        .iter()
        .map(|raw| {
            mail_parser::MessageParser::default()
                .parse(raw)
                .and_then(|m| m.subject().map(str::to_owned))
                .unwrap_or_else(|| "(no subject)".to_owned())
        })
        .collect()
}
