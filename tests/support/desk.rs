//! loket against a [`MailStack`]: in-process with a clock the test moves (for timers),
//! or as the real binary (for crashes). Plus the mails people write: requests, and
//! replies that thread the way a mail client threads them.

use super::MailStack;
use chrono::{DateTime, Duration, Utc};
use loket::shell::clock::{Clock, ManualClock};
use loket::shell::config::Config;
use loket::shell::db::Db;
use loket::shell::desk::Desk as LoketDesk;
use loket::shell::sender::smtp::SmtpSender;
use loket::shell::service::{self, RunOptions};
use loket::shell::source::imap::ImapSource;
use loket::shell::store::Store;
use mail_parser::MessageParser;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Everyone a story needs: the desk's mailbox, requesters, the approver, the admin.
pub const USERS: &[&str] = &["zoom", "rizki", "dewi", "budi", "tip", "ti", "ooo"];

/// A Monday morning in WIB: stories start here.
pub const MONDAY: &str = "2026-01-05T08:00:00+07:00";

pub fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("test time").to_utc()
}

/// The configuration of a desk on `stack`: IMAPS in, SMTP submission with STARTTLS out,
/// three accounts; `extra` is appended (later keys of a table must not repeat earlier ones,
/// so stories add whole tables such as `[limits]` or `[trust]`).
pub fn config_toml(stack: &MailStack, dir: &Path, policy: &str, reminders: &str, extra: &str) -> String {
    format!(
        r#"
[desk]
address = "zoom@bps.test"
name = "Loket Zoom BPS Provinsi Bengkulu"
timezone = "Asia/Jakarta"
language = "id"
[storage]
database = "{db}"
[inbox]
kind = "imap"
host = "127.0.0.1"
port = {imaps}
tls = "implicit"
ca_file = "{ca}"
username = "zoom@bps.test"
password = "{imap_password}"
idle = true
poll_seconds = 2
[outbox]
kind = "smtp"
host = "127.0.0.1"
port = {submission}
tls = "starttls"
ca_file = "{ca}"
username = "zoom@bps.test"
password = "{imap_password}"
[[accounts]]
id = "zoom1"
login = "zoom1@bps.test"
password = "Sandi-Zoom1-Uji"
capacity = 100
[[accounts]]
id = "zoom2"
login = "zoom2@bps.test"
password = "Sandi-Zoom2-Uji"
capacity = 300
[roles]
approvers = ["tip@bps.test"]
admins = ["ti@bps.test"]
requester_domains = ["bps.test"]
[policy]
{policy}
[reminders]
{reminders}
{extra}
"#,
        db = dir.join("loket.db").display(),
        imaps = stack.imaps_port(),
        submission = stack.submission_port(),
        ca = stack.ca_file().display(),
        imap_password = stack.password("zoom"),
    )
}

pub const POLICY: &str = "turnaround_minutes = 60\noffice_hours = \"07:00-18:00\"\noffice_days = \"mon-fri\"";
pub const REMINDERS: &str = "before = [\"1d\", \"1h\"]\nrecording_after_end = \"0m\"\nclosure_after_end = \"60m\"\nclosure_escalate_after = \"24h\"";

/// loket running inside the test, on `stack`, with a clock only the test moves.
pub struct Desk {
    pub clock: ManualClock,
    pub dir: tempfile::TempDir,
    pub config: Config,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Desk {
    pub async fn start(stack: &MailStack, now: &str) -> Desk {
        Desk::start_with(stack, now, POLICY, REMINDERS, "").await
    }

    pub async fn start_with(stack: &MailStack, now: &str, policy: &str, reminders: &str, extra: &str) -> Desk {
        let dir = tempfile::tempdir().expect("temp dir for loket");
        let text = config_toml(stack, dir.path(), policy, reminders, extra);
        let config = Config::from_toml(&text, Path::new("test.toml"), &|_| None).expect("test config loads");
        Desk::run(config, dir, ManualClock::new(at(now))).await
    }

    /// A desk on a configuration the test wrote itself, starting on [`MONDAY`].
    pub async fn from_config(config: Config, dir: tempfile::TempDir) -> Desk {
        Desk::run(config, dir, ManualClock::new(at(MONDAY))).await
    }

    async fn run(config: Config, dir: tempfile::TempDir, clock: ManualClock) -> Desk {
        let store = Store::open(&config.database).expect("open the store");
        let desk = Arc::new(LoketDesk::new(&config).expect("templates render"));
        let db = Db::new(store);
        let source = ImapSource::new(&config.inbox, db.clone()).expect("imap source");
        let loket::shell::config::OutboxConfig::Smtp { server } = &config.outbox else {
            panic!("smtp outbox expected")
        };
        let sender = Arc::new(SmtpSender::new(server).expect("smtp sender"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let clock_arc: Arc<dyn Clock> = Arc::new(clock.clone());
        let options = RunOptions { tick: std::time::Duration::from_millis(100) };
        let task = tokio::spawn(service::run(desk, db, source, sender, clock_arc, options, async {
            let _ = rx.await;
        }));
        Desk { clock, dir, config, stop: Some(tx), task: Some(task) }
    }

    /// Stops the service (after the mail in hand) and starts it again on the same store.
    pub async fn restart(&mut self) {
        self.shutdown().await;
        let dir = tempfile::tempdir().expect("temp dir");
        let moved = std::mem::replace(&mut self.dir, dir);
        let again = Desk::run(self.config.clone(), moved, self.clock.clone()).await;
        *self = again;
    }

    pub async fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(std::time::Duration::from_secs(30), task)
                .await
                .expect("loket stops within 30 s")
                .expect("loket's task did not panic");
        }
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// A read-only look at the store, for assertions on the record.
    pub fn sql<T: rusqlite::types::FromSql>(&self, query: &str) -> Vec<T> {
        let c = rusqlite::Connection::open(&self.config.database).expect("open db");
        let mut st = c.prepare(query).expect("query");
        st.query_map([], |r| r.get(0)).expect("rows").collect::<Result<_, _>>().expect("values")
    }

    pub fn status(&self, reference: &str) -> String {
        self.sql::<String>(&format!("SELECT status FROM requests WHERE reference = '{reference}'"))
            .pop()
            .unwrap_or_else(|| "missing".into())
    }
}

impl Drop for Desk {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

// ---- the mails people write -----------------------------------------------------------

static SEQ: AtomicU64 = AtomicU64::new(1);

pub fn message_id(who: &str) -> String {
    format!("{}.{}.{}@bps.test", who, std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed))
}

/// A plain-text mail from `from` to the desk.
pub fn mail(from: &str, subject: &str, date: &str, body: &str) -> Vec<u8> {
    mail_with(from, subject, date, body, &[])
}

pub fn mail_with(from: &str, subject: &str, date: &str, body: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = format!(
        "From: {from}\r\nTo: Loket Zoom <zoom@bps.test>\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <{}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n",
        message_id(from.split('@').next().unwrap_or("x"))
    );
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&body.replace('\n', "\r\n"));
    out.into_bytes()
}

/// A reply as a mail client writes it: "Re:" subject, In-Reply-To and References, the
/// new text on top and the original quoted below.
pub fn reply(original: &[u8], from: &str, date: &str, body: &str) -> Vec<u8> {
    let m = MessageParser::default().parse(original).expect("original parses");
    let id = m.message_id().expect("original has a Message-ID").to_string();
    let subject = m.subject().unwrap_or("");
    let subject =
        if subject.to_lowercase().starts_with("re:") { subject.to_string() } else { format!("Re: {subject}") };
    let quoted: String = m.body_text(0).unwrap_or_default().lines().map(|l| format!("> {l}\n")).collect();
    let text = format!("{body}\n\nPada {date}, Loket Zoom <zoom@bps.test> menulis:\n{quoted}");
    mail_with(from, &subject, date, &text, &[("In-Reply-To", &format!("<{id}>")), ("References", &format!("<{id}>"))])
}

pub fn subject(raw: &[u8]) -> String {
    MessageParser::default().parse(raw).and_then(|m| m.subject().map(str::to_string)).unwrap_or_default()
}

pub fn text(raw: &[u8]) -> String {
    MessageParser::default().parse(raw).and_then(|m| m.body_text(0).map(|t| t.into_owned())).unwrap_or_default()
}

pub fn header(raw: &[u8], name: &str) -> Option<String> {
    let m = MessageParser::default().parse(raw)?;
    m.header_raw(name).map(|v| v.trim().to_string())
}

/// The mails in `list` whose subject contains `needle`.
pub fn with_subject<'a>(list: &'a [Vec<u8>], needle: &str) -> Vec<&'a Vec<u8>> {
    list.iter().filter(|m| subject(m).contains(needle)).collect()
}

/// Sends `raw` from `from` to the desk through the stack's SMTP port.
pub async fn send(stack: &MailStack, from: &str, raw: &[u8]) {
    stack.send_raw(from, &["zoom@bps.test"], raw).await.expect("the stack accepts the mail");
}

/// Waits until `user` has a mail whose subject contains `needle`; returns it.
pub async fn expect_mail(stack: &MailStack, user: &str, needle: &str) -> Vec<u8> {
    let needle_owned = needle.to_string();
    let all = stack
        .wait_for(user, "INBOX", std::time::Duration::from_secs(30), needle, move |list| {
            list.iter().any(|m| subject(m).contains(&needle_owned))
        })
        .await
        .unwrap_or_else(|e| panic!("{user} never got a mail with {needle:?} in its subject: {e:#}"));
    with_subject(&all, needle).last().map(|m| (*m).clone()).expect("found above")
}

/// The `loket` binary built for this test run.
pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_loket"))
}

/// The usual request: Monday 12 January 2026, 09.00–12.00 WIB, `participants` people.
pub fn monday_request(from: &str, participants: u32) -> Vec<u8> {
    mail(
        from,
        "Permohonan Peminjaman Zoom",
        "Mon, 05 Jan 2026 08:00:00 +0700",
        &format!(
            "Yth. Admin Zoom,\n\nMohon dipinjamkan Zoom untuk rapat pada Senin, 12 Januari 2026 pukul 09.00-12.00 WIB, peserta {participants} orang.\n\nTerima kasih.\n"
        ),
    )
}

/// Sends the usual request from `user` and returns the approval request the approver got.
pub async fn held_request(stack: &MailStack, user: &str, participants: u32, reference: &str) -> Vec<u8> {
    send(stack, &format!("{user}@bps.test"), &monday_request(&format!("{user}@bps.test"), participants)).await;
    expect_mail(stack, user, reference).await;
    expect_mail(stack, "tip", reference).await
}

/// Asserts that `user` receives nothing more than `n` mails within `wait`.
pub async fn assert_quiet(stack: &MailStack, user: &str, n: usize, wait: std::time::Duration) {
    tokio::time::sleep(wait).await;
    let got = stack.fetch_all(user, "INBOX").await.expect("fetch");
    assert_eq!(got.len(), n, "{user} got unexpected mail: {:?}", super::subjects(&got));
}

/// Puts `raw` straight into the desk's INBOX over IMAP (APPEND), bypassing Postfix: how a
/// mail reaches the desk while the test has Postfix stopped.
pub async fn append_to_desk(stack: &MailStack, raw: &[u8]) {
    let mut s = stack.imap_session("zoom").await.expect("imap session as the desk");
    tokio::time::timeout(super::NET_TIMEOUT, s.append("INBOX", None, None, raw))
        .await
        .expect("APPEND in time")
        .expect("APPEND accepted");
    let _ = tokio::time::timeout(super::NET_TIMEOUT, s.logout()).await;
}

/// A `loket serve` process on `stack` with the real clock, for tests that kill it.
pub struct Process {
    pub config: PathBuf,
    pub dir: PathBuf,
    child: Option<std::process::Child>,
    starts: usize,
}

/// A policy that takes any day and hour, so requests written for real dates are lawful.
pub const ANY_TIME: &str = "turnaround_minutes = 30\nmin_lead_minutes = 0\noffice_hours = \"any\"\noffice_days = \"any\"\nbooking_window_days = 400";

impl Process {
    pub fn new(stack: &MailStack, dir: &Path, extra: &str) -> Process {
        let config = dir.join("loket.toml");
        std::fs::write(&config, config_toml(stack, dir, ANY_TIME, REMINDERS, extra)).expect("write config");
        Process { config, dir: dir.to_path_buf(), child: None, starts: 0 }
    }

    pub fn start(&mut self) {
        self.start_with_log_level("info");
    }

    /// Starts with `LOKET_LOG` set to `level` (e.g. "trace", to read everything it says).
    pub fn start_with_log_level(&mut self, level: &str) {
        self.starts += 1;
        let log = std::fs::File::create(self.dir.join(format!("loket-{}.log", self.starts))).expect("log file");
        let child = std::process::Command::new(binary())
            .args(["serve", "--config"])
            .arg(&self.config)
            .env("LOKET_LOG", level)
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start loket serve");
        self.child = Some(child);
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, and the exit status once it stopped.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("running");
        let _ = std::process::Command::new("kill").arg("-TERM").arg(c.id().to_string()).status();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if let Some(status) = c.try_wait().expect("wait") {
                return status;
            }
            assert!(std::time::Instant::now() < deadline, "loket did not stop within 30 s of SIGTERM");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    pub fn logs(&self) -> String {
        (1..=self.starts)
            .map(|i| std::fs::read_to_string(self.dir.join(format!("loket-{i}.log"))).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n----- restart -----\n")
    }

    /// `loket check-db` on this process's database: its exit status and output.
    pub fn check_db(&self) -> (bool, String) {
        let out = std::process::Command::new(binary())
            .args(["check-db", "--config"])
            .arg(&self.config)
            .output()
            .expect("run check-db");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        )
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// "Senin, 7 Desember 2026": a day `days` from today, as staff write it.
pub fn day_in_words(days: i64) -> String {
    let d = (Utc::now() + Duration::days(days)).with_timezone(&chrono_tz::Asia::Jakarta).date_naive();
    loket::core::present::date(loket::core::rules::Language::Id, d)
}

/// `examples/loket.toml` (the embedded default) with its `var/` paths moved into `dir` and
/// the per-sender limit raised: the desk for stories that need no mail server.
pub fn example_config(dir: &Path) -> Config {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/loket.toml"))
        .expect("examples/loket.toml")
        .replace("\"var/", &format!("\"{}/", dir.display()))
        .replace("per_sender_per_hour = 10", "per_sender_per_hour = 100000");
    Config::from_toml(&text, Path::new("example.toml"), &|_| None).expect("the example config loads")
}
