//! `loket demo`: the whole story of WORKFLOW.md on a simulated clock, in a temporary
//! directory, on the embedded default (Maildir in, `.eml` out, SQLite). It drives the same
//! desk, store, Maildir and file sender the service uses; only the clock is simulated.

use crate::shell::clock::{Clock, ManualClock};
use crate::shell::config::Config;
use crate::shell::db::Db;
use crate::shell::desk::Desk;
use crate::shell::sender::file::FileSender;
use crate::shell::service::deliver_due;
use crate::shell::source::Source;
use crate::shell::source::maildir::{self, Maildir};
use crate::shell::store::Store;
use chrono::{DateTime, Duration, Utc};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const CONFIG: &str = r#"
[desk]
address = "zoom@bps.test"
name = "Loket Zoom BPS Provinsi Bengkulu"
timezone = "Asia/Jakarta"
language = "LANG"
[storage]
database = "DIR/loket.db"
[inbox]
kind = "maildir"
path = "DIR/mail/inbox"
[outbox]
kind = "file"
path = "DIR/mail/outbox"
[[accounts]]
id = "zoom1"
login = "zoom1@bps.test"
password = "Sandi-Zoom1-Demo"
capacity = 100
[[accounts]]
id = "zoom2"
login = "zoom2@bps.test"
password = "Sandi-Zoom2-Demo"
capacity = 300
[roles]
approvers = ["tip@bps.test"]
admins = ["ti@bps.test"]
requester_domains = ["bps.test"]
[policy]
turnaround_minutes = 60
office_hours = "07:00-18:00"
office_days = "mon-fri"
[reminders]
before = ["1d", "1h"]
recording_after_end = "0m"
closure_after_end = "60m"
closure_escalate_after = "24h"
"#;

struct Demo<'a> {
    desk: Arc<Desk>,
    db: Db,
    inbox: Maildir,
    inbox_dir: PathBuf,
    sender: FileSender,
    clock: ManualClock,
    shown: i64,
    out: &'a mut dyn Write,
    lines: usize,
}

impl Demo<'_> {
    fn say(&mut self, text: &str) -> std::io::Result<()> {
        writeln!(
            self.out,
            "\n== {} — {text}",
            self.clock.now().with_timezone(&chrono_tz::Asia::Jakarta).format("%a %d %b %Y %H:%M WIB")
        )
    }

    /// A person sends a mail to the desk: it lands in the Maildir; the desk decides it and
    /// delivers its replies.
    async fn mail_in(&mut self, raw: String) -> anyhow::Result<()> {
        print_mail(self.out, "IN ", raw.as_bytes(), self.lines)?;
        maildir::deliver(&self.inbox_dir, raw.as_bytes())?;
        for m in self.inbox.next().await? {
            let (desk, bytes, now) = (self.desk.clone(), m.raw.clone(), self.clock.now());
            let handled = self.db.call(move |s| desk.handle_mail(s, &bytes, now)).await?;
            self.inbox.finish(&[(m.clone(), handled.disposition)]).await?;
            writeln!(
                self.out,
                "   [desk: {}{}]",
                handled.outcome,
                handled.reference.map(|r| format!(", {r}")).unwrap_or_default()
            )?;
        }
        self.flush().await
    }

    /// Delivers what the desk queued and shows it, in the order the desk wrote it.
    async fn flush(&mut self) -> anyhow::Result<()> {
        deliver_due(&self.desk, &self.db, &self.sender, self.clock.now()).await?;
        let last = self.shown;
        let rows: Vec<(i64, Vec<u8>)> = self
            .db
            .call(move |s| {
                s.read(|tx| {
                    let mut st = tx
                        .conn()
                        .prepare("SELECT id, raw FROM outbox WHERE id > ?1 AND status = 'sent' ORDER BY id")?;
                    let rows = st.query_map([last], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
                    Ok::<_, rusqlite::Error>(rows)
                })
            })
            .await?;
        for (id, raw) in rows {
            print_mail(self.out, "OUT", &raw, self.lines)?;
            self.shown = id;
        }
        Ok(())
    }

    async fn advance_to(&mut self, at: &str, what: &str) -> anyhow::Result<()> {
        self.clock.set(t(at));
        self.say(what)?;
        let (desk, now) = (self.desk.clone(), self.clock.now());
        let n = self.db.call(move |s| desk.fire_timers(s, now)).await?;
        writeln!(self.out, "   [desk: {n} timer(s) fired]")?;
        self.flush().await
    }

    /// The Message-ID of the desk's latest mail of `kind` to `to`, to answer it.
    async fn desk_mail(&self, kind: &'static str, to: &'static str) -> anyhow::Result<(String, String)> {
        let row = self
            .db
            .call(move |s| {
                s.read(|tx| {
                    tx.conn().query_row(
                        "SELECT message_id, subject FROM outbox WHERE kind = ?1 AND recipients LIKE ?2 ORDER BY id DESC LIMIT 1",
                        [kind, &format!("%{to}%")],
                        |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
                    )
                })
            })
            .await?;
        Ok(row)
    }
}

/// What a mail client does when replying: one "Re: ", never two.
fn reply_subject(subject: &str) -> String {
    if subject.to_lowercase().starts_with("re:") { subject.to_string() } else { format!("Re: {subject}") }
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).map(|t| t.to_utc()).unwrap_or_default()
}

/// From, To, Subject and the first lines of the body.
fn print_mail(out: &mut dyn Write, dir: &str, raw: &[u8], lines: usize) -> std::io::Result<()> {
    let Some(m) = mail_parser::MessageParser::default().parse(raw) else { return writeln!(out, "{dir} (unreadable)") };
    let addr = |a: Option<&mail_parser::Address>| {
        a.map(|a| a.iter().filter_map(|x| x.address()).collect::<Vec<_>>().join(", ")).unwrap_or_default()
    };
    writeln!(out, "{dir} From: {}", addr(m.from()))?;
    writeln!(out, "    To: {}", addr(m.to()))?;
    writeln!(out, "    Subject: {}", m.subject().unwrap_or(""))?;
    let body = m.body_text(0).unwrap_or_default();
    for l in body.lines().map(str::trim_end).filter(|l| !l.is_empty()).take(lines) {
        writeln!(out, "    | {l}")?;
    }
    Ok(())
}

fn mail(from: &str, name: &str, subject: &str, date: &str, id: &str, reply_to: Option<&str>, body: &str) -> String {
    let mut h = format!(
        "From: {name} <{from}>\r\nTo: Loket Zoom <zoom@bps.test>\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <{id}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
    );
    if let Some(r) = reply_to {
        h.push_str(&format!("In-Reply-To: <{r}>\r\nReferences: <{r}>\r\n"));
    }
    format!("{h}\r\n{}", body.replace('\n', "\r\n"))
}

/// Runs the story, writing it to `out`. `dir` holds the database and the mail folders.
pub async fn run(dir: &Path, language: &str, lines: usize, out: &mut dyn Write) -> anyhow::Result<()> {
    let text = CONFIG.replace("DIR", &dir.display().to_string()).replace("LANG", language);
    let config = Config::from_toml(&text, Path::new("demo.toml"), &|_| None)?;
    let crate::shell::config::InboxConfig::Maildir { path: inbox_dir, .. } = &config.inbox else {
        anyhow::bail!("demo inbox")
    };
    let crate::shell::config::OutboxConfig::File { path: outbox_dir } = &config.outbox else {
        anyhow::bail!("demo outbox")
    };
    let clock = ManualClock::new(t("2026-01-05T08:00:00+07:00"));
    let mut demo = Demo {
        desk: Arc::new(Desk::new(&config)?),
        db: Db::new(Store::open(&config.database)?),
        inbox: Maildir::open(inbox_dir, std::time::Duration::from_millis(50))?,
        inbox_dir: inbox_dir.clone(),
        sender: FileSender::new(outbox_dir)?,
        clock,
        shown: 0,
        out,
        lines,
    };

    demo.say("a team asks for Zoom with a nota dinas")?;
    demo.mail_in(mail(
        "rizki.pratama@bps.test",
        "Rizki Pratama",
        "Nota Dinas Permohonan Peminjaman Lisensi Zoom - Rakortek SE2026",
        "Mon, 05 Jan 2026 08:00:00 +0700",
        "nd-024@bps.test",
        None,
        "Yth. Tim Loket Zoom,\n\nNomor   : B-024/17000/VS.100/01/2026\nHal     : Permohonan Peminjaman Lisensi Zoom\nTanggal : 5 Januari 2026\n\nBersama ini kami mengajukan peminjaman lisensi Zoom untuk Rapat Koordinasi Teknis Sensus Ekonomi 2026:\n\n    hari/tanggal : Senin, 12 Januari 2026\n    pukul        : 09.00 - 12.00 WIB\n    peserta      : 150 orang\n\nTerima kasih.\nRizki Pratama\nNIP. 19730305 200102 1 007\n",
    ))
    .await?;

    demo.clock.advance(Duration::minutes(20));
    demo.say("the approver answers the approval request")?;
    let (approval, subject) = demo.desk_mail("approval_request", "tip@bps.test").await?;
    demo.mail_in(mail(
        "tip@bps.test",
        "Heru Santoso",
        &reply_subject(&subject),
        "Mon, 05 Jan 2026 08:20:00 +0700",
        "ok-1@bps.test",
        Some(&approval),
        "SETUJU\n\nHeru\n",
    ))
    .await?;

    demo.clock.advance(Duration::minutes(40));
    demo.say("another team asks for the same morning")?;
    demo.mail_in(mail(
        "dewi.lestari@bps.test",
        "Dewi Lestari",
        "Permohonan Zoom Pelatihan Petugas",
        "Mon, 05 Jan 2026 09:00:00 +0700",
        "req-dewi@bps.test",
        None,
        "Yth. Admin Zoom,\n\nMohon dipinjamkan Zoom untuk Pelatihan Petugas pada Senin, 12 Januari 2026 pukul 10.00-11.30 WIB, peserta sekitar 200 orang.\n\nTerima kasih,\nDewi\n",
    ))
    .await?;

    demo.clock.advance(Duration::minutes(30));
    demo.say("a third team asks, then calls it off")?;
    demo.mail_in(mail(
        "budi.santoso@bps.test",
        "Budi Santoso",
        "Pinjam Zoom rapat tim",
        "Mon, 05 Jan 2026 09:30:00 +0700",
        "req-budi@bps.test",
        None,
        "Selamat pagi,\n\nKami mohon pinjam Zoom untuk rapat tim hari Selasa, 13 Januari 2026 jam 13.00-15.00 WIB, 40 peserta.\n\nBudi\n",
    ))
    .await?;
    let (ack, subject) = demo.desk_mail("ack", "budi.santoso@bps.test").await?;
    demo.mail_in(mail(
        "budi.santoso@bps.test",
        "Budi Santoso",
        &reply_subject(&subject),
        "Mon, 05 Jan 2026 09:45:00 +0700",
        "batal-budi@bps.test",
        Some(&ack),
        "BATAL, rapat dilaksanakan tatap muka.\n\nBudi\n",
    ))
    .await?;

    demo.advance_to("2026-01-11T09:00:00+07:00", "a day before the meeting").await?;
    demo.advance_to("2026-01-12T08:00:00+07:00", "an hour before the meeting").await?;
    demo.advance_to("2026-01-12T12:00:00+07:00", "the meeting ends").await?;
    demo.advance_to("2026-01-12T13:00:00+07:00", "the turnaround is over").await?;

    demo.clock.advance(Duration::minutes(30));
    demo.say("the admin has reset the account and confirms")?;
    let (task, subject) = demo.desk_mail("closure_task", "ti@bps.test").await?;
    demo.mail_in(mail(
        "ti@bps.test",
        "Tim TI",
        &reply_subject(&subject),
        "Mon, 12 Jan 2026 13:30:00 +0700",
        "done-1@bps.test",
        Some(&task),
        "SELESAI\n",
    ))
    .await?;

    let summary = demo
        .db
        .call(|s| {
            s.read(|tx| {
                let mut st = tx.conn().prepare("SELECT reference, status FROM requests ORDER BY reference")?;
                let rows = st
                    .query_map([], |r| Ok(format!("{} {}", r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok::<_, rusqlite::Error>(rows)
            })
        })
        .await?;
    writeln!(demo.out, "\n== the record: {}", summary.join("; "))?;
    Ok(())
}
