//! The office's rules as the core reads them: who plays which role, the accounts, the
//! policy of the schedule and when reminders go out. Built from the validated config by
//! the shell; plain data here so the core never touches a file or the environment.

use crate::core::domain::Address;
use chrono::{Duration, NaiveTime, Weekday};
use chrono_tz::Tz;

/// Language of the mails the desk writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Id,
    En,
}

impl Language {
    pub fn code(&self) -> &'static str {
        match self {
            Language::Id => "id",
            Language::En => "en",
        }
    }
}

/// A Zoom account the office lends. The password is not here: it lives with the shell and
/// reaches only the rendered confirmation mail, never the core's decisions or the logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSpec {
    pub id: String,
    pub login: String,
    pub capacity: u32,
}

#[derive(Debug, Clone, Default)]
pub struct Roles {
    pub approvers: Vec<Address>,
    pub admins: Vec<Address>,
    /// Domains whose people may request; approvers and admins may always write.
    pub requester_domains: Vec<String>,
    /// Senders whose requests skip approval.
    pub auto_approve: Vec<Address>,
}

impl Roles {
    pub fn is_approver(&self, a: &Address) -> bool {
        self.approvers.contains(a)
    }
    pub fn is_admin(&self, a: &Address) -> bool {
        self.admins.contains(a)
    }
    pub fn may_request(&self, a: &Address) -> bool {
        self.is_approver(a)
            || self.is_admin(a)
            || self.requester_domains.iter().any(|d| d.eq_ignore_ascii_case(a.domain()))
    }
}

/// Office hours as a half-open local window; `None` in [`Policy`] means any time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfficeHours {
    pub open: NaiveTime,
    pub close: NaiveTime,
}

#[derive(Debug, Clone)]
pub struct Policy {
    /// Time an account needs after a meeting: the recording download (SOP step 4) and the
    /// license reset (SOP step 5). A booking blocks its account this long after its end.
    pub turnaround: Duration,
    pub booking_window: Duration,
    pub min_lead: Duration,
    pub max_duration: Duration,
    pub office_hours: Option<OfficeHours>,
    /// Days meetings may fall on; `None` means any day.
    pub office_days: Option<Vec<Weekday>>,
    pub approval_timeout: Duration,
    pub open_ended: Duration,
}

#[derive(Debug, Clone)]
pub struct Reminders {
    /// Leads before each session's start at which the requester is reminded.
    pub before: Vec<Duration>,
    /// After each session's end: download the cloud recording (SOP step 4).
    pub recording_after_end: Duration,
    /// After the last session's end: the admin resets the account (SOP step 5).
    pub closure_after_end: Duration,
    /// An unconfirmed closure is re-sent and escalated this long after the task.
    pub closure_escalate_after: Duration,
}

/// Limits that keep one sender (or one broken auto-responder) from flooding the desk.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Mails from one sender answered per hour; past it, one notice, then silence.
    pub per_sender_per_hour: u32,
}

/// How far the desk trusts `Authentication-Results`: only the header its own server adds,
/// identified by `authserv_id`, and only the topmost one (RFC 8601 §5: anything below it
/// may have been written by the sender).
#[derive(Debug, Clone, Default)]
pub struct Trust {
    pub authserv_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Rules {
    pub desk_address: Address,
    pub desk_name: String,
    pub timezone: Tz,
    pub language: Language,
    pub accounts: Vec<AccountSpec>,
    pub roles: Roles,
    pub policy: Policy,
    pub reminders: Reminders,
    pub limits: Limits,
    pub trust: Trust,
}

impl Rules {
    /// A complete set of rules for tests and the demo: one approver, one admin, three
    /// accounts, the defaults of `examples/loket.toml`.
    pub fn example() -> Rules {
        let a = |s: &str| Address::parse(s).expect("example address");
        Rules {
            desk_address: a("zoom@bps.test"),
            desk_name: "Loket Zoom BPS Provinsi Bengkulu".into(),
            timezone: chrono_tz::Asia::Jakarta,
            language: Language::Id,
            accounts: vec![
                AccountSpec { id: "zoom1".into(), login: "zoom1@bps.test".into(), capacity: 100 },
                AccountSpec { id: "zoom2".into(), login: "zoom2@bps.test".into(), capacity: 300 },
                AccountSpec { id: "zoom3".into(), login: "zoom3@bps.test".into(), capacity: 1000 },
            ],
            roles: Roles {
                approvers: vec![a("tip@bps.test")],
                admins: vec![a("ti@bps.test")],
                requester_domains: vec!["bps.test".into()],
                auto_approve: vec![],
            },
            policy: Policy {
                turnaround: Duration::minutes(60),
                booking_window: Duration::days(180),
                min_lead: Duration::minutes(30),
                max_duration: Duration::hours(12),
                office_hours: Some(OfficeHours {
                    open: NaiveTime::from_hms_opt(7, 0, 0).expect("07:00"),
                    close: NaiveTime::from_hms_opt(18, 0, 0).expect("18:00"),
                }),
                office_days: Some(vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri]),
                approval_timeout: Duration::hours(24),
                open_ended: Duration::hours(4),
            },
            reminders: Reminders {
                before: vec![Duration::days(1), Duration::hours(1)],
                recording_after_end: Duration::zero(),
                closure_after_end: Duration::minutes(60),
                closure_escalate_after: Duration::hours(24),
            },
            limits: Limits { per_sender_per_hour: 10 },
            trust: Trust::default(),
        }
    }
}
