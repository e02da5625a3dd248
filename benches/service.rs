//! The service benchmark (not a test): loket as a process against the real test stack.
//!
//! `cargo bench --bench service [-- --requests N --senders S --rate R --approvals]`
//!
//! 1. Raw stack: the same number of messages, in (users → desk) and out (desk → users, over
//!    submission with STARTTLS + AUTH as loket sends them), with no loket: the floor.
//! 2. loket: N requests from S senders through Postfix, offered at R requests/s (0: all
//!    at once); for each, the time from Postfix accepting the request to the desk's
//!    answer landing in the sender's mailbox; requests/s; loket's peak RSS.
//!    `--approvals`: the approver answers every approval request as it arrives, so the
//!    desk decides approvals while requests keep coming; then `check-db` must pass and
//!    no account may be double-booked.
//!
//! Figures go to stdout, one `name: value` per line, plus the ratios.

#[path = "../tests/support/mod.rs"]
mod support;

use futures::TryStreamExt;
use lettre::address::Envelope;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::MailStack;
use support::desk::{Process, day_in_words, header, mail};

struct Args {
    requests: usize,
    senders: usize,
    rate: f64,
    approvals: bool,
}

fn args() -> Args {
    let mut a = Args { requests: 500, senders: 20, rate: 0.0, approvals: false };
    let argv: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < argv.len() {
        let next = || argv.get(i + 1).cloned().unwrap_or_default();
        match argv[i].as_str() {
            "--requests" => a.requests = next().parse().expect("--requests N"),
            "--senders" => a.senders = next().parse().expect("--senders N"),
            "--rate" => a.rate = next().parse().expect("--rate R"),
            "--approvals" => {
                a.approvals = true;
                i -= 1;
            }
            _ => {
                i -= 1;
            }
        }
        i += 2;
    }
    a
}

fn users(senders: usize) -> Vec<String> {
    let mut u: Vec<String> = (0..senders).map(|i| format!("staff{i:02}")).collect();
    u.extend(["zoom", "tip", "ti"].map(String::from));
    u
}

/// A pooled SMTP client on the stack's MX-like port (no TLS, no AUTH): how users' mail
/// reaches the desk.
fn mx(stack: &MailStack) -> AsyncSmtpTransport<Tokio1Executor> {
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1").port(stack.smtp_port()).build()
}

/// The submission port with STARTTLS + AUTH as the desk: how loket's answers leave.
fn submission(stack: &MailStack) -> AsyncSmtpTransport<Tokio1Executor> {
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    let pem = std::fs::read(stack.ca_file()).expect("ca");
    let tls = TlsParameters::builder("127.0.0.1".into())
        .add_root_certificate(Certificate::from_pem(&pem).expect("pem"))
        .build_rustls()
        .expect("tls");
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(stack.submission_port())
        .tls(Tls::Required(tls))
        .credentials(Credentials::new("zoom@bps.test".into(), stack.password("zoom")))
        .build()
}

async fn send(t: &AsyncSmtpTransport<Tokio1Executor>, from: &str, to: &str, raw: &[u8]) {
    let env = Envelope::new(Some(from.parse().expect("from")), vec![to.parse().expect("to")]).expect("envelope");
    tokio::time::timeout(Duration::from_secs(30), t.send_raw(&env, raw))
        .await
        .expect("SMTP in time")
        .expect("SMTP accepted");
}

/// Raw: `n_in` mails to the desk and `n_out` from the desk, all concurrently, until all
/// are in their mailboxes.
async fn raw_stack(n_in: usize, n_out: usize, senders: usize) -> Duration {
    let names = users(senders);
    let stack = Arc::new(MailStack::start(&names.iter().map(String::as_str).collect::<Vec<_>>()));
    let started = Instant::now();
    let mut jobs = Vec::new();
    for s in 0..senders {
        let stack = stack.clone();
        jobs.push(tokio::spawn(async move {
            let (mx, sub) = (mx(&stack), submission(&stack));
            let me = format!("staff{s:02}@bps.test");
            for i in (s..n_in).step_by(senders) {
                send(
                    &mx,
                    &me,
                    "zoom@bps.test",
                    &mail(&me, &format!("raw {i}"), "Mon, 05 Jan 2026 08:00:00 +0700", "x"),
                )
                .await;
            }
            for i in (s..n_out).step_by(senders) {
                send(
                    &sub,
                    "zoom@bps.test",
                    &me,
                    &mail("zoom@bps.test", &format!("raw out {i}"), "Mon, 05 Jan 2026 08:00:00 +0700", "y"),
                )
                .await;
            }
        }));
    }
    for j in jobs {
        j.await.expect("sender");
    }
    loop {
        let mut total = stack.count("zoom", "INBOX");
        for s in 0..senders {
            total += stack.count(&format!("staff{s:02}"), "INBOX");
        }
        if total >= n_in + n_out {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Watches a user's INBOX and notes when each answer (by its In-Reply-To) arrives.
async fn watch(
    stack: Arc<MailStack>,
    user: String,
    arrivals: Arc<Mutex<BTreeMap<String, Instant>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) {
    let mut s = stack.imap_session(&user).await.expect("imap");
    tokio::time::timeout(Duration::from_secs(15), s.select("INBOX")).await.expect("in time").expect("select");
    let mut next_uid = 1u32;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let found = tokio::time::timeout(Duration::from_secs(15), s.uid_search(format!("UID {next_uid}:*")))
            .await
            .expect("in time")
            .expect("search");
        let mut uids: Vec<u32> = found.into_iter().filter(|u| *u >= next_uid).collect();
        uids.sort_unstable();
        if let Some(last) = uids.last() {
            let now = Instant::now();
            let set = uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
            let fetched: Vec<_> = tokio::time::timeout(Duration::from_secs(15), async {
                s.uid_fetch(&set, "BODY.PEEK[HEADER.FIELDS (IN-REPLY-TO)]").await?.try_collect::<Vec<_>>().await
            })
            .await
            .expect("in time")
            .expect("fetch");
            let mut a = arrivals.lock().expect("lock");
            for f in &fetched {
                let h = String::from_utf8_lossy(f.header().unwrap_or_default()).to_string();
                if let Some(id) = h.split_once(':').map(|(_, v)| v.trim().to_string()) {
                    a.entry(id).or_insert(now);
                }
            }
            next_uid = last + 1;
        }
        // Coarse enough not to load Dovecot (twenty sessions), fine enough for figures in
        // hundreds of milliseconds.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = s.logout().await;
}

/// The approver answers every approval request with SETUJU as it arrives (fetching only
/// what is new, so a long run stays linear).
async fn approver(stack: Arc<MailStack>, stop: Arc<std::sync::atomic::AtomicBool>) -> usize {
    let t = mx(&stack);
    let mut s = stack.imap_session("tip").await.expect("imap");
    tokio::time::timeout(Duration::from_secs(15), s.select("INBOX")).await.expect("in time").expect("select");
    let (mut answered, mut next_uid) = (0, 1u32);
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let found = tokio::time::timeout(Duration::from_secs(15), s.uid_search(format!("UID {next_uid}:*")))
            .await
            .expect("in time")
            .expect("search");
        let mut uids: Vec<u32> = found.into_iter().filter(|u| *u >= next_uid).collect();
        uids.sort_unstable();
        if let Some(last) = uids.last().copied() {
            let set = uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
            let fetched: Vec<_> = tokio::time::timeout(Duration::from_secs(30), async {
                s.uid_fetch(&set, "BODY.PEEK[]").await?.try_collect::<Vec<_>>().await
            })
            .await
            .expect("in time")
            .expect("fetch");
            for f in &fetched {
                let Some(m) = f.body() else { continue };
                if support::desk::subject(m).contains("persetujuan") {
                    let reply = support::desk::reply(m, "tip@bps.test", "Mon, 05 Jan 2026 08:30:00 +0700", "SETUJU");
                    send(&t, "tip@bps.test", "zoom@bps.test", &reply).await;
                    answered += 1;
                }
            }
            next_uid = last + 1;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = s.logout().await;
    answered
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:").map(|v| v.trim().trim_end_matches(" kB").trim().parse().unwrap_or(0)))
        .unwrap_or(0)
}

/// User + system CPU time of a process, from /proc (clock ticks of 1/100 s on Linux).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, r)| r.split_whitespace().collect()).unwrap_or_default();
    let tick = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let a = args();
    println!(
        "requests: {}  senders: {}  offered rate: {}  approvals: {}",
        a.requests,
        a.senders,
        if a.rate > 0.0 { format!("{}/s", a.rate) } else { "all at once".into() },
        a.approvals
    );

    let names = users(a.senders);
    let stack = Arc::new(MailStack::start(&names.iter().map(String::as_str).collect::<Vec<_>>()));
    let dir = tempfile::tempdir().expect("temp dir");
    if std::env::var_os("LOKET_KEEP_BENCHDIR").is_some() {
        println!("bench dir (kept): {}", dir.path().display());
    }
    // Three roomy accounts and a long window, so most requests are held (two answers each).
    let accounts = "[[accounts]]\nid = \"zoom3\"\nlogin = \"zoom3@bps.test\"\npassword = \"x\"\ncapacity = 1000\n[limits]\nper_sender_per_hour = 100000";
    let mut loket = Process::new(&stack, dir.path(), accounts);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let arrivals = Arc::new(Mutex::new(BTreeMap::new()));
    let mut watchers = Vec::new();
    for s in 0..a.senders {
        watchers.push(tokio::spawn(watch(stack.clone(), format!("staff{s:02}"), arrivals.clone(), stop.clone())));
    }
    let approving = a.approvals.then(|| tokio::spawn(approver(stack.clone(), stop.clone())));
    loket.start();
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // Distinct slots: day d, hour h; three accounts per slot.
    let accepted = Arc::new(Mutex::new(BTreeMap::new()));
    let started = Instant::now();
    let mut senders = Vec::new();
    for s in 0..a.senders {
        let (stack, accepted) = (stack.clone(), accepted.clone());
        let (n, per_sender_gap) = (
            a.requests,
            if a.rate > 0.0 { Duration::from_secs_f64(a.senders as f64 / a.rate) } else { Duration::ZERO },
        );
        let total = a.senders;
        senders.push(tokio::spawn(async move {
            let t = mx(&stack);
            let me = format!("staff{s:02}@bps.test");
            let mut tick = Instant::now();
            for i in (s..n).step_by(total) {
                let body = format!(
                    "Mohon pinjam Zoom untuk rapat #{i} pada {} pukul {:02}.00-{:02}.45 WIB, {} peserta.",
                    day_in_words(3 + (i / 15) as i64),
                    7 + 2 * (i % 5),
                    7 + 2 * (i % 5),
                    10 + i % 80
                );
                let raw = mail(&me, &format!("Permohonan Zoom #{i}"), &chrono::Utc::now().to_rfc2822(), &body);
                let id = header(&raw, "Message-ID").expect("id");
                send(&t, &me, "zoom@bps.test", &raw).await;
                accepted.lock().expect("lock").insert(id, Instant::now());
                if !per_sender_gap.is_zero() {
                    tick += per_sender_gap;
                    tokio::time::sleep_until(tick.into()).await;
                }
            }
        }));
    }
    for s in senders {
        s.await.expect("sender");
    }
    let sent_all = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let got = {
            let acc = accepted.lock().expect("lock");
            let arr = arrivals.lock().expect("lock");
            acc.keys().filter(|k| arr.contains_key(*k)).count()
        };
        if got == a.requests {
            break;
        }
        assert!(Instant::now() < deadline, "only {got} of {} requests answered in 10 minutes", a.requests);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = started.elapsed();
    if a.approvals {
        // Let the approvals of the last requests be decided too.
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let rss = peak_rss_kib(loket_pid(&loket));
    let cpu = cpu_seconds(loket_pid(&loket));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in watchers {
        let _ = w.await;
    }
    let approved = match approving {
        Some(h) => h.await.unwrap_or(0),
        None => 0,
    };
    let status = loket.terminate();

    let acc = accepted.lock().expect("lock").clone();
    let arr = arrivals.lock().expect("lock").clone();
    let mut lat: Vec<Duration> =
        acc.iter().filter_map(|(id, t)| arr.get(id).map(|a| a.saturating_duration_since(*t))).collect();
    lat.sort();
    let c = rusqlite::Connection::open(dir.path().join("loket.db")).expect("db");
    let q = |sql: &str| -> i64 { c.query_row(sql, [], |r| r.get(0)).expect(sql) };
    let out_mails = q("SELECT count(*) FROM outbox");
    let lost = a.requests as i64 - q("SELECT count(*) FROM mails_in WHERE subject LIKE 'Permohonan Zoom #%'");
    let (db_ok, report) = loket.check_db();

    println!("sent_all_seconds: {:.2}", sent_all.as_secs_f64());
    println!("elapsed_seconds: {:.2}", elapsed.as_secs_f64());
    println!("requests_per_second: {:.1}", a.requests as f64 / elapsed.as_secs_f64());
    println!("latency_p50_ms: {}", percentile(&lat, 0.50).as_millis());
    println!("latency_p99_ms: {}", percentile(&lat, 0.99).as_millis());
    println!("latency_max_ms: {}", lat.last().copied().unwrap_or_default().as_millis());
    println!("peak_rss_mib: {:.1}", rss as f64 / 1024.0);
    println!("loket_cpu_seconds: {cpu:.2}");
    println!("mails_out: {out_mails}");
    println!(
        "held: {}  clash: {}  approved: {}  approvals_sent: {approved}",
        q("SELECT count(*) FROM mails_in WHERE outcome = 'held'"),
        q("SELECT count(*) FROM mails_in WHERE outcome = 'clash'"),
        q("SELECT count(*) FROM requests WHERE status = 'approved'")
    );
    println!("lost: {lost}");
    println!("check_db: {}", if db_ok { "ok (no double booking)".to_string() } else { report.clone() });
    println!("clean_stop: {}", status.success());
    drop(stack);
    if std::env::var_os("LOKET_KEEP_BENCHDIR").is_some() {
        let _ = dir.keep();
    }

    let raw = raw_stack(a.requests, out_mails as usize, a.senders).await;
    println!("raw_stack_seconds ({} in + {} out): {:.2}", a.requests, out_mails, raw.as_secs_f64());
    println!("ratio_loket_to_raw: {:.2}", elapsed.as_secs_f64() / raw.as_secs_f64());
    assert_eq!(lost, 0, "requests lost");
    assert!(db_ok, "check-db: {report}");
}

fn loket_pid(p: &Process) -> u32 {
    p.pid().expect("loket running")
}
