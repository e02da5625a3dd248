//! From raw bytes to the envelope and the texts the readers work on: the body (plain text
//! preferred, else HTML turned to text), `.txt`/`.html` attachments, calendars (`.ics`,
//! `text/calendar`), PDF attachments, and the bodies of attached mails (an Outlook
//! "forward as attachment"). `mail-parser` does the MIME work and the charset decoding.

use super::html::html_to_text;
use super::machine::Headers;
use super::pdf::pdf_text;
use super::text::{MAX_TEXT_BYTES, normalize, truncate};
use super::{Envelope, Problem};
use crate::core::domain::{Address, Mailbox};
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders, PartType};

/// Mails larger than this are read only up to it. The desk's real mail is a few hundred
/// kilobytes at most; the cap keeps a hostile 100 MB mail from costing seconds.
const MAX_RAW_BYTES: usize = 32 * 1024 * 1024;
/// How deep attached mails inside attached mails are followed.
const MAX_NESTING: usize = 3;
/// How many attachments of one mail are read.
const MAX_ATTACHMENTS: usize = 20;

#[derive(Debug, Default)]
pub struct MachineMarks {
    pub auto_submitted: Option<String>,
    pub content_type: Option<String>,
    pub return_path_empty: bool,
    pub precedence: Option<String>,
    pub list_id: bool,
    pub list_unsubscribe: bool,
    pub x_autoreply: bool,
}

impl MachineMarks {
    pub fn headers<'a>(&'a self, env: &'a Envelope) -> Headers<'a> {
        Headers {
            auto_submitted: self.auto_submitted.as_deref(),
            content_type: self.content_type.clone(),
            return_path_empty: self.return_path_empty,
            from_address: env.from.as_ref().map(|m| m.address.as_str()),
            precedence: self.precedence.as_deref(),
            list_id: self.list_id,
            list_unsubscribe: self.list_unsubscribe,
            x_autoreply: self.x_autoreply,
            subject: &env.subject,
        }
    }
}

#[derive(Debug, Default)]
pub struct Mail {
    pub envelope: Envelope,
    pub marks: MachineMarks,
    /// The body as text, normalised.
    pub body: String,
    /// Texts of attachments (.txt, .html, PDF) and of attached mails, normalised.
    pub attachments: Vec<String>,
    /// Raw calendar texts.
    pub calendars: Vec<String>,
    pub problems: Vec<Problem>,
}

/// Reads a raw mail. Never fails: what cannot be read is left empty.
pub fn read(raw: &[u8]) -> Mail {
    let raw = &raw[..raw.len().min(MAX_RAW_BYTES)];
    let Some(msg) = MessageParser::default().parse(raw) else {
        return Mail {
            body: normalize(&String::from_utf8_lossy(&raw[..raw.len().min(MAX_TEXT_BYTES)])),
            ..Default::default()
        };
    };
    let mut mail = Mail { envelope: envelope(&msg), marks: marks(&msg), ..Default::default() };
    mail.body = normalize(&body_text(&msg));
    collect_attachments(&msg, &mut mail, 0);
    mail
}

fn mailbox(addr: &mail_parser::Addr) -> Option<Mailbox> {
    let address = Address::parse(addr.address.as_deref()?).ok()?;
    let name = addr.name.as_deref().map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    Some(Mailbox { name, address })
}

fn ids(v: &HeaderValue) -> Vec<String> {
    let clean = |s: &str| s.trim().trim_start_matches('<').trim_end_matches('>').to_string();
    match v {
        HeaderValue::Text(t) => t.split_whitespace().map(clean).filter(|s| !s.is_empty()).collect(),
        HeaderValue::TextList(l) => l.iter().map(|s| clean(s)).filter(|s| !s.is_empty()).collect(),
        _ => Vec::new(),
    }
}

fn date_of(d: &mail_parser::DateTime) -> Option<DateTime<FixedOffset>> {
    let secs = (i32::from(d.tz_hour) * 3600 + i32::from(d.tz_minute) * 60) * if d.tz_before_gmt { -1 } else { 1 };
    let offset = FixedOffset::east_opt(secs)?;
    let date = NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))?;
    let ndt = date.and_hms_opt(u32::from(d.hour), u32::from(d.minute), u32::from(d.second.min(59)))?;
    offset.from_local_datetime(&ndt).single()
}

fn envelope(msg: &Message) -> Envelope {
    let from = msg.from().and_then(|a| a.first()).and_then(mailbox);
    let reply_to = msg.reply_to().and_then(|a| a.first()).and_then(mailbox);
    let to = msg.to().map(|a| a.iter().filter_map(mailbox).collect()).unwrap_or_default();
    let authentication_results = msg
        .headers_raw()
        .filter(|(n, _)| n.eq_ignore_ascii_case("Authentication-Results"))
        .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    Envelope {
        message_id: msg
            .message_id()
            .map(|s| s.trim_start_matches('<').trim_end_matches('>').to_string())
            .filter(|s| !s.is_empty()),
        from,
        reply_to,
        to,
        subject: normalize(truncate(msg.subject().unwrap_or(""), 2000)).replace('\n', " "),
        date: msg.date().and_then(date_of),
        in_reply_to: ids(msg.in_reply_to()),
        references: ids(msg.references()),
        authentication_results,
    }
}

fn marks(msg: &Message) -> MachineMarks {
    let raw =
        |name: &str| msg.headers_raw().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_string());
    let content_type =
        msg.content_type().map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")).to_ascii_lowercase());
    MachineMarks {
        auto_submitted: raw("Auto-Submitted"),
        content_type,
        return_path_empty: raw("Return-Path")
            .is_some_and(|v| v.trim_matches(|c: char| c == '<' || c == '>' || c.is_whitespace()).is_empty()),
        precedence: raw("Precedence"),
        list_id: raw("List-Id").is_some(),
        list_unsubscribe: raw("List-Unsubscribe").is_some(),
        x_autoreply: ["X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Autogenerated"]
            .iter()
            .any(|h| raw(h).is_some()),
    }
}

fn part_text(part: &mail_parser::MessagePart) -> Option<String> {
    match &part.body {
        PartType::Text(t) => Some(truncate(t, MAX_TEXT_BYTES).to_string()),
        PartType::Html(h) => Some(html_to_text(h)),
        _ => None,
    }
}

/// The plain-text body parts, else the HTML ones as text.
fn body_text(msg: &Message) -> String {
    let from_ids = |ids: &[u32]| -> String {
        let mut out = String::new();
        for &id in ids.iter().take(MAX_ATTACHMENTS) {
            let Some(part) = msg.parts.get(id as usize) else { continue };
            if is_calendar(part) {
                continue;
            }
            if let Some(t) = part_text(part) {
                if !out.is_empty() {
                    out.push_str("\n\n");
                }
                out.push_str(&t);
            }
            if out.len() > MAX_TEXT_BYTES {
                break;
            }
        }
        out
    };
    let plain = from_ids(&msg.text_body);
    if !plain.trim().is_empty() {
        return plain;
    }
    from_ids(&msg.html_body)
}

fn ctype(part: &mail_parser::MessagePart) -> String {
    part.content_type()
        .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or("")).to_ascii_lowercase())
        .unwrap_or_default()
}

fn name_of(part: &mail_parser::MessagePart) -> String {
    part.attachment_name().unwrap_or("").to_ascii_lowercase()
}

fn is_calendar(part: &mail_parser::MessagePart) -> bool {
    let ct = ctype(part);
    let name = name_of(part);
    ct == "text/calendar"
        || ct == "application/ics"
        || ct == "text/x-vcalendar"
        || name.ends_with(".ics")
        || name.ends_with(".vcs")
}

fn collect_attachments(msg: &Message, mail: &mut Mail, depth: usize) {
    // Calendars may sit inside multipart/alternative, so every part is looked at.
    for part in msg.parts.iter().take(200) {
        if is_calendar(part) {
            let text = String::from_utf8_lossy(truncate_bytes(part.contents(), MAX_TEXT_BYTES)).to_string();
            if !mail.calendars.contains(&text) {
                mail.calendars.push(text);
            }
        }
    }
    for &id in msg.attachments.iter().take(MAX_ATTACHMENTS) {
        let Some(part) = msg.parts.get(id as usize) else { continue };
        if is_calendar(part) {
            continue;
        }
        let ct = ctype(part);
        let name = name_of(part);
        if let PartType::Message(inner) = &part.body {
            if depth < MAX_NESTING {
                let body = normalize(&body_text(inner));
                if !body.trim().is_empty() {
                    mail.attachments.push(body);
                }
                collect_attachments(inner, mail, depth + 1);
            }
            continue;
        }
        if ct == "application/pdf" || name.ends_with(".pdf") {
            match pdf_text(part.contents()) {
                Some(t) => mail.attachments.push(normalize(&t)),
                None => mail.problems.push(Problem::UnreadableAttachment {
                    name: part.attachment_name().unwrap_or("(pdf)").to_string(),
                }),
            }
            continue;
        }
        let texty = ct.starts_with("text/plain")
            || ct == "text/html"
            || name.ends_with(".txt")
            || name.ends_with(".htm")
            || name.ends_with(".html");
        if texty {
            let text = match &part.body {
                PartType::Html(h) => html_to_text(h),
                PartType::Text(t) => truncate(t, MAX_TEXT_BYTES).to_string(),
                _ if ct == "text/html" || name.ends_with(".htm") || name.ends_with(".html") => {
                    html_to_text(&String::from_utf8_lossy(truncate_bytes(part.contents(), MAX_TEXT_BYTES)))
                }
                _ => String::from_utf8_lossy(truncate_bytes(part.contents(), MAX_TEXT_BYTES)).to_string(),
            };
            mail.attachments.push(normalize(&text));
        }
    }
}

fn truncate_bytes(b: &[u8], max: usize) -> &[u8] {
    &b[..b.len().min(max)]
}
