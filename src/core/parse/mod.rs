//! Reading a raw mail into what the desk needs to decide: who sent it, whether it is
//! machine mail, what it asks (request, approve, reject, cancel, close) and, for a
//! request, the sessions and the head count. Pure: bytes and options in, facts out.
//!
//! OWNED BY THE PARSER WORK (issue 3/4): the interface below is what the rest of loket
//! relies on; everything behind it may change.

use crate::core::domain::{Mailbox, Session};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime};
use chrono_tz::Tz;

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
}

/// Reads one raw RFC 5322 mail. Never panics on any input (fuzzed); the shell still
/// guards the call, because a panic must cost one mail, not the service.
pub fn parse(raw: &[u8], opts: &ParseOptions) -> Parsed {
    let _ = (raw, opts);
    todo!("the parser (issue 3/4)")
}
