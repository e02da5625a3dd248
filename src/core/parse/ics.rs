//! iCalendar attachments (`.ics`, `text/calendar`). When a mail carries one, its events
//! are what the calendar program will show the participants, so they are taken over
//! anything the prose says. Handles folded lines, DTSTART/DTEND with TZID (IANA names,
//! the VTIMEZONE's own offset, or common Windows names), UTC `Z`, floating times,
//! all-day dates, DURATION, several VEVENTs and a simple RRULE (DAILY/WEEKLY with COUNT
//! or UNTIL).

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

#[derive(Debug, Clone, PartialEq)]
pub enum IcsTime {
    At(DateTime<FixedOffset>),
    /// No zone: read in the desk's zone.
    Floating(NaiveDateTime),
    AllDay(NaiveDate),
}

#[derive(Debug, Clone, PartialEq)]
pub struct IcsEvent {
    pub start: IcsTime,
    pub end: Option<IcsTime>,
    pub duration: Option<Duration>,
    pub summary: Option<String>,
    pub cancelled: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Calendar {
    pub method: Option<String>,
    pub events: Vec<IcsEvent>,
}

/// The most occurrences one RRULE expands to, and the most events read from one file.
const MAX_OCCURRENCES: usize = 62;
const MAX_EVENTS: usize = 200;

fn unfold(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if (line.starts_with(' ') || line.starts_with('\t')) && !out.is_empty() {
            if let Some(last) = out.last_mut() {
                last.push_str(&line[1..]);
            }
        } else {
            out.push(line.to_string());
        }
    }
    out
}

/// A property's name, its parameters and its value.
type Prop<'a> = (String, Vec<(String, String)>, &'a str);

/// "DTSTART;TZID=Asia/Jakarta:20260417T100000" → ("DTSTART", [("TZID","Asia/Jakarta")], "2026...")
fn split_prop(line: &str) -> Option<Prop<'_>> {
    let colon = find_value_colon(line)?;
    let (head, value) = (&line[..colon], &line[colon + 1..]);
    let mut parts = head.split(';');
    let name = parts.next()?.trim().to_ascii_uppercase();
    let params = parts
        .filter_map(|p| {
            p.split_once('=').map(|(k, v)| (k.trim().to_ascii_uppercase(), v.trim().trim_matches('"').to_string()))
        })
        .collect();
    Some((name, params, value))
}

/// The colon that ends the property head, skipping colons inside quoted parameters.
fn find_value_colon(line: &str) -> Option<usize> {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

fn unescape(v: &str) -> String {
    v.replace("\\n", " ")
        .replace("\\N", " ")
        .replace("\\,", ",")
        .replace("\\;", ";")
        .replace("\\\\", "\\")
        .trim()
        .to_string()
}

fn windows_zone(name: &str) -> Option<i32> {
    let n = name.to_ascii_lowercase();
    if n.contains("se asia") || n.contains("jakarta") || n.contains("bangkok") || n.contains("pontianak") {
        Some(7)
    } else if n.contains("singapore")
        || n.contains("china")
        || n.contains("makassar")
        || n.contains("malay")
        || n.contains("w. australia")
    {
        Some(8)
    } else if n.contains("tokyo") || n.contains("jayapura") || n.contains("korea") {
        Some(9)
    } else if n == "utc" || n == "gmt" || n.contains("coordinated universal") {
        Some(0)
    } else {
        None
    }
}

fn parse_offset(s: &str) -> Option<FixedOffset> {
    let s = s.trim();
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => (1, s),
    };
    if rest.len() < 4 || !rest.bytes().take(4).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = rest[..2].parse().ok()?;
    let m: i32 = rest[2..4].parse().ok()?;
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

fn parse_time(value: &str, params: &[(String, String)], zones: &[(String, FixedOffset)]) -> Option<IcsTime> {
    let v = value.trim();
    let is_date = params.iter().any(|(k, val)| k == "VALUE" && val.eq_ignore_ascii_case("DATE"))
        || (v.len() == 8 && !v.contains('T'));
    if is_date {
        return NaiveDate::parse_from_str(v.get(..8)?, "%Y%m%d").ok().map(IcsTime::AllDay);
    }
    let (body, utc) = match v.strip_suffix('Z').or_else(|| v.strip_suffix('z')) {
        Some(b) => (b, true),
        None => (v, false),
    };
    let naive = NaiveDateTime::parse_from_str(body.get(..15)?, "%Y%m%dT%H%M%S").ok()?;
    if utc {
        return Some(IcsTime::At(chrono::Utc.from_utc_datetime(&naive).fixed_offset()));
    }
    let Some(tzid) = params.iter().find(|(k, _)| k == "TZID").map(|(_, v)| v.trim_start_matches('/')) else {
        return Some(IcsTime::Floating(naive));
    };
    if let Ok(tz) = tzid.parse::<Tz>()
        && let Some(dt) = tz.from_local_datetime(&naive).earliest()
    {
        return Some(IcsTime::At(dt.fixed_offset()));
    }
    let offset = zones
        .iter()
        .find(|(id, _)| id == tzid)
        .map(|(_, o)| *o)
        .or_else(|| windows_zone(tzid).and_then(|h| FixedOffset::east_opt(h * 3600)));
    match offset {
        Some(o) => o.from_local_datetime(&naive).single().map(IcsTime::At),
        None => Some(IcsTime::Floating(naive)),
    }
}

/// "PT2H30M", "P1D", "-PT15M" (negative durations are ignored).
pub fn parse_duration(v: &str) -> Option<Duration> {
    let v = v.trim();
    if v.starts_with('-') {
        return None;
    }
    let v = v.strip_prefix('+').unwrap_or(v).strip_prefix('P')?;
    let mut total = Duration::zero();
    let mut num = String::new();
    let mut in_time = false;
    for c in v.chars() {
        match c {
            'T' => in_time = true,
            '0'..='9' => num.push(c),
            _ => {
                let n: i64 = num.parse().ok()?;
                num.clear();
                total += match (c, in_time) {
                    ('W', _) => Duration::weeks(n.min(520)),
                    ('D', _) => Duration::days(n.min(3650)),
                    ('H', true) => Duration::hours(n.min(87600)),
                    ('M', true) => Duration::minutes(n.min(5_256_000)),
                    ('S', true) => Duration::seconds(n.min(315_360_000)),
                    _ => return None,
                };
            }
        }
    }
    Some(total)
}

struct Rule {
    step: Duration,
    count: Option<usize>,
    until: Option<NaiveDate>,
}

fn parse_rrule(v: &str) -> Option<Rule> {
    let mut step = None;
    let mut count = None;
    let mut until = None;
    let mut interval = 1i64;
    for part in v.split(';') {
        let (k, val) = part.split_once('=')?;
        match k.trim().to_ascii_uppercase().as_str() {
            "FREQ" => {
                step = match val.trim().to_ascii_uppercase().as_str() {
                    "DAILY" => Some(Duration::days(1)),
                    "WEEKLY" => Some(Duration::weeks(1)),
                    _ => return None,
                }
            }
            "COUNT" => count = val.trim().parse::<usize>().ok(),
            "UNTIL" => until = val.get(..8).and_then(|d| NaiveDate::parse_from_str(d, "%Y%m%d").ok()),
            "INTERVAL" => interval = val.trim().parse::<i64>().ok().filter(|&n| (1..=52).contains(&n))?,
            "BYDAY" | "WKST" => {}
            _ => return None,
        }
    }
    let step = step? * interval as i32;
    if count.is_none() && until.is_none() {
        return None;
    }
    Some(Rule { step, count, until })
}

fn shift(t: &IcsTime, by: Duration) -> IcsTime {
    match t {
        IcsTime::At(d) => IcsTime::At(*d + by),
        IcsTime::Floating(d) => IcsTime::Floating(*d + by),
        IcsTime::AllDay(d) => IcsTime::AllDay(*d + by),
    }
}

fn date_of(t: &IcsTime) -> NaiveDate {
    match t {
        IcsTime::At(d) => d.date_naive(),
        IcsTime::Floating(d) => d.date(),
        IcsTime::AllDay(d) => *d,
    }
}

/// Reads a calendar. A broken file gives what could be read (maybe nothing).
pub fn parse(text: &str) -> Calendar {
    let lines = unfold(super::text::truncate(text, super::text::MAX_TEXT_BYTES));
    let mut cal = Calendar::default();
    let mut zones: Vec<(String, FixedOffset)> = Vec::new();
    // First pass: VTIMEZONE offsets (their TZOFFSETTO of the STANDARD part).
    let mut tzid: Option<String> = None;
    for l in &lines {
        let Some((name, _, value)) = split_prop(l) else { continue };
        match name.as_str() {
            "TZID" => tzid = Some(value.trim().to_string()),
            "TZOFFSETTO" => {
                if let (Some(id), Some(o)) = (&tzid, parse_offset(value))
                    && !zones.iter().any(|(z, _)| z == id)
                {
                    zones.push((id.clone(), o));
                }
            }
            "END" if value.trim().eq_ignore_ascii_case("VTIMEZONE") => tzid = None,
            _ => {}
        }
    }
    let mut in_event = false;
    let mut depth_other = 0;
    let (mut start, mut end, mut dur, mut summary, mut rrule, mut cancelled) = (None, None, None, None, None, false);
    for l in &lines {
        let Some((name, params, value)) = split_prop(l) else { continue };
        let upper_value = value.trim().to_ascii_uppercase();
        match name.as_str() {
            "METHOD" if !in_event => cal.method = Some(upper_value),
            "BEGIN" if upper_value == "VEVENT" => {
                in_event = true;
                depth_other = 0;
                (start, end, dur, summary, rrule, cancelled) = (None, None, None, None, None, false);
            }
            "BEGIN" if in_event => depth_other += 1,
            "END" if in_event && upper_value != "VEVENT" => depth_other -= 1,
            "END" if in_event => {
                in_event = false;
                if let Some(s) = start.take() {
                    let ev = IcsEvent {
                        start: s,
                        end: end.take(),
                        duration: dur.take(),
                        summary: summary.take(),
                        cancelled,
                    };
                    expand(&mut cal.events, ev, rrule.take());
                }
                if cal.events.len() >= MAX_EVENTS {
                    break;
                }
            }
            _ if !in_event || depth_other > 0 => {}
            "DTSTART" => start = parse_time(value, &params, &zones),
            "DTEND" => end = parse_time(value, &params, &zones),
            "DURATION" => dur = parse_duration(value),
            "SUMMARY" => summary = Some(unescape(value)).filter(|s| !s.is_empty()),
            "RRULE" => rrule = parse_rrule(value),
            "STATUS" => cancelled = upper_value == "CANCELLED",
            _ => {}
        }
    }
    cal
}

fn expand(out: &mut Vec<IcsEvent>, ev: IcsEvent, rule: Option<Rule>) {
    let Some(rule) = rule else {
        out.push(ev);
        return;
    };
    let n = rule.count.unwrap_or(MAX_OCCURRENCES).min(MAX_OCCURRENCES);
    for k in 0..n {
        let by = rule.step * k as i32;
        let s = shift(&ev.start, by);
        if rule.until.is_some_and(|u| date_of(&s) > u) {
            break;
        }
        out.push(IcsEvent { start: s, end: ev.end.as_ref().map(|e| shift(e, by)), ..ev.clone() });
        if out.len() >= MAX_EVENTS {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> IcsTime {
        IcsTime::At(DateTime::parse_from_rfc3339(s).unwrap())
    }

    #[test]
    fn events_with_zones_utc_floating_and_all_day() {
        let ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VTIMEZONE\r\nTZID:Custom WITA\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0800\r\nTZOFFSETTO:+0800\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nDTSTART;TZID=Asia/Jakarta:20260417T100000\r\nDTEND;TZID=Asia/Jakarta:20260417T123000\r\nSUMMARY:Rapat Evaluasi\\, Triwulan\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nDTSTART:20260519T020000Z\r\nDURATION:PT3H\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nDTSTART;TZID=\"Custom WITA\":20260601T090000\r\nDTEND;TZID=SE Asia Standard Time:20260601T100000\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260701\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nDTSTART:20260801T090000\r\nDTEND:20260801T1\r\n 00000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let cal = parse(ics);
        assert_eq!(cal.method.as_deref(), Some("REQUEST"));
        assert_eq!(cal.events.len(), 5);
        assert_eq!(cal.events[0].start, at("2026-04-17T10:00:00+07:00"));
        assert_eq!(cal.events[0].end, Some(at("2026-04-17T12:30:00+07:00")));
        assert_eq!(cal.events[0].summary.as_deref(), Some("Rapat Evaluasi, Triwulan"));
        assert_eq!(cal.events[1].start, at("2026-05-19T09:00:00+07:00"));
        assert_eq!(cal.events[1].duration, Some(Duration::hours(3)));
        assert_eq!(cal.events[2].start, at("2026-06-01T09:00:00+08:00"));
        assert_eq!(cal.events[2].end, Some(at("2026-06-01T10:00:00+07:00")));
        assert_eq!(cal.events[3].start, IcsTime::AllDay(NaiveDate::from_ymd_opt(2026, 7, 1).unwrap()));
        assert!(matches!(cal.events[4].end, Some(IcsTime::Floating(_))));
    }

    #[test]
    fn rrules_expand_and_broken_files_do_not_fail() {
        let ics =
            "BEGIN:VEVENT\nDTSTART:20260105T020000Z\nDTEND:20260105T040000Z\nRRULE:FREQ=DAILY;COUNT=3\nEND:VEVENT\n";
        assert_eq!(parse(ics).events.len(), 3);
        for broken in [
            "",
            "BEGIN:VEVENT\nDTSTART:garbage\nEND:VEVENT",
            "BEGIN:VEVENT\nDTSTART:20261301T000000\n",
            ":::\n;;;",
            "BEGIN:VEVENT\nRRULE:FREQ=DAILY;COUNT=99999999999\nDTSTART:20260101T000000Z\nEND:VEVENT",
        ] {
            let _ = parse(broken);
        }
        assert_eq!(parse_duration("PT1H30M"), Some(Duration::minutes(90)));
        assert_eq!(parse_duration("P1D"), Some(Duration::days(1)));
        assert_eq!(parse_duration("-PT5M"), None);
    }
}
