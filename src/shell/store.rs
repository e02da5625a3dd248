//! The SQLite store: the schedule, the requests, every mail in and out and every
//! decision. One owner of the connection; every change is written inside a
//! `BEGIN IMMEDIATE` transaction, so a writer waits for the lock up front instead of
//! failing when a read upgrades to a write under contention.

use crate::core::domain::{Address, Mailbox, Reference, Session};
use crate::core::parse::Partial;
use crate::core::schedule::{Account, Booked};
use crate::core::workflow::{ApprovalAsk, MailKind, Request, Status, ThreadHit, Timer, TimerKind};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveTime, SecondsFormat, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The numbered migrations; `PRAGMA user_version` says how many have run.
const MIGRATIONS: &[&str] = &[include_str!("../../migrations/0001_init.sql")];

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0} (check that the database file and its folder are writable)")]
    Sqlite(#[from] rusqlite::Error),
    #[error("cannot prepare the database at {path}: {source} (check the folder exists and is writable)")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the database holds a value loket cannot read: {0} (run `loket check-db`)")]
    Corrupt(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s).map(|t| t.to_utc()).map_err(|_| StoreError::Corrupt(format!("bad time {s:?}")))
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// One outgoing mail, rendered, waiting in the outbox.
#[derive(Debug, Clone)]
pub struct Queued {
    pub id: i64,
    pub message_id: String,
    pub reference: Option<String>,
    pub kind: String,
    pub recipients: Vec<String>,
    pub subject: String,
    pub raw: Vec<u8>,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
}

/// A mail ready for the outbox.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub message_id: String,
    pub reference: Option<Reference>,
    pub kind: MailKind,
    pub recipients: Vec<Address>,
    pub subject: String,
    pub raw: Vec<u8>,
}

/// A mail as recorded on arrival.
#[derive(Debug, Clone)]
pub struct MailRecord<'a> {
    pub message_id: &'a str,
    pub sender: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub intent: Option<&'a str>,
    pub outcome: &'a str,
    pub detail: Option<&'a str>,
    pub reference: Option<Reference>,
    pub raw: &'a [u8],
}

/// A booking as `loket bookings` lists it.
#[derive(Debug, Clone)]
pub struct BookingRow {
    pub reference: String,
    pub status: String,
    pub requester: String,
    pub title: Option<String>,
    pub account: Option<String>,
    pub session: Session,
}

impl Store {
    /// Opens (creating when missing, mode 0600: it holds account passwords and every mail)
    /// and brings the schema up to date.
    pub fn open(path: &Path) -> Result<Store> {
        let io = |source| StoreError::Io { path: path.to_path_buf(), source };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        create_private(path).map_err(io)?;
        let conn = Connection::open(path)?;
        // WAL lets `loket bookings` read while the service writes; the busy timeout makes
        // a second writer wait for the lock instead of failing at once.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let mut store = Store { conn, path: path.to_path_buf() };
        store.migrate()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn migrate(&mut self) -> Result<()> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(usize::try_from(version).unwrap_or(0)) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction, committed only when `f` succeeds.
    pub fn write<T, E: From<rusqlite::Error>>(
        &mut self,
        f: impl FnOnce(&Tx<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&Tx(&tx))?;
        tx.commit()?;
        Ok(out)
    }

    /// Reads in a deferred transaction (a consistent snapshot, no write lock).
    pub fn read<T, E: From<rusqlite::Error>>(
        &mut self,
        f: impl FnOnce(&Tx<'_>) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
        let out = f(&Tx(&tx))?;
        tx.commit()?;
        Ok(out)
    }
}

#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let meta = std::fs::metadata(path)?;
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "database readable by others: setting mode 0600");
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn create_private(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// The store inside one transaction.
pub struct Tx<'c>(&'c rusqlite::Transaction<'c>);

fn corrupt(what: impl Into<String>) -> StoreError {
    StoreError::Corrupt(what.into())
}

impl Tx<'_> {
    pub fn conn(&self) -> &rusqlite::Connection {
        self.0
    }

    // ---- inbound mail -----------------------------------------------------------------

    /// Whether a mail with this Message-ID was already decided; counts the sighting.
    pub fn seen_before(&self, message_id: &str) -> Result<bool> {
        let n =
            self.0.execute("UPDATE mails_in SET seen_count = seen_count + 1 WHERE message_id = ?1", [message_id])?;
        Ok(n > 0)
    }

    pub fn record_mail(&self, m: &MailRecord<'_>, now: DateTime<Utc>) -> Result<i64> {
        self.0.execute(
            "INSERT INTO mails_in (message_id, received_at, sender, subject, intent, outcome, detail, reference, raw)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                m.message_id,
                ts(now),
                m.sender,
                m.subject,
                m.intent,
                m.outcome,
                m.detail,
                m.reference.map(|r| r.to_string()),
                m.raw
            ],
        )?;
        Ok(self.0.last_insert_rowid())
    }

    /// Mails from `sender` since `since` that reached a human decision (machine mail and
    /// duplicates do not count against a person's limit).
    pub fn recent_from(&self, sender: &Address, since: DateTime<Utc>) -> Result<u32> {
        let n: i64 = self.0.query_row(
            "SELECT count(*) FROM mails_in WHERE sender = ?1 AND received_at >= ?2 AND outcome NOT IN ('ignored', 'auth_failed')",
            params![sender.as_str(), ts(since)],
            |r| r.get(0),
        )?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    pub fn log_event(
        &self,
        now: DateTime<Utc>,
        reference: Option<Reference>,
        source: &str,
        actor: Option<&str>,
        outcome: &str,
        detail: Option<&str>,
    ) -> Result<()> {
        self.0.execute(
            "INSERT INTO events (at, reference, source, actor, outcome, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![ts(now), reference.map(|r| r.to_string()), source, actor, outcome, detail],
        )?;
        Ok(())
    }

    // ---- threads ----------------------------------------------------------------------

    /// The desk's mail among `ids` (In-Reply-To first, then References newest first).
    pub fn thread_hit(&self, ids: &[String]) -> Result<Option<ThreadHit>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT reference, kind, recipients FROM outbox WHERE message_id = ?1 AND reference IS NOT NULL",
        )?;
        for id in ids {
            let row: Option<(String, String, String)> =
                stmt.query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()?;
            if let Some((reference, kind, recipients)) = row {
                let reference = reference.parse().map_err(|_| corrupt(format!("outbox reference {reference:?}")))?;
                let kind = MailKind::from_name(&kind).ok_or_else(|| corrupt(format!("outbox kind {kind:?}")))?;
                let recipients = recipients.split_whitespace().filter_map(|a| Address::parse(a).ok()).collect();
                return Ok(Some(ThreadHit { reference, kind, recipients }));
            }
        }
        Ok(None)
    }

    /// The request a mail among `ids` opened.
    pub fn request_by_root(&self, ids: &[String]) -> Result<Option<Reference>> {
        let mut stmt = self.0.prepare_cached("SELECT reference FROM requests WHERE thread_root = ?1")?;
        for id in ids {
            if let Some(r) = stmt.query_row([id], |r| r.get::<_, String>(0)).optional()? {
                return Ok(Some(r.parse().map_err(|_| corrupt(format!("request reference {r:?}")))?));
            }
        }
        Ok(None)
    }

    // ---- requests ---------------------------------------------------------------------

    /// The reference the next new request of `year` gets.
    pub fn next_reference(&self, year: i32) -> Result<Reference> {
        let last: Option<i64> =
            self.0.query_row("SELECT last_number FROM counters WHERE year = ?1", [year], |r| r.get(0)).optional()?;
        Reference::new(year, u32::try_from(last.unwrap_or(0) + 1).map_err(|_| corrupt("counter overflow"))?)
            .map_err(|e| corrupt(e.to_string()))
    }

    pub fn load_request(&self, reference: Reference) -> Result<Option<Request>> {
        let key = reference.to_string();
        let row = self
            .0
            .query_row(
                "SELECT requester, requester_name, title, subject, thread_root, participants, status, created_at,
                        decided_by, reason, partial_json
                 FROM requests WHERE reference = ?1",
                [&key],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, Option<i64>>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, String>(7)?,
                        r.get::<_, Option<String>>(8)?,
                        r.get::<_, Option<String>>(9)?,
                        r.get::<_, String>(10)?,
                    ))
                },
            )
            .optional()?;
        let Some((
            requester,
            name,
            title,
            subject,
            thread_root,
            participants,
            status,
            created,
            decided_by,
            reason,
            partial,
        )) = row
        else {
            return Ok(None);
        };
        let mut sessions = Vec::new();
        let mut accounts = Vec::new();
        let mut stmt = self.0.prepare_cached(
            "SELECT start_utc, end_utc, offset_minutes, open_ended, account FROM sessions WHERE reference = ?1 ORDER BY idx",
        )?;
        let rows = stmt.query_map([&key], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, bool>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        for row in rows {
            let (start, end, offset, open, account) = row?;
            sessions.push(session_from(&start, &end, offset, open)?);
            if let Some(a) = account {
                accounts.push(a);
            }
        }
        if accounts.len() != sessions.len() {
            accounts.clear();
        }
        let mut asks = Vec::new();
        let mut stmt = self.0.prepare_cached(
            "SELECT approver, token_hash, expires_at, used FROM approval_asks WHERE reference = ?1 ORDER BY approver",
        )?;
        let rows = stmt.query_map([&key], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?, r.get::<_, String>(2)?, r.get::<_, bool>(3)?))
        })?;
        for row in rows {
            let (approver, hash, expires, used) = row?;
            asks.push(ApprovalAsk {
                approver: Address::parse(&approver).map_err(|e| corrupt(e.to_string()))?,
                token_hash: hash.try_into().map_err(|_| corrupt("token hash is not 32 bytes"))?,
                expires_at: parse_ts(&expires)?,
                used,
            });
        }
        Ok(Some(Request {
            reference,
            requester: Mailbox { name, address: Address::parse(&requester).map_err(|e| corrupt(e.to_string()))? },
            title,
            subject,
            thread_root,
            sessions,
            accounts,
            participants: participants.and_then(|n| u32::try_from(n).ok()),
            status: Status::parse(&status).ok_or_else(|| corrupt(format!("status {status:?}")))?,
            created_at: parse_ts(&created)?,
            decided_by: decided_by.and_then(|a| Address::parse(&a).ok()),
            reason,
            asks,
            partial: partial_from_json(&partial),
        }))
    }

    /// Writes the request's whole state: its row, its sessions (with their accounts) and
    /// its approval asks.
    pub fn save_request(&self, r: &Request, now: DateTime<Utc>) -> Result<()> {
        let key = r.reference.to_string();
        self.0.execute(
            "INSERT INTO requests (reference, year, number, status, requester, requester_name, title, subject, thread_root,
                                   participants, created_at, updated_at, decided_by, reason, partial_json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
             ON CONFLICT (reference) DO UPDATE SET
                status = excluded.status, title = excluded.title, participants = excluded.participants,
                updated_at = excluded.updated_at, decided_by = excluded.decided_by, reason = excluded.reason,
                partial_json = excluded.partial_json",
            params![
                key,
                r.reference.year(),
                r.reference.number(),
                r.status.as_str(),
                r.requester.address.as_str(),
                r.requester.name,
                r.title,
                r.subject,
                r.thread_root,
                r.participants,
                ts(r.created_at),
                ts(now),
                r.decided_by.as_ref().map(|a| a.to_string()),
                r.reason,
                partial_to_json(&r.partial),
            ],
        )?;
        self.0.execute(
            "INSERT INTO counters (year, last_number) VALUES (?1, ?2)
             ON CONFLICT (year) DO UPDATE SET last_number = max(last_number, excluded.last_number)",
            params![r.reference.year(), r.reference.number()],
        )?;
        self.0.execute("DELETE FROM sessions WHERE reference = ?1", [&key])?;
        for (i, s) in r.sessions.iter().enumerate() {
            self.0.execute(
                "INSERT INTO sessions (reference, idx, start_utc, end_utc, offset_minutes, open_ended, account)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    key,
                    i as i64,
                    ts(s.start_utc()),
                    ts(s.end_utc()),
                    i64::from(s.start().offset().local_minus_utc() / 60),
                    s.open_ended(),
                    r.accounts.get(i)
                ],
            )?;
        }
        self.0.execute("DELETE FROM approval_asks WHERE reference = ?1", [&key])?;
        for a in &r.asks {
            self.0.execute(
                "INSERT INTO approval_asks (reference, approver, token_hash, expires_at, used) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![key, a.approver.as_str(), a.token_hash.as_slice(), ts(a.expires_at), a.used],
            )?;
        }
        Ok(())
    }

    // ---- schedule ---------------------------------------------------------------------

    pub fn accounts(&self, specs: &[crate::core::rules::AccountSpec]) -> Result<Vec<Account>> {
        let mut stmt = self.0.prepare_cached("SELECT last_used_at FROM accounts WHERE id = ?1")?;
        specs
            .iter()
            .map(|a| {
                let last: Option<Option<String>> = stmt.query_row([&a.id], |r| r.get(0)).optional()?;
                Ok(Account {
                    id: a.id.clone(),
                    capacity: a.capacity,
                    last_used: last.flatten().map(|s| parse_ts(&s)).transpose()?,
                })
            })
            .collect()
    }

    pub fn touch_accounts(&self, ids: &[String], now: DateTime<Utc>) -> Result<()> {
        for id in ids {
            self.0.execute(
                "INSERT INTO accounts (id, last_used_at) VALUES (?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET last_used_at = excluded.last_used_at",
                params![id, ts(now)],
            )?;
        }
        Ok(())
    }

    /// Bookings that can still clash with anything from `from` on (the turnaround
    /// included): sessions of requests whose status holds an account.
    pub fn booked(&self, from: DateTime<Utc>, turnaround: Duration) -> Result<Vec<Booked>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT s.reference, s.account, s.start_utc, s.end_utc FROM sessions s JOIN requests r USING (reference)
             WHERE s.account IS NOT NULL AND s.end_utc >= ?1 AND r.status IN ('held', 'approved', 'closing', 'closed')",
        )?;
        let rows = stmt.query_map([ts(from - turnaround)], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
        })?;
        rows.map(|row| {
            let (reference, account, start, end) = row?;
            Ok(Booked {
                reference: reference.parse().map_err(|_| corrupt(format!("session reference {reference:?}")))?,
                account,
                start: parse_ts(&start)?,
                end: parse_ts(&end)?,
            })
        })
        .collect()
    }

    /// Sessions (of any status) overlapping `[from, to)`, in time order.
    pub fn bookings(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<BookingRow>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT s.reference, r.status, r.requester, r.title, s.account, s.start_utc, s.end_utc, s.offset_minutes, s.open_ended
             FROM sessions s JOIN requests r USING (reference)
             WHERE s.end_utc > ?1 AND s.start_utc < ?2 ORDER BY s.start_utc, s.reference",
        )?;
        let rows = stmt.query_map(params![ts(from), ts(to)], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, i64>(7)?,
                r.get::<_, bool>(8)?,
            ))
        })?;
        rows.map(|row| {
            let (reference, status, requester, title, account, start, end, offset, open) = row?;
            Ok(BookingRow {
                reference,
                status,
                requester,
                title,
                account,
                session: session_from(&start, &end, offset, open)?,
            })
        })
        .collect()
    }

    // ---- timers -----------------------------------------------------------------------

    pub fn clear_timers(&self, reference: Reference) -> Result<()> {
        self.0.execute("DELETE FROM timers WHERE reference = ?1 AND done_at IS NULL", [reference.to_string()])?;
        Ok(())
    }

    pub fn add_timer(&self, t: &Timer) -> Result<()> {
        let (kind, n) = t.kind.key();
        self.0.execute(
            "INSERT INTO timers (reference, kind, n, due_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (reference, kind, n) DO UPDATE SET due_at = excluded.due_at, done_at = NULL",
            params![t.reference.to_string(), kind, n, ts(t.due)],
        )?;
        Ok(())
    }

    /// Pending timers due at `now`, oldest first.
    pub fn due_timers(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<(i64, Timer)>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT id, reference, kind, n, due_at FROM timers WHERE done_at IS NULL AND due_at <= ?1 ORDER BY due_at, id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![ts(now), limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (id, reference, kind, n, due) = row?;
            Ok((
                id,
                Timer {
                    reference: reference.parse().map_err(|_| corrupt(format!("timer reference {reference:?}")))?,
                    kind: TimerKind::from_key(&kind, n).ok_or_else(|| corrupt(format!("timer kind {kind:?}")))?,
                    due: parse_ts(&due)?,
                },
            ))
        })
        .collect()
    }

    pub fn next_timer(&self) -> Result<Option<DateTime<Utc>>> {
        let t: Option<String> =
            self.0.query_row("SELECT min(due_at) FROM timers WHERE done_at IS NULL", [], |r| r.get(0))?;
        t.map(|s| parse_ts(&s)).transpose()
    }

    /// Marks the timer done; false when another run already did (nothing to do twice).
    pub fn finish_timer(&self, id: i64, now: DateTime<Utc>) -> Result<bool> {
        Ok(self.0.execute("UPDATE timers SET done_at = ?2 WHERE id = ?1 AND done_at IS NULL", params![id, ts(now)])?
            == 1)
    }

    // ---- outbox -----------------------------------------------------------------------

    pub fn enqueue(&self, m: &Outgoing, now: DateTime<Utc>) -> Result<()> {
        let recipients: Vec<&str> = m.recipients.iter().map(|a| a.as_str()).collect();
        self.0.execute(
            "INSERT INTO outbox (message_id, reference, kind, recipients, subject, raw, created_at, status, next_attempt_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?7)",
            params![
                m.message_id,
                m.reference.map(|r| r.to_string()),
                m.kind.name(),
                recipients.join(" "),
                m.subject,
                m.raw,
                ts(now)
            ],
        )?;
        Ok(())
    }

    pub fn due_outbox(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Queued>> {
        let mut stmt = self.0.prepare_cached(
            "SELECT id, message_id, reference, kind, recipients, subject, raw, attempts, created_at FROM outbox
             WHERE status = 'pending' AND next_attempt_at <= ?1 ORDER BY id LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![ts(now), limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Vec<u8>>(6)?,
                r.get::<_, i64>(7)?,
                r.get::<_, String>(8)?,
            ))
        })?;
        rows.map(|row| {
            let (id, message_id, reference, kind, recipients, subject, raw, attempts, created) = row?;
            Ok(Queued {
                id,
                message_id,
                reference,
                kind,
                recipients: recipients.split_whitespace().map(str::to_string).collect(),
                subject,
                raw,
                attempts,
                created_at: parse_ts(&created)?,
            })
        })
        .collect()
    }

    /// Counts an attempt before it is made, so a crash mid-send still counts it.
    pub fn outbox_attempt(&self, id: i64) -> Result<()> {
        self.0.execute("UPDATE outbox SET attempts = attempts + 1 WHERE id = ?1", [id])?;
        Ok(())
    }

    pub fn outbox_sent(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        self.0.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?2, last_error = NULL WHERE id = ?1",
            params![id, ts(now)],
        )?;
        Ok(())
    }

    pub fn outbox_retry(&self, id: i64, next: DateTime<Utc>, error: &str) -> Result<()> {
        self.0.execute(
            "UPDATE outbox SET next_attempt_at = ?2, last_error = ?3 WHERE id = ?1",
            params![id, ts(next), error],
        )?;
        Ok(())
    }

    pub fn outbox_failed(&self, id: i64, error: &str) -> Result<()> {
        self.0.execute("UPDATE outbox SET status = 'failed', last_error = ?2 WHERE id = ?1", params![id, error])?;
        Ok(())
    }

    pub fn outbox_counts(&self) -> Result<(i64, i64, i64)> {
        Ok(self.0.query_row(
            "SELECT count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'sent'),
                    count(*) FILTER (WHERE status = 'failed') FROM outbox",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?)
    }

    // ---- accounts' passwords ----------------------------------------------------------

    pub fn account_password(&self, id: &str) -> Result<Option<String>> {
        Ok(self
            .0
            .query_row("SELECT password FROM accounts WHERE id = ?1", [id], |r| r.get::<_, Option<String>>(0))
            .optional()?
            .flatten())
    }

    pub fn set_account_password(&self, id: &str, password: &str, now: DateTime<Utc>) -> Result<()> {
        self.0.execute(
            "INSERT INTO accounts (id, password, password_set_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET password = excluded.password, password_set_at = excluded.password_set_at",
            params![id, password, ts(now)],
        )?;
        Ok(())
    }

    // ---- IMAP cursor ------------------------------------------------------------------

    pub fn mailbox_state(&self, folder: &str) -> Result<Option<(u32, u32)>> {
        Ok(self
            .0
            .query_row("SELECT uidvalidity, last_uid FROM mailbox_state WHERE folder = ?1", [folder], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
            })
            .optional()?
            .map(|(v, u)| (v as u32, u as u32)))
    }

    pub fn set_mailbox_state(&self, folder: &str, uidvalidity: u32, last_uid: u32) -> Result<()> {
        self.0.execute(
            "INSERT INTO mailbox_state (folder, uidvalidity, last_uid) VALUES (?1, ?2, ?3)
             ON CONFLICT (folder) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid",
            params![folder, i64::from(uidvalidity), i64::from(last_uid)],
        )?;
        Ok(())
    }
}

fn session_from(start: &str, end: &str, offset_minutes: i64, open: bool) -> Result<Session> {
    let offset = i32::try_from(offset_minutes * 60)
        .ok()
        .and_then(FixedOffset::east_opt)
        .ok_or_else(|| corrupt(format!("offset {offset_minutes}")))?;
    Session::new(parse_ts(start)?.with_timezone(&offset), parse_ts(end)?.with_timezone(&offset), open)
        .map_err(|e| corrupt(e.to_string()))
}

fn partial_to_json(p: &Partial) -> String {
    let times: Vec<(String, Option<String>)> = p
        .times
        .iter()
        .map(|(a, b)| (a.format("%H:%M").to_string(), b.map(|b| b.format("%H:%M").to_string())))
        .collect();
    serde_json::json!({ "dates": p.dates.iter().map(|d| d.to_string()).collect::<Vec<_>>(), "times": times })
        .to_string()
}

fn partial_from_json(s: &str) -> Partial {
    let v: serde_json::Value = serde_json::from_str(s).unwrap_or_default();
    let time = |v: &serde_json::Value| v.as_str().and_then(|s| NaiveTime::parse_from_str(s, "%H:%M").ok());
    Partial {
        dates: v["dates"]
            .as_array()
            .map(|a| a.iter().filter_map(|d| d.as_str()?.parse::<NaiveDate>().ok()).collect())
            .unwrap_or_default(),
        times: v["times"]
            .as_array()
            .map(|a| a.iter().filter_map(|t| Some((time(&t[0])?, time(&t[1])))).collect())
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rules::Rules;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn request() -> Request {
        let s = Session::new(
            DateTime::parse_from_rfc3339("2026-01-12T09:00:00+08:00").unwrap(),
            DateTime::parse_from_rfc3339("2026-01-12T12:00:00+08:00").unwrap(),
            false,
        )
        .unwrap();
        Request {
            reference: Reference::new(2026, 7).unwrap(),
            requester: Mailbox { name: Some("Rizki".into()), address: Address::parse("rizki@bps.test").unwrap() },
            title: Some("Rakortek".into()),
            subject: "Permohonan".into(),
            thread_root: "root@x".into(),
            sessions: vec![s],
            accounts: vec!["zoom1".into()],
            participants: Some(150),
            status: Status::Held,
            created_at: at("2026-01-05T02:00:00Z"),
            decided_by: None,
            reason: None,
            asks: vec![ApprovalAsk {
                approver: Address::parse("tip@bps.test").unwrap(),
                token_hash: [9; 32],
                expires_at: at("2026-01-06T02:00:00Z"),
                used: false,
            }],
            partial: Partial {
                dates: vec![NaiveDate::from_ymd_opt(2026, 1, 12).unwrap()],
                times: vec![(NaiveTime::from_hms_opt(9, 0, 0).unwrap(), None)],
            },
        }
    }

    #[test]
    fn a_request_survives_the_round_trip_with_its_zone() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("db/loket.db")).unwrap();
        let r = request();
        store.write(|tx| tx.save_request(&r, at("2026-01-05T02:00:00Z"))).unwrap();
        let back = store.read(|tx| tx.load_request(r.reference)).unwrap().unwrap();
        assert_eq!(back, r);
        assert_eq!(back.sessions[0].start().offset().local_minus_utc(), 8 * 3600);
        let next = store.read(|tx| tx.next_reference(2026)).unwrap();
        assert_eq!(next.to_string(), "LKT-2026-0008");
        let booked = store.read(|tx| tx.booked(at("2026-01-12T00:00:00Z"), Duration::hours(1))).unwrap();
        assert_eq!(booked.len(), 1);
        assert_eq!(booked[0].account, "zoom1");
    }

    #[test]
    fn the_database_is_private_and_migrations_are_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loket.db");
        drop(Store::open(&path).unwrap());
        let store = Store::open(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let v: i64 = store.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v as usize, MIGRATIONS.len());
    }

    #[test]
    fn timers_and_outbox_queue_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("loket.db")).unwrap();
        let r = request();
        let now = at("2026-01-05T02:00:00Z");
        store
            .write(|tx| {
                tx.save_request(&r, now)?;
                tx.add_timer(&Timer {
                    reference: r.reference,
                    kind: TimerKind::Closure,
                    due: at("2026-01-12T05:00:00Z"),
                })?;
                tx.add_timer(&Timer {
                    reference: r.reference,
                    kind: TimerKind::Expiry,
                    due: at("2026-01-06T02:00:00Z"),
                })
            })
            .unwrap();
        let due = store.read(|tx| tx.due_timers(at("2026-01-07T00:00:00Z"), 10)).unwrap();
        assert_eq!(due.iter().map(|(_, t)| t.kind).collect::<Vec<_>>(), vec![TimerKind::Expiry]);
        assert!(store.write(|tx| tx.finish_timer(due[0].0, now)).unwrap());
        assert!(!store.write(|tx| tx.finish_timer(due[0].0, now)).unwrap());
        store.write(|tx| tx.clear_timers(r.reference)).unwrap();
        assert_eq!(store.read(|tx| tx.next_timer()).unwrap(), None);
        let out = Outgoing {
            message_id: "m1@x".into(),
            reference: Some(r.reference),
            kind: MailKind::Ack,
            recipients: vec![Address::parse("rizki@bps.test").unwrap()],
            subject: "s".into(),
            raw: b"raw".to_vec(),
        };
        store.write(|tx| tx.enqueue(&out, now)).unwrap();
        let hit = store.read(|tx| tx.thread_hit(&["nope".into(), "m1@x".into()])).unwrap().unwrap();
        assert_eq!((hit.reference, hit.kind), (r.reference, MailKind::Ack));
        let q = store.read(|tx| tx.due_outbox(now, 10)).unwrap();
        assert_eq!(q.len(), 1);
        store.write(|tx| tx.outbox_sent(q[0].id, now)).unwrap();
        assert_eq!(store.read(|tx| tx.outbox_counts()).unwrap(), (0, 1, 0));
        let _ = Rules::example();
    }
}
