//! Raw bytes → parse → the workflow's decision (against a held request the mail may
//! claim to answer) → the words of every mail it causes: the whole pure path.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod guard;
use loket::core::domain::{Address, Reference};
use loket::core::parse::{ParseOptions, parse};
use loket::core::present;
use loket::core::rules::{Language, Rules};
use loket::core::schedule::Account;
use loket::core::token::Token;
use loket::core::workflow::{Context, MailKind, Status, ThreadHit, on_mail};
use loket::shell::render::Templates;
use loket::shell::samples;
use std::sync::OnceLock;

fn templates() -> &'static Templates {
    static T: OnceLock<Templates> = OnceLock::new();
    T.get_or_init(|| Templates::load(Language::Id, None).expect("built-in templates"))
}

fuzz_target!(|data: &[u8]| {
    guard::install();
    let now = chrono::DateTime::parse_from_rfc3339("2026-01-05T08:00:00+07:00").expect("time");
    let opts = ParseOptions { timezone: chrono_tz::Asia::Jakarta, open_ended_hours: 4, now };
    let parsed = parse(data, &opts);
    let rules = Rules::example();
    let held = samples::request(Status::Held);
    // The first byte picks what the mail answers: nothing, the approval request, or the
    // acknowledgement; so approvals, cancels and closes are reached too.
    let thread = match data.first().map(|b| b % 3) {
        Some(1) => Some(ThreadHit { reference: held.reference, kind: MailKind::ApprovalRequest, recipients: vec![Address::parse("tip@bps.test").expect("a")] }),
        Some(2) => Some(ThreadHit { reference: held.reference, kind: MailKind::Ack, recipients: vec![held.requester.address.clone()] }),
        _ => None,
    };
    let ctx = Context {
        message_id: "fuzz@x".into(),
        request: thread.as_ref().map(|_| held.clone()),
        thread,
        answers_root: false,
        accounts: rules.accounts.iter().map(|a| Account { id: a.id.clone(), capacity: a.capacity, last_used: None }).collect(),
        booked: vec![],
        next_reference: Reference::new(2026, 7).expect("ref"),
        recent_from_sender: 0,
        fresh_tokens: vec![Token::from_bytes([3; 16])],
    };
    let step = on_mail(&parsed, &ctx, &rules, now.to_utc());
    for m in &step.mails {
        let context = present::context(m, &rules, None);
        templates().render(m.kind, &context).expect("every decision renders");
    }
});
