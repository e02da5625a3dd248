//! Clock times as staff write them: "09.00" (the Indonesian dot) or "09:00", "pukul 9",
//! "jam 2 siang", "pk. 08.00", "9am", "at 2:30 PM", "19.30 (malam)", with ranges
//! ("09.00 - 12.00", "08.30 s/d 11.30", "jam 9 pagi sampai jam 12 siang", "from 14:00
//! to 15:30", "9am-3pm"), open ends ("s.d. selesai", "until finished") and zones (WIB,
//! WITA, WIT, "Waktu Indonesia Barat", GMT+7).

use super::dates::range_conn;
use super::text::{Kind, Tok};
use chrono::{FixedOffset, NaiveTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Start,
    /// Written as the end on its own ("Jam selesai: 11.30", "selesai pukul 12").
    End,
}

#[derive(Debug, Clone)]
pub struct TimeMention {
    pub first_tok: usize,
    pub end_tok: usize,
    pub start: usize,
    pub end: usize,
    pub from: NaiveTime,
    /// The end, and whether it is "24.00" (midnight after the day).
    pub to: Option<(NaiveTime, bool)>,
    /// The writer said the end is open ("s.d. selesai").
    pub open_end: bool,
    pub zone: Option<FixedOffset>,
    pub role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Period {
    Morning,
    Midday,
    Afternoon,
    Night,
}

#[derive(Debug, Clone, Copy)]
struct Point {
    h: u32,
    m: u32,
    pm: Option<bool>,
    period: Option<Period>,
    /// Written with one digit and no period ("pukul 2"): in an office it is afternoon.
    one_digit: bool,
    zone: Option<FixedOffset>,
    /// Only a number, with nothing saying it is a clock time: usable only as the start
    /// of a range whose end is marked ("2-4pm").
    bare: bool,
}

/// Words that make a bare number a clock time ("pukul 9", "jam 2 siang", "at 10").
const KEYS: &[&str] = &["pukul", "pkl", "pk", "jam", "at", "waktu", "time"];
/// Words that open a time but say nothing about a bare number after them: "dari 10
/// kabupaten" is a count, "dari pukul 10" a time.
const SOFT_INTRO: &[&str] = &["from", "dari", "mulai", "start", "starts", "starting", "dimulai", "antara", "between"];
const OPEN_END: &[&str] = &["selesai", "finished", "finish", "done", "end", "usai", "tuntas", "rampung", "beres"];

pub fn zone_offset(hours: i32) -> Option<FixedOffset> {
    FixedOffset::east_opt(hours * 3600)
}

/// The zone word at `i`, and the index after it.
pub fn zone_at(toks: &[Tok], i: usize) -> Option<(FixedOffset, usize)> {
    let t = toks.get(i)?;
    let at = |k: usize| toks.get(k);
    if t.is_punct('(') {
        let (z, k) = zone_at(toks, i + 1)?;
        let k = if at(k).is_some_and(|n| n.is_punct(')')) { k + 1 } else { k };
        return Some((z, k));
    }
    match t.lower {
        "wib" => return Some((zone_offset(7)?, i + 1)),
        "wita" => return Some((zone_offset(8)?, i + 1)),
        "wit" => return Some((zone_offset(9)?, i + 1)),
        _ => {}
    }
    if t.is("waktu") && at(i + 1).is_some_and(|n| n.is("indonesia")) {
        let h = match at(i + 2)?.lower {
            "barat" => 7,
            "tengah" => 8,
            "timur" => 9,
            _ => return None,
        };
        let mut k = i + 3;
        // "(Waktu Indonesia Barat - Jakarta)"
        if at(k).is_some_and(|n| n.is_punct('-')) && at(k + 1).is_some_and(|n| n.kind == Kind::Word) {
            k += 2;
        }
        return Some((zone_offset(h)?, k));
    }
    if t.is_any(&["gmt", "utc"]) {
        if let Some(sign) = at(i + 1).filter(|n| n.is_punct('+') || n.is_punct('-'))
            && let Some(n) = at(i + 2).and_then(|n| n.num())
        {
            let hours = if n >= 100 { n / 100 } else { n };
            if hours <= 14 {
                let h = hours as i32 * if sign.is_punct('-') { -1 } else { 1 };
                return Some((zone_offset(h)?, i + 3));
            }
        }
        return Some((zone_offset(0)?, i + 1));
    }
    match t.lower {
        "jakarta" => Some((zone_offset(7)?, i + 1)),
        "makassar" => Some((zone_offset(8)?, i + 1)),
        "jayapura" => Some((zone_offset(9)?, i + 1)),
        _ => None,
    }
}

fn period_of(t: &Tok) -> Option<Period> {
    match t.lower {
        "pagi" | "subuh" | "morning" => Some(Period::Morning),
        "siang" | "noon" => Some(Period::Midday),
        "sore" | "petang" | "afternoon" => Some(Period::Afternoon),
        "malam" | "evening" | "night" => Some(Period::Night),
        _ => None,
    }
}

pub struct TimeReader<'t, 'a> {
    toks: &'t [Tok<'a>],
    taken: &'t [bool],
}

impl<'t, 'a> TimeReader<'t, 'a> {
    pub fn new(toks: &'t [Tok<'a>], taken: &'t [bool]) -> Self {
        TimeReader { toks, taken }
    }

    fn tok(&self, i: usize) -> Option<&Tok<'a>> {
        if self.taken.get(i).copied().unwrap_or(false) {
            return None;
        }
        self.toks.get(i)
    }

    pub fn read_all(&self, usable: &dyn Fn(usize) -> bool) -> Vec<TimeMention> {
        let len = self.toks.len();
        super::text::scan_mentions(len, usable, |i| self.mention_at(i), |m| m.end_tok)
    }

    /// One clock point: hour, maybe minutes, maybe am/pm, a day-part word and a zone.
    fn point_at(&self, i: usize, keyed: bool) -> Option<(Point, usize)> {
        let t = self.tok(i)?;
        if t.kind != Kind::Num || t.text.len() > 2 {
            return None;
        }
        // Inside something longer: "B-12", "1.09", "2/3", "SE2026".
        if !t.spaced
            && i > 0
            && let Some(p) = self.toks.get(i - 1)
            && (p.kind == Kind::Word
                || p.kind == Kind::Num
                || p.is_punct('/')
                || p.is_punct('.')
                || p.is_punct(':')
                || p.is_punct('+'))
        {
            return None;
        }
        let h = t.num()?;
        if h > 24 {
            return None;
        }
        let mut j = i + 1;
        let mut m = None;
        if let (Some(sep), Some(mm)) = (self.tok(j), self.tok(j + 1))
            && !sep.spaced
            && !mm.spaced
            && (sep.is_punct('.') || sep.is_punct(':'))
            && mm.kind == Kind::Num
        {
            // "10.000" is a count; "12.01.2026" a date; "10.0.0.1" an address.
            let more = self.toks.get(j + 2).is_some_and(|n| {
                !n.spaced
                    && (n.is_punct('.') || n.is_punct(':') || n.is_punct('/'))
                    && self.toks.get(j + 3).is_some_and(|x| x.kind == Kind::Num && !x.spaced)
            });
            if mm.text.len() != 2 || more {
                return None;
            }
            let v = mm.num()?;
            if v > 59 {
                return None;
            }
            m = Some(v);
            j += 2;
        }
        let mut p = Point {
            h,
            m: m.unwrap_or(0),
            pm: None,
            period: None,
            one_digit: t.text.len() == 1,
            zone: None,
            bare: false,
        };
        for _ in 0..4 {
            let Some(n) = self.tok(j) else { break };
            if n.is_any(&["am", "pm"]) {
                p.pm = Some(n.is("pm"));
                j += 1;
            } else if (n.is("a") || n.is("p"))
                && self.tok(j + 1).is_some_and(|x| x.is_punct('.'))
                && self.tok(j + 2).is_some_and(|x| x.is("m"))
            {
                p.pm = Some(n.is("p"));
                j += 3;
                if self.tok(j).is_some_and(|x| x.is_punct('.') && !x.spaced) {
                    j += 1;
                }
            } else if let Some(per) = period_of(n) {
                p.period = Some(per);
                j += 1;
            } else if n.is_punct('(')
                && self.tok(j + 1).and_then(period_of).is_some()
                && self.tok(j + 2).is_some_and(|x| x.is_punct(')'))
            {
                p.period = self.tok(j + 1).and_then(period_of);
                j += 3;
            } else if let Some((z, k)) = zone_at(self.toks, j) {
                p.zone = Some(z);
                j = k;
            } else if n.is_any(&["h", "hrs", "uhr"]) && !n.spaced {
                j += 1;
            } else {
                break;
            }
        }
        // "3.14" (a room, a version) is not clearly a clock; "09.00", "9.30", "3:14" are.
        let dotted_odd = m.is_some_and(|mm| mm % 15 != 0)
            && t.text.len() == 1
            && self.toks.get(i + 1).is_some_and(|x| x.is_punct('.'));
        p.bare = (m.is_none() || dotted_odd) && !keyed && p.pm.is_none() && p.period.is_none() && p.zone.is_none();
        if h == 24 && p.m != 0 {
            return None;
        }
        Some((p, j))
    }

    fn mention_at(&self, i: usize) -> Option<TimeMention> {
        let mut j = i;
        let mut keyed = false;
        let mut between = false;
        for _ in 0..3 {
            let Some(t) = self.tok(j) else { break };
            if t.is_any(KEYS) || t.is_any(SOFT_INTRO) {
                keyed |= t.is_any(KEYS);
                between |= t.is_any(&["antara", "between"]);
                j += 1;
                while self.tok(j).is_some_and(|n| n.is_punct('.') || n.is_punct(':')) {
                    j += 1;
                }
            } else {
                break;
            }
        }
        let (p1, mut k) = self.point_at(j, keyed)?;
        let mut p2 = None;
        let mut open_end = false;
        let conn = range_conn(self.toks, k)
            .filter(|&c| (k..c).all(|x| !self.taken.get(x).copied().unwrap_or(false)))
            .or_else(|| if between { self.tok(k).filter(|t| t.is_any(&["dan", "and"])).map(|_| k + 1) } else { None });
        if let Some(c) = conn {
            let mut c2 = c;
            let mut keyed_end = !p1.bare;
            while self.tok(c2).is_some_and(|t| {
                t.is_any(&[
                    "pukul", "pkl", "pk", "jam", "at", "waktu", "acara", "kegiatan", "rapat", "the", "meeting", "is",
                ]) || t.is_punct('.')
            }) {
                keyed_end |= self.tok(c2).is_some_and(|t| t.is_any(KEYS));
                c2 += 1;
            }
            if self.tok(c2).is_some_and(|t| t.is_any(OPEN_END)) {
                open_end = true;
                k = c2 + 1;
            } else if let Some((p, k2)) = self.point_at(c2, keyed_end) {
                p2 = Some(p);
                k = k2;
            }
        }
        // "2-4pm", "9 - 11 WIB" are times; "10 - 15 orang" is not.
        if p1.bare && !p2.is_some_and(|p| p.pm.is_some() || p.period.is_some() || p.zone.is_some() || !p.bare) {
            return None;
        }
        let (from_h, to_h) = hours_24(&p1, p2.as_ref());
        let from = NaiveTime::from_hms_opt(from_h % 24, p1.m, 0)?;
        if from_h == 24 {
            return None;
        }
        let to = match (p2, to_h) {
            (Some(p), Some(h)) => Some((NaiveTime::from_hms_opt(h % 24, p.m, 0)?, h == 24)),
            _ => None,
        };
        let zone = p1.zone.or(p2.and_then(|p| p.zone));
        let role = if to.is_none() && !open_end && self.end_label_before(i) { Role::End } else { Role::Start };
        Some(TimeMention {
            first_tok: i,
            end_tok: k,
            start: self.toks[i].start,
            end: self.toks[k.saturating_sub(1).max(i)].end,
            from,
            to,
            open_end,
            zone,
            role,
        })
    }

    /// "Jam selesai : 11.30", "dan selesai pukul 12.00", "end time: 15:00".
    fn end_label_before(&self, i: usize) -> bool {
        let lo = i.saturating_sub(4);
        self.toks[lo..i]
            .iter()
            .rev()
            .take_while(|t| t.kind != Kind::Newline)
            .any(|t| t.is_any(&["selesai", "berakhir", "end", "ends", "ending", "finish", "finishes", "akhir"]))
    }
}

/// Applies am/pm and day-part words, and carries an afternoon end back to a bare start
/// ("1 - 3 sore" is 13-15, "9 - 12 siang" stays 9-12).
fn hours_24(p1: &Point, p2: Option<&Point>) -> (u32, Option<u32>) {
    let explicit = |p: &Point| p.pm.is_some() || p.period.is_some();
    let conv = |p: &Point| -> u32 {
        let h = p.h;
        if let Some(pm) = p.pm {
            return if pm { h % 12 + 12 } else { h % 12 };
        }
        match p.period {
            Some(Period::Morning) => h,
            Some(Period::Midday) => {
                if (1..=6).contains(&h) {
                    h + 12
                } else {
                    h
                }
            }
            Some(Period::Afternoon) => {
                if h < 12 {
                    h + 12
                } else {
                    h
                }
            }
            Some(Period::Night) => {
                if h == 12 {
                    0
                } else if (4..12).contains(&h) {
                    h + 12
                } else {
                    h
                }
            }
            None => {
                if p.one_digit && (1..=5).contains(&h) {
                    h + 12
                } else {
                    h
                }
            }
        }
    };
    let mut a = conv(p1);
    let Some(p2) = p2 else { return (a, None) };
    let mut b = conv(p2);
    if !explicit(p1) && explicit(p2) && p1.h < 12 && b >= 12 && p1.h + 12 <= b {
        a = p1.h + 12;
    }
    if explicit(p1) && !explicit(p2) && a >= 12 && p2.h < 12 && p2.h + 12 > a {
        b = p2.h + 12;
    }
    (a, Some(b))
}
