//! Story: the database's disk stops taking writes (a full or read-only volume; here the
//! files are made immutable, which stops even root). Intake pauses: the mail stays in
//! the inbox, nothing is marked processed, nothing is answered half-way. When the disk
//! takes writes again, the desk resumes and answers it.

mod support;

use std::path::{Path, PathBuf};
use support::MailStack;
use support::desk::*;

/// Makes paths immutable (chattr +i) and undoes it when dropped, even on a panic.
struct Immutable(Vec<PathBuf>);

impl Immutable {
    fn set(paths: &[PathBuf]) -> Immutable {
        for p in paths {
            let ok =
                std::process::Command::new("chattr").arg("+i").arg(p).status().expect("run chattr (package e2fsprogs)");
            assert!(ok.success(), "chattr +i {} failed: this test needs an ext4-like /tmp", p.display());
        }
        Immutable(paths.to_vec())
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::process::Command::new("chattr").arg("-i").arg(p).status();
        }
    }
}

fn db_files(db: &Path) -> Vec<PathBuf> {
    // Not the -shm file: SQLite maps it, and the point is refused writes, not a SIGBUS.
    vec![db.parent().expect("dir").to_path_buf(), db.to_path_buf(), PathBuf::from(format!("{}-wal", db.display()))]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_pauses_while_the_database_cannot_be_written_and_resumes_after() {
    let stack = MailStack::start(USERS);
    let mut desk = Desk::start(&stack, MONDAY).await;
    send(&stack, "rizki@bps.test", &monday_request("rizki@bps.test", 20)).await;
    expect_mail(&stack, "rizki", "LKT-2026-0001").await;
    let db = desk.config.database.clone();

    let frozen = Immutable::set(&db_files(&db));
    send(&stack, "dewi@bps.test", &monday_request("dewi@bps.test", 20)).await;
    stack
        .wait_for("zoom", "INBOX", std::time::Duration::from_secs(10), "Dewi's request in the inbox", |m| m.len() == 1)
        .await
        .expect("delivered to the desk");
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    assert_eq!(stack.count("zoom", "INBOX"), 1, "the mail stays in the inbox");
    assert_eq!(stack.count("zoom", "Processed"), 1, "nothing more is marked processed");
    assert_eq!(stack.count("dewi", "INBOX"), 0, "nothing is answered");
    assert_eq!(desk.sql::<i64>("SELECT count(*) FROM mails_in"), vec![1], "nothing recorded while frozen");

    drop(frozen);
    expect_mail(&stack, "dewi", "LKT-2026-0002").await;
    stack
        .wait_for("zoom", "Processed", std::time::Duration::from_secs(30), "both processed", |m| m.len() == 2)
        .await
        .expect("resumed");
    assert_eq!(stack.count("zoom", "INBOX"), 0);
    desk.shutdown().await;
}
