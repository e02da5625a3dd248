//! The life of a request (WORKFLOW.md) as a state machine: a mail or a timer comes in
//! with the state it concerns and the current time; a [`Step`] goes out saying what the
//! new state is, which mails to send and which timers to set. Nothing here reads a clock,
//! a file or the network, so every transition is a table-driven unit test.

use crate::core::domain::{Address, Mailbox, Reference, Session};
use crate::core::parse::{Intent, Parsed, Partial, Problem};
use crate::core::rules::Rules;
use crate::core::schedule::{self, Account, Booked, Breach};
use crate::core::token::{Token, TokenHash};
use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};

/// Where a request stands. Only `Held`, `Approved`, `Closing` and `Closed` hold an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// The mail could not be read whole; the requester was sent the form.
    Incomplete,
    /// Refused by policy or by a clash; a reply with another date re-opens it.
    Declined,
    /// A tentative booking blocks the slot while the approvers decide.
    Held,
    Approved,
    Rejected,
    Cancelled,
    /// No decision before the approval timeout or the meeting.
    Expired,
    /// The meeting is over; the admin has been asked to reset the account.
    Closing,
    /// The admin confirmed the reset (SELESAI).
    Closed,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Incomplete,
        Status::Declined,
        Status::Held,
        Status::Approved,
        Status::Rejected,
        Status::Cancelled,
        Status::Expired,
        Status::Closing,
        Status::Closed,
    ];
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Incomplete => "incomplete",
            Status::Declined => "declined",
            Status::Held => "held",
            Status::Approved => "approved",
            Status::Rejected => "rejected",
            Status::Cancelled => "cancelled",
            Status::Expired => "expired",
            Status::Closing => "closing",
            Status::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }
    /// Whether the request's bookings block their accounts.
    pub fn holds_account(&self) -> bool {
        matches!(self, Status::Held | Status::Approved | Status::Closing | Status::Closed)
    }
    /// Whether a reply with new dates may still reshape the request.
    fn correctable(&self) -> bool {
        matches!(self, Status::Incomplete | Status::Declined | Status::Held)
    }
}

/// One approver's invitation to decide: bound to that approver and this request,
/// single-use, and dead after the approval timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalAsk {
    pub approver: Address,
    pub token_hash: TokenHash,
    pub expires_at: DateTime<Utc>,
    pub used: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub reference: Reference,
    pub requester: Mailbox,
    pub title: Option<String>,
    /// The subject of the mail that opened the request, for "Re:" subjects.
    pub subject: String,
    /// Message-ID of that mail: later mails of the desk thread under it.
    pub thread_root: String,
    pub sessions: Vec<Session>,
    /// The account of each session; empty while nothing is booked.
    pub accounts: Vec<String>,
    pub participants: Option<u32>,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub decided_by: Option<Address>,
    pub reason: Option<String>,
    pub asks: Vec<ApprovalAsk>,
    /// What an incomplete request has so far, to be completed by a reply.
    pub partial: Partial,
}

impl Request {
    fn first_start(&self) -> Option<DateTime<Utc>> {
        self.sessions.iter().map(Session::start_utc).min()
    }
    fn last_end(&self) -> Option<DateTime<Utc>> {
        self.sessions.iter().map(Session::end_utc).max()
    }
}

/// Which of the desk's mails a reply answers, found by its Message-ID in the reply's
/// In-Reply-To or References.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadHit {
    pub reference: Reference,
    pub kind: MailKind,
    pub recipients: Vec<Address>,
}

/// What the shell loads for one inbound mail, inside the transaction that will record
/// the outcome.
#[derive(Debug, Clone)]
pub struct Context {
    pub message_id: String,
    pub thread: Option<ThreadHit>,
    /// The request the mail concerns: by thread, else by a reference in the subject.
    pub request: Option<Request>,
    /// Whether the mail's References name the request's own first mail.
    pub answers_root: bool,
    pub accounts: Vec<Account>,
    pub booked: Vec<Booked>,
    /// The reference a new request would get.
    pub next_reference: Reference,
    /// Mails from this sender in the last hour, this one excluded.
    pub recent_from_sender: u32,
    /// Fresh secrets, one per approver, drawn by the shell.
    pub fresh_tokens: Vec<Token>,
}

/// The mails the desk writes; each is a template pair (text and HTML) per language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MailKind {
    Ack,
    ApprovalRequest,
    Confirmed,
    AssignmentNotice,
    Rejected,
    DecisionNoted,
    Clash,
    Refused,
    Incomplete,
    Cancelled,
    CancelNotice,
    Expired,
    ExpiredNotice,
    Reminder,
    RecordingReminder,
    ClosureTask,
    LoanClosed,
    ClosureEscalation,
    ClosureConfirmed,
    NotAllowed,
    RateLimited,
    Help,
    Ambiguous,
    Unverified,
    NotAuthorized,
    AlreadyDecided,
    TooLate,
    HumanNote,
    DeliveryFailed,
    /// To the admins: a mail the desk could not read or answer, kept in the Failed folder.
    SetAside,
}

impl MailKind {
    pub const ALL: [MailKind; 30] = [
        MailKind::Ack,
        MailKind::ApprovalRequest,
        MailKind::Confirmed,
        MailKind::AssignmentNotice,
        MailKind::Rejected,
        MailKind::DecisionNoted,
        MailKind::Clash,
        MailKind::Refused,
        MailKind::Incomplete,
        MailKind::Cancelled,
        MailKind::CancelNotice,
        MailKind::Expired,
        MailKind::ExpiredNotice,
        MailKind::Reminder,
        MailKind::RecordingReminder,
        MailKind::ClosureTask,
        MailKind::LoanClosed,
        MailKind::ClosureEscalation,
        MailKind::ClosureConfirmed,
        MailKind::NotAllowed,
        MailKind::RateLimited,
        MailKind::Help,
        MailKind::Ambiguous,
        MailKind::Unverified,
        MailKind::NotAuthorized,
        MailKind::AlreadyDecided,
        MailKind::TooLate,
        MailKind::HumanNote,
        MailKind::DeliveryFailed,
        MailKind::SetAside,
    ];
    /// The template's name, also stored with every outgoing mail.
    pub fn name(&self) -> &'static str {
        match self {
            MailKind::Ack => "ack",
            MailKind::ApprovalRequest => "approval_request",
            MailKind::Confirmed => "confirmed",
            MailKind::AssignmentNotice => "assignment_notice",
            MailKind::Rejected => "rejected",
            MailKind::DecisionNoted => "decision_noted",
            MailKind::Clash => "clash",
            MailKind::Refused => "refused",
            MailKind::Incomplete => "incomplete",
            MailKind::Cancelled => "cancelled",
            MailKind::CancelNotice => "cancel_notice",
            MailKind::Expired => "expired",
            MailKind::ExpiredNotice => "expired_notice",
            MailKind::Reminder => "reminder",
            MailKind::RecordingReminder => "recording_reminder",
            MailKind::ClosureTask => "closure_task",
            MailKind::LoanClosed => "loan_closed",
            MailKind::ClosureEscalation => "closure_escalation",
            MailKind::ClosureConfirmed => "closure_confirmed",
            MailKind::NotAllowed => "not_allowed",
            MailKind::RateLimited => "rate_limited",
            MailKind::Help => "help",
            MailKind::Ambiguous => "ambiguous",
            MailKind::Unverified => "unverified",
            MailKind::NotAuthorized => "not_authorized",
            MailKind::AlreadyDecided => "already_decided",
            MailKind::TooLate => "too_late",
            MailKind::HumanNote => "human_note",
            MailKind::DeliveryFailed => "delivery_failed",
            MailKind::SetAside => "set_aside",
        }
    }
    pub fn from_name(s: &str) -> Option<MailKind> {
        MailKind::ALL.into_iter().find(|k| k.name() == s)
    }
    /// Reminders and tasks are generated by the desk's clock; the rest answer a mail
    /// (RFC 3834 §5's two values).
    pub fn auto_submitted(&self) -> &'static str {
        match self {
            MailKind::Reminder
            | MailKind::RecordingReminder
            | MailKind::ClosureTask
            | MailKind::LoanClosed
            | MailKind::ClosureEscalation
            | MailKind::Expired
            | MailKind::ExpiredNotice
            | MailKind::ApprovalRequest
            | MailKind::AssignmentNotice
            | MailKind::CancelNotice
            | MailKind::HumanNote
            | MailKind::DeliveryFailed
            | MailKind::SetAside => "auto-generated",
            _ => "auto-replied",
        }
    }
    /// Confirmations carry the booking as an `.ics` so it lands in the calendar.
    pub fn carries_ics(&self) -> bool {
        matches!(self, MailKind::Confirmed | MailKind::AssignmentNotice)
    }
}

/// How an outgoing mail threads: the mail it answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answering {
    pub message_id: String,
    pub references: Vec<String>,
    pub subject: String,
}

/// What a template may show besides the request itself.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub reason: Option<String>,
    pub breaches: Vec<Breach>,
    pub alternatives: Vec<Vec<Session>>,
    pub partial: Partial,
    pub problems: Vec<Problem>,
    /// The person whose act the mail reports (the approver who decided, the canceller).
    pub actor: Option<Mailbox>,
    /// For a reminder: how long before the session it goes out.
    pub lead: Option<Duration>,
    /// For per-session mails: which session.
    pub session: Option<usize>,
    /// The status the request is in, for "already decided" answers.
    pub status: Option<Status>,
    /// Free text for the record (a human's note forwarded to the admins, a delivery error).
    pub note: Option<String>,
}

/// A mail to send, as data; the shell renders it from the template `kind`.
#[derive(Debug, Clone, PartialEq)]
pub struct OutMail {
    pub kind: MailKind,
    pub to: Vec<Mailbox>,
    pub request: Option<Request>,
    pub answering: Option<Answering>,
    pub facts: Facts,
    /// Approval requests only: the secret the approver may quote.
    pub token: Option<Token>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimerKind {
    Expiry,
    /// Before session `session` by `lead_minutes`.
    Reminder {
        session: usize,
        lead_minutes: i64,
    },
    Recording {
        session: usize,
    },
    Closure,
    Escalation,
}

impl TimerKind {
    /// (kind, n): the stored form; with the reference it makes each timer unique.
    pub fn key(&self) -> (&'static str, i64) {
        match *self {
            TimerKind::Expiry => ("expiry", 0),
            TimerKind::Reminder { session, lead_minutes } => ("reminder", session as i64 * 1_000_000 + lead_minutes),
            TimerKind::Recording { session } => ("recording", session as i64),
            TimerKind::Closure => ("closure", 0),
            TimerKind::Escalation => ("escalation", 0),
        }
    }
    pub fn from_key(kind: &str, n: i64) -> Option<TimerKind> {
        Some(match kind {
            "expiry" => TimerKind::Expiry,
            "reminder" => {
                TimerKind::Reminder { session: usize::try_from(n / 1_000_000).ok()?, lead_minutes: n % 1_000_000 }
            }
            "recording" => TimerKind::Recording { session: usize::try_from(n).ok()? },
            "closure" => TimerKind::Closure,
            "escalation" => TimerKind::Escalation,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timer {
    pub reference: Reference,
    pub kind: TimerKind,
    pub due: DateTime<Utc>,
}

/// What was decided, for the record and the logs. Never carries a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Machine mail or the desk's own: recorded, never answered.
    Ignored(String),
    /// A mail nobody can be answered about (no sender): recorded and put aside.
    SetAside(String),
    RateLimited {
        notice: bool,
    },
    NotAllowed,
    /// The office's own server says the sender's domain did not authenticate it.
    AuthFailed(String),
    Incomplete,
    Refused,
    Clash,
    Held,
    AutoApproved,
    Approved,
    Rejected,
    Cancelled,
    Closed,
    Unverified,
    NotAuthorized,
    AlreadyDecided,
    TooLate,
    Ambiguous,
    Unknown,
    /// A human's reply in a request's thread the desk cannot act on: passed to the admins.
    Noted,
    Expired,
    Reminded,
    RecordingReminded,
    ClosureRequested,
    Escalated,
    /// A timer whose moment passed with nothing left to do (the request moved on).
    Stale,
}

impl Outcome {
    pub fn code(&self) -> &'static str {
        match self {
            Outcome::Ignored(_) => "ignored",
            Outcome::SetAside(_) => "set_aside",
            Outcome::RateLimited { .. } => "rate_limited",
            Outcome::NotAllowed => "not_allowed",
            Outcome::AuthFailed(_) => "auth_failed",
            Outcome::Incomplete => "incomplete",
            Outcome::Refused => "refused",
            Outcome::Clash => "clash",
            Outcome::Held => "held",
            Outcome::AutoApproved => "auto_approved",
            Outcome::Approved => "approved",
            Outcome::Rejected => "rejected",
            Outcome::Cancelled => "cancelled",
            Outcome::Closed => "closed",
            Outcome::Unverified => "unverified",
            Outcome::NotAuthorized => "not_authorized",
            Outcome::AlreadyDecided => "already_decided",
            Outcome::TooLate => "too_late",
            Outcome::Ambiguous => "ambiguous",
            Outcome::Unknown => "unknown",
            Outcome::Noted => "noted",
            Outcome::Expired => "expired",
            Outcome::Reminded => "reminded",
            Outcome::RecordingReminded => "recording_reminded",
            Outcome::ClosureRequested => "closure_requested",
            Outcome::Escalated => "escalated",
            Outcome::Stale => "stale",
        }
    }
    pub fn detail(&self) -> Option<&str> {
        match self {
            Outcome::Ignored(s) | Outcome::SetAside(s) | Outcome::AuthFailed(s) => Some(s),
            _ => None,
        }
    }
}

/// Everything one event decides. The shell commits it in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub outcome: Outcome,
    /// The request's new state, to save; `None` when no request changed.
    pub request: Option<Request>,
    pub mails: Vec<OutMail>,
    pub timers: Vec<Timer>,
    /// Drop the request's pending timers before adding `timers`.
    pub clear_timers: bool,
    /// Accounts lent from now: their "last used" moves, for best fit's tie-break.
    pub lent: Vec<String>,
}

impl Step {
    fn just(outcome: Outcome) -> Step {
        Step { outcome, request: None, mails: vec![], timers: vec![], clear_timers: false, lent: vec![] }
    }
    fn with_mail(mut self, m: OutMail) -> Step {
        self.mails.push(m);
        self
    }
}

/// The desk's decision about one inbound mail.
pub fn on_mail(parsed: &Parsed, ctx: &Context, rules: &Rules, now: DateTime<Utc>) -> Step {
    let env = &parsed.envelope;
    if parsed.intent == Intent::Ignore {
        return Step::just(Outcome::Ignored(parsed.reason.clone().unwrap_or_else(|| "machine mail".into())));
    }
    let Some(from) = env.from.clone() else {
        return Step::just(Outcome::SetAside("no From address: nobody to answer".into()));
    };
    if from.address == rules.desk_address {
        return Step::just(Outcome::Ignored("the desk's own mail".into()));
    }
    // Answers go where the mail says to, but trust decisions look at From only.
    let answering = Answering {
        message_id: ctx.message_id.clone(),
        references: env.references.clone(),
        subject: env.subject.clone(),
    };
    let reply = |kind: MailKind, request: Option<&Request>, facts: Facts| OutMail {
        kind,
        to: vec![from.clone()],
        request: request.cloned(),
        answering: Some(answering.clone()),
        facts,
        token: None,
    };

    let limit = rules.limits.per_sender_per_hour;
    if ctx.recent_from_sender >= limit {
        // One notice when the limit is reached, then silence: a runaway auto-responder
        // without the right headers gets one answer an hour, not one per mail.
        let notice = ctx.recent_from_sender == limit;
        let step = Step::just(Outcome::RateLimited { notice });
        return if notice { step.with_mail(reply(MailKind::RateLimited, None, Facts::default())) } else { step };
    }
    if let Some(verdict) = failed_authentication(&env.authentication_results, rules) {
        // A forged From: answering it would mail the person who was impersonated.
        return Step::just(Outcome::AuthFailed(verdict));
    }
    if !rules.roles.may_request(&from.address) {
        return Step::just(Outcome::NotAllowed).with_mail(reply(MailKind::NotAllowed, None, Facts::default()));
    }

    let request = ctx.request.as_ref();
    let problems = parsed.problems.clone();
    match parsed.intent {
        Intent::Ignore => unreachable!("handled above"),
        Intent::Approve | Intent::Reject => decide_approval(parsed, ctx, rules, now, &from, &reply),
        Intent::Cancel => decide_cancel(parsed, ctx, rules, now, &from, &reply),
        Intent::Close => decide_close(ctx, rules, now, &from, &reply),
        Intent::Request => match request {
            Some(r) if r.requester.address == from.address && r.status.correctable() && in_thread(ctx, r, &from) => {
                evaluate(parsed, Some(r), ctx, rules, now, &from, &answering)
            }
            Some(r) if in_thread(ctx, r, &from) && !r.status.correctable() => Step::just(Outcome::AlreadyDecided)
                .with_mail(reply(
                    MailKind::AlreadyDecided,
                    Some(r),
                    Facts { status: Some(r.status), ..Facts::default() },
                )),
            _ => evaluate(parsed, None, ctx, rules, now, &from, &answering),
        },
        Intent::Unknown => {
            if problems.iter().any(|p| matches!(p, Problem::Ambiguous { .. })) {
                return Step::just(Outcome::Ambiguous).with_mail(reply(
                    MailKind::Ambiguous,
                    request,
                    Facts { problems, ..Facts::default() },
                ));
            }
            match request {
                // A human wrote in a request's thread ("thanks", a question): the admins
                // read it; an automatic "not understood" would only annoy.
                Some(r) if ctx.thread.is_some() => {
                    let mut step = Step::just(Outcome::Noted);
                    step.mails.push(OutMail {
                        kind: MailKind::HumanNote,
                        to: mailboxes(&rules.roles.admins),
                        request: Some(r.clone()),
                        answering: None,
                        facts: Facts { actor: Some(from.clone()), note: Some(env.subject.clone()), ..Facts::default() },
                        token: None,
                    });
                    step
                }
                _ => Step::just(Outcome::Unknown).with_mail(reply(MailKind::Help, None, Facts::default())),
            }
        }
    }
}

/// The verdict of the topmost `Authentication-Results` header written by the office's own
/// server, when it says DMARC or DKIM failed. Headers from anyone else count for nothing.
fn failed_authentication(headers: &[String], rules: &Rules) -> Option<String> {
    let id = rules.trust.authserv_id.as_deref()?;
    let top = headers.first()?;
    let (authserv, results) = top.split_once(';').unwrap_or((top.as_str(), ""));
    let authserv = authserv.split_whitespace().next().unwrap_or("");
    if !authserv.eq_ignore_ascii_case(id) {
        return None;
    }
    let lower = results.to_ascii_lowercase();
    ["dmarc=fail", "dkim=fail"]
        .into_iter()
        .find(|v| lower.split(|c: char| c.is_whitespace() || c == ';').any(|w| w == *v))
        .map(|v| format!("{id}: {v}"))
}

/// Whether the mail answers one of the desk's mails on `r` that went to `who`, or the
/// request's own first mail.
fn in_thread(ctx: &Context, r: &Request, who: &Mailbox) -> bool {
    ctx.answers_root
        || ctx.thread.as_ref().is_some_and(|t| t.reference == r.reference && t.recipients.contains(&who.address))
}

fn mailboxes(list: &[Address]) -> Vec<Mailbox> {
    list.iter().map(|a| Mailbox { name: None, address: a.clone() }).collect()
}

/// A new request, or a reply that completes or corrects `existing`.
fn evaluate(
    parsed: &Parsed,
    existing: Option<&Request>,
    ctx: &Context,
    rules: &Rules,
    now: DateTime<Utc>,
    from: &Mailbox,
    answering: &Answering,
) -> Step {
    let env = &parsed.envelope;
    let mut r = match existing {
        Some(r) => r.clone(),
        None => Request {
            reference: ctx.next_reference,
            requester: from.clone(),
            title: parsed.title.clone(),
            subject: env.subject.clone(),
            thread_root: ctx.message_id.clone(),
            sessions: vec![],
            accounts: vec![],
            participants: None,
            status: Status::Incomplete,
            created_at: now,
            decided_by: None,
            reason: None,
            asks: vec![],
            partial: Partial::default(),
        },
    };
    if parsed.participants.is_some() {
        r.participants = parsed.participants;
    }
    if r.title.is_none() {
        r.title = parsed.title.clone();
    }
    let was_held = r.status == Status::Held;
    let sessions =
        if parsed.sessions.is_empty() { complete_from(&r, &parsed.partial, rules) } else { parsed.sessions.clone() };
    let reply = |kind: MailKind, r: &Request, facts: Facts| OutMail {
        kind,
        to: vec![from.clone()],
        request: Some(r.clone()),
        answering: Some(answering.clone()),
        facts,
        token: None,
    };
    let mut step = Step::just(Outcome::Incomplete);
    // A held request being corrected gives its slot back first; the approvers are asked
    // again about the new one.
    step.clear_timers = existing.is_some();
    r.asks.clear();
    r.accounts.clear();
    r.decided_by = None;

    if sessions.is_empty() || parsed.problems.iter().any(blocks_booking) {
        r.status = Status::Incomplete;
        r.partial = merge_partial(&r.partial, &parsed.partial);
        r.sessions = sessions;
        let facts = Facts { partial: r.partial.clone(), problems: parsed.problems.clone(), ..Facts::default() };
        step.mails.push(reply(MailKind::Incomplete, &r, facts));
        if was_held {
            step.mails.extend(notify_approvers_withdrawn(&r, rules));
        }
        step.request = Some(r);
        return step;
    }
    r.sessions = sessions;
    r.partial = Partial::default();
    let breaches = schedule::breaches(&r.sessions, r.participants, rules, now);
    if !breaches.is_empty() {
        r.status = Status::Declined;
        r.reason = Some("policy".into());
        step.outcome = Outcome::Refused;
        step.mails.push(reply(MailKind::Refused, &r, Facts { breaches, ..Facts::default() }));
        if was_held {
            step.mails.extend(notify_approvers_withdrawn(&r, rules));
        }
        step.request = Some(r);
        return step;
    }
    let Some(accounts) = schedule::assign(
        &r.sessions,
        r.participants,
        &ctx.accounts,
        &ctx.booked,
        rules.policy.turnaround,
        Some(r.reference),
    ) else {
        let alternatives =
            schedule::alternatives(&r.sessions, r.participants, &ctx.accounts, &ctx.booked, rules, now, 3);
        r.status = Status::Declined;
        r.reason = Some("clash".into());
        step.outcome = Outcome::Clash;
        step.mails.push(reply(MailKind::Clash, &r, Facts { alternatives, ..Facts::default() }));
        if was_held {
            step.mails.extend(notify_approvers_withdrawn(&r, rules));
        }
        step.request = Some(r);
        return step;
    };
    r.accounts = accounts;
    r.reason = None;
    if rules.roles.auto_approve.contains(&from.address) {
        r.status = Status::Approved;
        r.decided_by = Some(from.address.clone());
        step.outcome = Outcome::AutoApproved;
        step.mails.push(reply(MailKind::Confirmed, &r, Facts::default()));
        step.mails.push(assignment_notice(&r, rules, None));
        step.timers = loan_timers(&r, rules, now);
        step.lent = r.accounts.clone();
        step.request = Some(r);
        return step;
    }
    r.status = Status::Held;
    let deadline = (now + rules.policy.approval_timeout).min(r.first_start().unwrap_or(now));
    r.asks = rules
        .roles
        .approvers
        .iter()
        .zip(&ctx.fresh_tokens)
        .map(|(a, t)| ApprovalAsk { approver: a.clone(), token_hash: t.hash(), expires_at: deadline, used: false })
        .collect();
    step.outcome = Outcome::Held;
    step.mails.push(reply(MailKind::Ack, &r, Facts::default()));
    for (approver, token) in rules.roles.approvers.iter().zip(&ctx.fresh_tokens) {
        step.mails.push(OutMail {
            kind: MailKind::ApprovalRequest,
            to: mailboxes(std::slice::from_ref(approver)),
            request: Some(r.clone()),
            answering: None,
            facts: Facts { actor: Some(r.requester.clone()), ..Facts::default() },
            token: Some(token.clone()),
        });
    }
    step.timers = vec![Timer { reference: r.reference, kind: TimerKind::Expiry, due: deadline }];
    step.request = Some(r);
    step
}

/// Problems that make the sessions themselves doubtful: the desk asks rather than books.
/// The others (a past date, a missing half, an unreadable attachment) only explain why
/// no session was found, and a request that has sessions goes on without them.
fn blocks_booking(p: &Problem) -> bool {
    matches!(
        p,
        Problem::NoSuchDate { .. }
            | Problem::EndBeforeStart { .. }
            | Problem::WeekdayMismatch { .. }
            | Problem::RangeTooLong { .. }
    )
}

/// Sessions from a reply that gives only half (a date, or a time) joined with the half
/// the request already has. The zone is the one the request was written in.
fn complete_from(r: &Request, new: &Partial, rules: &Rules) -> Vec<Session> {
    let offset = r.sessions.first().map(|s| *s.start().offset()).unwrap_or_else(|| desk_offset(rules, r.created_at));
    let known_dates: Vec<NaiveDate> = if r.sessions.is_empty() {
        r.partial.dates.clone()
    } else {
        r.sessions.iter().map(|s| s.start().date_naive()).collect()
    };
    let known_times: Vec<(NaiveTime, Option<NaiveTime>)> = if r.sessions.is_empty() {
        r.partial.times.clone()
    } else {
        r.sessions.iter().map(|s| (s.start().time(), (!s.open_ended()).then(|| s.end().time()))).collect()
    };
    let (dates, times) = match (new.dates.is_empty(), new.times.is_empty()) {
        (false, false) => (new.dates.clone(), new.times.clone()),
        (false, true) => (new.dates.clone(), known_times),
        (true, false) => (known_dates, new.times.clone()),
        (true, true) => (r.partial.dates.clone(), r.partial.times.clone()),
    };
    let Some(&(start, end)) = times.first() else { return vec![] };
    let mut dates = dates;
    dates.sort();
    dates.dedup();
    dates
        .into_iter()
        .filter_map(|d| {
            let s = offset.from_local_datetime(&d.and_time(start)).single()?;
            let (e, open) = match end {
                Some(e) => (offset.from_local_datetime(&d.and_time(e)).single()?, false),
                None => (s + rules.policy.open_ended, true),
            };
            Session::new(s, e, open).ok()
        })
        .collect()
}

fn desk_offset(rules: &Rules, at: DateTime<Utc>) -> FixedOffset {
    use chrono::Offset;
    rules.timezone.offset_from_utc_datetime(&at.naive_utc()).fix()
}

fn merge_partial(old: &Partial, new: &Partial) -> Partial {
    let mut p = old.clone();
    if !new.dates.is_empty() {
        p.dates = new.dates.clone();
    }
    if !new.times.is_empty() {
        p.times = new.times.clone();
    }
    p
}

fn notify_approvers_withdrawn(r: &Request, rules: &Rules) -> Vec<OutMail> {
    vec![OutMail {
        kind: MailKind::CancelNotice,
        to: mailboxes(&rules.roles.approvers),
        request: Some(r.clone()),
        answering: None,
        facts: Facts { reason: Some("changed".into()), ..Facts::default() },
        token: None,
    }]
}

fn assignment_notice(r: &Request, rules: &Rules, approver: Option<&Mailbox>) -> OutMail {
    OutMail {
        kind: MailKind::AssignmentNotice,
        to: mailboxes(&rules.roles.admins),
        request: Some(r.clone()),
        answering: None,
        facts: Facts { actor: approver.cloned(), ..Facts::default() },
        token: None,
    }
}

/// Reminders before each session (only those still ahead), the recording reminder after
/// each, and the closure task after the last.
fn loan_timers(r: &Request, rules: &Rules, now: DateTime<Utc>) -> Vec<Timer> {
    let mut out = Vec::new();
    let t = |kind, due| Timer { reference: r.reference, kind, due };
    for (i, s) in r.sessions.iter().enumerate() {
        for lead in &rules.reminders.before {
            let due = s.start_utc() - *lead;
            if due > now {
                out.push(t(TimerKind::Reminder { session: i, lead_minutes: lead.num_minutes() }, due));
            }
        }
        out.push(t(TimerKind::Recording { session: i }, s.end_utc() + rules.reminders.recording_after_end));
    }
    if let Some(end) = r.last_end() {
        out.push(t(TimerKind::Closure, end + rules.reminders.closure_after_end));
    }
    out
}

/// An approver's yes or no. Trusted only from an approver who answers the approval
/// request sent to them (its Message-ID in the reply's headers) or quotes their own
/// unexpired, unused token; a From address alone approves nothing.
fn decide_approval(
    parsed: &Parsed,
    ctx: &Context,
    rules: &Rules,
    now: DateTime<Utc>,
    from: &Mailbox,
    reply: &dyn Fn(MailKind, Option<&Request>, Facts) -> OutMail,
) -> Step {
    let approve = parsed.intent == Intent::Approve;
    let Some(r) = ctx.request.as_ref() else {
        return Step::just(Outcome::Unknown).with_mail(reply(MailKind::Help, None, Facts::default()));
    };
    if !rules.roles.is_approver(&from.address) {
        return Step::just(Outcome::NotAuthorized).with_mail(reply(MailKind::NotAuthorized, Some(r), Facts::default()));
    }
    let by_thread = ctx.thread.as_ref().is_some_and(|t| {
        t.kind == MailKind::ApprovalRequest && t.reference == r.reference && t.recipients.contains(&from.address)
    });
    let ask = r.asks.iter().find(|a| a.approver == from.address);
    let by_token = ask.is_some_and(|a| {
        !a.used
            && now < a.expires_at
            && Token::find_all(&parsed.envelope.subject).iter().any(|t| t.matches(&a.token_hash))
    });
    if !(by_thread || by_token) {
        return Step::just(Outcome::Unverified).with_mail(reply(MailKind::Unverified, Some(r), Facts::default()));
    }
    if r.status != Status::Held {
        return Step::just(Outcome::AlreadyDecided).with_mail(reply(
            MailKind::AlreadyDecided,
            Some(r),
            Facts { status: Some(r.status), ..Facts::default() },
        ));
    }
    let mut r = r.clone();
    r.decided_by = Some(from.address.clone());
    for a in &mut r.asks {
        a.used = true;
    }
    let mut step = Step::just(if approve { Outcome::Approved } else { Outcome::Rejected });
    step.clear_timers = true;
    let requester = vec![r.requester.clone()];
    let to_requester = |kind, r: &Request, facts| OutMail {
        kind,
        to: requester.clone(),
        request: Some(r.clone()),
        answering: Some(Answering {
            message_id: r.thread_root.clone(),
            references: vec![],
            subject: r.subject.clone(),
        }),
        facts,
        token: None,
    };
    let acted = Facts { actor: Some(from.clone()), reason: parsed.reason.clone(), ..Facts::default() };
    if approve {
        r.status = Status::Approved;
        r.reason = None;
        step.mails.push(to_requester(MailKind::Confirmed, &r, acted.clone()));
        step.mails.push(assignment_notice(&r, rules, Some(from)));
        step.timers = loan_timers(&r, rules, now);
        step.lent = r.accounts.clone();
    } else {
        r.status = Status::Rejected;
        r.reason = parsed.reason.clone();
        step.mails.push(to_requester(MailKind::Rejected, &r, acted.clone()));
    }
    step.mails.push(reply(MailKind::DecisionNoted, Some(&r), acted.clone()));
    let others: Vec<Address> = rules.roles.approvers.iter().filter(|a| **a != from.address).cloned().collect();
    if !others.is_empty() {
        step.mails.push(OutMail {
            kind: MailKind::DecisionNoted,
            to: mailboxes(&others),
            request: Some(r.clone()),
            answering: None,
            facts: acted,
            token: None,
        });
    }
    step.request = Some(r);
    step
}

/// BATAL from the requester or an approver, answering one of the desk's mails to them.
fn decide_cancel(
    parsed: &Parsed,
    ctx: &Context,
    rules: &Rules,
    now: DateTime<Utc>,
    from: &Mailbox,
    reply: &dyn Fn(MailKind, Option<&Request>, Facts) -> OutMail,
) -> Step {
    let Some(r) = ctx.request.as_ref() else {
        return Step::just(Outcome::Unknown).with_mail(reply(MailKind::Help, None, Facts::default()));
    };
    let is_requester = r.requester.address == from.address;
    if !is_requester && !rules.roles.is_approver(&from.address) {
        return Step::just(Outcome::NotAuthorized).with_mail(reply(MailKind::NotAuthorized, Some(r), Facts::default()));
    }
    if !in_thread(ctx, r, from) {
        return Step::just(Outcome::Unverified).with_mail(reply(MailKind::Unverified, Some(r), Facts::default()));
    }
    if !matches!(r.status, Status::Incomplete | Status::Declined | Status::Held | Status::Approved) {
        return Step::just(Outcome::AlreadyDecided).with_mail(reply(
            MailKind::AlreadyDecided,
            Some(r),
            Facts { status: Some(r.status), ..Facts::default() },
        ));
    }
    if r.first_start().is_some_and(|s| s <= now) && r.status == Status::Approved {
        return Step::just(Outcome::TooLate).with_mail(reply(MailKind::TooLate, Some(r), Facts::default()));
    }
    let before = r.status;
    let mut r = r.clone();
    r.status = Status::Cancelled;
    r.reason = parsed.reason.clone();
    r.decided_by = Some(from.address.clone());
    let facts = Facts { actor: Some(from.clone()), reason: parsed.reason.clone(), ..Facts::default() };
    let mut step = Step::just(Outcome::Cancelled);
    step.clear_timers = true;
    let mut to = vec![from.clone()];
    if !is_requester {
        to.push(r.requester.clone());
    }
    step.mails.push(OutMail { to, ..reply(MailKind::Cancelled, Some(&r), facts.clone()) });
    let mut involved: Vec<Address> = Vec::new();
    if matches!(before, Status::Held | Status::Approved) {
        involved.extend(rules.roles.approvers.iter().filter(|a| **a != from.address).cloned());
    }
    if before == Status::Approved {
        involved.extend(rules.roles.admins.iter().cloned());
    }
    if !involved.is_empty() {
        step.mails.push(OutMail {
            kind: MailKind::CancelNotice,
            to: mailboxes(&involved),
            request: Some(r.clone()),
            answering: None,
            facts,
            token: None,
        });
    }
    step.request = Some(r);
    step
}

/// SELESAI from an admin, answering the closure task (or its escalation).
fn decide_close(
    ctx: &Context,
    rules: &Rules,
    now: DateTime<Utc>,
    from: &Mailbox,
    reply: &dyn Fn(MailKind, Option<&Request>, Facts) -> OutMail,
) -> Step {
    let Some(r) = ctx.request.as_ref() else {
        return Step::just(Outcome::Unknown).with_mail(reply(MailKind::Help, None, Facts::default()));
    };
    if !rules.roles.is_admin(&from.address) {
        return Step::just(Outcome::NotAuthorized).with_mail(reply(MailKind::NotAuthorized, Some(r), Facts::default()));
    }
    if !in_thread(ctx, r, from) {
        return Step::just(Outcome::Unverified).with_mail(reply(MailKind::Unverified, Some(r), Facts::default()));
    }
    let over = r.last_end().is_some_and(|e| e <= now);
    let closable = r.status == Status::Closing || (r.status == Status::Approved && over);
    if !closable {
        let (outcome, kind) = if r.status == Status::Approved {
            (Outcome::TooLate, MailKind::TooLate)
        } else {
            (Outcome::AlreadyDecided, MailKind::AlreadyDecided)
        };
        return Step::just(outcome).with_mail(reply(
            kind,
            Some(r),
            Facts { status: Some(r.status), ..Facts::default() },
        ));
    }
    let mut r = r.clone();
    r.status = Status::Closed;
    let mut step = Step::just(Outcome::Closed);
    step.clear_timers = true;
    step.mails.push(reply(
        MailKind::ClosureConfirmed,
        Some(&r),
        Facts { actor: Some(from.clone()), ..Facts::default() },
    ));
    step.request = Some(r);
    step
}

/// The desk's decision when a timer of `r` comes due.
pub fn on_timer(r: &Request, timer: &Timer, rules: &Rules, now: DateTime<Utc>) -> Step {
    let to_requester = |kind, facts| OutMail {
        kind,
        to: vec![r.requester.clone()],
        request: Some(r.clone()),
        answering: Some(Answering {
            message_id: r.thread_root.clone(),
            references: vec![],
            subject: r.subject.clone(),
        }),
        facts,
        token: None,
    };
    match (timer.kind, r.status) {
        (TimerKind::Expiry, Status::Held) => {
            let mut r2 = r.clone();
            r2.status = Status::Expired;
            let mut step = Step::just(Outcome::Expired);
            step.clear_timers = true;
            step.mails.push(OutMail { request: Some(r2.clone()), ..to_requester(MailKind::Expired, Facts::default()) });
            step.mails.push(OutMail {
                kind: MailKind::ExpiredNotice,
                to: mailboxes(&rules.roles.approvers),
                request: Some(r2.clone()),
                answering: None,
                facts: Facts::default(),
                token: None,
            });
            step.request = Some(r2);
            step
        }
        (TimerKind::Reminder { session, lead_minutes }, Status::Approved)
            if r.sessions.get(session).is_some_and(|s| now < s.start_utc()) =>
        {
            let facts =
                Facts { session: Some(session), lead: Some(Duration::minutes(lead_minutes)), ..Facts::default() };
            Step::just(Outcome::Reminded).with_mail(to_requester(MailKind::Reminder, facts))
        }
        (TimerKind::Recording { session }, Status::Approved) if session < r.sessions.len() => {
            let facts = Facts { session: Some(session), ..Facts::default() };
            Step::just(Outcome::RecordingReminded).with_mail(to_requester(MailKind::RecordingReminder, facts))
        }
        (TimerKind::Closure, Status::Approved) => {
            let mut r2 = r.clone();
            r2.status = Status::Closing;
            let mut step = Step::just(Outcome::ClosureRequested);
            step.mails.push(OutMail {
                kind: MailKind::ClosureTask,
                to: mailboxes(&rules.roles.admins),
                request: Some(r2.clone()),
                answering: None,
                facts: Facts::default(),
                token: None,
            });
            step.mails
                .push(OutMail { request: Some(r2.clone()), ..to_requester(MailKind::LoanClosed, Facts::default()) });
            step.timers = vec![Timer {
                reference: r.reference,
                kind: TimerKind::Escalation,
                due: now + rules.reminders.closure_escalate_after,
            }];
            step.request = Some(r2);
            step
        }
        (TimerKind::Escalation, Status::Closing) => {
            let mut to = mailboxes(&rules.roles.admins);
            to.extend(mailboxes(&rules.roles.approvers));
            Step::just(Outcome::Escalated).with_mail(OutMail {
                kind: MailKind::ClosureEscalation,
                to,
                request: Some(r.clone()),
                answering: None,
                facts: Facts::default(),
                token: None,
            })
        }
        _ => Step::just(Outcome::Stale),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::parse::Envelope;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("test time").to_utc()
    }
    fn mb(s: &str) -> Mailbox {
        Mailbox { name: None, address: Address::parse(s).expect("test address") }
    }
    fn session(start: &str, end: &str) -> Session {
        Session::new(
            DateTime::parse_from_rfc3339(start).expect("start"),
            DateTime::parse_from_rfc3339(end).expect("end"),
            false,
        )
        .expect("session")
    }
    const NOW: &str = "2026-01-05T09:00:00+07:00";

    fn mail(from: &str, subject: &str, intent: Intent) -> Parsed {
        Parsed {
            envelope: Envelope {
                message_id: Some("in@x".into()),
                from: Some(mb(from)),
                subject: subject.into(),
                ..Envelope::default()
            },
            intent,
            sessions: vec![],
            participants: None,
            reason: None,
            title: Some("Rakortek".into()),
            partial: Partial::default(),
            problems: vec![],
        }
    }
    fn request_mail(from: &str, sessions: Vec<Session>, participants: Option<u32>) -> Parsed {
        Parsed { sessions, participants, ..mail(from, "Permohonan Zoom", Intent::Request) }
    }
    fn accounts() -> Vec<Account> {
        Rules::example()
            .accounts
            .iter()
            .map(|a| Account { id: a.id.clone(), capacity: a.capacity, last_used: None })
            .collect()
    }
    fn ctx() -> Context {
        Context {
            message_id: "in@x".into(),
            thread: None,
            request: None,
            answers_root: false,
            accounts: accounts(),
            booked: vec![],
            next_reference: Reference::new(2026, 1).expect("ref"),
            recent_from_sender: 0,
            fresh_tokens: vec![Token::from_bytes([1; 16])],
        }
    }
    fn monday() -> Session {
        session("2026-01-12T09:00:00+07:00", "2026-01-12T12:00:00+07:00")
    }
    fn kinds(step: &Step) -> Vec<(MailKind, Vec<String>)> {
        step.mails.iter().map(|m| (m.kind, m.to.iter().map(|t| t.address.to_string()).collect())).collect()
    }
    fn held() -> Request {
        let step =
            on_mail(&request_mail("rizki@bps.test", vec![monday()], Some(150)), &ctx(), &Rules::example(), at(NOW));
        step.request.expect("held request")
    }
    fn answering(r: &Request, kind: MailKind, to: &str) -> Context {
        Context {
            thread: Some(ThreadHit { reference: r.reference, kind, recipients: vec![Address::parse(to).unwrap()] }),
            request: Some(r.clone()),
            ..ctx()
        }
    }

    #[test]
    fn a_readable_request_is_held_acknowledged_and_sent_to_the_approvers() {
        let step =
            on_mail(&request_mail("rizki@bps.test", vec![monday()], Some(150)), &ctx(), &Rules::example(), at(NOW));
        assert_eq!(step.outcome, Outcome::Held);
        assert_eq!(
            kinds(&step),
            vec![
                (MailKind::Ack, vec!["rizki@bps.test".into()]),
                (MailKind::ApprovalRequest, vec!["tip@bps.test".into()])
            ]
        );
        let r = step.request.as_ref().unwrap();
        assert_eq!((r.status, r.accounts.clone()), (Status::Held, vec!["zoom2".to_string()]));
        assert_eq!(r.reference.to_string(), "LKT-2026-0001");
        assert!(step.mails[1].token.is_some() && step.mails[0].token.is_none());
        assert_eq!(
            step.timers,
            vec![Timer { reference: r.reference, kind: TimerKind::Expiry, due: at(NOW) + Duration::hours(24) }]
        );
        assert_eq!(step.mails[0].answering.as_ref().unwrap().message_id, "in@x");
    }

    #[test]
    fn auto_approved_senders_get_the_account_at_once() {
        let mut rules = Rules::example();
        rules.roles.auto_approve = vec![Address::parse("kepala@bps.test").unwrap()];
        let step = on_mail(&request_mail("kepala@bps.test", vec![monday()], None), &ctx(), &rules, at(NOW));
        assert_eq!(step.outcome, Outcome::AutoApproved);
        assert_eq!(
            kinds(&step),
            vec![
                (MailKind::Confirmed, vec!["kepala@bps.test".into()]),
                (MailKind::AssignmentNotice, vec!["ti@bps.test".into()])
            ]
        );
        assert_eq!(step.lent, vec!["zoom1"]);
        assert!(step.timers.iter().any(|t| t.kind == TimerKind::Closure));
    }

    #[test]
    fn a_taken_slot_gets_a_clash_notice_with_alternatives() {
        let mut c = ctx();
        c.booked = accounts()
            .iter()
            .map(|a| Booked {
                reference: Reference::new(2026, 77).unwrap(),
                account: a.id.clone(),
                start: monday().start_utc(),
                end: monday().end_utc(),
            })
            .collect();
        let step = on_mail(&request_mail("rizki@bps.test", vec![monday()], Some(50)), &c, &Rules::example(), at(NOW));
        assert_eq!(step.outcome, Outcome::Clash);
        assert_eq!(step.mails[0].kind, MailKind::Clash);
        assert_eq!(step.mails[0].facts.alternatives.len(), 3);
        assert_eq!(step.request.unwrap().status, Status::Declined);
    }

    #[test]
    fn policy_breaches_are_refused_with_their_reasons() {
        let sat = session("2026-01-10T09:00:00+07:00", "2026-01-10T10:00:00+07:00");
        let step = on_mail(&request_mail("rizki@bps.test", vec![sat], Some(5000)), &ctx(), &Rules::example(), at(NOW));
        assert_eq!(step.outcome, Outcome::Refused);
        assert_eq!(
            step.mails[0].facts.breaches,
            vec![Breach::TooManyParticipants { asked: 5000, largest: 1000 }, Breach::OutsideOfficeDays { session: 0 }]
        );
    }

    #[test]
    fn a_date_without_time_asks_for_the_rest_and_the_reply_completes_the_same_request() {
        let mut first = request_mail("rizki@bps.test", vec![], Some(40));
        first.partial.dates = vec![NaiveDate::from_ymd_opt(2026, 1, 12).unwrap()];
        let step = on_mail(&first, &ctx(), &Rules::example(), at(NOW));
        assert_eq!(step.outcome, Outcome::Incomplete);
        assert_eq!(step.mails[0].kind, MailKind::Incomplete);
        let r = step.request.unwrap();
        let mut second = mail("rizki@bps.test", "Re: [LKT-2026-0001] Permohonan Zoom", Intent::Request);
        second.partial.times =
            vec![(NaiveTime::from_hms_opt(9, 0, 0).unwrap(), Some(NaiveTime::from_hms_opt(11, 0, 0).unwrap()))];
        let mut c = answering(&r, MailKind::Incomplete, "rizki@bps.test");
        c.next_reference = Reference::new(2026, 2).unwrap();
        let step = on_mail(&second, &c, &Rules::example(), at(NOW));
        assert_eq!(step.outcome, Outcome::Held);
        let r2 = step.request.unwrap();
        assert_eq!(r2.reference, r.reference);
        assert_eq!(r2.sessions, vec![session("2026-01-12T09:00:00+07:00", "2026-01-12T11:00:00+07:00")]);
        assert_eq!(r2.participants, Some(40));
    }

    #[test]
    fn an_approval_that_answers_the_approval_request_approves() {
        let r = held();
        let step = on_mail(
            &mail("tip@bps.test", "Re: x", Intent::Approve),
            &answering(&r, MailKind::ApprovalRequest, "tip@bps.test"),
            &Rules::example(),
            at(NOW),
        );
        assert_eq!(step.outcome, Outcome::Approved);
        assert_eq!(
            kinds(&step),
            vec![
                (MailKind::Confirmed, vec!["rizki@bps.test".into()]),
                (MailKind::AssignmentNotice, vec!["ti@bps.test".into()]),
                (MailKind::DecisionNoted, vec!["tip@bps.test".into()]),
            ]
        );
        assert!(step.clear_timers);
        let mut timers: Vec<_> = step.timers.iter().map(|t| (t.kind, t.due)).collect();
        timers.sort();
        assert_eq!(
            timers,
            vec![
                (TimerKind::Reminder { session: 0, lead_minutes: 60 }, at("2026-01-12T08:00:00+07:00")),
                (TimerKind::Reminder { session: 0, lead_minutes: 1440 }, at("2026-01-11T09:00:00+07:00")),
                (TimerKind::Recording { session: 0 }, at("2026-01-12T12:00:00+07:00")),
                (TimerKind::Closure, at("2026-01-12T13:00:00+07:00")),
            ]
        );
        let r2 = step.request.unwrap();
        assert_eq!((r2.status, r2.decided_by.unwrap().to_string()), (Status::Approved, "tip@bps.test".into()));
        // The confirmation threads under the requester's own mail.
        assert_eq!(step.mails[0].answering.as_ref().unwrap().message_id, r2.thread_root);
    }

    #[test]
    fn approvals_without_proof_change_nothing() {
        let r = held();
        let token_subject = format!("Re: kode {}", Token::from_bytes([1; 16]).reveal());
        let cases: Vec<(&str, &str, Context, DateTime<Utc>, Outcome)> = vec![
            // The approver's From, no reply headers, no token: a spoof.
            (
                "tip@bps.test",
                "Re: [LKT-2026-0001] SETUJU",
                Context { request: Some(r.clone()), ..ctx() },
                at(NOW),
                Outcome::Unverified,
            ),
            // Answering a mail that went to someone else.
            ("tip@bps.test", "Re: x", answering(&r, MailKind::Ack, "rizki@bps.test"), at(NOW), Outcome::Unverified),
            // A token after it expired.
            (
                "tip@bps.test",
                &token_subject,
                Context { request: Some(r.clone()), ..ctx() },
                at(NOW) + Duration::hours(25),
                Outcome::Unverified,
            ),
            // The requester approving their own request.
            (
                "rizki@bps.test",
                "Re: x",
                answering(&r, MailKind::Ack, "rizki@bps.test"),
                at(NOW),
                Outcome::NotAuthorized,
            ),
        ];
        for (from, subject, c, now, want) in cases {
            let step = on_mail(&mail(from, subject, Intent::Approve), &c, &Rules::example(), now);
            assert_eq!(step.outcome, want, "{from} {subject}");
            assert!(step.request.is_none());
            assert!(step.mails.iter().all(|m| m.kind != MailKind::Confirmed));
        }
    }

    #[test]
    fn a_token_in_the_subject_approves_once() {
        let r = held();
        let subject = format!("Re: [LKT-2026-0001] kode {}", Token::from_bytes([1; 16]).reveal());
        let c = Context { request: Some(r.clone()), ..ctx() };
        let step = on_mail(&mail("tip@bps.test", &subject, Intent::Approve), &c, &Rules::example(), at(NOW));
        assert_eq!(step.outcome, Outcome::Approved);
        let used = Context { request: step.request.clone(), ..ctx() };
        let again = on_mail(&mail("tip@bps.test", &subject, Intent::Reject), &used, &Rules::example(), at(NOW));
        assert_eq!(again.outcome, Outcome::Unverified);
        // Another approver cannot use tip's token.
        let mut rules = Rules::example();
        rules.roles.approvers.push(Address::parse("kabag@bps.test").unwrap());
        let other = on_mail(&mail("kabag@bps.test", &subject, Intent::Approve), &c, &rules, at(NOW));
        assert_eq!(other.outcome, Outcome::Unverified);
        // Nor does tip's token of this request approve another request.
        let mut second = held();
        second.reference = Reference::new(2026, 2).unwrap();
        second.asks[0].token_hash = Token::from_bytes([9; 16]).hash();
        let elsewhere = format!("Re: [LKT-2026-0002] kode {}", Token::from_bytes([1; 16]).reveal());
        let c2 = Context { request: Some(second), ..ctx() };
        assert_eq!(
            on_mail(&mail("tip@bps.test", &elsewhere, Intent::Approve), &c2, &Rules::example(), at(NOW)).outcome,
            Outcome::Unverified
        );
    }

    #[test]
    fn a_rejection_carries_its_reason_and_frees_the_slot() {
        let r = held();
        let mut m = mail("tip@bps.test", "Re: x", Intent::Reject);
        m.reason = Some("bentrok dengan rapat pimpinan".into());
        let step = on_mail(&m, &answering(&r, MailKind::ApprovalRequest, "tip@bps.test"), &Rules::example(), at(NOW));
        assert_eq!(step.outcome, Outcome::Rejected);
        assert_eq!(step.mails[0].kind, MailKind::Rejected);
        assert_eq!(step.mails[0].facts.reason.as_deref(), Some("bentrok dengan rapat pimpinan"));
        let r2 = step.request.unwrap();
        assert!(!r2.status.holds_account());
        // A second decision is answered, not applied.
        let late = on_mail(
            &mail("tip@bps.test", "Re: x", Intent::Approve),
            &answering(&r2, MailKind::ApprovalRequest, "tip@bps.test"),
            &Rules::example(),
            at(NOW),
        );
        assert_eq!(late.outcome, Outcome::AlreadyDecided);
        assert!(late.request.is_none());
    }

    #[test]
    fn only_the_requester_or_an_approver_cancels() {
        let r = held();
        let cases = [
            ("rizki@bps.test", answering(&r, MailKind::Ack, "rizki@bps.test"), Outcome::Cancelled),
            ("tip@bps.test", answering(&r, MailKind::ApprovalRequest, "tip@bps.test"), Outcome::Cancelled),
            ("budi@bps.test", answering(&r, MailKind::Ack, "budi@bps.test"), Outcome::NotAuthorized),
            ("rizki@bps.test", Context { request: Some(r.clone()), ..ctx() }, Outcome::Unverified),
        ];
        for (from, c, want) in cases {
            let step = on_mail(&mail(from, "Re: BATAL", Intent::Cancel), &c, &Rules::example(), at(NOW));
            assert_eq!(step.outcome, want, "{from}");
        }
        let step = on_mail(
            &mail("rizki@bps.test", "Re: BATAL", Intent::Cancel),
            &answering(&r, MailKind::Ack, "rizki@bps.test"),
            &Rules::example(),
            at(NOW),
        );
        assert_eq!(
            kinds(&step),
            vec![
                (MailKind::Cancelled, vec!["rizki@bps.test".into()]),
                (MailKind::CancelNotice, vec!["tip@bps.test".into()])
            ]
        );
        assert_eq!(step.request.unwrap().status, Status::Cancelled);
    }

    #[test]
    fn the_loan_runs_its_timers_to_closure() {
        let r = held();
        let approved = on_mail(
            &mail("tip@bps.test", "Re: x", Intent::Approve),
            &answering(&r, MailKind::ApprovalRequest, "tip@bps.test"),
            &Rules::example(),
            at(NOW),
        );
        let r = approved.request.unwrap();
        let rules = Rules::example();
        let fire = |r: &Request, kind: TimerKind, now: &str| {
            on_timer(r, &Timer { reference: r.reference, kind, due: at(now) }, &rules, at(now))
        };
        let s = fire(&r, TimerKind::Reminder { session: 0, lead_minutes: 60 }, "2026-01-12T08:00:00+07:00");
        assert_eq!((s.outcome, s.mails[0].kind), (Outcome::Reminded, MailKind::Reminder));
        assert_eq!(s.mails[0].facts.lead, Some(Duration::hours(1)));
        let s = fire(&r, TimerKind::Recording { session: 0 }, "2026-01-12T12:00:00+07:00");
        assert_eq!((s.outcome, s.mails[0].kind), (Outcome::RecordingReminded, MailKind::RecordingReminder));
        let s = fire(&r, TimerKind::Closure, "2026-01-12T13:00:00+07:00");
        assert_eq!(s.outcome, Outcome::ClosureRequested);
        assert_eq!(
            kinds(&s),
            vec![
                (MailKind::ClosureTask, vec!["ti@bps.test".into()]),
                (MailKind::LoanClosed, vec!["rizki@bps.test".into()])
            ]
        );
        assert_eq!(s.timers[0].kind, TimerKind::Escalation);
        let closing = s.request.unwrap();
        assert_eq!(closing.status, Status::Closing);
        let s = fire(&closing, TimerKind::Escalation, "2026-01-13T13:00:00+07:00");
        assert_eq!(kinds(&s), vec![(MailKind::ClosureEscalation, vec!["ti@bps.test".into(), "tip@bps.test".into()])]);
        // SELESAI from the admin, answering the task.
        let done = on_mail(
            &mail("ti@bps.test", "Re: x", Intent::Close),
            &answering(&closing, MailKind::ClosureTask, "ti@bps.test"),
            &rules,
            at("2026-01-12T14:00:00+07:00"),
        );
        assert_eq!(done.outcome, Outcome::Closed);
        assert_eq!(done.request.unwrap().status, Status::Closed);
        // SELESAI from someone else changes nothing.
        let fake = on_mail(
            &mail("rizki@bps.test", "Re: x", Intent::Close),
            &answering(&closing, MailKind::LoanClosed, "rizki@bps.test"),
            &rules,
            at("2026-01-12T14:00:00+07:00"),
        );
        assert_eq!(fake.outcome, Outcome::NotAuthorized);
        // A timer of a request that moved on does nothing.
        assert_eq!(fire(&closing, TimerKind::Closure, "2026-01-12T13:00:00+07:00").outcome, Outcome::Stale);
        assert_eq!(
            fire(&r, TimerKind::Reminder { session: 0, lead_minutes: 60 }, "2026-01-12T09:30:00+07:00").outcome,
            Outcome::Stale
        );
    }

    #[test]
    fn an_undecided_request_expires() {
        let r = held();
        let s = on_timer(
            &r,
            &Timer { reference: r.reference, kind: TimerKind::Expiry, due: at(NOW) },
            &Rules::example(),
            at(NOW) + Duration::hours(24),
        );
        assert_eq!(s.outcome, Outcome::Expired);
        assert_eq!(
            kinds(&s),
            vec![
                (MailKind::Expired, vec!["rizki@bps.test".into()]),
                (MailKind::ExpiredNotice, vec!["tip@bps.test".into()])
            ]
        );
        assert_eq!(s.request.unwrap().status, Status::Expired);
    }

    #[test]
    fn machine_mail_strangers_and_floods_get_no_more_than_one_answer() {
        let rules = Rules::example();
        let mut ooo = mail("rizki@bps.test", "Out of office", Intent::Ignore);
        ooo.reason = Some("Auto-Submitted: auto-replied".into());
        let cases: Vec<(Parsed, u32, Outcome, usize)> = vec![
            (ooo, 0, Outcome::Ignored("Auto-Submitted: auto-replied".into()), 0),
            (mail("zoom@bps.test", "Re: x", Intent::Request), 0, Outcome::Ignored("the desk's own mail".into()), 0),
            (mail("someone@gmail.test", "pinjam zoom", Intent::Request), 0, Outcome::NotAllowed, 1),
            (mail("rizki@bps.test", "x", Intent::Unknown), 9, Outcome::Unknown, 1),
            (mail("rizki@bps.test", "x", Intent::Unknown), 10, Outcome::RateLimited { notice: true }, 1),
            (mail("rizki@bps.test", "x", Intent::Unknown), 11, Outcome::RateLimited { notice: false }, 0),
            (
                Parsed { envelope: Envelope::default(), ..mail("a@bps.test", "", Intent::Request) },
                0,
                Outcome::SetAside("no From address: nobody to answer".into()),
                0,
            ),
        ];
        for (m, recent, want, n) in cases {
            let c = Context { recent_from_sender: recent, ..ctx() };
            let step = on_mail(&m, &c, &rules, at(NOW));
            assert_eq!((step.outcome, step.mails.len()), (want, n));
        }
    }

    #[test]
    fn only_the_topmost_authentication_results_of_our_own_server_count() {
        let mut rules = Rules::example();
        rules.trust.authserv_id = Some("mail.bps.test".into());
        let cases = [
            (vec!["mail.bps.test; dmarc=fail header.from=bps.test"], Some("mail.bps.test: dmarc=fail")),
            (vec!["mail.bps.test; dkim=fail; dmarc=pass"], Some("mail.bps.test: dkim=fail")),
            (vec!["mail.bps.test; dkim=pass; dmarc=pass"], None),
            // A sender's forged header below ours, or a header from another server.
            (vec!["mail.bps.test; dmarc=pass", "mail.bps.test; dmarc=fail"], None),
            (vec!["evil.test; dmarc=fail"], None),
            (vec![], None),
        ];
        for (headers, want) in cases {
            let h: Vec<String> = headers.iter().map(|s| s.to_string()).collect();
            assert_eq!(failed_authentication(&h, &rules).as_deref(), want, "{headers:?}");
        }
        rules.trust.authserv_id = None;
        assert_eq!(failed_authentication(&["x; dmarc=fail".into()], &rules), None);
    }

    #[test]
    fn conflicting_commands_are_asked_again() {
        let r = held();
        let mut m = mail("tip@bps.test", "Re: x", Intent::Unknown);
        m.problems = vec![Problem::Ambiguous { commands: vec![Intent::Approve, Intent::Reject] }];
        let step = on_mail(&m, &answering(&r, MailKind::ApprovalRequest, "tip@bps.test"), &Rules::example(), at(NOW));
        assert_eq!((step.outcome, step.mails[0].kind), (Outcome::Ambiguous, MailKind::Ambiguous));
        assert!(step.request.is_none());
    }

    #[test]
    fn timer_keys_round_trip() {
        for k in [
            TimerKind::Expiry,
            TimerKind::Reminder { session: 3, lead_minutes: 1440 },
            TimerKind::Recording { session: 2 },
            TimerKind::Closure,
            TimerKind::Escalation,
        ] {
            let (s, n) = k.key();
            assert_eq!(TimerKind::from_key(s, n), Some(k));
        }
        for k in MailKind::ALL {
            assert_eq!(MailKind::from_name(k.name()), Some(k));
        }
    }
}
