//! Domain types that cannot hold invalid values: they are checked once, where data
//! enters (a mail, the config, the database), and trusted everywhere after.

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// A request's public reference, `LKT-YYYY-NNNN`: what people quote on the phone and
/// what every subject carries so that replies find their request again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Reference {
    year: u16,
    number: u32,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ReferenceError {
    #[error("not a request reference: {0:?} (expected LKT-YYYY-NNNN, e.g. LKT-2026-0042)")]
    Malformed(String),
}

impl Reference {
    pub fn new(year: i32, number: u32) -> Result<Self, ReferenceError> {
        if !(2000..=9999).contains(&year) || number == 0 || number > 999_999 {
            return Err(ReferenceError::Malformed(format!("LKT-{year}-{number}")));
        }
        Ok(Reference { year: year as u16, number })
    }
    pub fn year(&self) -> i32 {
        i32::from(self.year)
    }
    pub fn number(&self) -> u32 {
        self.number
    }
    /// Finds the first reference written anywhere in `text` (a subject, usually),
    /// in any letter case, e.g. "Re: [lkt-2026-0007] ...".
    pub fn find_in(text: &str) -> Option<Reference> {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i + 12 <= bytes.len() {
            if bytes[i..i + 4].eq_ignore_ascii_case(b"LKT-") {
                let rest = &text[i..];
                let end = rest
                    .char_indices()
                    .skip(4)
                    .find(|&(_, c)| !(c.is_ascii_digit() || c == '-'))
                    .map(|(j, _)| j)
                    .unwrap_or(rest.len());
                if let Ok(r) = rest[..end].trim_end_matches('-').parse() {
                    return Some(r);
                }
            }
            i += 1;
        }
        None
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LKT-{:04}-{:04}", self.year, self.number)
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ReferenceError::Malformed(s.to_string());
        let rest = s.get(..4).filter(|p| p.eq_ignore_ascii_case("LKT-")).map(|_| &s[4..]).ok_or_else(bad)?;
        let (y, n) = rest.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || n.len() < 4 || !y.bytes().chain(n.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        Reference::new(y.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?)
    }
}

impl TryFrom<String> for Reference {
    type Error = ReferenceError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}
impl From<Reference> for String {
    fn from(r: Reference) -> String {
        r.to_string()
    }
}

/// One meeting slot. Its end always follows its start, so schedule arithmetic never
/// meets a negative duration. Times keep the offset the mail gave them (WIB, WITA, WIT)
/// because that is how they are shown back to the people who wrote them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Session {
    start: DateTime<FixedOffset>,
    end: DateTime<FixedOffset>,
    open_ended: bool,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SessionError {
    #[error("the session ends ({end}) before or when it starts ({start}): give an end time after the start")]
    EndNotAfterStart { start: String, end: String },
}

impl Session {
    pub fn new(
        start: DateTime<FixedOffset>,
        end: DateTime<FixedOffset>,
        open_ended: bool,
    ) -> Result<Self, SessionError> {
        if end <= start {
            return Err(SessionError::EndNotAfterStart { start: start.to_rfc3339(), end: end.to_rfc3339() });
        }
        Ok(Session { start, end, open_ended })
    }
    pub fn start(&self) -> DateTime<FixedOffset> {
        self.start
    }
    pub fn end(&self) -> DateTime<FixedOffset> {
        self.end
    }
    /// True when the mail said "s.d. selesai" (or gave no end): the end is an assumption.
    pub fn open_ended(&self) -> bool {
        self.open_ended
    }
    pub fn start_utc(&self) -> DateTime<Utc> {
        self.start.with_timezone(&Utc)
    }
    pub fn end_utc(&self) -> DateTime<Utc> {
        self.end.with_timezone(&Utc)
    }
    pub fn duration(&self) -> chrono::Duration {
        self.end - self.start
    }
    /// The same slot moved by `by`, keeping its offset and length.
    pub fn shifted(&self, by: chrono::Duration) -> Session {
        Session { start: self.start + by, end: self.end + by, open_ended: self.open_ended }
    }
}

/// An email address as the desk compares them: trimmed and lower-cased. Parsing checks
/// the shape only (one `@`, a dotted-or-local domain, no spaces or header-breaking bytes);
/// whether the mailbox exists is the mail server's business.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Address(String);

#[derive(Debug, Error, PartialEq, Eq)]
pub enum AddressError {
    #[error("not an email address: {0:?} (expected name@domain)")]
    Malformed(String),
}

impl Address {
    pub fn parse(s: &str) -> Result<Self, AddressError> {
        let t = s.trim().trim_start_matches('<').trim_end_matches('>').trim();
        let ok = t.len() <= 254
            && t.split('@').count() == 2
            && t.split_once('@').is_some_and(|(l, d)| {
                !l.is_empty() && !d.is_empty() && !d.starts_with('.') && !d.ends_with('.') && !d.contains("..")
            })
            && t.chars().all(|c| {
                !c.is_whitespace()
                    && !c.is_control()
                    && !matches!(c, '<' | '>' | ',' | ';' | '"' | '(' | ')' | '[' | ']' | '\\')
            });
        if ok { Ok(Address(t.to_lowercase())) } else { Err(AddressError::Malformed(s.to_string())) }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn domain(&self) -> &str {
        self.0.split_once('@').map(|(_, d)| d).unwrap_or("")
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl TryFrom<String> for Address {
    type Error = AddressError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Address::parse(&s)
    }
}
impl From<Address> for String {
    fn from(a: Address) -> String {
        a.0
    }
}

/// A sender as the mail named them: the address the desk trusts, and the display name it
/// uses to greet them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: Address,
}

impl Mailbox {
    /// The name to greet with: the display name when the mail gave one, else the address.
    pub fn display(&self) -> String {
        match &self.name {
            Some(n) if !n.trim().is_empty() => n.trim().to_string(),
            _ => self.address.to_string(),
        }
    }
}

/// Whole-minute durations written the way operators write them in the config:
/// `30m`, `1h`, `1d`, `90m`, `0m`.
pub fn parse_duration(s: &str) -> Result<chrono::Duration, String> {
    let t = s.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: i64 =
        num.parse().map_err(|_| format!("bad duration {s:?}: write a number and a unit, e.g. 30m, 1h or 1d"))?;
    let minutes = match unit.trim() {
        "m" | "min" => n,
        "h" => n * 60,
        "d" => n * 24 * 60,
        _ => {
            return Err(format!("bad duration {s:?}: the unit must be m, h or d (e.g. 30m, 1h, 1d)"));
        }
    };
    Ok(chrono::Duration::minutes(minutes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_round_trip_and_are_found_in_subjects() {
        let r: Reference = "LKT-2026-0042".parse().unwrap();
        assert_eq!(r.to_string(), "LKT-2026-0042");
        assert_eq!(Reference::new(2026, 12345).unwrap().to_string(), "LKT-2026-12345");
        for (subject, want) in [
            ("Re: [LKT-2026-0007] Permohonan", Some("LKT-2026-0007")),
            ("re: lkt-2026-0010 batal", Some("LKT-2026-0010")),
            ("Fwd: RE: [LKT-2025-9999]", Some("LKT-2025-9999")),
            ("LKT-26-1", None),
            ("LKT-2026-", None),
            ("Rapat 2026-0001", None),
            ("", None),
        ] {
            assert_eq!(Reference::find_in(subject).map(|r| r.to_string()).as_deref(), want, "{subject}");
        }
        assert!("LKT-2026-0000".parse::<Reference>().is_err());
        assert!("LKT-2026-12".parse::<Reference>().is_err());
    }

    #[test]
    fn a_session_must_end_after_it_starts() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap();
        assert!(Session::new(t("2026-01-12T09:00:00+07:00"), t("2026-01-12T12:00:00+07:00"), false).is_ok());
        assert!(Session::new(t("2026-01-12T09:00:00+07:00"), t("2026-01-12T09:00:00+07:00"), false).is_err());
        assert!(Session::new(t("2026-01-12T09:00:00+07:00"), t("2026-01-12T08:00:00+07:00"), false).is_err());
    }

    #[test]
    fn addresses_are_normalised_and_checked() {
        assert_eq!(Address::parse(" <Rizki.Pratama@BPS.test> ").unwrap().as_str(), "rizki.pratama@bps.test");
        for bad in ["", "a", "a@", "@b", "a@b@c", "a b@c", "a@b\r\nBcc: x@y", "a@.b", "a@b..c"] {
            assert!(Address::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn durations_read_as_operators_write_them() {
        assert_eq!(parse_duration("1d").unwrap(), chrono::Duration::days(1));
        assert_eq!(parse_duration("1h").unwrap(), chrono::Duration::hours(1));
        assert_eq!(parse_duration("0m").unwrap(), chrono::Duration::zero());
        assert!(parse_duration("1w").is_err());
        assert!(parse_duration("h").is_err());
    }
}
