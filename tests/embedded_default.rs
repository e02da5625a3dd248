//! Story: someone clones the repo and runs loket on its embedded default — a Maildir in,
//! .eml files out, SQLite — with no mail server at all. The demo plays the whole story.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn loket() -> Command {
    Command::new(env!("CARGO_BIN_EXE_loket"))
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Kills the child when the test ends, passing or not: no stray servers.
struct Killed(std::process::Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir).map(|d| d.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect()).unwrap_or_default()
}

#[test]
fn serve_reads_the_maildir_writes_eml_files_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/loket.toml")).expect("example");
    std::fs::write(dir.path().join("loket.toml"), example).expect("config");
    let log = std::fs::File::create(dir.path().join("loket.log")).expect("log");
    let child = loket().arg("serve").current_dir(dir.path()).stderr(log).spawn().expect("loket serve starts");
    let mut child = Killed(child);
    let inbox = dir.path().join("var/mail/inbox");
    wait_until("the Maildir", || inbox.join("new").is_dir());

    let request = "From: Rizki <rizki@bps.test>\r\nTo: zoom@bps.test\r\nSubject: Pinjam Zoom\r\nDate: Mon, 05 Jan 2026 08:00:00 +0700\r\nMessage-ID: <r1@bps.test>\r\n\r\nMohon pinjam Zoom hari Senin, 12 Januari 2026 pukul 09.00-11.00 WIB untuk 30 peserta.\r\n";
    std::fs::write(inbox.join("tmp/1.r1"), request).expect("write");
    std::fs::rename(inbox.join("tmp/1.r1"), inbox.join("new/1.r1")).expect("deliver");
    std::fs::write(inbox.join("new/2.junk"), [0u8, 159, 146, 150, 0, 1, 2]).expect("deliver junk");

    let outbox = dir.path().join("var/mail/outbox");
    // The request is past (the real clock is later than January 2026): a refusal with the
    // reason, and the admins told about the junk.
    wait_until("replies in the outbox", || {
        files(&outbox).iter().filter(|p| p.extension().is_some_and(|x| x == "eml")).count() >= 2
    });
    wait_until("the request in .Processed", || files(&inbox.join(".Processed/cur")).len() == 1);
    wait_until("the junk in .Failed", || files(&inbox.join(".Failed/cur")).len() == 1);
    let emls: Vec<String> = files(&outbox).iter().map(|p| std::fs::read_to_string(p).expect("read eml")).collect();
    assert!(emls.iter().any(|e| e.contains("To: Rizki <rizki@bps.test>") && e.contains("LKT-")), "{emls:?}");
    assert!(emls.iter().any(|e| e.contains("To: ti@bps.test")), "the admin is told about the junk: {emls:?}");
    assert!(emls.iter().all(|e| e.contains("Auto-Submitted: ")));

    let _ = Command::new("kill").arg("-TERM").arg(child.0.id().to_string()).status();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.0.try_wait().expect("wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "loket ignores SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("var/loket.db")).expect("db").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the database is private");
    }

    // The record and the schedule are there for the admin's commands.
    let out = loket().args(["check-db"]).current_dir(dir.path()).output().expect("check-db");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let out = loket().args(["accounts"]).current_dir(dir.path()).output().expect("accounts");
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(listing.contains("zoom1") && !listing.contains("ganti-sandi"), "{listing}");
}

#[test]
fn without_a_configuration_loket_says_how_to_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = loket().arg("serve").current_dir(dir.path()).output().expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("examples/loket.toml"));
}

#[test]
fn parse_prints_one_json_object_and_exits_2_on_a_missing_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let eml = dir.path().join("m.eml");
    std::fs::write(&eml, "From: a@bps.test\r\nSubject: Pinjam Zoom\r\nDate: Mon, 05 Jan 2026 08:00:00 +0700\r\n\r\nPinjam Zoom besok pukul 9.00 - 10.00 WITA, 40 peserta.\r\n").expect("write");
    let out = loket().arg("parse").arg(&eml).output().expect("runs");
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["intent"], "request");
    assert_eq!(v["sessions"][0]["start"], "2026-01-06T09:00:00+08:00");
    assert_eq!(v["participants"], 40);
    let missing = loket().arg("parse").arg(dir.path().join("nope.eml")).output().expect("runs");
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read"));
}

#[test]
fn the_demo_plays_the_whole_story() {
    let out = loket().arg("demo").output().expect("demo runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let story = String::from_utf8_lossy(&out.stdout);
    for step in [
        "diterima",          // acknowledgement
        "Mohon persetujuan", // approval request
        "disetujui",         // confirmation
        "Penugasan",         // assignment notice
        "tidak tersedia",    // clash with alternatives
        "dibatalkan",        // cancellation
        "Pengingat",         // reminders
        "rekaman",           // recording reminder
        "Tugas penutupan",   // closure task
        "tercatat",          // SELESAI
        "LKT-2026-0001 closed; LKT-2026-0002 declined; LKT-2026-0003 cancelled",
    ] {
        assert!(story.contains(step), "the demo lacks {step:?}:\n{story}");
    }
}
