//! Reading a raw mail into what the desk needs to decide: who sent it, whether it is
//! machine mail, what it asks (request, approve, reject, cancel, close) and, for a
//! request, the sessions and the head count. Pure: bytes and options in, facts out.
//!
//! OWNED BY THE PARSER WORK (issue 3/4): the interface below is what the rest of loket
//! relies on; everything behind it may change.

use crate::core::domain::{Mailbox, Session};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime};
use chrono_tz::Tz;

mod ask;
mod command;
mod dates;
mod html;
mod ics;
mod layout;
mod machine;
mod mime;
mod participants;
mod pdf;
mod quote;
mod schedule;
mod text;
mod times;
mod title;

use chrono::{Duration, TimeZone};
use std::fmt;

/// What the parser needs to know about the desk.
#[derive(Debug, Clone)]
pub struct ParseOptions {
    /// The desk's zone: times without a zone word are read in it, and relative dates
    /// ("besok") count days on its calendar.
    pub timezone: Tz,
    /// Length assumed for a session that gives no end ("s.d. selesai").
    pub open_ended_hours: u32,
    /// The moment relative dates count from when the mail has no usable Date header.
    pub now: DateTime<FixedOffset>,
}

/// What a mail asks of the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Intent {
    /// Asks to borrow an account (a memo, an invitation, a filled form, a correction).
    Request,
    /// An approver says yes (SETUJU, disetujui, OK, approved).
    Approve,
    /// An approver says no (TOLAK, tidak setuju, rejected), maybe with a reason.
    Reject,
    /// The requester or an approver calls the meeting off (BATAL, cancel).
    Cancel,
    /// An admin confirms the license was reset after the loan (SELESAI, done).
    Close,
    /// Machine mail: auto-replies, bounces, lists, notifications. Never answered.
    Ignore,
    /// A human wrote, but not a command or a request the desk can read.
    Unknown,
}

impl Intent {
    pub fn as_str(&self) -> &'static str {
        match self {
            Intent::Request => "request",
            Intent::Approve => "approve",
            Intent::Reject => "reject",
            Intent::Cancel => "cancel",
            Intent::Close => "close",
            Intent::Ignore => "ignore",
            Intent::Unknown => "unknown",
        }
    }
}

/// The headers the workflow and the trust rules read.
#[derive(Debug, Clone, Default)]
pub struct Envelope {
    /// Without angle brackets. None when the mail has none (the shell then derives one).
    pub message_id: Option<String>,
    pub from: Option<Mailbox>,
    pub reply_to: Option<Mailbox>,
    pub to: Vec<Mailbox>,
    pub subject: String,
    pub date: Option<DateTime<FixedOffset>>,
    /// Message-IDs without angle brackets.
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// Raw values of every `Authentication-Results` header, topmost first.
    pub authentication_results: Vec<String>,
}

/// What was found when a request could not be turned into whole sessions, so the reply
/// can say what is there and what is missing instead of guessing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Partial {
    pub dates: Vec<NaiveDate>,
    pub times: Vec<(NaiveTime, Option<NaiveTime>)>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NoSuchDate { text } => write!(f, "no such date: {text:?}"),
            Problem::EndBeforeStart { text } => write!(f, "ends before it starts: {text:?}"),
            Problem::Ambiguous { commands } => {
                let names: Vec<&str> = commands.iter().map(|c| c.as_str()).collect();
                write!(f, "contradicting commands: {}", names.join(", "))
            }
            Problem::WeekdayMismatch { text, date } => {
                write!(f, "weekday does not match the date: {text:?} is a {}", date.format("%A"))
            }
            Problem::RangeTooLong { text } => write!(f, "range of days too long: {text:?}"),
            Problem::PastDate => write!(f, "the dates given are in the past"),
            Problem::MissingTime => write!(f, "a date but no time"),
            Problem::MissingDate => write!(f, "a time but no date"),
            Problem::UnreadableAttachment { name } => write!(f, "attachment could not be read: {name}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Parsed {
    pub envelope: Envelope,
    pub intent: Intent,
    /// For a request: one per meeting slot, in order. Empty when none could be read whole.
    pub sessions: Vec<Session>,
    pub participants: Option<u32>,
    /// For a reject or a cancel: the reason the writer gave. For an ignore: why the mail
    /// counts as machine mail (for the record).
    pub reason: Option<String>,
    /// The name of the meeting, as the mail gave it (Kegiatan / Hal / the subject).
    pub title: Option<String>,
    /// For a request without whole sessions: the dates and times that were found.
    pub partial: Partial,
    /// What a human must be told about the mail (a date that does not exist, an end before
    /// its start, two commands at once).
    pub problems: Vec<Problem>,
}

/// Something wrong in what a human wrote, explained back to them in the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A date that does not exist on the calendar ("30 Februari 2026").
    NoSuchDate { text: String },
    /// A time range whose end is not after its start ("pukul 14.00 s.d. 10.00").
    EndBeforeStart { text: String },
    /// The new text gives conflicting commands ("SETUJU ... TOLAK"): the desk asks again.
    Ambiguous { commands: Vec<Intent> },
    /// The weekday does not match the date ("Senin, 13 Januari 2026" is a Tuesday). The
    /// date is kept in `partial`; the desk should ask which one was meant.
    WeekdayMismatch { text: String, date: NaiveDate },
    /// A range of days too long to be one booking ("1 Januari s.d. 30 Juni").
    RangeTooLong { text: String },
    /// Every date written lies before the day the mail was sent.
    PastDate,
    /// A request with a day but no time: hours are never guessed.
    MissingTime,
    /// A request with a time but no day.
    MissingDate,
    /// An attachment that could not be read (a broken or oversized PDF) in a request whose
    /// sessions could not be found elsewhere.
    UnreadableAttachment { name: String },
}

/// Reads one raw RFC 5322 mail. Never panics on any input (fuzzed); the shell still
/// guards the call, because a panic must cost one mail, not the service.
pub fn parse(raw: &[u8], opts: &ParseOptions) -> Parsed {
    let mail = mime::read(raw);
    let mut parsed = Parsed {
        envelope: mail.envelope.clone(),
        intent: Intent::Unknown,
        sessions: Vec::new(),
        participants: None,
        reason: None,
        title: None,
        partial: Partial::default(),
        problems: Vec::new(),
    };
    if let Some(why) = machine::machine_reason(&mail.marks.headers(&mail.envelope)) {
        return ignored(parsed, why);
    }
    let subject = mail.envelope.subject.as_str();
    let bare_subject = machine::strip_reply_prefixes(subject);
    let is_forward = bare_subject.len() != subject.trim_start().len() && is_forward_subject(subject);
    let is_reply =
        !is_forward && (bare_subject.len() != subject.trim_start().len() || !mail.envelope.in_reply_to.is_empty());
    let split = quote::split(&mail.body, is_forward);
    if let Some(why) = machine::auto_reply_body(&split.new_text) {
        return ignored(parsed, why);
    }
    let base = base_date(mail.envelope.date, opts);

    // What the sender asks for, read from the new text, then the material they point to.
    let asks = ask::asks_to_borrow(&split.new_text) || mail.attachments.iter().any(|a| ask::asks_to_borrow(a));
    let mut sources = vec![split.new_text.clone()];
    let mut extra = split.forwarded.clone().into_iter().chain(mail.attachments.iter().cloned()).collect::<Vec<_>>();
    if !extra.is_empty() {
        extra.insert(0, split.new_text.clone());
        sources.push(extra.join("\n\n"));
    }
    if !is_reply || asks {
        let last = sources.last().cloned().unwrap_or_default();
        sources.push(format!("{bare_subject}\n\n{last}"));
    }
    let mut found = schedule::Schedule::default();
    for src in &sources {
        found = schedule::read(src, base, opts);
        if !found.sessions.is_empty() {
            break;
        }
    }
    let calendar = calendar_sessions(&mail.calendars, &found, opts);
    let cancelled_by_calendar = calendar.cancelled;
    if !calendar.sessions.is_empty() {
        found.sessions = calendar.sessions;
        found.partial = Partial::default();
        found.problems.retain(|p| matches!(p, Problem::UnreadableAttachment { .. }));
    }
    parsed.title =
        title::title(calendar.summary.as_deref(), sources.last().map(String::as_str).unwrap_or(""), bare_subject);

    match command::read(&split.new_text) {
        command::Reading::Conflict { commands } => {
            parsed.problems.push(Problem::Ambiguous { commands: commands.into_iter().map(intent_of).collect() });
            return parsed;
        }
        command::Reading::One { command, reason, at } => {
            // A request that mentions a yes-word late ("... mohon dapat disetujui") is
            // still a request; a cancel names the meeting it cancels, so it stays a cancel.
            let late = at > 40 && !is_reply && matches!(command, command::Command::Approve | command::Command::Close);
            if !late || found.sessions.is_empty() {
                parsed.intent = intent_of(command);
                parsed.reason = reason;
                return parsed;
            }
        }
        command::Reading::None => {}
    }
    if cancelled_by_calendar && found.sessions.is_empty() {
        parsed.intent = Intent::Cancel;
        return parsed;
    }
    let subject_ask = !is_reply && ask::subject_asks(bare_subject);
    let is_request = !found.sessions.is_empty() || asks || subject_ask;
    if !is_request {
        return parsed;
    }
    parsed.intent = Intent::Request;
    parsed.participants = found.participants;
    parsed.problems.extend(found.problems);
    if found.sessions.is_empty() {
        parsed.problems.extend(mail.problems.iter().cloned());
        if found.only_past_dates {
            parsed.problems.push(Problem::PastDate);
        }
        let bad_date = parsed.problems.iter().any(|p| {
            matches!(p, Problem::NoSuchDate { .. } | Problem::EndBeforeStart { .. } | Problem::RangeTooLong { .. })
        });
        if found.dates_found && !found.times_found {
            parsed.problems.push(Problem::MissingTime);
        } else if found.times_found && !found.dates_found && !bad_date && !found.only_past_dates {
            parsed.problems.push(Problem::MissingDate);
        }
        parsed.partial = found.partial;
    }
    parsed.sessions = found.sessions;
    parsed
}

fn intent_of(c: command::Command) -> Intent {
    match c {
        command::Command::Approve => Intent::Approve,
        command::Command::Reject => Intent::Reject,
        command::Command::Cancel => Intent::Cancel,
        command::Command::Close => Intent::Close,
    }
}

fn ignored(mut parsed: Parsed, why: String) -> Parsed {
    parsed.intent = Intent::Ignore;
    parsed.reason = Some(why);
    parsed
}

fn is_forward_subject(subject: &str) -> bool {
    let low = subject.trim_start().to_ascii_lowercase();
    ["fwd:", "fw:", "tr:", "wg:", "fwd :", "fw :", "terusan:", "diteruskan:"].iter().any(|p| low.starts_with(p))
}

/// The mail's own day on the desk's calendar: a Date of 23:40 UTC on a Sunday is Monday in
/// Jakarta, and "besok" written then means Tuesday. Without a Date, the caller's `now`.
fn base_date(date: Option<DateTime<FixedOffset>>, opts: &ParseOptions) -> NaiveDate {
    let moment = date.unwrap_or(opts.now);
    moment.with_timezone(&opts.timezone).date_naive()
}

struct CalendarReading {
    sessions: Vec<Session>,
    summary: Option<String>,
    cancelled: bool,
}

/// Sessions from calendar attachments. Timed events are taken as they are; all-day
/// events only say which days, so they keep the text's sessions on those days.
fn calendar_sessions(calendars: &[String], text: &schedule::Schedule, opts: &ParseOptions) -> CalendarReading {
    let mut out = CalendarReading { sessions: Vec::new(), summary: None, cancelled: false };
    let open = Duration::hours(i64::from(opts.open_ended_hours.clamp(1, 24)));
    for raw in calendars {
        let cal = ics::parse(raw);
        out.cancelled |= cal.method.as_deref() == Some("CANCEL");
        for ev in &cal.events {
            if ev.cancelled {
                out.cancelled = true;
                continue;
            }
            out.summary = out.summary.take().or_else(|| ev.summary.clone());
            let local = |t: &ics::IcsTime| -> Option<DateTime<FixedOffset>> {
                match t {
                    ics::IcsTime::At(d) => Some(keep_indonesian_zone(*d, opts)),
                    ics::IcsTime::Floating(n) => {
                        opts.timezone.from_local_datetime(n).earliest().map(|d| d.fixed_offset())
                    }
                    ics::IcsTime::AllDay(_) => None,
                }
            };
            if let ics::IcsTime::AllDay(day) = ev.start {
                out.sessions.extend(text.sessions.iter().filter(|s| s.start().date_naive() == day).copied());
                continue;
            }
            let Some(start) = local(&ev.start) else { continue };
            let end = ev.end.as_ref().and_then(local).or_else(|| ev.duration.map(|d| start + d));
            let session = match end {
                Some(e) if e > start => Session::new(start, e, false),
                _ => Session::new(start, start + open, true),
            };
            if let Ok(s) = session
                && !out.sessions.iter().any(|x| x.start() == s.start())
            {
                out.sessions.push(s);
            }
        }
    }
    out.sessions.sort_by_key(|s| s.start_utc());
    out
}

/// Times in WIB, WITA or WIT stay as written; any other offset (UTC from Google) is shown
/// in the desk's zone, the one its people read.
fn keep_indonesian_zone(d: DateTime<FixedOffset>, opts: &ParseOptions) -> DateTime<FixedOffset> {
    let secs = d.offset().local_minus_utc();
    if [7 * 3600, 8 * 3600, 9 * 3600].contains(&secs) { d } else { d.with_timezone(&opts.timezone).fixed_offset() }
}
