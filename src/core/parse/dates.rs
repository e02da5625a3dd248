//! Dates as staff write them: "Senin, 12 Januari 2026", "13 Feb", "16 Sept 2026",
//! "12/01/2026" (always day first: this is an Indonesian office), "2026-04-07",
//! "Rabu (25/2/2026)", ranges ("12 s.d. 14 Januari", "30 Januari - 2 Februari 2026",
//! "April 21-23, 2026"), lists ("10 dan 12 Februari 2026", "12, 13 dan 15 Januari") and
//! relative dates ("besok", "lusa", "Senin depan", "minggu depan hari Kamis",
//! "next Monday"). Relative dates count from `base`, the mail's own day on the desk's
//! calendar, never from the clock.

use super::Problem;
use super::text::{Kind, Tok};
use chrono::{Datelike, Days, NaiveDate, Weekday};

/// How sure the text is that a mention names a meeting day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strength {
    /// A bare weekday ("hari Rabu"): used only when nothing firmer is written.
    Weak,
    /// Counted from the mail's day ("besok", "Jumat depan").
    Relative,
    /// A calendar date.
    Explicit,
}

#[derive(Debug, Clone)]
pub struct DateMention {
    pub first_tok: usize,
    pub end_tok: usize,
    pub start: usize,
    pub dates: Vec<NaiveDate>,
    pub strength: Strength,
    /// "kemarin", "yang lalu" right after it: the writer looks back, not forward.
    pub past_marked: bool,
}

const MONTHS: &[(&str, u32)] = &[
    ("januari", 1),
    ("january", 1),
    ("jan", 1),
    ("februari", 2),
    ("pebruari", 2),
    ("february", 2),
    ("feb", 2),
    ("peb", 2),
    ("maret", 3),
    ("march", 3),
    ("mar", 3),
    ("mrt", 3),
    ("april", 4),
    ("apr", 4),
    ("mei", 5),
    ("may", 5),
    ("juni", 6),
    ("june", 6),
    ("jun", 6),
    ("juli", 7),
    ("july", 7),
    ("jul", 7),
    ("agustus", 8),
    ("august", 8),
    ("agu", 8),
    ("agt", 8),
    ("ags", 8),
    ("aug", 8),
    ("agst", 8),
    ("september", 9),
    ("sept", 9),
    ("sep", 9),
    ("oktober", 10),
    ("october", 10),
    ("okt", 10),
    ("oct", 10),
    ("november", 11),
    ("nopember", 11),
    ("nov", 11),
    ("nop", 11),
    ("desember", 12),
    ("december", 12),
    ("des", 12),
    ("dec", 12),
];

/// Full weekday names: safe to read anywhere.
const WEEKDAYS: &[(&str, Weekday)] = &[
    ("senin", Weekday::Mon),
    ("monday", Weekday::Mon),
    ("selasa", Weekday::Tue),
    ("tuesday", Weekday::Tue),
    ("rabu", Weekday::Wed),
    ("wednesday", Weekday::Wed),
    ("kamis", Weekday::Thu),
    ("thursday", Weekday::Thu),
    ("jumat", Weekday::Fri),
    ("jum'at", Weekday::Fri),
    ("jumaat", Weekday::Fri),
    ("friday", Weekday::Fri),
    ("sabtu", Weekday::Sat),
    ("saturday", Weekday::Sat),
    ("minggu", Weekday::Sun),
    ("ahad", Weekday::Sun),
    ("sunday", Weekday::Sun),
];

/// Abbreviations ("Sen", "Min", "Wed") are ordinary words too ("Min" greets an admin),
/// so they count only right before a calendar date.
const WEEKDAY_ABBR: &[(&str, Weekday)] = &[
    ("sen", Weekday::Mon),
    ("mon", Weekday::Mon),
    ("sel", Weekday::Tue),
    ("tue", Weekday::Tue),
    ("tues", Weekday::Tue),
    ("rab", Weekday::Wed),
    ("wed", Weekday::Wed),
    ("kam", Weekday::Thu),
    ("thu", Weekday::Thu),
    ("thur", Weekday::Thu),
    ("thurs", Weekday::Thu),
    ("jum", Weekday::Fri),
    ("fri", Weekday::Fri),
    ("sab", Weekday::Sat),
    ("sat", Weekday::Sat),
    ("min", Weekday::Sun),
    ("sun", Weekday::Sun),
];

pub fn month_of(t: &Tok) -> Option<u32> {
    if t.kind != Kind::Word {
        return None;
    }
    MONTHS.iter().find(|(n, _)| *n == t.lower).map(|&(_, m)| m)
}

pub fn weekday_of(t: &Tok, abbreviations: bool) -> Option<Weekday> {
    if t.kind != Kind::Word {
        return None;
    }
    WEEKDAYS.iter().chain(if abbreviations { WEEKDAY_ABBR } else { &[] }).find(|(n, _)| *n == t.lower).map(|&(_, w)| w)
}

/// The next `wd` strictly after `from`: "Jumat depan" written on a Friday is a week on.
pub fn next_weekday_after(from: NaiveDate, wd: Weekday) -> NaiveDate {
    let ahead = (7 + wd.num_days_from_monday() as i64 - from.weekday().num_days_from_monday() as i64) % 7;
    let ahead = if ahead == 0 { 7 } else { ahead };
    from + chrono::Duration::days(ahead)
}

/// `wd` in the calendar week (Monday first) after the one holding `from`:
/// "minggu depan hari Kamis" written on a Monday is ten days on, not three.
pub fn weekday_of_next_week(from: NaiveDate, wd: Weekday) -> NaiveDate {
    let monday = from - chrono::Duration::days(from.weekday().num_days_from_monday() as i64);
    monday + chrono::Duration::days(7 + wd.num_days_from_monday() as i64)
}

/// `wd` on or after `from` ("Kamis ini").
pub fn weekday_on_or_after(from: NaiveDate, wd: Weekday) -> NaiveDate {
    let ahead = (7 + wd.num_days_from_monday() as i64 - from.weekday().num_days_from_monday() as i64) % 7;
    from + chrono::Duration::days(ahead)
}

/// The longest span of days one mention may expand to; longer is a typo or not a booking.
const MAX_RANGE_DAYS: i64 = 62;

pub struct DateReader<'t, 'a> {
    toks: &'t [Tok<'a>],
    text: &'a str,
    base: NaiveDate,
    /// Month and year of the last calendar date read: "tanggal 10" after "9 Maret 2026".
    context: Option<(i32, u32)>,
    pub problems: Vec<Problem>,
}

/// A day-month pair before its year is known.
#[derive(Debug, Clone, Copy)]
struct Dm {
    day: u32,
    month: Option<u32>,
    year: Option<i32>,
}

enum Core {
    Single(Dm),
    Range(Dm, Dm),
    List(Vec<Dm>),
}

impl<'t, 'a> DateReader<'t, 'a> {
    pub fn new(toks: &'t [Tok<'a>], text: &'a str, base: NaiveDate) -> Self {
        DateReader { toks, text, base, context: None, problems: Vec::new() }
    }

    fn tok(&self, i: usize) -> Option<&Tok<'a>> {
        self.toks.get(i)
    }

    fn word_at(&self, i: usize, w: &str) -> bool {
        self.tok(i).is_some_and(|t| t.is(w))
    }

    fn punct_at(&self, i: usize, c: char) -> bool {
        self.tok(i).is_some_and(|t| t.is_punct(c))
    }

    /// Skips line breaks (a date split over a wrapped line still reads as one).
    fn skip_nl(&self, mut i: usize) -> usize {
        while self.tok(i).is_some_and(|t| t.kind == Kind::Newline) {
            i += 1;
        }
        i
    }

    /// Reads every date mention, in order. `usable(i)` says whether token `i` may start
    /// a mention (tokens of masked header lines may not).
    pub fn read_all(&mut self, usable: &dyn Fn(usize) -> bool) -> Vec<DateMention> {
        let len = self.toks.len();
        super::text::scan_mentions(len, usable, |i| self.mention_at(i), |m| m.end_tok)
    }

    fn mention_at(&mut self, i: usize) -> Option<DateMention> {
        let t = self.tok(i)?;
        if t.kind == Kind::Newline || (t.kind == Kind::Punct && !t.is_punct('(')) {
            return None;
        }
        // A token glued to a digit run on its left is inside something else (a letter
        // number "B-024/17000/VS.100/01/2026", a phone number).
        if i > 0 && !t.spaced {
            let p = &self.toks[i - 1];
            if t.kind == Kind::Num
                && (p.kind == Kind::Num
                    || p.is_punct('/')
                    || p.is_punct('.')
                    || p.is_punct('-')
                    || p.kind == Kind::Word)
            {
                return None;
            }
        }
        let (weekdays, j) = self.weekday_phrase(i);
        let (j, paren) = self.skip_intro(j, !weekdays.is_empty());
        let day_keyword = j > i
            && (1..=3).any(|k| j >= k && self.toks[j - k].is_any(&["tanggal", "tgl", "tgl.", "date", "tanggalnya"]));
        if let Some((core, end)) = self.core_at(j, day_keyword || !weekdays.is_empty()) {
            let mut end = end;
            if paren && self.punct_at(end, ')') {
                end += 1;
            }
            // A date that does not exist still ends the mention (its problem is noted).
            let dates = self.resolve_core(core, &weekdays, i, end).unwrap_or_default();
            return Some(self.finish(i, end, dates, Strength::Explicit));
        }
        self.relative_at(i)
    }

    fn finish(&self, first: usize, end_tok: usize, dates: Vec<NaiveDate>, strength: Strength) -> DateMention {
        let start = self.toks[first].start;
        let past_marked = self.past_marker_after(end_tok);
        DateMention { first_tok: first, end_tok, start, dates, strength, past_marked }
    }

    fn past_marker_after(&self, mut i: usize) -> bool {
        let mut seen = 0;
        while let Some(t) = self.tok(i) {
            if seen >= 3 || t.kind == Kind::Newline {
                break;
            }
            if t.is_any(&["kemarin", "kemaren", "lalu", "tadi", "ago", "yesterday", "sebelumnya"]) {
                return true;
            }
            if t.kind == Kind::Word {
                seen += 1;
            }
            i += 1;
        }
        false
    }

    /// `Senin`, `Senin s.d. Rabu`, `Selasa dan Kamis`, `from Tuesday to Thursday`, with
    /// an optional "hari" before and a comma after. Returns the weekdays in order.
    fn weekday_phrase(&self, i: usize) -> (Vec<Weekday>, usize) {
        let mut j = i;
        if self.tok(j).is_some_and(|t| t.is_any(&["hari", "from", "on", "pada", "dari"])) {
            j += 1;
        }
        let Some(first) = self.tok(j).and_then(|t| weekday_of(t, true)) else {
            return (Vec::new(), i);
        };
        let mut days = vec![first];
        j += 1;
        if self.punct_at(j, '.') {
            j += 1; // "Sen." "Wed."
        }
        loop {
            let k = self.range_conn(j).or_else(|| self.list_conn(j));
            let Some(k) = k else { break };
            let k2 = if self.word_at(k, "hari") { k + 1 } else { k };
            match self.tok(k2).and_then(|t| weekday_of(t, true)) {
                Some(w) => {
                    days.push(w);
                    j = k2 + 1;
                }
                None => break,
            }
        }
        (days, j)
    }

    /// After a weekday: ",", "(", "tanggal", "the". Returns where the date may start and
    /// whether a parenthesis was opened ("Rabu (25/2/2026)").
    fn skip_intro(&self, mut j: usize, after_weekday: bool) -> (usize, bool) {
        let mut paren = false;
        for _ in 0..4 {
            let Some(t) = self.tok(j) else { break };
            if t.is_punct(',') || (after_weekday && t.kind == Kind::Newline) {
                j += 1;
            } else if t.is_punct('(') {
                paren = true;
                j += 1;
            } else if t.is_any(&["tanggal", "tgl", "tanggalnya", "the", "date", "pada", "on"]) {
                j += 1;
                if self.punct_at(j, '.') || self.punct_at(j, ':') {
                    j += 1;
                }
            } else {
                break;
            }
        }
        (j, paren)
    }

    /// Connectors of a range: "-", "s.d.", "s/d", "sd", "sampai (dengan)", "hingga",
    /// "to", "until", "till", "through". Returns the index after it.
    pub fn range_conn(&self, i: usize) -> Option<usize> {
        range_conn(self.toks, i)
    }

    fn list_conn(&self, i: usize) -> Option<usize> {
        let mut j = i;
        if self.punct_at(j, ',') {
            j += 1;
            if self.tok(j).is_some_and(|t| t.is_any(&["dan", "and", "serta"])) {
                j += 1;
            }
            return Some(j);
        }
        if self.tok(j).is_some_and(|t| t.is_any(&["dan", "and", "serta", "&"])) || self.punct_at(j, '&') {
            return Some(j + 1);
        }
        None
    }

    /// A day of the month: 1-31, one or two digits, maybe "8th".
    fn day_at(&self, i: usize) -> Option<(u32, usize)> {
        let t = self.tok(i)?;
        if t.kind != Kind::Num || t.text.len() > 2 {
            return None;
        }
        let d = t.num()?;
        if !(1..=31).contains(&d) {
            return None;
        }
        let mut j = i + 1;
        if let Some(n) = self.tok(j)
            && !n.spaced
            && n.is_any(&["st", "nd", "rd", "th"])
        {
            j += 1;
        }
        // "09.00", "12:30", "10.000" are times or amounts, not days.
        if let Some(n) = self.tok(j)
            && !n.spaced
            && (n.is_punct('.') || n.is_punct(':') || n.is_punct(','))
            && self.tok(j + 1).is_some_and(|m| m.kind == Kind::Num && !m.spaced)
        {
            return None;
        }
        Some((d, j))
    }

    fn month_at(&self, i: usize) -> Option<(u32, usize)> {
        let m = month_of(self.tok(i)?)?;
        let mut j = i + 1;
        if self.punct_at(j, '.') && !self.tok(j + 1).is_some_and(|t| t.kind == Kind::Num && !t.spaced) {
            j += 1;
        }
        Some((m, j))
    }

    fn year_at(&self, i: usize) -> Option<(i32, usize)> {
        let t = self.tok(i)?;
        if t.kind == Kind::Num && t.text.len() == 4 {
            let y = t.num()? as i32;
            if (1900..=2200).contains(&y) {
                // A year glued to more digits ("2026/17000") is part of a letter number.
                if self.tok(i + 1).is_some_and(|n| {
                    !n.spaced && (n.is_punct('/')) && self.tok(i + 2).is_some_and(|m| m.kind == Kind::Num)
                }) {
                    return None;
                }
                return Some((y, i + 1));
            }
        }
        None
    }

    /// `12 Januari 2026`, `12 Jan`, `12-Jan-2026` (day then month then maybe year).
    fn dmy_at(&self, i: usize) -> Option<(Dm, usize)> {
        let (day, j) = self.day_at(i)?;
        let j = if self.punct_at(j, '-') && self.tok(j + 1).is_some_and(|t| month_of(t).is_some()) { j + 1 } else { j };
        let j = if self.word_at(j, "of") { j + 1 } else { j };
        let (month, mut k) = self.month_at(j)?;
        let mut year = None;
        let k0 = if self.punct_at(k, '-') || self.punct_at(k, ',') { k + 1 } else { k };
        if let Some((y, k2)) = self.year_at(k0) {
            year = Some(y);
            k = k2;
        }
        Some((Dm { day, month: Some(month), year }, k))
    }

    /// `June 8, 2026`, `Jan 12`.
    fn mdy_at(&self, i: usize) -> Option<(Dm, usize)> {
        let (month, j) = self.month_at(i)?;
        let (day, k) = self.day_at(j)?;
        let (year, k) = self.opt_year_after_comma(k);
        Some((Dm { day, month: Some(month), year }, k))
    }

    fn opt_year_after_comma(&self, k: usize) -> (Option<i32>, usize) {
        let k0 = if self.punct_at(k, ',') { k + 1 } else { k };
        match self.year_at(k0) {
            Some((y, k2)) => (Some(y), k2),
            None => (None, k),
        }
    }

    /// `12/01/2026`, `12-01-2026`, `12.01.2026`, `2026-01-12`; `4/2` only after a weekday
    /// or "tanggal" (alone it could be a fraction or part of a letter number).
    fn numeric_at(&self, i: usize, keyed: bool) -> Option<(Dm, usize)> {
        let a = self.tok(i)?;
        if a.kind != Kind::Num {
            return None;
        }
        let sep = self.tok(i + 1)?;
        if sep.spaced || !(sep.is_punct('/') || sep.is_punct('-') || sep.is_punct('.')) {
            return None;
        }
        let b = self.tok(i + 2)?;
        if b.spaced || b.kind != Kind::Num || b.text.len() > 2 {
            return None;
        }
        let sepc = sep.text;
        let glued_more = |k: usize| {
            self.tok(k).is_some_and(|n| {
                !n.spaced
                    && (n.is_punct('/') || n.is_punct('-') || n.is_punct('.'))
                    && self.tok(k + 1).is_some_and(|m| m.kind == Kind::Num && !m.spaced)
            })
        };
        let third = self
            .tok(i + 3)
            .filter(|s| !s.spaced && s.text == sepc)
            .and_then(|_| self.tok(i + 4))
            .filter(|c| !c.spaced && c.kind == Kind::Num);
        if let Some(c) = third {
            if glued_more(i + 5) {
                return None;
            }
            let (x, y, z) = (a.num()?, b.num()?, c.num()?);
            if a.text.len() == 4 && c.text.len() <= 2 {
                return Some((Dm { day: z, month: Some(y), year: Some(x as i32) }, i + 5));
            }
            // A two-digit year only with "/" or "-": "10.30.45" is a clock, not a date.
            if a.text.len() > 2 || !(c.text.len() == 4 || (c.text.len() == 2 && sepc != ".")) {
                return None;
            }
            let year = if c.text.len() == 2 { 2000 + z as i32 } else { z as i32 };
            // Day first; a "month" over 12 means the writer used the US order.
            let (d, m) = if y > 12 && x <= 12 { (y, x) } else { (x, y) };
            return Some((Dm { day: d, month: Some(m), year: Some(year) }, i + 5));
        }
        if keyed && sepc == "/" && a.text.len() <= 2 && !glued_more(i + 3) {
            return Some((Dm { day: a.num()?, month: Some(b.num()?), year: None }, i + 3));
        }
        None
    }

    /// The calendar part of a mention, after any weekday.
    fn core_at(&self, j: usize, keyed: bool) -> Option<(Core, usize)> {
        if let Some((first, k)) = self.numeric_at(j, keyed) {
            if let Some(k2) = self.range_conn(k) {
                let k3 = self.skip_weekday(k2);
                if let Some((second, k4)) = self.numeric_at(k3, true) {
                    return Some((Core::Range(first, second), k4));
                }
            }
            return Some((Core::Single(first), k));
        }
        if let Some((first, k)) = self.dmy_at(j) {
            return Some(self.after_full_date(first, k));
        }
        if let Some((first, k)) = self.mdy_at(j) {
            // "April 21-23, 2026", "Jan 12 and 14"
            if let Some(k2) = self.range_conn(k)
                && let Some((d2, k3)) = self.day_at(k2)
            {
                let (year, k4) = self.opt_year_after_comma(k3);
                let second = Dm { day: d2, month: first.month, year: year.or(first.year) };
                let first = Dm { year: first.year.or(year), ..first };
                return Some((Core::Range(first, second), k4));
            }
            return Some(self.after_full_date(first, k));
        }
        // A run of days before one month: "12 s.d. 14 Januari", "10 dan 12 Februari",
        // "12, 13 dan 15 Januari"; without a month only after "tanggal".
        let (d1, mut k) = self.day_at(j)?;
        let mut days = vec![d1];
        let mut is_range = false;
        loop {
            if let Some(k2) = self.range_conn(k)
                && days.len() == 1
                && let Some((d, k3)) = self.day_at(k2)
            {
                days.push(d);
                is_range = true;
                k = k3;
                continue;
            }
            if let Some(k2) = self.list_conn(k)
                && !is_range
                && let Some((d, k3)) = self.day_at(k2)
            {
                days.push(d);
                k = k3;
                continue;
            }
            break;
        }
        if let Some((month, k2)) = self.month_at(k) {
            let (year, k3) = match self.year_at(k2) {
                Some((y, k3)) => (Some(y), k3),
                None => (None, k2),
            };
            let dms: Vec<Dm> = days.iter().map(|&day| Dm { day, month: Some(month), year }).collect();
            if days.len() == 1 {
                return Some(self.after_full_date(dms[0], k3));
            }
            return Some((if is_range { Core::Range(dms[0], dms[1]) } else { Core::List(dms) }, k3));
        }
        // "30 Januari - 2 Februari 2026" is handled in after_full_date; here: day only.
        if keyed {
            let dms: Vec<Dm> = days.iter().map(|&day| Dm { day, month: None, year: None }).collect();
            if dms.len() == 1 {
                return Some((Core::Single(dms[0]), k));
            }
            return Some((if is_range { Core::Range(dms[0], dms[1]) } else { Core::List(dms) }, k));
        }
        None
    }

    fn skip_weekday(&self, k: usize) -> usize {
        let mut k = k;
        if self.word_at(k, "hari") {
            k += 1;
        }
        if self.tok(k).is_some_and(|t| weekday_of(t, true).is_some()) {
            k += 1;
            if self.punct_at(k, ',') || self.punct_at(k, '.') {
                k += 1;
            }
            if self.punct_at(k, '(') {
                k += 1;
            }
        }
        k
    }

    /// After one full date: a second one as the end of a range or the next of a list.
    fn after_full_date(&self, first: Dm, k: usize) -> (Core, usize) {
        if let Some(k2) = self.range_conn(k) {
            let k3 = self.skip_weekday(k2);
            if let Some((second, k4)) = self.dmy_at(k3).or_else(|| self.mdy_at(k3)) {
                let first = Dm { year: first.year.or(second.year), ..first };
                return (Core::Range(first, second), k4);
            }
        }
        let mut list = vec![first];
        let mut k = k;
        while let Some(k2) = self.list_conn(k) {
            let k3 = self.skip_weekday(k2);
            match self.dmy_at(k3).or_else(|| self.mdy_at(k3)) {
                Some((next, k4)) => {
                    list.push(next);
                    k = k4;
                }
                None => break,
            }
        }
        if list.len() > 1 {
            // "Senin 12 Jan dan Rabu 14 Jan 2026": the year written last holds for all.
            let year = list.iter().rev().find_map(|d| d.year);
            for d in &mut list {
                d.year = d.year.or(year);
            }
            return (Core::List(list), k);
        }
        (Core::Single(first), k)
    }

    fn mention_text(&self, first: usize, end: usize) -> String {
        let s = self.toks[first].start;
        let e = self.toks[end.saturating_sub(1).max(first)].end;
        self.text.get(s..e).unwrap_or("").to_string()
    }

    /// Turns the written parts into calendar days: fills a missing year (the next such
    /// day on or after the mail's day, unless it passed within the last two months:
    /// "rapat tanggal 12 Januari kemarin" written on the 13th looks back) and a missing
    /// month (from the date read before, else the next such day), and checks weekdays.
    fn resolve_core(&mut self, core: Core, weekdays: &[Weekday], first: usize, end: usize) -> Option<Vec<NaiveDate>> {
        let text = self.mention_text(first, end);
        let hint = if weekdays.len() == 1 { weekdays.first().copied() } else { None };
        let dates = match core {
            Core::Single(dm) => vec![self.resolve_dm(dm, hint, &text)?],
            Core::List(dms) => {
                let mut v = Vec::new();
                for (n, dm) in dms.into_iter().enumerate() {
                    v.push(self.resolve_dm(dm, weekdays.get(n).copied().filter(|_| weekdays.len() > 1), &text)?);
                }
                v
            }
            Core::Range(a, b) => {
                let b_res = self.resolve_dm(b, weekdays.last().copied().filter(|_| weekdays.len() > 1), &text)?;
                let a = Dm { month: a.month.or(Some(b_res.month())), year: a.year.or(Some(b_res.year())), ..a };
                let mut a_res = self.resolve_dm(a, weekdays.first().copied().filter(|_| weekdays.len() > 1), &text)?;
                // "30 Desember - 2 Januari 2027": the start lies in the year before.
                if a_res > b_res && a.month.is_some_and(|m| m > b_res.month()) {
                    a_res = NaiveDate::from_ymd_opt(a_res.year() - 1, a_res.month(), a_res.day()).unwrap_or(a_res);
                }
                let span = (b_res - a_res).num_days();
                if span < 0 {
                    self.problems.push(Problem::EndBeforeStart { text });
                    return Some(Vec::new());
                }
                if span > MAX_RANGE_DAYS {
                    self.problems.push(Problem::RangeTooLong { text });
                    return Some(Vec::new());
                }
                a_res.iter_days().take(span as usize + 1).collect()
            }
        };
        if let (Some(wd), [d]) = (hint, dates.as_slice())
            && d.weekday() != wd
        {
            self.problems.push(Problem::WeekdayMismatch { text, date: *d });
        }
        if let Some(d) = dates.last() {
            self.context = Some((d.year(), d.month()));
        }
        Some(dates)
    }

    fn resolve_dm(&mut self, dm: Dm, weekday: Option<Weekday>, text: &str) -> Option<NaiveDate> {
        let month = match dm.month {
            Some(m) => m,
            None => return self.resolve_day_only(dm.day, weekday, text),
        };
        if !(1..=12).contains(&month) {
            return None;
        }
        if let Some(y) = dm.year {
            return match NaiveDate::from_ymd_opt(y, month, dm.day) {
                Some(d) => Some(d),
                None => {
                    self.problems.push(Problem::NoSuchDate { text: text.to_string() });
                    None
                }
            };
        }
        let y = self.base.year();
        let candidates: Vec<NaiveDate> =
            [y - 1, y, y + 1].iter().filter_map(|&yy| NaiveDate::from_ymd_opt(yy, month, dm.day)).collect();
        if candidates.is_empty() {
            // "29 Februari" in no nearby year, "31 April" in none at all.
            self.problems.push(Problem::NoSuchDate { text: text.to_string() });
            return None;
        }
        if let Some(wd) = weekday
            && let Some(d) =
                candidates.iter().filter(|d| d.weekday() == wd).min_by_key(|d| (**d - self.base).num_days().abs())
        {
            return Some(*d);
        }
        let this = NaiveDate::from_ymd_opt(y, month, dm.day);
        match this {
            Some(d) if d >= self.base => Some(d),
            Some(d) if (self.base - d).num_days() <= 60 => Some(d),
            _ => NaiveDate::from_ymd_opt(y + 1, month, dm.day).or_else(|| {
                self.problems.push(Problem::NoSuchDate { text: text.to_string() });
                None
            }),
        }
    }

    fn resolve_day_only(&mut self, day: u32, weekday: Option<Weekday>, text: &str) -> Option<NaiveDate> {
        if let Some((y, m)) = self.context
            && let Some(d) = NaiveDate::from_ymd_opt(y, m, day)
        {
            return Some(d);
        }
        // The next such day of a month on or after the mail's day (matching the weekday
        // when one is written).
        let mut y = self.base.year();
        let mut m = self.base.month();
        for _ in 0..14 {
            if let Some(d) = NaiveDate::from_ymd_opt(y, m, day)
                && d >= self.base
                && weekday.is_none_or(|w| d.weekday() == w)
            {
                return Some(d);
            }
            m += 1;
            if m > 12 {
                m = 1;
                y += 1;
            }
        }
        self.problems.push(Problem::NoSuchDate { text: text.to_string() });
        None
    }

    /// "hari ini", "besok", "lusa", "Senin depan", "Kamis minggu depan", "minggu depan
    /// hari Kamis", "next Monday", "this Friday", "tomorrow", and bare weekdays.
    fn relative_at(&mut self, i: usize) -> Option<DateMention> {
        let base = self.base;
        let t = self.tok(i)?;
        let single = |me: &Self, end: usize, d: NaiveDate, s: Strength| Some(me.finish(i, end, vec![d], s));
        if t.is("hari") && self.word_at(i + 1, "ini") || t.is("today") {
            let end = if t.is("hari") { i + 2 } else { i + 1 };
            return single(self, end, base, Strength::Relative);
        }
        if t.is_any(&["besok", "esok", "besoknya"]) {
            if self.word_at(i + 1, "lusa") {
                return single(self, i + 2, base + Days::new(2), Strength::Relative);
            }
            // "besok Senin" is tomorrow, said twice.
            let end = if self.tok(i + 1).is_some_and(|n| weekday_of(n, false).is_some()) { i + 2 } else { i + 1 };
            return single(self, end, base + Days::new(1), Strength::Relative);
        }
        if t.is("tomorrow") {
            return single(self, i + 1, base + Days::new(1), Strength::Relative);
        }
        if t.is("lusa") {
            return single(self, i + 1, base + Days::new(2), Strength::Relative);
        }
        if t.is("day") && self.word_at(i + 1, "after") && self.word_at(i + 2, "tomorrow") {
            return single(self, i + 3, base + Days::new(2), Strength::Relative);
        }
        // "minggu depan (hari) Kamis", "pekan depan", "next week (on) Thursday"
        if let Some(k) = self.next_week_words(i) {
            let mut k2 = self.skip_nl(k);
            if self.punct_at(k2, ',') {
                k2 += 1;
            }
            while self.tok(k2).is_some_and(|t| t.is_any(&["pada", "hari", "on", "tepatnya", "yaitu"])) {
                k2 += 1;
            }
            let (days, k3) = self.weekday_list_at(k2, false);
            if !days.is_empty() {
                let dates = self.expand_weekdays(&days, |wd| weekday_of_next_week(base, wd));
                return Some(self.finish(i, k3, dates, Strength::Relative));
            }
            return None;
        }
        // "next Monday", "this Friday", "coming Monday"
        if t.is_any(&["next", "this", "coming"]) {
            let (days, k) = self.weekday_list_at(i + 1, false);
            if !days.is_empty() {
                let f: fn(NaiveDate, Weekday) -> NaiveDate =
                    if t.is("this") { weekday_on_or_after } else { next_weekday_after };
                let dates = self.expand_weekdays(&days, |wd| f(base, wd));
                return Some(self.finish(i, k, dates, Strength::Relative));
            }
            return None;
        }
        // Weekday-led: "Senin depan", "Kamis minggu depan", "Jumat ini", "hari Rabu".
        let with_hari = t.is("hari");
        let k0 = if with_hari || t.is_any(&["on", "pada"]) { i + 1 } else { i };
        let (days, k) = self.weekday_list_at(k0, false);
        if days.is_empty() {
            return None;
        }
        // "minggu" alone is "week" far more often than "Sunday": only "hari Minggu" is a day.
        if days.len() == 1 && days[0].0 == Weekday::Sun && !with_hari && self.tok(k0).is_some_and(|t| t.is("minggu")) {
            return None;
        }
        if self.word_at(k, "depan") || self.word_at(k, "mendatang") {
            let dates = self.expand_weekdays(&days, |wd| next_weekday_after(base, wd));
            return Some(self.finish(i, k + 1, dates, Strength::Relative));
        }
        if let Some(k2) = self.next_week_words(k) {
            let dates = self.expand_weekdays(&days, |wd| weekday_of_next_week(base, wd));
            return Some(self.finish(i, k2, dates, Strength::Relative));
        }
        if self.word_at(k, "ini")
            || self.word_at(k, "besok")
            || (self.word_at(k, "this") && self.word_at(k + 1, "week"))
        {
            let end = if self.word_at(k, "this") { k + 2 } else { k + 1 };
            let dates = self.expand_weekdays(&days, |wd| weekday_on_or_after(base, wd));
            return Some(self.finish(i, end, dates, Strength::Relative));
        }
        if self.word_at(k, "lalu") || self.word_at(k, "kemarin") || self.word_at(k, "last") {
            return None;
        }
        let dates = self.expand_weekdays(&days, |wd| next_weekday_after(base, wd));
        Some(self.finish(i, k, dates, Strength::Weak))
    }

    fn next_week_words(&self, i: usize) -> Option<usize> {
        let t = self.tok(i)?;
        if t.is_any(&["minggu", "pekan"]) && self.tok(i + 1).is_some_and(|n| n.is_any(&["depan", "mendatang"])) {
            return Some(i + 2);
        }
        if t.is("next") && self.word_at(i + 1, "week") {
            return Some(i + 2);
        }
        None
    }

    /// Full weekday names joined by range or list connectors.
    fn weekday_list_at(&self, i: usize, abbr: bool) -> (Vec<(Weekday, bool)>, usize) {
        let Some(first) = self.tok(i).and_then(|t| weekday_of(t, abbr)) else {
            return (Vec::new(), i);
        };
        let mut out = vec![(first, false)];
        let mut j = i + 1;
        loop {
            if let Some(k) = self.range_conn(j)
                && let Some(w) = self.tok(k).and_then(|t| weekday_of(t, abbr))
            {
                out.push((w, true));
                j = k + 1;
                continue;
            }
            if let Some(k) = self.list_conn(j)
                && let Some(w) = self.tok(k).and_then(|t| weekday_of(t, abbr))
            {
                out.push((w, false));
                j = k + 1;
                continue;
            }
            break;
        }
        (out, j)
    }

    /// Weekdays to dates: a `true` flag means "through" ("Senin-Rabu" is three days).
    fn expand_weekdays(&self, days: &[(Weekday, bool)], first: impl Fn(Weekday) -> NaiveDate) -> Vec<NaiveDate> {
        let mut out: Vec<NaiveDate> = Vec::new();
        for &(wd, through) in days {
            match (through, out.last().copied()) {
                (true, Some(prev)) => {
                    let mut d = prev;
                    for _ in 0..7 {
                        d = d + Days::new(1);
                        out.push(d);
                        if d.weekday() == wd {
                            break;
                        }
                    }
                }
                (_, Some(prev)) => {
                    let mut d = first(wd);
                    while d <= prev {
                        d = d + Days::new(7);
                    }
                    out.push(d);
                }
                _ => out.push(first(wd)),
            }
        }
        out
    }
}

/// Connectors of a range: "-", "s.d.", "s/d", "sd", "sampai (dengan)", "hingga", "to",
/// "until", "till", "through". Returns the index after it.
pub fn range_conn(toks: &[Tok], i: usize) -> Option<usize> {
    let t = toks.get(i)?;
    let at = |k: usize| toks.get(k);
    if t.is_punct('-') || t.is_punct('~') {
        return Some(i + 1);
    }
    if t.is("s") {
        // "s.d.", "s.d", "s/d", "s/d."
        if at(i + 1).is_some_and(|n| n.is_punct('.') || n.is_punct('/')) && at(i + 2).is_some_and(|n| n.is("d")) {
            let mut k = i + 3;
            if at(k).is_some_and(|n| n.is_punct('.') && !n.spaced) {
                k += 1;
            }
            return Some(k);
        }
        return None;
    }
    if t.is_any(&["sd", "sdg"]) {
        let mut k = i + 1;
        if at(k).is_some_and(|n| n.is_punct('.') && !n.spaced) {
            k += 1;
        }
        return Some(k);
    }
    if t.is("sampai") || t.is("smp") {
        let mut k = i + 1;
        if at(k).is_some_and(|n| n.is_any(&["dengan", "dgn"])) {
            k += 1;
            if at(k).is_some_and(|n| n.is_punct('.') && !n.spaced) {
                k += 1;
            }
        }
        return Some(k);
    }
    if t.is_any(&["hingga", "to", "until", "till", "through", "thru", "sampe"]) {
        return Some(i + 1);
    }
    None
}
