//! The running desk: three loops over one store. Intake reads the mailbox and decides each
//! mail; the timer loop fires reminders, expiries and closures; the outbox loop delivers
//! what the other two committed. Each loop stops only where it waits (mini-redis's rule),
//! never between doing a thing and recording it, so a stop — or a crash — leaves nothing
//! half done.

use crate::shell::clock::Clock;
use crate::shell::db::Db;
use crate::shell::desk::{Desk, DeskError};
use crate::shell::sender::{SendError, Sender};
use crate::shell::source::Source;
use crate::shell::store::Queued;
use chrono::{DateTime, Duration, Utc};
use rand::RngExt;
use std::future::Future;
use std::sync::Arc;
use tokio::sync::{Notify, watch};

/// How long one delivery may take before it counts as a dropped connection.
pub const SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// How often the timer and outbox loops look at the clock when nothing wakes them.
    pub tick: std::time::Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { tick: std::time::Duration::from_secs(1) }
    }
}

/// The wait before retry `attempt` (1-based): 30 s doubling to an hour, with up to 10%
/// jitter so a relay coming back is not hit by every mail at the same second.
pub fn backoff(attempt: i64) -> Duration {
    let base = 30i64.saturating_mul(1 << attempt.clamp(1, 8).saturating_sub(1)).min(3600);
    let jitter = rand::rng().random_range(0..=base / 10);
    Duration::seconds(base + jitter)
}

/// Mails delivered at once: a relay answers each in tens of milliseconds, so sending one
/// after another would make the outbox, not the desk, the bottleneck. lettre's pool keeps
/// up to this many authenticated connections open.
pub const SEND_CONCURRENCY: usize = 8;

/// Delivers every outbox mail due at `now`. Public so tests and the demo can drain the
/// outbox without waiting for the loop.
pub async fn deliver_due<T: Sender>(
    desk: &Arc<Desk>,
    db: &Db,
    sender: &T,
    now: DateTime<Utc>,
) -> Result<usize, DeskError> {
    use futures::StreamExt;
    // The attempts are counted before they are made, in one transaction: a crash
    // mid-send still counts them.
    let due: Vec<Queued> = db
        .call(move |s| {
            s.write(|tx| {
                let due = tx.due_outbox(now, 200)?;
                for q in &due {
                    tx.outbox_attempt(q.id)?;
                }
                Ok::<_, crate::shell::store::StoreError>(due)
            })
        })
        .await?;
    let results: Vec<Result<bool, DeskError>> = futures::stream::iter(due)
        .map(|q| deliver_one(desk, db, sender, q, now))
        .buffer_unordered(SEND_CONCURRENCY)
        .collect()
        .await;
    let mut sent = 0;
    for r in results {
        sent += usize::from(r?);
    }
    Ok(sent)
}

/// One attempt at one mail, its outcome recorded. True when it was delivered.
async fn deliver_one<T: Sender>(
    desk: &Arc<Desk>,
    db: &Db,
    sender: &T,
    q: Queued,
    now: DateTime<Utc>,
) -> Result<bool, DeskError> {
    let id = q.id;
    let to: Vec<_> = q.recipients.iter().filter_map(|a| crate::core::domain::Address::parse(a).ok()).collect();
    let result = match tokio::time::timeout(SEND_TIMEOUT, sender.send(desk.desk_address(), &to, &q.raw)).await {
        Ok(r) => r,
        Err(_) => Err(SendError::Transient(format!("no answer within {} s", SEND_TIMEOUT.as_secs()))),
    };
    match result {
        Ok(()) => {
            db.call(move |s| s.write(|tx| tx.outbox_sent(id, now))).await?;
            tracing::info!(kind = %q.kind, message_id = %q.message_id, "mail sent");
            Ok(true)
        }
        Err(SendError::Transient(e)) if now - q.created_at < desk.retry_horizon => {
            let next = now + backoff(q.attempts + 1);
            tracing::warn!(kind = %q.kind, attempt = q.attempts + 1, error = %e, retry_at = %next, "delivery deferred");
            db.call(move |s| s.write(|tx| tx.outbox_retry(id, next, &e))).await?;
            Ok(false)
        }
        Err(e) => {
            tracing::error!(kind = %q.kind, error = %e, "delivery failed for good; admins told");
            let desk = desk.clone();
            let error = e.to_string();
            db.call(move |s| desk.give_up(s, &q, &error, now)).await?;
            Ok(false)
        }
    }
}

/// Logs a loop's trouble once when it starts and once when it ends, not on every retry.
struct Outage {
    what: &'static str,
    since: Option<std::time::Instant>,
}

impl Outage {
    fn new(what: &'static str) -> Outage {
        Outage { what, since: None }
    }
    fn failed(&mut self, error: &dyn std::fmt::Display) {
        if self.since.is_none() {
            tracing::error!(error = %error, "{} failing; retrying with backoff", self.what);
            self.since = Some(std::time::Instant::now());
        } else {
            tracing::debug!(error = %error, "{} still failing", self.what);
        }
    }
    fn ok(&mut self) {
        if let Some(since) = self.since.take() {
            tracing::info!(seconds = since.elapsed().as_secs(), "{} recovered", self.what);
        }
    }
}

/// Runs the desk until `shutdown` completes, then finishes the mail in hand and returns.
pub async fn run<S: Source, T: Sender>(
    desk: Arc<Desk>,
    db: Db,
    mut source: S,
    sender: Arc<T>,
    clock: Arc<dyn Clock>,
    options: RunOptions,
    shutdown: impl Future<Output = ()> + Send,
) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let outbox_wake = Arc::new(Notify::new());
    let timer_wake = Arc::new(Notify::new());

    let outbox = tokio::spawn({
        let (desk, db, sender, clock, wake, mut stop, tick) = (
            desk.clone(),
            db.clone(),
            sender.clone(),
            clock.clone(),
            outbox_wake.clone(),
            stop_rx.clone(),
            options.tick,
        );
        async move {
            let mut outage = Outage::new("outbox delivery");
            loop {
                match deliver_due(&desk, &db, sender.as_ref(), clock.now()).await {
                    Ok(_) => outage.ok(),
                    Err(e) => outage.failed(&e),
                }
                tokio::select! {
                    _ = tokio::time::sleep(tick) => {}
                    _ = wake.notified() => {}
                    _ = stop.changed() => break,
                }
            }
        }
    });
    let timers = tokio::spawn({
        let (desk, db, clock, wake, outbox_wake, mut stop, tick) = (
            desk.clone(),
            db.clone(),
            clock.clone(),
            timer_wake.clone(),
            outbox_wake.clone(),
            stop_rx.clone(),
            options.tick,
        );
        async move {
            let mut outage = Outage::new("timers");
            loop {
                let now = clock.now();
                let d = desk.clone();
                match db.call(move |s| d.fire_timers(s, now)).await {
                    Ok(n) => {
                        outage.ok();
                        if n > 0 {
                            outbox_wake.notify_one();
                        }
                    }
                    Err(e) => outage.failed(&e),
                }
                tokio::select! {
                    _ = tokio::time::sleep(tick) => {}
                    _ = wake.notified() => {}
                    _ = stop.changed() => break,
                }
            }
        }
    });

    tokio::pin!(shutdown);
    let mut outage = Outage::new("mail intake");
    let mut failures = 0i64;
    'intake: loop {
        let batch = tokio::select! {
            b = source.next() => b,
            _ = &mut shutdown => break,
        };
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                outage.failed(&e);
                failures += 1;
                tokio::select! {
                    _ = tokio::time::sleep(backoff(failures).to_std().unwrap_or_default() / 10) => continue,
                    _ = &mut shutdown => break,
                }
            }
        };
        let mut decided = Vec::with_capacity(batch.len());
        let (mut stop, mut pause) = (false, false);
        for mail in batch {
            let now = clock.now();
            let (d, raw) = (desk.clone(), mail.raw.clone());
            match db.call(move |s| d.handle_mail(s, &raw, now)).await {
                Ok(handled) => {
                    outage.ok();
                    failures = 0;
                    decided.push((mail, handled.disposition));
                    outbox_wake.notify_one();
                    timer_wake.notify_one();
                }
                Err(e) => {
                    // Nothing was committed: the mail stays in the inbox and is decided
                    // when the store works again.
                    outage.failed(&e);
                    failures += 1;
                    pause = true;
                    source.undecided();
                    break;
                }
            }
            if futures::FutureExt::now_or_never(&mut shutdown).is_some() {
                stop = true;
                break;
            }
        }
        // Decided mails leave the inbox together (one MOVE per folder). A failed move only
        // means they are seen again: the record says they are decided, and they move then.
        if !decided.is_empty()
            && let Err(e) = source.finish(&decided).await
        {
            tracing::warn!(error = %e, "could not move decided mail; it will be moved on the next pass");
        }
        if stop {
            break 'intake;
        }
        if pause {
            tokio::select! {
                _ = tokio::time::sleep(backoff(failures).to_std().unwrap_or_default() / 10) => {}
                _ = &mut shutdown => break 'intake,
            }
        }
    }
    tracing::info!("stopping: the mail in hand is done");
    let _ = stop_tx.send(true);
    let _ = outbox.await;
    let _ = timers.await;
}
