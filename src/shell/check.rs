//! `loket check-db`: the store's promises, verified from the outside. The fault tests call
//! it after every crash; an operator can run it any time (it only reads).

use crate::core::workflow::Status;
use crate::shell::store::{Store, StoreError, parse_ts};
use chrono::{DateTime, Duration, Utc};

/// One broken promise, said in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach(pub String);

/// Every invariant the store must keep:
/// - no two active bookings of one account overlap, each widened by the turnaround;
/// - every recorded mail has an outcome;
/// - every request's status is known and its held/approved sessions have an account;
/// - no pending outbox mail is older than the retry horizon (it would have been given up).
pub fn check(
    store: &mut Store,
    turnaround: Duration,
    retry_horizon: Duration,
    now: DateTime<Utc>,
) -> Result<Vec<Breach>, StoreError> {
    store.read(|tx| {
        let c = tx.conn();
        let mut out = Vec::new();
        let active: Vec<&str> = Status::ALL.iter().filter(|s| s.holds_account()).map(|s| s.as_str()).collect();
        let list = active.iter().map(|s| format!("'{s}'")).collect::<Vec<_>>().join(",");
        let mut stmt = c.prepare(&format!(
            "SELECT s.reference, s.idx, s.account, s.start_utc, s.end_utc FROM sessions s JOIN requests r USING (reference)
             WHERE r.status IN ({list}) ORDER BY s.account, s.start_utc"
        ))?;
        let rows: Vec<(String, i64, Option<String>, String, String)> =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?.collect::<Result<_, _>>()?;
        let mut booked: Vec<(String, String, DateTime<Utc>, DateTime<Utc>)> = Vec::new();
        for (reference, idx, account, start, end) in rows {
            match account {
                None => out.push(Breach(format!("{reference} session {} holds no account though its request is active", idx + 1))),
                Some(a) => booked.push((a, reference, parse_ts(&start)?, parse_ts(&end)?)),
            }
        }
        for (i, (a, r1, s1, e1)) in booked.iter().enumerate() {
            for (b, r2, s2, e2) in &booked[i + 1..] {
                if a == b && *s1 < *e2 + turnaround && *s2 < *e1 + turnaround {
                    out.push(Breach(format!("account {a} is double-booked: {r1} ({s1}–{e1}) and {r2} ({s2}–{e2}) overlap with the turnaround")));
                }
            }
        }
        let no_outcome: i64 = c.query_row("SELECT count(*) FROM mails_in WHERE outcome IS NULL OR outcome = ''", [], |r| r.get(0))?;
        if no_outcome > 0 {
            out.push(Breach(format!("{no_outcome} recorded mail(s) have no outcome")));
        }
        let mut stmt = c.prepare("SELECT reference, status FROM requests")?;
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
            let (reference, status) = row?;
            if Status::parse(&status).is_none() {
                out.push(Breach(format!("{reference} has an unknown status {status:?}")));
            }
        }
        let horizon = crate::shell::store::ts(now - retry_horizon - Duration::hours(1));
        let stale: i64 = c.query_row(
            "SELECT count(*) FROM outbox WHERE status = 'pending' AND created_at < ?1",
            [&horizon],
            |r| r.get(0),
        )?;
        if stale > 0 {
            out.push(Breach(format!("{stale} outbox mail(s) pending beyond the retry horizon")));
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::workflow::Status;
    use crate::shell::samples;

    #[test]
    fn a_double_booking_and_a_stale_outbox_are_each_reported() {
        let dir = tempfile::tempdir().expect("dir");
        let mut store = Store::open(&dir.path().join("t.db")).expect("store");
        let now = DateTime::parse_from_rfc3339("2026-01-05T08:00:00+07:00").expect("t").to_utc();
        let a = samples::request(Status::Approved);
        let mut b = samples::request(Status::Held);
        b.reference = crate::core::domain::Reference::new(2026, 43).expect("ref");
        store
            .write(|tx| {
                tx.save_request(&a, now)?;
                tx.save_request(&b, now)
            })
            .expect("save");
        let found = check(&mut store, Duration::minutes(60), Duration::hours(24), now).expect("check");
        assert!(found.iter().any(|b| b.0.contains("double-booked")), "{found:?}");
        // Cancel one: the schedule is sound again.
        b.status = Status::Cancelled;
        store.write(|tx| tx.save_request(&b, now)).expect("save");
        assert!(check(&mut store, Duration::minutes(60), Duration::hours(24), now).expect("check").is_empty());
        // A mail pending for two days is past a 24-hour horizon.
        let out = crate::shell::store::Outgoing {
            message_id: "m@x".into(),
            reference: None,
            kind: crate::core::workflow::MailKind::Ack,
            recipients: vec![],
            subject: "s".into(),
            raw: vec![],
        };
        store.write(|tx| tx.enqueue(&out, now)).expect("enqueue");
        let later =
            check(&mut store, Duration::minutes(60), Duration::hours(24), now + Duration::days(2)).expect("check");
        assert!(later.iter().any(|b| b.0.contains("retry horizon")), "{later:?}");
    }
}
