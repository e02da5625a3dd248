//! What a template sees: an outgoing mail turned into words and numbers in the desk's
//! language ("Senin, 12 Januari 2026 pukul 09.00–12.00 WIB"). Pure, so the wording of
//! every date the desk writes is unit-tested; the templates only arrange it.
//!
//! The context every template gets is documented in `templates/README.md`.

use crate::core::domain::{Mailbox, Session};
use crate::core::parse::{Intent, Problem};
use crate::core::rules::{Language, Rules};
use crate::core::schedule::Breach;
use crate::core::workflow::{OutMail, Request, Status};
use chrono::{Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, Timelike, Weekday};
use serde_json::{Value, json};

/// Login details of the assigned account, for the confirmation mail only.
#[derive(Clone)]
pub struct Credentials {
    pub login: String,
    pub password: Option<String>,
}

const DAYS_ID: [&str; 7] = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"];
const DAYS_EN: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const MONTHS_ID: [&str; 12] = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn weekday(lang: Language, d: Weekday) -> &'static str {
    let i = d.num_days_from_monday() as usize;
    match lang {
        Language::Id => DAYS_ID[i],
        Language::En => DAYS_EN[i],
    }
}

/// "Senin, 12 Januari 2026" / "Monday, 12 January 2026".
pub fn date(lang: Language, d: NaiveDate) -> String {
    let m = d.month0() as usize;
    let month = match lang {
        Language::Id => MONTHS_ID[m],
        Language::En => MONTHS_EN[m],
    };
    format!("{}, {} {} {}", weekday(lang, d.weekday()), d.day(), month, d.year())
}

/// Indonesian writes 09.00, English 09:00.
pub fn time(lang: Language, t: NaiveTime) -> String {
    let sep = if lang == Language::Id { '.' } else { ':' };
    format!("{:02}{sep}{:02}", t.hour(), t.minute())
}

/// The zone's name as Indonesians write it; other offsets as UTC±hh:mm.
pub fn zone(offset: FixedOffset) -> String {
    match offset.local_minus_utc() {
        25200 => "WIB".into(),
        28800 => "WITA".into(),
        32400 => "WIT".into(),
        s => {
            let sign = if s < 0 { '-' } else { '+' };
            format!("UTC{sign}{:02}:{:02}", s.abs() / 3600, s.abs() % 3600 / 60)
        }
    }
}

/// One session in words, in the zone it was asked in. An open-ended session names the
/// end the desk assumed, so the requester can correct it.
pub fn session(lang: Language, s: &Session) -> String {
    let (a, b) = (s.start(), s.end());
    let z = zone(*a.offset());
    let end = if b.date_naive() == a.date_naive() {
        time(lang, b.time())
    } else {
        format!("{} {}", date(lang, b.date_naive()), time(lang, b.time()))
    };
    match (lang, s.open_ended()) {
        (Language::Id, false) => format!("{} pukul {}–{} {z}", date(lang, a.date_naive()), time(lang, a.time()), end),
        (Language::Id, true) => format!(
            "{} pukul {} {z} s.d. selesai (diperkirakan sampai {} {z})",
            date(lang, a.date_naive()),
            time(lang, a.time()),
            end
        ),
        (Language::En, false) => format!("{}, {}–{} {z}", date(lang, a.date_naive()), time(lang, a.time()), end),
        (Language::En, true) => format!(
            "{}, from {} {z} until finished (assumed to end at {} {z})",
            date(lang, a.date_naive()),
            time(lang, a.time()),
            end
        ),
    }
}

/// A moment: "Selasa, 6 Januari 2026 pukul 09.41 WIB" / "Tuesday, 6 January 2026, 09:41 WIB".
pub fn moment(lang: Language, t: chrono::DateTime<FixedOffset>) -> String {
    let (d, h, z) = (date(lang, t.date_naive()), time(lang, t.time()), zone(*t.offset()));
    match lang {
        Language::Id => format!("{d} pukul {h} {z}"),
        Language::En => format!("{d}, {h} {z}"),
    }
}

/// "1 hari", "2 jam", "30 menit" / "1 day", "2 hours", "30 minutes".
pub fn span(lang: Language, d: Duration) -> String {
    let m = d.num_minutes();
    let (n, unit) = if m != 0 && m % (24 * 60) == 0 {
        (m / (24 * 60), 0)
    } else if m != 0 && m % 60 == 0 {
        (m / 60, 1)
    } else {
        (m, 2)
    };
    let word = match (lang, unit, n == 1) {
        (Language::Id, 0, _) => "hari",
        (Language::Id, 1, _) => "jam",
        (Language::Id, _, _) => "menit",
        (Language::En, 0, true) => "day",
        (Language::En, 0, false) => "days",
        (Language::En, 1, true) => "hour",
        (Language::En, 1, false) => "hours",
        (Language::En, _, true) => "minute",
        (Language::En, _, false) => "minutes",
    };
    format!("{n} {word}")
}

pub fn status(lang: Language, s: Status) -> &'static str {
    match (lang, s) {
        (Language::Id, Status::Incomplete) => "menunggu kelengkapan data",
        (Language::Id, Status::Declined) => "tidak dapat dijadwalkan",
        (Language::Id, Status::Held) => "menunggu persetujuan",
        (Language::Id, Status::Approved) => "disetujui",
        (Language::Id, Status::Rejected) => "ditolak",
        (Language::Id, Status::Cancelled) => "dibatalkan",
        (Language::Id, Status::Expired) => "kedaluwarsa",
        (Language::Id, Status::Closing) => "menunggu penutupan",
        (Language::Id, Status::Closed) => "selesai",
        (Language::En, Status::Incomplete) => "waiting for the missing details",
        (Language::En, Status::Declined) => "could not be scheduled",
        (Language::En, Status::Held) => "waiting for approval",
        (Language::En, Status::Approved) => "approved",
        (Language::En, Status::Rejected) => "rejected",
        (Language::En, Status::Cancelled) => "cancelled",
        (Language::En, Status::Expired) => "expired",
        (Language::En, Status::Closing) => "waiting for closure",
        (Language::En, Status::Closed) => "closed",
    }
}

fn person(m: &Mailbox) -> Value {
    json!({ "name": m.display(), "address": m.address.as_str() })
}

fn sessions(lang: Language, list: &[Session], accounts: &[String]) -> Vec<Value> {
    list.iter()
        .enumerate()
        .map(|(i, s)| {
            json!({
                "n": i + 1,
                "date": date(lang, s.start().date_naive()),
                "start": time(lang, s.start().time()),
                "end": time(lang, s.end().time()),
                "zone": zone(*s.start().offset()),
                "open_ended": s.open_ended(),
                "text": session(lang, s),
                "account": accounts.get(i),
            })
        })
        .collect()
}

/// The request in words: what the desk understood, to be checked by the requester.
fn request_view(lang: Language, r: &Request, rules: &Rules) -> Value {
    let texts: Vec<String> = r.sessions.iter().map(|s| session(lang, s)).collect();
    let people = r.participants.map(|n| match lang {
        Language::Id => format!("{n} peserta"),
        Language::En => format!("{n} participants"),
    });
    let schedule = texts.join("; ");
    let summary = match &people {
        Some(p) if !schedule.is_empty() => format!("{schedule}, {p}"),
        Some(p) => p.clone(),
        None => schedule.clone(),
    };
    let mut accounts: Vec<Value> = Vec::new();
    for id in &r.accounts {
        if accounts.iter().any(|a| a["id"] == id.as_str()) {
            continue;
        }
        let spec = rules.accounts.iter().find(|a| &a.id == id);
        accounts.push(json!({
            "id": id,
            "login": spec.map(|a| a.login.as_str()),
            "capacity": spec.map(|a| a.capacity),
        }));
    }
    let deadline = r.asks.iter().map(|a| a.expires_at).min().map(|t| {
        let local = t.with_timezone(&rules.timezone).fixed_offset();
        moment(lang, local)
    });
    json!({
        "ref": r.reference.to_string(),
        "title": r.title.clone().unwrap_or_else(|| r.subject.clone()),
        "subject": r.subject,
        "requester": person(&r.requester),
        "participants": r.participants,
        "status": r.status.as_str(),
        "status_text": status(lang, r.status),
        "sessions": sessions(lang, &r.sessions, &r.accounts),
        "schedule": schedule,
        "summary": summary,
        "open_ended": r.sessions.iter().any(|s| s.open_ended()),
        "multi_day": r.sessions.len() > 1,
        "accounts": accounts,
        "approval_deadline": deadline,
        "reason": r.reason,
    })
}

fn breach_view(lang: Language, b: &Breach, r: Option<&Request>) -> Value {
    let when = |i: usize| r.and_then(|r| r.sessions.get(i)).map(|s| session(lang, s));
    match b {
        Breach::InPast { session } => json!({ "code": "in_past", "session": when(*session) }),
        Breach::TooSoon { session, min_lead } => {
            json!({ "code": "too_soon", "session": when(*session), "limit": span(lang, *min_lead) })
        }
        Breach::BeyondWindow { session, window } => {
            json!({ "code": "beyond_window", "session": when(*session), "limit": span(lang, *window) })
        }
        Breach::TooLong { session, max } => {
            json!({ "code": "too_long", "session": when(*session), "limit": span(lang, *max) })
        }
        Breach::OutsideOfficeHours { session } => json!({ "code": "outside_office_hours", "session": when(*session) }),
        Breach::OutsideOfficeDays { session } => json!({ "code": "outside_office_days", "session": when(*session) }),
        Breach::TooManyParticipants { asked, largest } => {
            json!({ "code": "too_many_participants", "asked": asked, "limit": largest })
        }
        Breach::SessionsOverlap { first, second } => {
            json!({ "code": "sessions_overlap", "session": when(*first), "other": when(*second) })
        }
    }
}

/// A command word as the desk's mails teach it.
fn command(lang: Language, i: Intent) -> &'static str {
    match (lang, i) {
        (Language::Id, Intent::Approve) => "SETUJU",
        (Language::Id, Intent::Reject) => "TOLAK",
        (Language::Id, Intent::Cancel) => "BATAL",
        (Language::Id, Intent::Close) => "SELESAI",
        (Language::Id, _) => "permohonan",
        (Language::En, Intent::Approve) => "APPROVE",
        (Language::En, Intent::Reject) => "REJECT",
        (Language::En, Intent::Cancel) => "CANCEL",
        (Language::En, Intent::Close) => "DONE",
        (Language::En, _) => "request",
    }
}

/// "SETUJU dan TOLAK", "A, B dan C" / "APPROVE and REJECT".
fn and_list(lang: Language, words: &[&str]) -> String {
    let and = if lang == Language::Id { " dan " } else { " and " };
    match words {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{}{and}{last}", rest.join(", ")),
    }
}

/// A problem for the templates: `code` picks the sentence, `text` is what the writer wrote
/// (or the attachment's name); some codes carry more.
fn problem_view(lang: Language, p: &Problem) -> Value {
    match p {
        Problem::NoSuchDate { text } => json!({ "code": "no_such_date", "text": text }),
        Problem::EndBeforeStart { text } => json!({ "code": "end_before_start", "text": text }),
        Problem::Ambiguous { commands } => {
            let words: Vec<&str> = commands.iter().map(|c| command(lang, *c)).collect();
            json!({
                "code": "ambiguous",
                "text": commands.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", "),
                "commands": and_list(lang, &words),
            })
        }
        Problem::WeekdayMismatch { text, date: d } => json!({
            "code": "weekday_mismatch",
            "text": text,
            "date": date(lang, *d),
            "weekday": weekday(lang, d.weekday()),
        }),
        Problem::RangeTooLong { text } => json!({ "code": "range_too_long", "text": text }),
        Problem::PastDate => json!({ "code": "past_date", "text": "" }),
        Problem::MissingTime => json!({ "code": "missing_time", "text": "" }),
        Problem::MissingDate => json!({ "code": "missing_date", "text": "" }),
        Problem::UnreadableAttachment { name } => json!({ "code": "unreadable_attachment", "text": name }),
        #[allow(unreachable_patterns)]
        _ => json!({ "code": "other", "text": p.to_string() }),
    }
}

/// Office settings templates may quote (the turnaround, the approval timeout...).
fn settings(lang: Language, rules: &Rules) -> Value {
    let p = &rules.policy;
    json!({
        "turnaround": span(lang, p.turnaround),
        "approval_timeout": span(lang, p.approval_timeout),
        "min_lead": span(lang, p.min_lead),
        "booking_window": span(lang, p.booking_window),
        "max_duration": span(lang, p.max_duration),
        "open_ended": span(lang, p.open_ended),
        "office_hours": p.office_hours.map(|h| format!("{}–{}", time(lang, h.open), time(lang, h.close))),
        "office_days": p.office_days.as_ref().map(|d| d.iter().map(|w| weekday(lang, *w)).collect::<Vec<_>>().join(", ")),
        "closure_escalate_after": span(lang, rules.reminders.closure_escalate_after),
    })
}

/// The whole context of one mail.
pub fn context(m: &OutMail, rules: &Rules, credentials: Option<&Credentials>) -> Value {
    let lang = rules.language;
    let f = &m.facts;
    let r = m.request.as_ref();
    let found_dates: Vec<String> = f.partial.dates.iter().map(|d| date(lang, *d)).collect();
    let found_times: Vec<String> = f
        .partial
        .times
        .iter()
        .map(|(a, b)| match b {
            Some(b) => format!("{}–{}", time(lang, *a), time(lang, *b)),
            None => time(lang, *a),
        })
        .collect();
    let has_sessions = r.is_some_and(|r| !r.sessions.is_empty());
    let missing_date = found_dates.is_empty() && !has_sessions;
    let missing_time = found_times.is_empty() && !has_sessions;
    let the_session = f.session.and_then(|i| r.and_then(|r| r.sessions.get(i).map(|s| (i, s))));
    json!({
        "kind": m.kind.name(),
        "lang": lang.code(),
        "desk": { "name": rules.desk_name, "address": rules.desk_address.as_str() },
        "recipient": m.to.first().map(person),
        "ref": r.map(|r| r.reference.to_string()),
        "request": r.map(|r| request_view(lang, r, rules)),
        "account": credentials.map(|c| json!({ "login": c.login, "password": c.password })),
        "token": m.token.as_ref().map(|t| t.reveal()),
        "actor": f.actor.as_ref().map(person),
        "reason": f.reason,
        "breaches": f.breaches.iter().map(|b| breach_view(lang, b, r)).collect::<Vec<_>>(),
        "alternatives": f.alternatives.iter().map(|alt| alt.iter().map(|s| session(lang, s)).collect::<Vec<_>>().join("; ")).collect::<Vec<_>>(),
        "found": { "dates": found_dates, "times": found_times, "any": !(found_dates.is_empty() && found_times.is_empty()) },
        "missing": { "date": missing_date, "time": missing_time },
        "problems": f.problems.iter().map(|p| problem_view(lang, p)).collect::<Vec<_>>(),
        "lead": f.lead.map(|d| span(lang, d)),
        "session": the_session.map(|(i, s)| json!({ "n": i + 1, "text": session(lang, s), "account": r.and_then(|r| r.accounts.get(i)) })),
        "status_text": f.status.map(|s| status(lang, s)),
        "note": f.note,
        "settings": settings(lang, rules),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn s(a: &str, b: &str, open: bool) -> Session {
        Session::new(DateTime::parse_from_rfc3339(a).unwrap(), DateTime::parse_from_rfc3339(b).unwrap(), open).unwrap()
    }

    #[test]
    fn sessions_read_as_people_write_them() {
        let cases = [
            (
                Language::Id,
                s("2026-01-12T09:00:00+07:00", "2026-01-12T12:00:00+07:00", false),
                "Senin, 12 Januari 2026 pukul 09.00–12.00 WIB",
            ),
            (
                Language::En,
                s("2026-01-12T09:00:00+07:00", "2026-01-12T12:00:00+07:00", false),
                "Monday, 12 January 2026, 09:00–12:00 WIB",
            ),
            (
                Language::Id,
                s("2026-08-17T10:00:00+08:00", "2026-08-17T11:30:00+08:00", false),
                "Senin, 17 Agustus 2026 pukul 10.00–11.30 WITA",
            ),
            (
                Language::Id,
                s("2026-03-06T19:00:00+09:00", "2026-03-06T21:00:00+09:00", false),
                "Jumat, 6 Maret 2026 pukul 19.00–21.00 WIT",
            ),
            (
                Language::Id,
                s("2026-01-12T13:00:00+07:00", "2026-01-12T17:00:00+07:00", true),
                "Senin, 12 Januari 2026 pukul 13.00 WIB s.d. selesai (diperkirakan sampai 17.00 WIB)",
            ),
            (
                Language::Id,
                s("2026-01-12T22:00:00+07:00", "2026-01-13T01:00:00+07:00", false),
                "Senin, 12 Januari 2026 pukul 22.00–Selasa, 13 Januari 2026 01.00 WIB",
            ),
        ];
        for (lang, sess, want) in cases {
            assert_eq!(session(lang, &sess), want);
        }
        assert_eq!(zone(FixedOffset::east_opt(0).unwrap()), "UTC+00:00");
        assert_eq!(zone(FixedOffset::east_opt(-5 * 3600 - 1800).unwrap()), "UTC-05:30");
    }

    #[test]
    fn spans_use_the_largest_whole_unit() {
        for (lang, d, want) in [
            (Language::Id, Duration::days(1), "1 hari"),
            (Language::Id, Duration::hours(2), "2 jam"),
            (Language::Id, Duration::minutes(90), "90 menit"),
            (Language::En, Duration::hours(1), "1 hour"),
            (Language::En, Duration::days(180), "180 days"),
            (Language::En, Duration::minutes(1), "1 minute"),
            (Language::En, Duration::zero(), "0 minutes"),
        ] {
            assert_eq!(span(lang, d), want);
        }
    }

    #[test]
    fn moments_name_the_hour_the_way_each_language_does() {
        let t = DateTime::parse_from_rfc3339("2026-01-06T09:41:12+07:00").unwrap();
        assert_eq!(moment(Language::Id, t), "Selasa, 6 Januari 2026 pukul 09.41 WIB");
        assert_eq!(moment(Language::En, t), "Tuesday, 6 January 2026, 09:41 WIB");
    }

    #[test]
    fn problems_carry_what_their_sentence_needs() {
        let ambiguous = Problem::Ambiguous { commands: vec![Intent::Approve, Intent::Reject] };
        let v = problem_view(Language::Id, &ambiguous);
        assert_eq!((v["code"].as_str(), v["commands"].as_str()), (Some("ambiguous"), Some("SETUJU dan TOLAK")));
        assert_eq!(v["text"], "approve, reject");
        let three = Problem::Ambiguous { commands: vec![Intent::Approve, Intent::Cancel, Intent::Close] };
        assert_eq!(problem_view(Language::En, &three)["commands"], "APPROVE, CANCEL and DONE");

        let d = NaiveDate::from_ymd_opt(2026, 1, 13).unwrap();
        let v =
            problem_view(Language::Id, &Problem::WeekdayMismatch { text: "Senin, 13 Januari 2026".into(), date: d });
        assert_eq!(v["code"], "weekday_mismatch");
        assert_eq!(v["weekday"], "Selasa");
        assert_eq!(v["date"], "Selasa, 13 Januari 2026");

        let cases = [
            (Problem::NoSuchDate { text: "30 Februari".into() }, "no_such_date", "30 Februari"),
            (Problem::EndBeforeStart { text: "14.00 s.d. 10.00".into() }, "end_before_start", "14.00 s.d. 10.00"),
            (
                Problem::RangeTooLong { text: "1 Januari s.d. 30 Juni".into() },
                "range_too_long",
                "1 Januari s.d. 30 Juni",
            ),
            (Problem::PastDate, "past_date", ""),
            (Problem::MissingTime, "missing_time", ""),
            (Problem::MissingDate, "missing_date", ""),
            (Problem::UnreadableAttachment { name: "undangan.pdf".into() }, "unreadable_attachment", "undangan.pdf"),
        ];
        for (p, code, text) in cases {
            let v = problem_view(Language::En, &p);
            assert_eq!((v["code"].as_str(), v["text"].as_str()), (Some(code), Some(text)), "{p:?}");
        }
    }
}
