//! One sample of every mail the desk writes, with a realistic request behind it. Used to
//! check the templates at start-up and for the golden files of rendered mail.

use crate::core::domain::{Address, Mailbox, Reference, Session};
use crate::core::parse::{Intent, Partial, Problem};
use crate::core::present::Credentials;
use crate::core::rules::Rules;
use crate::core::schedule::Breach;
use crate::core::token::Token;
use crate::core::workflow::{Answering, ApprovalAsk, Facts, MailKind, OutMail, Request, Status};
use chrono::{DateTime, Duration, NaiveDate};

pub struct Sample {
    pub mail: OutMail,
    pub credentials: Option<Credentials>,
}

fn t(s: &str) -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339(s).expect("sample time")
}

fn mailbox(name: &str, address: &str) -> Mailbox {
    Mailbox { name: Some(name.into()), address: Address::parse(address).expect("sample address") }
}

pub fn request(status: Status) -> Request {
    let s = |a: &str, b: &str| Session::new(t(a), t(b), false).expect("sample session");
    Request {
        reference: Reference::new(2026, 42).expect("sample reference"),
        requester: mailbox("Rizki Pratama, SST, M.Stat.", "rizki.pratama@bps.test"),
        title: Some("Rapat Koordinasi Teknis Sensus Ekonomi 2026 & Evaluasi".into()),
        subject: "Nota Dinas Permohonan Peminjaman Lisensi Zoom".into(),
        thread_root: "req-42@bps.test".into(),
        sessions: vec![
            s("2026-01-12T09:00:00+07:00", "2026-01-12T12:00:00+07:00"),
            Session::new(t("2026-01-13T13:00:00+07:00"), t("2026-01-13T17:00:00+07:00"), true).expect("open session"),
        ],
        accounts: vec!["zoom2".into(), "zoom2".into()],
        participants: Some(150),
        status,
        created_at: t("2026-01-05T09:41:12+07:00").to_utc(),
        decided_by: None,
        reason: None,
        asks: vec![ApprovalAsk {
            approver: Address::parse("tip@bps.test").expect("sample address"),
            token_hash: [0; 32],
            expires_at: t("2026-01-06T09:41:12+07:00").to_utc(),
            used: false,
        }],
        partial: Partial::default(),
    }
}

/// Every mail kind, in `MailKind::ALL` order.
pub fn all(rules: &Rules) -> Vec<Sample> {
    let requester = mailbox("Rizki Pratama, SST, M.Stat.", "rizki.pratama@bps.test");
    let approver = mailbox("Heru Santoso", "tip@bps.test");
    let admin = mailbox("Tim TI", "ti@bps.test");
    let answering = Some(Answering {
        message_id: "in-1@bps.test".into(),
        references: vec!["req-42@bps.test".into()],
        subject: "Re: [LKT-2026-0042] Nota Dinas Permohonan Peminjaman Lisensi Zoom".into(),
    });
    MailKind::ALL
        .into_iter()
        .map(|kind| {
            let (status, to, facts) = match kind {
                MailKind::Ack => (Status::Held, &requester, Facts::default()),
                MailKind::ApprovalRequest => {
                    (Status::Held, &approver, Facts { actor: Some(requester.clone()), ..Facts::default() })
                }
                MailKind::Confirmed => {
                    (Status::Approved, &requester, Facts { actor: Some(approver.clone()), ..Facts::default() })
                }
                MailKind::AssignmentNotice => {
                    (Status::Approved, &admin, Facts { actor: Some(approver.clone()), ..Facts::default() })
                }
                MailKind::Rejected => (
                    Status::Rejected,
                    &requester,
                    Facts {
                        actor: Some(approver.clone()),
                        reason: Some("bentrok dengan rapat pimpinan".into()),
                        ..Facts::default()
                    },
                ),
                MailKind::DecisionNoted => {
                    (Status::Approved, &approver, Facts { actor: Some(approver.clone()), ..Facts::default() })
                }
                MailKind::Clash => {
                    let moved =
                        request(Status::Declined).sessions.iter().map(|s| s.shifted(Duration::hours(4))).collect();
                    let next =
                        request(Status::Declined).sessions.iter().map(|s| s.shifted(Duration::days(1))).collect();
                    (Status::Declined, &requester, Facts { alternatives: vec![moved, next], ..Facts::default() })
                }
                MailKind::Refused => (
                    Status::Declined,
                    &requester,
                    Facts {
                        breaches: vec![
                            Breach::TooManyParticipants { asked: 5000, largest: 1000 },
                            Breach::OutsideOfficeDays { session: 0 },
                            Breach::InPast { session: 0 },
                            Breach::TooSoon { session: 0, min_lead: Duration::minutes(30) },
                            Breach::BeyondWindow { session: 0, window: Duration::days(180) },
                            Breach::TooLong { session: 0, max: Duration::hours(12) },
                            Breach::OutsideOfficeHours { session: 1 },
                            Breach::SessionsOverlap { first: 0, second: 1 },
                        ],
                        ..Facts::default()
                    },
                ),
                MailKind::Incomplete => (
                    Status::Incomplete,
                    &requester,
                    Facts {
                        partial: Partial {
                            dates: vec![NaiveDate::from_ymd_opt(2026, 1, 12).expect("date")],
                            times: vec![],
                        },
                        problems: vec![
                            Problem::NoSuchDate { text: "30 Februari 2026".into() },
                            Problem::EndBeforeStart { text: "14.00 s.d. 10.00".into() },
                        ],
                        ..Facts::default()
                    },
                ),
                MailKind::Cancelled => (
                    Status::Cancelled,
                    &requester,
                    Facts {
                        actor: Some(requester.clone()),
                        reason: Some("kegiatan ditunda".into()),
                        ..Facts::default()
                    },
                ),
                MailKind::CancelNotice => (
                    Status::Cancelled,
                    &approver,
                    Facts {
                        actor: Some(requester.clone()),
                        reason: Some("kegiatan ditunda".into()),
                        ..Facts::default()
                    },
                ),
                MailKind::Expired => (Status::Expired, &requester, Facts::default()),
                MailKind::ExpiredNotice => (Status::Expired, &approver, Facts::default()),
                MailKind::Reminder => (
                    Status::Approved,
                    &requester,
                    Facts { session: Some(0), lead: Some(Duration::days(1)), ..Facts::default() },
                ),
                MailKind::RecordingReminder => {
                    (Status::Approved, &requester, Facts { session: Some(0), ..Facts::default() })
                }
                MailKind::ClosureTask => (Status::Closing, &admin, Facts::default()),
                MailKind::LoanClosed => (Status::Closing, &requester, Facts::default()),
                MailKind::ClosureEscalation => (Status::Closing, &admin, Facts::default()),
                MailKind::ClosureConfirmed => {
                    (Status::Closed, &admin, Facts { actor: Some(admin.clone()), ..Facts::default() })
                }
                MailKind::NotAllowed => (Status::Held, &requester, Facts::default()),
                MailKind::RateLimited => (Status::Held, &requester, Facts::default()),
                MailKind::Help => (Status::Held, &requester, Facts::default()),
                MailKind::Ambiguous => (
                    Status::Held,
                    &approver,
                    Facts {
                        problems: vec![Problem::Ambiguous { commands: vec![Intent::Approve, Intent::Reject] }],
                        ..Facts::default()
                    },
                ),
                MailKind::Unverified => (Status::Held, &approver, Facts::default()),
                MailKind::NotAuthorized => (Status::Held, &requester, Facts::default()),
                MailKind::AlreadyDecided => {
                    (Status::Approved, &approver, Facts { status: Some(Status::Approved), ..Facts::default() })
                }
                MailKind::TooLate => {
                    (Status::Approved, &requester, Facts { status: Some(Status::Approved), ..Facts::default() })
                }
                MailKind::HumanNote => (
                    Status::Approved,
                    &admin,
                    Facts {
                        actor: Some(requester.clone()),
                        note: Some("Re: pertanyaan tentang rekaman".into()),
                        ..Facts::default()
                    },
                ),
                MailKind::SetAside => (
                    Status::Held,
                    &admin,
                    Facts {
                        note: Some("no mail headers: not an email (sha256:9f86d081884c7d65)".into()),
                        ..Facts::default()
                    },
                ),
                MailKind::DeliveryFailed => (
                    Status::Approved,
                    &admin,
                    Facts {
                        note: Some(
                            "550 5.1.1 <rizki.pratama@bps.test>: Recipient address rejected: User unknown".into(),
                        ),
                        ..Facts::default()
                    },
                ),
            };
            // Mails that answer no request of their own (a stranger, a flood) carry none.
            let request = match kind {
                MailKind::NotAllowed | MailKind::RateLimited | MailKind::Help | MailKind::SetAside => None,
                _ => {
                    let mut r = request(status);
                    r.reason = facts.reason.clone();
                    r.decided_by = facts.actor.as_ref().map(|a| a.address.clone());
                    Some(r)
                }
            };
            let mail = OutMail {
                kind,
                to: vec![to.clone()],
                request,
                answering: answering.clone(),
                facts,
                token: (kind == MailKind::ApprovalRequest).then(|| Token::from_bytes(*b"sample-token-16b")),
            };
            let credentials = (kind == MailKind::Confirmed)
                .then(|| Credentials { login: "zoom2@bps.test".into(), password: Some("Sandi-Contoh-123".into()) });
            let _ = rules;
            Sample { mail, credentials }
        })
        .collect()
}
