//! The schedule's rules: which account a request gets, what the policy forbids, and
//! which nearby slots are free when the asked one is taken. Pure functions over the
//! bookings the shell loads; the store only carries out what is decided here.

use crate::core::domain::{Reference, Session};
use crate::core::rules::{Policy, Rules};
use chrono::{DateTime, Datelike, Duration, Utc};
use chrono_tz::Tz;

/// A slot an account is committed to: a held or approved booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booked {
    pub reference: Reference,
    pub account: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// An account as the schedule sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub capacity: u32,
    /// When it was last lent; ties in best fit go to the least recently used, so wear (and
    /// the chance of a forgotten reset) spreads over the pool.
    pub last_used: Option<DateTime<Utc>>,
}

/// A rule of the office the request breaks. Each one is told to the requester as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Breach {
    InPast { session: usize },
    TooSoon { session: usize, min_lead: Duration },
    BeyondWindow { session: usize, window: Duration },
    TooLong { session: usize, max: Duration },
    OutsideOfficeHours { session: usize },
    OutsideOfficeDays { session: usize },
    TooManyParticipants { asked: u32, largest: u32 },
    SessionsOverlap { first: usize, second: usize },
}

/// Every policy rule the sessions break, in a stable order, for the refusal mail.
pub fn breaches(sessions: &[Session], participants: Option<u32>, rules: &Rules, now: DateTime<Utc>) -> Vec<Breach> {
    let mut out = Vec::new();
    let largest = rules.accounts.iter().map(|a| a.capacity).max().unwrap_or(0);
    if let Some(n) = participants
        && n > largest
    {
        out.push(Breach::TooManyParticipants { asked: n, largest });
    }
    for (i, s) in sessions.iter().enumerate() {
        out.extend(session_breaches(i, s, &rules.policy, rules.timezone, now));
    }
    for i in 0..sessions.len() {
        for j in i + 1..sessions.len() {
            if sessions[i].start_utc() < sessions[j].end_utc() && sessions[j].start_utc() < sessions[i].end_utc() {
                out.push(Breach::SessionsOverlap { first: i, second: j });
            }
        }
    }
    out
}

fn session_breaches(i: usize, s: &Session, p: &Policy, tz: Tz, now: DateTime<Utc>) -> Vec<Breach> {
    let mut out = Vec::new();
    let start = s.start_utc();
    if start <= now {
        out.push(Breach::InPast { session: i });
    } else if start < now + p.min_lead {
        out.push(Breach::TooSoon { session: i, min_lead: p.min_lead });
    }
    if start > now + p.booking_window {
        out.push(Breach::BeyondWindow { session: i, window: p.booking_window });
    }
    // An open-ended session's length is our assumption, not the requester's ask: it is
    // never "too long", and only its start has to fall in office hours.
    if !s.open_ended() && s.duration() > p.max_duration {
        out.push(Breach::TooLong { session: i, max: p.max_duration });
    }
    let local_start = start.with_timezone(&tz);
    let local_end = s.end_utc().with_timezone(&tz);
    if let Some(days) = &p.office_days
        && !days.contains(&local_start.weekday())
    {
        out.push(Breach::OutsideOfficeDays { session: i });
    }
    if let Some(h) = p.office_hours {
        let starts_ok = local_start.time() >= h.open && local_start.time() < h.close;
        let ends_ok =
            s.open_ended() || (local_end.date_naive() == local_start.date_naive() && local_end.time() <= h.close);
        if !starts_ok || !ends_ok {
            out.push(Breach::OutsideOfficeHours { session: i });
        }
    }
    out
}

/// True when `account` can take `s`: no booking on it overlaps the session, each side
/// widened by the turnaround that follows every meeting.
fn is_free(account: &str, s: &Session, booked: &[Booked], turnaround: Duration, except: Option<Reference>) -> bool {
    let (start, end) = (s.start_utc(), s.end_utc() + turnaround);
    !booked
        .iter()
        .any(|b| b.account == account && Some(b.reference) != except && start < b.end + turnaround && b.start < end)
}

/// Best fit: one account per session, the same account for all sessions where one is
/// free for all; the smallest that holds the participants (the smallest of all when the
/// count is unknown), ties to the least recently used. `None` when some session fits no
/// account. `except` ignores the request's own current bookings (a correction).
pub fn assign(
    sessions: &[Session],
    participants: Option<u32>,
    accounts: &[Account],
    booked: &[Booked],
    turnaround: Duration,
    except: Option<Reference>,
) -> Option<Vec<String>> {
    let mut fit: Vec<&Account> = accounts.iter().filter(|a| participants.is_none_or(|n| a.capacity >= n)).collect();
    fit.sort_by(|a, b| (a.capacity, a.last_used, &a.id).cmp(&(b.capacity, b.last_used, &b.id)));
    if let Some(one) = fit.iter().find(|a| sessions.iter().all(|s| is_free(&a.id, s, booked, turnaround, except))) {
        return Some(vec![one.id.clone(); sessions.len()]);
    }
    // No single account is free for every day: each session gets its own best fit.
    sessions
        .iter()
        .map(|s| fit.iter().find(|a| is_free(&a.id, s, booked, turnaround, except)).map(|a| a.id.clone()))
        .collect()
}

/// Up to `max` free slots of the same length near the asked one, nearest first, each
/// obeying the policy and not overlapping another proposal. A multi-day request moves as
/// a whole. Searches two weeks either way in half-hour steps.
pub fn alternatives(
    sessions: &[Session],
    participants: Option<u32>,
    accounts: &[Account],
    booked: &[Booked],
    rules: &Rules,
    now: DateTime<Utc>,
    max: usize,
) -> Vec<Vec<Session>> {
    const STEP_MINUTES: i64 = 30;
    const HORIZON_STEPS: i64 = 14 * 24 * 60 / STEP_MINUTES;
    let mut offsets: Vec<i64> = (1..=HORIZON_STEPS).flat_map(|k| [k, -k]).collect();
    offsets.sort_by_key(|k| (k.abs(), *k < 0));
    let mut found: Vec<Vec<Session>> = Vec::new();
    for k in offsets {
        if found.len() >= max {
            break;
        }
        let by = Duration::minutes(k * STEP_MINUTES);
        let moved: Vec<Session> = sessions.iter().map(|s| s.shifted(by)).collect();
        let clashes_proposal = found
            .iter()
            .any(|f| f.iter().zip(&moved).any(|(a, b)| a.start_utc() < b.end_utc() && b.start_utc() < a.end_utc()));
        if clashes_proposal
            || !breaches(&moved, participants, rules, now).is_empty()
            || assign(&moved, participants, accounts, booked, rules.policy.turnaround, None).is_none()
        {
            continue;
        }
        found.push(moved);
    }
    found.sort_by_key(|f| f.first().map(|s| s.start_utc()));
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn at(s: &str) -> DateTime<chrono::FixedOffset> {
        DateTime::parse_from_rfc3339(s).expect("test time")
    }
    fn session(start: &str, end: &str) -> Session {
        Session::new(at(start), at(end), false).expect("test session")
    }
    fn booked(account: &str, start: &str, end: &str) -> Booked {
        Booked {
            reference: Reference::new(2026, 999).expect("ref"),
            account: account.into(),
            start: at(start).with_timezone(&Utc),
            end: at(end).with_timezone(&Utc),
        }
    }
    fn pool() -> Vec<Account> {
        vec![
            Account { id: "big".into(), capacity: 1000, last_used: None },
            Account { id: "small-b".into(), capacity: 100, last_used: Some(at("2026-01-02T00:00:00Z").to_utc()) },
            Account { id: "small-a".into(), capacity: 100, last_used: Some(at("2026-01-01T00:00:00Z").to_utc()) },
            Account { id: "mid".into(), capacity: 300, last_used: None },
        ]
    }
    const NOW: &str = "2026-01-05T09:00:00+07:00";

    #[test]
    fn best_fit_picks_the_smallest_that_holds_then_the_least_recently_used() {
        let s = [session("2026-01-12T09:00:00+07:00", "2026-01-12T12:00:00+07:00")];
        let h = Duration::minutes(60);
        for (participants, want) in [
            (None, "small-a"),
            (Some(50), "small-a"),
            (Some(100), "small-a"),
            (Some(101), "mid"),
            (Some(301), "big"),
            (Some(1001), ""),
        ] {
            let got = assign(&s, participants, &pool(), &[], h, None);
            assert_eq!(got.map(|v| v[0].clone()).unwrap_or_default(), want, "{participants:?}");
        }
    }

    #[test]
    fn a_booking_blocks_its_account_for_the_turnaround() {
        let h = Duration::minutes(60);
        let taken = [booked("small-a", "2026-01-12T07:00:00+07:00", "2026-01-12T08:30:00+07:00")];
        // 09:00 starts inside 08:30 + 60 min: small-a is busy, small-b is next.
        let s = [session("2026-01-12T09:00:00+07:00", "2026-01-12T10:00:00+07:00")];
        assert_eq!(assign(&s, Some(10), &pool(), &taken, h, None).unwrap(), vec!["small-b"]);
        // 09:30 starts exactly when the turnaround ends: free.
        let s = [session("2026-01-12T09:30:00+07:00", "2026-01-12T10:00:00+07:00")];
        assert_eq!(assign(&s, Some(10), &pool(), &taken, h, None).unwrap(), vec!["small-a"]);
        // A meeting ending 06:30 needs the account until 07:30: clash on the other side.
        let s = [session("2026-01-12T05:00:00+07:00", "2026-01-12T06:30:00+07:00")];
        assert_eq!(assign(&s, Some(10), &pool(), &taken, h, None).unwrap(), vec!["small-b"]);
        // Its own booking does not block a correction of the same request.
        let s = [session("2026-01-12T08:00:00+07:00", "2026-01-12T09:00:00+07:00")];
        let own = Some(Reference::new(2026, 999).unwrap());
        assert_eq!(assign(&s, Some(10), &pool(), &taken, h, own).unwrap(), vec!["small-a"]);
    }

    #[test]
    fn all_sessions_go_on_one_account_where_possible() {
        let h = Duration::minutes(60);
        let days = [
            session("2026-01-12T09:00:00+07:00", "2026-01-12T12:00:00+07:00"),
            session("2026-01-13T09:00:00+07:00", "2026-01-13T12:00:00+07:00"),
        ];
        let taken = [booked("small-a", "2026-01-13T10:00:00+07:00", "2026-01-13T11:00:00+07:00")];
        assert_eq!(assign(&days, Some(80), &pool(), &taken, h, None).unwrap(), vec!["small-b", "small-b"]);
        let taken = [
            booked("small-a", "2026-01-13T10:00:00+07:00", "2026-01-13T11:00:00+07:00"),
            booked("small-b", "2026-01-12T10:00:00+07:00", "2026-01-12T11:00:00+07:00"),
        ];
        // No small account is free both days: the mid account holds both.
        assert_eq!(assign(&days, Some(80), &pool(), &taken, h, None).unwrap(), vec!["mid", "mid"]);
        let only_small: Vec<Account> = pool().into_iter().filter(|a| a.capacity == 100).collect();
        assert_eq!(assign(&days, Some(80), &only_small, &taken, h, None).unwrap(), vec!["small-a", "small-b"]);
    }

    #[test]
    fn policy_breaches_are_each_named() {
        let rules = Rules::example();
        let now = at(NOW).to_utc();
        let cases: Vec<(Session, Option<u32>, Vec<Breach>)> = vec![
            (session("2026-01-12T09:00:00+07:00", "2026-01-12T12:00:00+07:00"), Some(150), vec![]),
            (
                session("2026-01-05T08:00:00+07:00", "2026-01-05T10:00:00+07:00"),
                None,
                vec![Breach::InPast { session: 0 }],
            ),
            (
                session("2026-01-05T09:15:00+07:00", "2026-01-05T10:00:00+07:00"),
                None,
                vec![Breach::TooSoon { session: 0, min_lead: Duration::minutes(30) }],
            ),
            (
                session("2026-09-01T09:00:00+07:00", "2026-09-01T10:00:00+07:00"),
                None,
                vec![Breach::BeyondWindow { session: 0, window: Duration::days(180) }],
            ),
            (
                session("2026-01-12T06:00:00+07:00", "2026-01-12T19:00:00+07:00"),
                None,
                vec![
                    Breach::TooLong { session: 0, max: Duration::hours(12) },
                    Breach::OutsideOfficeHours { session: 0 },
                ],
            ),
            (
                session("2026-01-12T19:00:00+07:00", "2026-01-12T21:00:00+07:00"),
                None,
                vec![Breach::OutsideOfficeHours { session: 0 }],
            ),
            // 09:00 WITA is 08:00 WIB: inside office hours.
            (session("2026-01-12T09:00:00+08:00", "2026-01-12T11:00:00+08:00"), None, vec![]),
            (
                session("2026-01-10T09:00:00+07:00", "2026-01-10T11:00:00+07:00"),
                None,
                vec![Breach::OutsideOfficeDays { session: 0 }],
            ),
            (
                session("2026-01-12T09:00:00+07:00", "2026-01-12T11:00:00+07:00"),
                Some(5000),
                vec![Breach::TooManyParticipants { asked: 5000, largest: 1000 }],
            ),
        ];
        for (s, n, want) in cases {
            assert_eq!(breaches(&[s], n, &rules, now), want, "{s:?}");
        }
        let open = Session::new(at("2026-01-12T16:00:00+07:00"), at("2026-01-12T20:00:00+07:00"), true).unwrap();
        assert_eq!(breaches(&[open], None, &rules, now), vec![]);
        let two = [
            session("2026-01-12T09:00:00+07:00", "2026-01-12T11:00:00+07:00"),
            session("2026-01-12T10:00:00+07:00", "2026-01-12T12:00:00+07:00"),
        ];
        assert_eq!(breaches(&two, None, &rules, now), vec![Breach::SessionsOverlap { first: 0, second: 1 }]);
    }

    #[test]
    fn alternatives_are_free_lawful_distinct_and_near() {
        let mut rules = Rules::example();
        rules.accounts.truncate(1); // zoom1 only
        let accounts = [Account { id: "zoom1".into(), capacity: 100, last_used: None }];
        let taken = [booked("zoom1", "2026-01-12T08:00:00+07:00", "2026-01-12T12:00:00+07:00")];
        let asked = [session("2026-01-12T09:00:00+07:00", "2026-01-12T12:00:00+07:00")];
        let now = at(NOW).to_utc();
        assert!(assign(&asked, None, &accounts, &taken, rules.policy.turnaround, None).is_none());
        let alts = alternatives(&asked, None, &accounts, &taken, &rules, now, 3);
        let starts: Vec<String> = alts.iter().map(|a| a[0].start().to_rfc3339()).collect();
        assert_eq!(
            starts,
            // The same afternoon once the turnaround ends, then the next morning from opening time.
            vec!["2026-01-12T13:00:00+07:00", "2026-01-13T07:00:00+07:00", "2026-01-13T10:00:00+07:00"]
        );
        for a in &alts {
            assert_eq!(a[0].duration(), asked[0].duration());
            assert!(breaches(a, None, &rules, now).is_empty());
        }
    }

    #[test]
    fn no_alternatives_when_nothing_fits() {
        let rules = Rules::example();
        let asked = [session("2026-01-12T09:00:00+07:00", "2026-01-12T12:00:00+07:00")];
        let alts = alternatives(&asked, Some(5000), &pool(), &[], &rules, at(NOW).to_utc(), 3);
        assert!(alts.is_empty());
    }
}
