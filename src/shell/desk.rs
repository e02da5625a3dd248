//! One step of the desk: a mail (or a due timer) in, its outcome, the new state and every
//! mail it causes committed in ONE transaction. The mail leaves the inbox only after that
//! commit, and replies leave the outbox only after it, so a crash at any point either
//! re-runs the step from scratch (nothing was committed) or finds it done (the Message-ID
//! is on record) — never half of it.

use crate::core::domain::{Address, Reference};
use crate::core::parse::{self, Intent, ParseOptions, Parsed};
use crate::core::present::{self, Credentials};
use crate::core::rules::Rules;
use crate::core::token::Token;
use crate::core::workflow::{self, Context, Facts, MailKind, OutMail, Outcome, Step};
use crate::shell::compose::{self, Letterhead};
use crate::shell::config::{Config, Secret};
use crate::shell::render::{RenderError, Templates};
use crate::shell::store::{MailRecord, Outgoing, Queued, Store, StoreError, Tx};
use chrono::{DateTime, Datelike, Duration, Utc};
use rand::RngExt;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum DeskError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("cannot compose a mail: {0}")]
    Compose(#[from] compose::ComposeError),
}

impl From<rusqlite::Error> for DeskError {
    fn from(e: rusqlite::Error) -> Self {
        DeskError::Store(StoreError::Sqlite(e))
    }
}

/// A mail recorded without a decision, and why.
#[derive(Default)]
struct Aside<'a> {
    key: &'a str,
    sender: Option<&'a str>,
    subject: Option<&'a str>,
    intent: Option<&'a str>,
    code: &'a str,
    why: &'a str,
}

/// Where a mail goes once its outcome is committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Processed,
    /// Not an email, unreadable, or nobody to answer: kept aside for a human.
    Failed,
}

#[derive(Debug, Clone)]
pub struct Handled {
    pub disposition: Disposition,
    /// The outcome's code (`held`, `ignored`...), or `duplicate` when already on record.
    pub outcome: String,
    pub reference: Option<Reference>,
    pub queued: usize,
}

pub struct Desk {
    pub rules: Rules,
    templates: Templates,
    /// The built-in set, used when an office's override fails on a mail.
    builtin: Option<Templates>,
    passwords: BTreeMap<String, Secret>,
    pub retry_horizon: Duration,
    /// The parser; a seam so a test can prove what a parser panic costs.
    parser: fn(&[u8], &ParseOptions) -> Parsed,
}

/// The key a mail is recorded under: its Message-ID, or a hash of its bytes when it has
/// none (the same bytes seen twice are the same mail).
pub fn mail_key(message_id: Option<&str>, raw: &[u8]) -> String {
    match message_id.map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => m.to_string(),
        None => format!("sha256:{}", data_encoding::HEXLOWER.encode(&Sha256::digest(raw))),
    }
}

/// Whether the bytes start like a mail at all: a header field (`Name: value`) before the
/// first blank line. Anything else goes to the Failed folder.
pub fn looks_like_mail(raw: &[u8]) -> bool {
    let head = &raw[..raw.len().min(4096)];
    let mut lines = head.split(|b| *b == b'\n');
    let first = lines.find(|l| !l.iter().all(|b| b.is_ascii_whitespace()));
    let Some(first) = first else { return false };
    // mbox "From " separator lines from some exporters precede the headers.
    if first.starts_with(b"From ") {
        return true;
    }
    let Some(colon) = first.iter().position(|b| *b == b':') else { return false };
    colon > 0 && first[..colon].iter().all(|b| b.is_ascii_graphic() && *b != b':')
}

fn fresh_token() -> Token {
    let mut b = [0u8; 16];
    rand::rng().fill(&mut b);
    Token::from_bytes(b)
}

impl Desk {
    pub fn new(config: &Config) -> Result<Desk, DeskError> {
        let templates = Templates::load(config.rules.language, config.templates_dir.as_deref())?;
        templates.check(&config.rules)?;
        let builtin = match config.templates_dir {
            Some(_) => Some(Templates::load(config.rules.language, None)?),
            None => None,
        };
        Ok(Desk {
            rules: config.rules.clone(),
            templates,
            builtin,
            passwords: config.account_passwords.clone(),
            retry_horizon: config.retry_horizon,
            parser: parse::parse,
        })
    }

    /// The same desk reading mail with `parser` (tests: a parser that panics).
    pub fn with_parser(mut self, parser: fn(&[u8], &ParseOptions) -> Parsed) -> Desk {
        self.parser = parser;
        self
    }

    fn parse_options(&self, now: DateTime<Utc>) -> ParseOptions {
        ParseOptions {
            timezone: self.rules.timezone,
            open_ended_hours: u32::try_from(self.rules.policy.open_ended.num_hours()).unwrap_or(4),
            now: now.fixed_offset(),
        }
    }

    /// Reads one mail, guarded: a panic in the parser costs this mail (quarantined and
    /// reported), never the service.
    pub fn read(&self, raw: &[u8], now: DateTime<Utc>) -> Option<Parsed> {
        let opts = self.parse_options(now);
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.parser)(raw, &opts))).ok()
    }

    /// Decides one inbound mail and commits everything it causes.
    pub fn handle_mail(&self, store: &mut Store, raw: &[u8], now: DateTime<Utc>) -> Result<Handled, DeskError> {
        if !looks_like_mail(raw) {
            let key = mail_key(None, raw);
            let why = "no mail headers: not an email";
            return self.set_aside(store, raw, now, Aside { key: &key, code: "not_mail", why, ..Aside::default() });
        }
        let Some(parsed) = self.read(raw, now) else {
            tracing::error!("the parser panicked on a mail; quarantined");
            let key = mail_key(None, raw);
            let why = "the parser failed on this mail";
            return self.set_aside(store, raw, now, Aside { key: &key, code: "quarantined", why, ..Aside::default() });
        };
        let key = mail_key(parsed.envelope.message_id.as_deref(), raw);
        match self.decide(store, raw, &parsed, &key, now) {
            // A mail whose answer cannot be written (a template bug) must not hold up the
            // inbox: it is recorded and set aside without an answer, and the error logged.
            Err(e @ (DeskError::Render(_) | DeskError::Compose(_))) => {
                tracing::error!(error = %e, "cannot write the answer to a mail; set aside");
                let sender = parsed.envelope.from.as_ref().map(|f| f.address.to_string());
                let why = format!("the answer could not be written: {e}");
                let aside = Aside {
                    key: &key,
                    sender: sender.as_deref(),
                    subject: Some(&parsed.envelope.subject),
                    intent: Some(parsed.intent.as_str()),
                    code: "render_failed",
                    why: &why,
                };
                self.set_aside(store, raw, now, aside)
            }
            other => other,
        }
    }

    fn decide(
        &self,
        store: &mut Store,
        raw: &[u8],
        parsed: &Parsed,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Handled, DeskError> {
        let key = key.to_string();
        store.write(|tx| -> Result<Handled, DeskError> {
            if tx.seen_before(&key)? {
                return Ok(Handled {
                    disposition: Disposition::Processed,
                    outcome: "duplicate".into(),
                    reference: None,
                    queued: 0,
                });
            }
            let ctx = self.context(tx, parsed, &key, now)?;
            let step = workflow::on_mail(parsed, &ctx, &self.rules, now);
            let reference = step.request.as_ref().map(|r| r.reference).or(ctx.request.as_ref().map(|r| r.reference));
            let env = &parsed.envelope;
            let sender = env.from.as_ref().map(|f| f.address.to_string());
            tx.record_mail(
                &MailRecord {
                    message_id: &key,
                    sender: sender.as_deref(),
                    subject: Some(&env.subject),
                    intent: Some(parsed.intent.as_str()),
                    outcome: step.outcome.code(),
                    detail: step.outcome.detail(),
                    reference,
                    raw,
                },
                now,
            )
            .map_err(DeskError::from)?;
            let queued = self.apply(tx, &step, reference, &format!("mail:{key}"), sender.as_deref(), now)?;
            let disposition = match step.outcome {
                Outcome::SetAside(_) => Disposition::Failed,
                _ => Disposition::Processed,
            };
            tracing::info!(
                outcome = step.outcome.code(),
                intent = parsed.intent.as_str(),
                reference = reference.map(|r| r.to_string()).unwrap_or_default(),
                queued,
                "mail decided"
            );
            Ok(Handled { disposition, outcome: step.outcome.code().into(), reference, queued })
        })
    }

    /// Records a mail the desk cannot decide about and tells the admins, once. When even
    /// that notice cannot be written (a broken template), the mail is recorded without it:
    /// nothing may hold up the inbox.
    fn set_aside(
        &self,
        store: &mut Store,
        raw: &[u8],
        now: DateTime<Utc>,
        aside: Aside<'_>,
    ) -> Result<Handled, DeskError> {
        match self.record_aside(store, raw, now, &aside, true) {
            Err(e @ (DeskError::Render(_) | DeskError::Compose(_))) => {
                tracing::error!(error = %e, "cannot write the notice about a mail set aside; recording it without");
                self.record_aside(store, raw, now, &aside, false)
            }
            other => other,
        }
    }

    fn record_aside(
        &self,
        store: &mut Store,
        raw: &[u8],
        now: DateTime<Utc>,
        a: &Aside<'_>,
        tell: bool,
    ) -> Result<Handled, DeskError> {
        store.write(|tx| {
            if tx.seen_before(a.key)? {
                return Ok(Handled {
                    disposition: Disposition::Failed,
                    outcome: "duplicate".into(),
                    reference: None,
                    queued: 0,
                });
            }
            tx.record_mail(
                &MailRecord {
                    message_id: a.key,
                    sender: a.sender,
                    subject: a.subject,
                    intent: a.intent,
                    outcome: a.code,
                    detail: Some(a.why),
                    reference: None,
                    raw,
                },
                now,
            )?;
            let note = OutMail {
                kind: MailKind::SetAside,
                to: self.admins(),
                request: None,
                answering: None,
                facts: Facts { note: Some(format!("{} ({})", a.why, a.key)), ..Facts::default() },
                token: None,
            };
            let step = Step {
                outcome: Outcome::SetAside(a.why.into()),
                request: None,
                mails: if tell { vec![note] } else { vec![] },
                timers: vec![],
                clear_timers: false,
                lent: vec![],
            };
            let queued = self.apply(tx, &step, None, &format!("mail:{}", a.key), a.sender, now)?;
            tracing::warn!(outcome = a.code, "mail set aside for a human");
            Ok(Handled { disposition: Disposition::Failed, outcome: a.code.into(), reference: None, queued })
        })
    }

    fn admins(&self) -> Vec<crate::core::domain::Mailbox> {
        self.rules
            .roles
            .admins
            .iter()
            .map(|a| crate::core::domain::Mailbox { name: None, address: a.clone() })
            .collect()
    }

    fn context(&self, tx: &Tx<'_>, parsed: &Parsed, key: &str, now: DateTime<Utc>) -> Result<Context, StoreError> {
        let env = &parsed.envelope;
        let mut ids: Vec<String> = env.in_reply_to.clone();
        ids.extend(env.references.iter().rev().cloned());
        ids.dedup();
        let thread = tx.thread_hit(&ids)?;
        let reference = match &thread {
            Some(t) => Some(t.reference),
            None => tx.request_by_root(&ids)?.or_else(|| Reference::find_in(&env.subject)),
        };
        let request = match reference {
            Some(r) => tx.load_request(r)?,
            None => None,
        };
        let answers_root = request.as_ref().is_some_and(|r| ids.contains(&r.thread_root));
        let recent = match &env.from {
            Some(f) => tx.recent_from(&f.address, now - Duration::hours(1))?,
            None => 0,
        };
        let needs_schedule = parsed.intent == Intent::Request;
        let year = now.with_timezone(&self.rules.timezone).year();
        Ok(Context {
            message_id: key.to_string(),
            thread,
            request,
            answers_root,
            accounts: tx.accounts(&self.rules.accounts)?,
            booked: if needs_schedule { tx.booked(now, self.rules.policy.turnaround)? } else { vec![] },
            next_reference: tx.next_reference(year)?,
            recent_from_sender: recent,
            fresh_tokens: self.rules.roles.approvers.iter().map(|_| fresh_token()).collect(),
        })
    }

    /// Writes a step: the request, its timers, the lent accounts, every mail rendered into
    /// the outbox, and the decision into the record.
    fn apply(
        &self,
        tx: &Tx<'_>,
        step: &Step,
        reference: Option<Reference>,
        source: &str,
        actor: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<usize, DeskError> {
        if let Some(r) = &step.request {
            tx.save_request(r, now)?;
        }
        if let (true, Some(r)) = (step.clear_timers, reference) {
            tx.clear_timers(r)?;
        }
        for t in &step.timers {
            tx.add_timer(t)?;
        }
        tx.touch_accounts(&step.lent, now)?;
        for m in &step.mails {
            let out = self.render(tx, m, now)?;
            tx.enqueue(&out, now)?;
        }
        tx.log_event(now, reference, source, actor, step.outcome.code(), step.outcome.detail())?;
        Ok(step.mails.len())
    }

    fn credentials(&self, tx: &Tx<'_>, m: &OutMail) -> Result<Option<Credentials>, StoreError> {
        if m.kind != MailKind::Confirmed {
            return Ok(None);
        }
        let Some(id) = m.request.as_ref().and_then(|r| r.accounts.first()) else { return Ok(None) };
        let Some(spec) = self.rules.accounts.iter().find(|a| &a.id == id) else { return Ok(None) };
        let password = match tx.account_password(id)? {
            Some(p) => Some(p),
            None => self.passwords.get(id).map(|s| s.expose().to_string()),
        };
        Ok(Some(Credentials { login: spec.login.clone(), password }))
    }

    fn render(&self, tx: &Tx<'_>, m: &OutMail, now: DateTime<Utc>) -> Result<Outgoing, DeskError> {
        let credentials = self.credentials(tx, m)?;
        let ctx = present::context(m, &self.rules, credentials.as_ref());
        let words = match self.templates.render(m.kind, &ctx) {
            Ok(w) => w,
            Err(e) => match &self.builtin {
                Some(b) => {
                    tracing::error!(error = %e, "an office template failed; using the built-in one");
                    b.render(m.kind, &ctx).map_err(DeskError::from)?
                }
                None => return Err(DeskError::from(e)),
            },
        };
        let head = Letterhead { desk: &self.rules.desk_address, desk_name: &self.rules.desk_name };
        let c = compose::compose(m, &words, &head, now).map_err(DeskError::from)?;
        Ok(Outgoing {
            message_id: c.message_id,
            reference: m.request.as_ref().map(|r| r.reference),
            kind: m.kind,
            recipients: c.recipients,
            subject: c.subject,
            raw: c.raw,
        })
    }

    /// Runs every timer due at `now`, each in its own transaction. Returns how many ran.
    pub fn fire_timers(&self, store: &mut Store, now: DateTime<Utc>) -> Result<usize, DeskError> {
        let due = store.read(|tx| tx.due_timers(now, 100))?;
        let mut n = 0;
        for (id, timer) in due {
            let ran = store.write(|tx| -> Result<bool, DeskError> {
                if !tx.finish_timer(id, now)? {
                    return Ok(false);
                }
                let Some(r) = tx.load_request(timer.reference)? else { return Ok(true) };
                let step = workflow::on_timer(&r, &timer, &self.rules, now);
                let (kind, _) = timer.kind.key();
                self.apply(tx, &step, Some(r.reference), &format!("timer:{kind}"), None, now)?;
                tracing::info!(outcome = step.outcome.code(), reference = %r.reference, timer = kind, "timer fired");
                Ok(true)
            })?;
            n += usize::from(ran);
        }
        Ok(n)
    }

    /// A mail the relay refused for good: marked failed, and the admins told (unless the
    /// failed mail was itself such a notice: no loop).
    pub fn give_up(&self, store: &mut Store, q: &Queued, error: &str, now: DateTime<Utc>) -> Result<(), DeskError> {
        store.write(|tx| {
            tx.outbox_failed(q.id, error)?;
            let reference = q.reference.as_deref().and_then(|r| r.parse().ok());
            tx.log_event(now, reference, &format!("outbox:{}", q.id), None, "delivery_failed", Some(error))?;
            if q.kind == MailKind::DeliveryFailed.name() {
                return Ok(());
            }
            let request = match reference {
                Some(r) => tx.load_request(r)?,
                None => None,
            };
            let note = OutMail {
                kind: MailKind::DeliveryFailed,
                to: self.admins(),
                request,
                answering: None,
                facts: Facts {
                    note: Some(format!("{} → {}: {error}", q.subject, q.recipients.join(", "))),
                    ..Facts::default()
                },
                token: None,
            };
            let out = self.render(tx, &note, now)?;
            tx.enqueue(&out, now)?;
            Ok(())
        })
    }

    pub fn desk_address(&self) -> &Address {
        &self.rules.desk_address
    }
}
