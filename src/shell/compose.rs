//! Turns a mail's words into the bytes that go on the wire: headers that thread it and
//! mark it automatic, text and HTML alternatives, and the booking as an `.ics` where the
//! mail confirms one. The Message-ID is fixed here, once, and kept with the bytes in the
//! outbox, so a re-send after a crash is recognisably the same mail.

use crate::core::domain::{Address, Mailbox, Reference};
use crate::core::workflow::{MailKind, OutMail, Request};
use crate::shell::render::Words;
use chrono::{DateTime, Utc};
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Attachment, MultiPart, SinglePart};
use rand::RngExt;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ComposeError {
    #[error("cannot address a mail to {0:?}: {1}")]
    Address(String, String),
    #[error("cannot build the mail: {0}")]
    Build(String),
}

/// RFC 3834's marker: this mail was sent by a machine; never answer it automatically.
#[derive(Clone)]
struct AutoSubmitted(&'static str);

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted(if s.trim() == "auto-generated" { "auto-generated" } else { "auto-replied" }))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.to_string())
    }
}

/// Asks other robots (Exchange, Gmail vacation) not to answer either.
#[derive(Clone)]
struct AutoResponseSuppress;

impl Header for AutoResponseSuppress {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Auto-Response-Suppress")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoResponseSuppress)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "All".into())
    }
}

/// The request's reference as a header, for filters and for finding a thread again.
#[derive(Clone)]
struct LoketReference(String);

impl Header for LoketReference {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Loket-Reference")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(LoketReference(s.trim().to_string()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// The bytes of one outgoing mail and what the outbox keeps beside them.
#[derive(Debug, Clone)]
pub struct Composed {
    pub message_id: String,
    pub recipients: Vec<Address>,
    pub subject: String,
    pub raw: Vec<u8>,
}

/// A fresh Message-ID on the desk's domain: `lkt-2026-0042.ack.<random>@domain`. The
/// random part makes it unguessable: knowing it is part of the proof that an approval
/// answers the approval request.
pub fn message_id(desk: &Address, reference: Option<Reference>, kind: MailKind) -> String {
    let mut bytes = [0u8; 12];
    rand::rng().fill(&mut bytes);
    let tag = data_encoding::BASE32_NOPAD.encode(&bytes).to_lowercase();
    let head = reference.map(|r| r.to_string().to_lowercase()).unwrap_or_else(|| "loket".into());
    format!("{head}.{}.{tag}@{}", kind.name().replace('_', "-"), desk.domain())
}

/// One line, no control characters: a subject from a sender's mail cannot smuggle a header
/// into ours.
fn one_line(s: &str) -> String {
    let cleaned: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The subject: the template's, with the reference guaranteed, and "Re: " where the mail
/// answers another.
fn subject(words: &Words, m: &OutMail) -> String {
    let mut s = one_line(&words.subject);
    if let Some(r) = &m.request {
        let reference = r.reference.to_string();
        if !s.to_uppercase().contains(&reference) {
            s = format!("[{reference}] {s}");
        }
    }
    if m.answering.is_some() && !s.to_lowercase().starts_with("re:") {
        s = format!("Re: {s}");
    }
    s.chars().take(250).collect()
}

fn lettre_mailbox(m: &Mailbox) -> Result<lettre::message::Mailbox, ComposeError> {
    let address: lettre::Address = m
        .address
        .as_str()
        .parse()
        .map_err(|e: lettre::address::AddressError| ComposeError::Address(m.address.to_string(), e.to_string()))?;
    Ok(lettre::message::Mailbox::new(m.name.as_ref().map(|n| one_line(n)), address))
}

fn angle(id: &str) -> String {
    format!("<{}>", id.trim_matches(|c| c == '<' || c == '>'))
}

/// The booking as iCalendar (RFC 5545): one event per session, in UTC, no password.
pub fn ics(r: &Request, desk: &Address, desk_name: &str, now: DateTime<Utc>) -> String {
    fn esc(s: &str) -> String {
        one_line(s).replace('\\', "\\\\").replace(';', "\\;").replace(',', "\\,")
    }
    let stamp = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    let mut out =
        String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//loket//Zoom loan desk//EN\r\nMETHOD:PUBLISH\r\n");
    let title = r.title.clone().unwrap_or_else(|| r.subject.clone());
    for (i, s) in r.sessions.iter().enumerate() {
        let account = r.accounts.get(i).map(String::as_str).unwrap_or("");
        out.push_str("BEGIN:VEVENT\r\n");
        out.push_str(&format!("UID:{}-{}@{}\r\n", r.reference.to_string().to_lowercase(), i + 1, desk.domain()));
        out.push_str(&format!("DTSTAMP:{}\r\n", stamp(now)));
        out.push_str(&format!("DTSTART:{}\r\n", stamp(s.start_utc())));
        out.push_str(&format!("DTEND:{}\r\n", stamp(s.end_utc())));
        out.push_str(&fold(&format!("SUMMARY:[{}] {}", r.reference, esc(&title))));
        out.push_str(&fold(&format!("DESCRIPTION:{}", esc(&format!("Zoom: {account}. {desk_name}")))));
        out.push_str(&fold(&format!("ORGANIZER;CN={}:mailto:{desk}", esc(desk_name))));
        out.push_str("STATUS:CONFIRMED\r\nEND:VEVENT\r\n");
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

/// RFC 5545 §3.1: a content line longer than 75 octets is folded (CRLF + space), never
/// inside a UTF-8 character. Returns the line with its CRLF.
fn fold(line: &str) -> String {
    let mut out = String::new();
    let mut len = 0;
    for c in line.chars() {
        if len + c.len_utf8() > 74 {
            out.push_str("\r\n ");
            len = 1;
        }
        out.push(c);
        len += c.len_utf8();
    }
    out.push_str("\r\n");
    out
}

pub struct Letterhead<'a> {
    pub desk: &'a Address,
    pub desk_name: &'a str,
}

/// The mail's bytes. `now` is its Date.
pub fn compose(
    m: &OutMail,
    words: &Words,
    head: &Letterhead<'_>,
    now: DateTime<Utc>,
) -> Result<Composed, ComposeError> {
    let id = message_id(head.desk, m.request.as_ref().map(|r| r.reference), m.kind);
    let subject = subject(words, m);
    let from = lettre_mailbox(&Mailbox { name: Some(head.desk_name.to_string()), address: head.desk.clone() })?;
    let mut b = lettre::Message::builder()
        .from(from)
        .subject(subject.clone())
        .message_id(Some(angle(&id)))
        .date(now.into())
        .header(AutoSubmitted(m.kind.auto_submitted()))
        .header(AutoResponseSuppress);
    for to in &m.to {
        b = b.to(lettre_mailbox(to)?);
    }
    if let Some(r) = &m.request {
        b = b.header(LoketReference(r.reference.to_string()));
    }
    if let Some(a) = &m.answering {
        b = b.in_reply_to(angle(&a.message_id));
        let mut refs: Vec<String> = a.references.iter().map(|r| angle(r)).collect();
        refs.push(angle(&a.message_id));
        // Long threads: the first and the last few are what clients need (RFC 5322 §3.6.4).
        if refs.len() > 10 {
            let tail = refs.split_off(refs.len() - 9);
            refs.truncate(1);
            refs.extend(tail);
        }
        b = b.references(refs.join(" "));
    }
    let alternative = MultiPart::alternative_plain_html(words.text.clone(), words.html.clone());
    let body = match (&m.request, m.kind.carries_ics()) {
        (Some(r), true) => {
            let cal = ics(r, head.desk, head.desk_name, now);
            let ct = ContentType::parse("text/calendar; charset=utf-8; method=PUBLISH")
                .map_err(|e| ComposeError::Build(e.to_string()))?;
            let file: SinglePart = Attachment::new(format!("{}.ics", r.reference)).body(cal, ct);
            MultiPart::mixed().multipart(alternative).singlepart(file)
        }
        _ => alternative,
    };
    let message = b.multipart(body).map_err(|e| ComposeError::Build(e.to_string()))?;
    Ok(Composed {
        message_id: id,
        recipients: m.to.iter().map(|t| t.address.clone()).collect(),
        subject,
        raw: message.formatted(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::rules::Rules;
    use crate::core::workflow::Status;
    use crate::shell::samples;

    fn words(subject: &str) -> Words {
        Words { subject: subject.into(), text: "Yth. Bapak/Ibu,\n\nIsi.\n".into(), html: "<p>Isi.</p>".into() }
    }

    #[test]
    fn a_confirmation_threads_marks_itself_and_carries_the_booking() {
        let rules = Rules::example();
        let sample = samples::all(&rules).into_iter().find(|s| s.mail.kind == MailKind::Confirmed).unwrap();
        let head = Letterhead { desk: &rules.desk_address, desk_name: &rules.desk_name };
        let now = DateTime::parse_from_rfc3339("2026-01-05T03:00:00Z").unwrap().to_utc();
        let c = compose(&sample.mail, &words("Peminjaman Zoom disetujui"), &head, now).unwrap();
        let raw = String::from_utf8(c.raw.clone()).unwrap();
        assert!(c.subject.starts_with("Re: [LKT-2026-0042] Peminjaman Zoom disetujui"), "{}", c.subject);
        assert!(raw.contains("Auto-Submitted: auto-replied\r\n"));
        assert!(raw.contains("In-Reply-To: <in-1@bps.test>\r\n"));
        assert!(raw.contains("References: <req-42@bps.test> <in-1@bps.test>\r\n"));
        assert!(raw.contains(&format!("Message-ID: <{}>\r\n", c.message_id)));
        assert!(raw.contains("text/calendar"));
        assert!(raw.contains("multipart/alternative"));
        assert_eq!(c.recipients, vec![Address::parse("rizki.pratama@bps.test").unwrap()]);
        let parsed = mail_parser::MessageParser::default().parse(&c.raw).unwrap();
        assert_eq!(parsed.attachments().count(), 1);
    }

    #[test]
    fn a_subject_cannot_inject_headers() {
        let rules = Rules::example();
        let mut m = samples::all(&rules).remove(0).mail;
        m.answering = None;
        let head = Letterhead { desk: &rules.desk_address, desk_name: &rules.desk_name };
        let c = compose(&m, &words("Rapat\r\nBcc: victim@evil.test\r\n\r\nbody"), &head, Utc::now()).unwrap();
        let raw = String::from_utf8_lossy(&c.raw);
        assert!(!raw.contains("\r\nBcc:"), "{raw}");
        assert_eq!(c.recipients.len(), 1);
        assert!(!c.subject.contains('\n') && !c.subject.contains('\r'));
    }

    #[test]
    fn message_ids_are_unique_and_on_the_desk_domain() {
        let desk = Address::parse("zoom@bps.test").unwrap();
        let a = message_id(&desk, Reference::new(2026, 1).ok(), MailKind::ApprovalRequest);
        let b = message_id(&desk, Reference::new(2026, 1).ok(), MailKind::ApprovalRequest);
        assert_ne!(a, b);
        assert!(a.starts_with("lkt-2026-0001.approval-request.") && a.ends_with("@bps.test"), "{a}");
    }

    #[test]
    fn the_ics_has_one_event_per_session_and_no_password() {
        let rules = Rules::example();
        let r = samples::request(Status::Approved);
        let cal = ics(&r, &rules.desk_address, &rules.desk_name, Utc::now());
        assert_eq!(cal.matches("BEGIN:VEVENT").count(), 2);
        assert!(cal.contains("DTSTART:20260112T020000Z"));
        assert!(cal.lines().all(|l| l.len() <= 75), "{cal}");
        assert!(!cal.contains("Sandi"));
    }
}
