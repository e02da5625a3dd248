//! From date and time mentions to sessions.
//!
//! A request names its days in one place and its hours in another ("Hari/Tanggal: ..."
//! then "Pukul: ..."), or together per day ("Hari I: Senin, 9 Maret, pukul 08.00-12.00").
//! Each time is bound to a date: on the same line if one is there, else the date written
//! before it, else the one after. Every day of a bound date gets every time bound to it
//! (a range is one session per day; "Sesi I ... dan Sesi II ..." is two a day). Dates
//! that are not the meeting's are dropped first: deadlines ("paling lambat"), references
//! to letters ("surat ... tanggal"), stamps ("diperbarui"), past days, and dates that no
//! time is bound to when other dates have times.

use super::dates::{DateMention, DateReader, Strength};
use super::layout::masked_ranges;
use super::participants::head_count;
use super::text::{Kind, Tok, tokenize};
use super::times::{Role, TimeMention, TimeReader};
use super::{ParseOptions, Partial, Problem};
use crate::core::domain::Session;
use chrono::{DateTime, Days, Duration, FixedOffset, NaiveDate, NaiveTime, Offset, TimeZone};

#[derive(Debug, Clone, Default)]
pub struct Schedule {
    pub sessions: Vec<Session>,
    pub partial: Partial,
    pub problems: Vec<Problem>,
    /// Meeting dates were found (on or after the mail's day).
    pub dates_found: bool,
    pub times_found: bool,
    /// Dates were written but all lay before the mail's day.
    pub only_past_dates: bool,
    pub participants: Option<u32>,
}

/// Words that make the date or time after them something other than the meeting, and how
/// many words back they still count.
const FAR_CUES: &[&str] = &[
    "lambat",
    "lambatnya",
    "batas",
    "deadline",
    "surat",
    "nomor",
    "tertanggal",
    "dated",
    "diperbarui",
    "diupdate",
    "updated",
    "dikirim",
    "terkirim",
    "dibuat",
    "created",
    "dicetak",
    "printed",
    "kemarin",
    "kemaren",
    "yesterday",
    "cuti",
    "sejak",
    "since",
    "ditandatangani",
    "signed",
    "berlaku",
    "modified",
];
const NEAR_CUES: &[&str] = &[
    "sebelum",
    "before",
    "lalu",
    "last",
    "previous",
    "sebelumnya",
    "kembali",
    "return",
    "returning",
    "back",
    "terakhir",
    "later",
    "by",
];
/// Words that say "the meeting is": a cue before them no longer applies.
const RESET_CUES: &[&str] = &[
    "pada",
    "dilaksanakan",
    "diselenggarakan",
    "pelaksanaan",
    "dilangsungkan",
    "digelar",
    "diadakan",
    "berlangsung",
    "untuk",
    "acara",
    "kegiatan",
    "yaitu",
    "adalah",
    "jadwal",
    "agenda",
    "mulai",
    "dimulai",
    "meeting",
    "for",
];
const ABBREVIATIONS: &[&str] = &[
    "yth", "nip", "telp", "tlp", "pkl", "dll", "dsb", "tgl", "nmr", "hal", "no", "dr", "ir", "drs", "hj", "wib", "wit",
    "wita",
];

fn is_sentence_end(toks: &[Tok], k: usize) -> bool {
    let t = &toks[k];
    if t.is_punct('!') || t.is_punct('?') || t.is_punct(';') {
        return true;
    }
    if t.kind == Kind::Newline {
        return k > 0 && toks[k - 1].kind == Kind::Newline;
    }
    if t.is_punct(':') {
        return k > 0 && toks[k - 1].kind == Kind::Word;
    }
    if t.is_punct('.') && toks.get(k + 1).is_none_or(|n| n.spaced) && k > 0 {
        let p = &toks[k - 1];
        return (p.kind == Kind::Word && p.text.len() >= 3 && !p.is_any(ABBREVIATIONS))
            || (p.kind == Kind::Num && p.text.len() == 4);
    }
    false
}

/// Whether the words before token `first` (in its sentence) mark a non-meeting date.
fn distractor_before(toks: &[Tok], first: usize) -> bool {
    // A mention may open with its own "pada" ("pada Kamis, 26 Maret").
    if toks.get(first).is_some_and(|t| t.is_any(RESET_CUES)) {
        return false;
    }
    let mut words = 0;
    let mut k = first;
    while k > 0 && words < 12 {
        k -= 1;
        if is_sentence_end(toks, k) {
            return false;
        }
        let t = &toks[k];
        if t.kind != Kind::Word {
            continue;
        }
        words += 1;
        if t.is_any(RESET_CUES) {
            return false;
        }
        // "lanjutan dari rapat tanggal ..." looks back; "rapat lanjutan pada ..." does not.
        let follow_up = t.is_any(&["lanjutan", "kelanjutan", "follow-up", "followup"])
            && toks.get(k + 1).is_some_and(|n| n.is_any(&["dari", "of", "atas", "to"]));
        if follow_up || t.is_any(FAR_CUES) || (words <= 2 && t.is_any(NEAR_CUES)) {
            return true;
        }
    }
    false
}

fn line_of(line_starts: &[usize], offset: usize) -> usize {
    line_starts.partition_point(|&s| s <= offset).saturating_sub(1)
}

/// A local date and time in the written zone, else in the desk's zone.
fn instant(
    d: NaiveDate,
    t: NaiveTime,
    zone: Option<FixedOffset>,
    opts: &ParseOptions,
) -> Option<DateTime<FixedOffset>> {
    let ndt = d.and_time(t);
    match zone {
        Some(z) => z.from_local_datetime(&ndt).single(),
        None => opts.timezone.from_local_datetime(&ndt).earliest().map(|x| x.fixed_offset()),
    }
}

/// Minutes after midnight UTC of a time in its zone: the same hour written in WIB and in
/// WITA ("09.00 WIB / 10.00 WITA") is one slot, not two.
fn utc_key(t: NaiveTime, zone: Option<FixedOffset>, desk: FixedOffset) -> i64 {
    let off = zone.unwrap_or(desk).local_minus_utc() as i64 / 60;
    let m = t.signed_duration_since(NaiveTime::MIN).num_minutes();
    (m - off).rem_euclid(1440)
}

pub fn read(text: &str, base: NaiveDate, opts: &ParseOptions) -> Schedule {
    let lower = text.to_ascii_lowercase();
    let toks = tokenize(text, &lower).toks;
    let masked = masked_ranges(text);
    let mut usable = vec![true; toks.len()];
    let mut r = 0;
    for (i, t) in toks.iter().enumerate() {
        while r < masked.len() && masked[r].1 < t.start {
            r += 1;
        }
        if r < masked.len() && masked[r].0 <= t.start && t.start < masked[r].1 {
            usable[i] = false;
        }
    }
    let mut reader = DateReader::new(&toks, text, base);
    let all_dates = reader.read_all(&|i| usable[i]);
    let mut out = Schedule { problems: std::mem::take(&mut reader.problems), ..Default::default() };
    let mut taken = vec![false; toks.len()];
    for m in &all_dates {
        for x in taken.iter_mut().take(m.end_tok).skip(m.first_tok) {
            *x = true;
        }
    }
    let all_times = TimeReader::new(&toks, &taken).read_all(&|i| usable[i]);
    let mut counted = taken.clone();
    for (i, u) in usable.iter().enumerate() {
        counted[i] |= !u;
    }
    for m in &all_times {
        for x in counted.iter_mut().take(m.end_tok).skip(m.first_tok) {
            *x = true;
        }
    }
    out.participants = head_count(&toks, &counted);

    // Dates: drop distractors and the past.
    let mut any_past = false;
    let mut dates: Vec<DateMention> = Vec::new();
    for mut m in all_dates {
        if m.past_marked || distractor_before(&toks, m.first_tok) {
            continue;
        }
        let before = m.dates.len();
        m.dates.retain(|d| *d >= base);
        if m.dates.is_empty() {
            any_past |= before > 0;
            continue;
        }
        dates.push(m);
    }
    let strongest = dates.iter().map(|m| m.strength).max();
    if strongest.is_some_and(|s| s > Strength::Weak) {
        dates.retain(|m| m.strength > Strength::Weak);
    }

    // Times: drop distractors, join lone ends to their starts, merge the same slot
    // written in several zones.
    let desk = opts.timezone.offset_from_utc_date(&base).fix();
    let mut times: Vec<TimeMention> = Vec::new();
    for t in all_times {
        if distractor_before(&toks, t.first_tok) {
            continue;
        }
        if t.role == Role::End
            && let Some(prev) = times.iter_mut().rev().find(|p| p.to.is_none() && !p.open_end)
        {
            prev.to = Some((t.from, false));
            prev.zone = prev.zone.or(t.zone);
            continue;
        }
        let key = (utc_key(t.from, t.zone, desk), t.to.map(|(e, _)| utc_key(e, t.zone, desk)), t.open_end);
        if times
            .iter()
            .any(|p| (utc_key(p.from, p.zone, desk), p.to.map(|(e, _)| utc_key(e, p.zone, desk)), p.open_end) == key)
        {
            continue;
        }
        times.push(t);
    }
    out.dates_found = !dates.is_empty();
    out.times_found = !times.is_empty();
    out.only_past_dates = any_past && dates.is_empty();

    // Bind each time to a date.
    let mut line_starts = vec![0];
    line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    let mut bound: Vec<Vec<usize>> = vec![Vec::new(); dates.len()];
    for (ti, t) in times.iter().enumerate() {
        let line = line_of(&line_starts, t.start);
        let same_line: Vec<usize> =
            (0..dates.len()).filter(|&d| line_of(&line_starts, dates[d].start) == line).collect();
        let before =
            |set: &[usize]| set.iter().copied().filter(|&d| dates[d].start < t.start).max_by_key(|&d| dates[d].start);
        let after =
            |set: &[usize]| set.iter().copied().filter(|&d| dates[d].start > t.start).min_by_key(|&d| dates[d].start);
        let all: Vec<usize> = (0..dates.len()).collect();
        let target = before(&same_line).or_else(|| after(&same_line)).or_else(|| before(&all)).or_else(|| after(&all));
        if let Some(d) = target {
            bound[d].push(ti);
        }
    }

    let open = Duration::hours(i64::from(opts.open_ended_hours.clamp(1, 24)));
    let mut sessions: Vec<Session> = Vec::new();
    for (di, m) in dates.iter().enumerate() {
        for &day in &m.dates {
            for &ti in &bound[di] {
                let t = &times[ti];
                let Some(start) = instant(day, t.from, t.zone, opts) else { continue };
                let session = match t.to {
                    Some((to, next_day)) => {
                        let end_day = if next_day { day + Days::new(1) } else { day };
                        let Some(end) = instant(end_day, to, t.zone, opts) else { continue };
                        match Session::new(start, end, false) {
                            Ok(s) => s,
                            Err(_) => {
                                let problem = Problem::EndBeforeStart {
                                    text: text.get(t.start..t.end).unwrap_or("").to_string(),
                                };
                                if !out.problems.contains(&problem) {
                                    out.problems.push(problem);
                                }
                                continue;
                            }
                        }
                    }
                    None => match Session::new(start, start + open, true) {
                        Ok(s) => s,
                        Err(_) => continue,
                    },
                };
                if !sessions.iter().any(|s| s.start() == session.start()) {
                    sessions.push(session);
                }
            }
        }
    }
    sessions.sort_by_key(|s| s.start_utc());
    if sessions.is_empty() {
        let mut ds: Vec<NaiveDate> = dates.iter().flat_map(|m| m.dates.iter().copied()).collect();
        ds.dedup();
        out.partial = Partial { dates: ds, times: times.iter().map(|t| (t.from, t.to.map(|(e, _)| e))).collect() };
    }
    out.sessions = sessions;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::SecondsFormat;

    fn opts() -> ParseOptions {
        ParseOptions {
            timezone: chrono_tz::Asia::Jakarta,
            open_ended_hours: 4,
            now: DateTime::parse_from_rfc3339("2026-01-05T09:00:00+07:00").unwrap(),
        }
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// Sessions as "start/end" (RFC 3339) or "start/open".
    fn sessions(text: &str, base: &str) -> Vec<String> {
        let s = read(text, day(base), &opts());
        s.sessions
            .iter()
            .map(|x| {
                let st = x.start().to_rfc3339_opts(SecondsFormat::Secs, false);
                if x.open_ended() {
                    format!("{st}/open")
                } else {
                    format!("{st}/{}", x.end().to_rfc3339_opts(SecondsFormat::Secs, false))
                }
            })
            .collect()
    }

    fn one(start: &str, end: &str) -> Vec<String> {
        vec![format!("{start}/{end}")]
    }

    #[test]
    fn single_sessions_in_many_spellings() {
        let base = "2026-01-05"; // a Monday
        let want = one("2026-01-12T09:00:00+07:00", "2026-01-12T12:00:00+07:00");
        for text in [
            "hari/tanggal : Senin, 12 Januari 2026\npukul        : 09.00 - 12.00 WIB",
            "pada hari Senin, 12 Januari 2026 pukul 09.00 s.d. 12.00 WIB",
            "tanggal 12 Jan 2026 jam 09:00-12:00",
            "Senin 12/01/2026 pukul 09.00 s/d 12.00",
            "12-01-2026, 09.00 sd 12.00 WIB",
            "12.01.2026 pk. 09.00-12.00",
            "2026-01-12 09:00 - 12:00",
            "Senin (12/1/2026) pukul 09.00 sampai 12.00 WIB",
            "Senin (12/1) pukul 9 pagi sampai 12 siang",
            "12 Januari pukul 09.00 sampai dengan 12.00",
            "Monday, 12 January 2026, 9am-12pm",
            "on January 12, 2026 from 9:00 AM to 12:00 PM",
            "on Mon 12 Jan 2026 at 9 a.m. until 12 p.m.",
            "Hari/Tanggal: Senin, 12 Januari 2026\nWaktu: 09.00 hingga 12.00",
            "Waktu: 09.00 - 12.00 WIB\nTanggal: 12 Januari 2026",
            "Tanggal kegiatan : 2026-01-12\nJam mulai : 09:00\nJam selesai : 12:00",
            "When: from 09:00 to 12:00 WIB on Monday, 12 January 2026",
            "Senin, 12 Januari 2026\n    jam 9 pagi - 12 siang",
            "12th January 2026, 09.00 - 12.00",
            "Senin 12 Januari 2026 pukul 09.00 \u{2013} 12.00 WIB",
            "tgl. 12 Januari 2026 pkl. 09.00 - 12.00",
            "Senin, 12 Januari 2026 pukul 09.00 - 12.00 WIB (10.00 - 13.00 WITA)",
        ] {
            assert_eq!(sessions(&crate::core::parse::text::normalize(text), base), want, "{text}");
        }
    }

    #[test]
    fn time_words_am_pm_and_zones() {
        let base = "2026-01-05";
        for (text, start, end) in [
            ("12 Januari 2026 jam 2 siang sampai jam 4 sore", "2026-01-12T14:00:00+07:00", "2026-01-12T16:00:00+07:00"),
            ("12 Januari 2026 pukul 7 malam - 9 malam", "2026-01-12T19:00:00+07:00", "2026-01-12T21:00:00+07:00"),
            ("12 Januari 2026 pukul 8 pagi s.d. 10 pagi", "2026-01-12T08:00:00+07:00", "2026-01-12T10:00:00+07:00"),
            ("12 Januari 2026 jam 1 - 3 sore", "2026-01-12T13:00:00+07:00", "2026-01-12T15:00:00+07:00"),
            (
                "12 Januari 2026 pukul 19.30 (malam) s.d. 21.00",
                "2026-01-12T19:30:00+07:00",
                "2026-01-12T21:00:00+07:00",
            ),
            ("12 Januari 2026 pukul 2 - 4", "2026-01-12T14:00:00+07:00", "2026-01-12T16:00:00+07:00"),
            ("January 12, 2026, 2-4pm", "2026-01-12T14:00:00+07:00", "2026-01-12T16:00:00+07:00"),
            ("January 12, 2026 at 2:30 PM - 4 PM", "2026-01-12T14:30:00+07:00", "2026-01-12T16:00:00+07:00"),
            ("12 Januari 2026 pukul 13.00 - 15.00 WITA", "2026-01-12T13:00:00+08:00", "2026-01-12T15:00:00+08:00"),
            (
                "12 Januari 2026 pukul 10.00 WIT s.d. 12.00 WIT",
                "2026-01-12T10:00:00+09:00",
                "2026-01-12T12:00:00+09:00",
            ),
            (
                "12 Januari 2026 pukul 09.00-11.00 Waktu Indonesia Tengah",
                "2026-01-12T09:00:00+08:00",
                "2026-01-12T11:00:00+08:00",
            ),
            ("12 Januari 2026 13:00-14:00 GMT+7", "2026-01-12T13:00:00+07:00", "2026-01-12T14:00:00+07:00"),
            ("12 Januari 2026 pukul 22.00 - 24.00", "2026-01-12T22:00:00+07:00", "2026-01-13T00:00:00+07:00"),
        ] {
            assert_eq!(sessions(text, base), one(start, end), "{text}");
        }
    }

    #[test]
    fn open_ends() {
        let base = "2026-01-05";
        for text in [
            "12 Januari 2026 pukul 13.30 WIB s.d. selesai",
            "12 Januari 2026 pukul 13.30 sampai selesai",
            "12 Januari 2026 pukul 13.30 - selesai",
            "12 Januari 2026 13.30 WIB-selesai",
            "January 12, 2026 from 1:30 PM until finished",
            "12 Januari 2026 mulai pukul 13.30",
            "12 Januari 2026 pukul 13.30 hingga selesai",
        ] {
            assert_eq!(sessions(text, base), vec!["2026-01-12T13:30:00+07:00/open".to_string()], "{text}");
        }
    }

    #[test]
    fn ranges_lists_and_per_day_times() {
        let base = "2026-01-05";
        let days = |ds: &[&str], from: &str, to: &str| -> Vec<String> {
            ds.iter().map(|d| format!("{d}T{from}:00+07:00/{d}T{to}:00+07:00")).collect()
        };
        let three = days(&["2026-01-12", "2026-01-13", "2026-01-14"], "08:00", "16:00");
        for text in [
            "Senin s.d. Rabu, 12 s.d. 14 Januari 2026\npukul 08.00-16.00 WIB",
            "tanggal 12-14 Januari 2026 pukul 08.00 - 16.00",
            "12 Januari 2026 s.d. 14 Januari 2026, 08.00-16.00",
            "12/01/2026 - 14/01/2026 pukul 08.00-16.00",
            "from Monday to Wednesday, 12-14 January 2026, 8am-4pm",
            "January 12-14, 2026, 08:00-16:00",
            "12, 13 dan 14 Januari 2026 pukul 08.00-16.00",
            "tanggal 12 hingga 14 Januari 2026 jam 08.00-16.00",
        ] {
            assert_eq!(sessions(text, base), three, "{text}");
        }
        assert_eq!(sessions("30 Januari - 2 Februari 2026 pukul 08.00-12.00", base).len(), 4);
        assert_eq!(sessions("30 Desember 2026 - 2 Januari 2027 pukul 08.00-12.00", base).len(), 4);
        assert_eq!(
            sessions("Selasa dan Kamis, 13 dan 15 Januari 2026 pukul 09.00 - 11.30", base),
            [days(&["2026-01-13"], "09:00", "11:30"), days(&["2026-01-15"], "09:00", "11:30")].concat()
        );
        assert_eq!(sessions("Senin, 12 Januari 2026 dan Rabu, 14 Januari 2026 pukul 09.00-11.00", base).len(), 2);
        let per_day =
            "Hari I: Senin, 9 Maret 2026, pukul 08.00-12.00 WIB\nHari II: Selasa, 10 Maret 2026, pukul 13.00-16.00 WIB";
        assert_eq!(
            sessions(per_day, base),
            [days(&["2026-03-09"], "08:00", "12:00"), days(&["2026-03-10"], "13:00", "16:00")].concat()
        );
        let per_day_lines = "Hari pertama : Senin, 9 Maret 2026\nPukul : 08.00-12.00\nHari kedua : Selasa, 10 Maret 2026\nPukul : 13.00-16.00";
        assert_eq!(
            sessions(per_day_lines, base),
            [days(&["2026-03-09"], "08:00", "12:00"), days(&["2026-03-10"], "13:00", "16:00")].concat()
        );
        let two_a_day = "Hari/Tanggal: Kamis, 26 Februari 2026\nWaktu: Sesi I pukul 09.00-11.00 WIB dan Sesi II pukul 13.00-15.00 WIB";
        assert_eq!(
            sessions(two_a_day, base),
            [days(&["2026-02-26"], "09:00", "11:00"), days(&["2026-02-26"], "13:00", "15:00")].concat()
        );
        let three_zones = "Senin, 22 Juni 2026\nWaktu: 09.00 - 11.00 WIB / 10.00 - 12.00 WITA / 11.00 - 13.00 WIT";
        assert_eq!(sessions(three_zones, base), days(&["2026-06-22"], "09:00", "11:00"));
        let open_range = "tanggal 12 s.d. 14 Mei 2026\npukul 08.00 WIB s.d. selesai";
        assert_eq!(sessions(open_range, base).len(), 3);
    }

    #[test]
    fn relative_dates_count_from_the_mail_day() {
        // 2026-04-16 is a Thursday, 2026-03-06 a Friday, 2026-06-01 a Monday.
        for (text, base, start) in [
            ("besok pukul 09.00-11.00", "2026-02-10", "2026-02-11T09:00:00+07:00"),
            ("esok hari pukul 09.00-11.00", "2026-02-10", "2026-02-11T09:00:00+07:00"),
            ("lusa jam 1 siang sampai jam 3 sore", "2026-03-04", "2026-03-06T13:00:00+07:00"),
            ("hari ini pukul 15.00-16.30", "2026-05-12", "2026-05-12T15:00:00+07:00"),
            ("Senin depan pukul 08.30 - 10.00", "2026-04-16", "2026-04-20T08:30:00+07:00"),
            ("Jumat depan pukul 13.30-15.00", "2026-03-06", "2026-03-13T13:30:00+07:00"),
            ("minggu depan hari Kamis pukul 10.00-12.00", "2026-06-01", "2026-06-11T10:00:00+07:00"),
            ("Kamis minggu depan pukul 10.00-12.00", "2026-06-01", "2026-06-11T10:00:00+07:00"),
            ("pekan depan, Kamis, pukul 10.00-12.00", "2026-06-01", "2026-06-11T10:00:00+07:00"),
            ("next Monday 9am-11am", "2026-04-16", "2026-04-20T09:00:00+07:00"),
            ("tomorrow from 10:00 to 11:00", "2026-02-10", "2026-02-11T10:00:00+07:00"),
            ("Rabu ini pukul 09.00-10.00", "2026-06-01", "2026-06-03T09:00:00+07:00"),
            ("hari Rabu pukul 09.00-10.00", "2026-06-01", "2026-06-03T09:00:00+07:00"),
            ("tanggal 3 pukul 09.00-10.00", "2026-06-01", "2026-06-03T09:00:00+07:00"),
            ("tanggal 3 pukul 09.00-10.00", "2026-06-05", "2026-07-03T09:00:00+07:00"),
            ("Rabu, 6 Januari pukul 09.00 - 11.00", "2026-12-29", "2027-01-06T09:00:00+07:00"),
            ("12 Januari pukul 13.00 - 15.00", "2026-01-07", "2026-01-12T13:00:00+07:00"),
        ] {
            let got = sessions(text, base);
            assert_eq!(
                got.first().map(|s| s.split('/').next().unwrap_or("")),
                Some(start),
                "{text} from {base}: {got:?}"
            );
        }
        let range = sessions("Senin-Rabu minggu depan pukul 09.00-12.00", "2026-06-03");
        assert_eq!(range.len(), 3, "{range:?}");
        assert!(range[0].starts_with("2026-06-08T09:00"), "{range:?}");
    }

    #[test]
    fn distractors_are_not_the_meeting() {
        let base = "2026-01-21";
        let want = one("2026-01-26T08:00:00+07:00", "2026-01-26T16:00:00+07:00");
        for text in [
            "NOTA DINAS\nNomor : B-245/17000/HM.340/01/2026\nYth. : PJK TIP\nDari : Ketua Tim\nHal : Permohonan\nTanggal : 21 Januari 2026\n____\n\nhari/tanggal : Senin, 26 Januari 2026\npukul : 08.00-16.00",
            "Menindaklanjuti surat Nomor B-897/BPS/2100/01/2026 tanggal 23 Januari 2026 perihal Pelatihan, kegiatan dilaksanakan pada Senin, 26 Januari 2026 pukul 08.00-16.00.",
            "Pelatihan pada Senin, 26 Januari 2026 pukul 08.00-16.00. Mohon tautan dikirim paling lambat Jumat, 23 Januari 2026 pukul 12.00.",
            "Pelatihan pada Senin, 26 Januari 2026 pukul 08.00-16.00. Konfirmasi selambat-lambatnya 24 Januari 2026.",
            "Rapat ini lanjutan dari rapat tanggal 15 Januari 2026.\nHari/tanggal : Senin, 26 Januari 2026\nPukul : 08.00-16.00",
            "Tanggal kegiatan : 2026-01-26\nJam mulai : 08:00\nJam selesai : 16:00\nCatatan: terakhir diperbarui 2026-01-21 08:56.",
            "Senin, 26 Januari 2026 pukul 08.00-16.00. Hubungi 0812-2640-3012.\nNIP. 19730305 200102 1 007",
            "Rapat kemarin tanggal 20 Januari 2026 pukul 09.00 lancar. Mohon lagi Senin, 26 Januari 2026 pukul 08.00-16.00.",
            "From: A <a@b.test>\nDate: Wed, Jan 21, 2026 at 8:54 AM\nSubject: Undangan\nTo: <x@b.test>\n\nHari/Tanggal : Senin, 26 Januari 2026\nWaktu : 08.00 - 16.00",
            "Deadline: 24 Januari 2026.\nHari/Tanggal : Senin, 26 Januari 2026\nWaktu : 08.00 - 16.00",
            "Senin, 26 Januari 2026 pukul 08.00-16.00, peserta dari 10 kabupaten/kota, kira-kira 10 - 15 orang per kabupaten.",
            "Senin, 26 Januari 2026 pukul 08.00-16.00 di Lantai 2, Ruang 3.14, versi aplikasi 2.10.1.",
        ] {
            assert_eq!(sessions(text, base), want, "{text}");
        }
    }

    #[test]
    fn partial_and_problems() {
        let base = "2026-01-05";
        let s = read("Mohon zoom tanggal 12 Januari 2026.", day(base), &opts());
        assert!(s.sessions.is_empty());
        assert_eq!(s.partial.dates, [day("2026-01-12")]);
        let s = read("Mohon zoom pukul 09.00 - 11.00.", day(base), &opts());
        assert!(s.sessions.is_empty() && s.partial.dates.is_empty());
        assert_eq!(s.partial.times.len(), 1);
        let s = read("tanggal 30 Februari 2026 pukul 09.00-11.00", day(base), &opts());
        assert!(s.sessions.is_empty());
        assert!(
            matches!(s.problems.as_slice(), [Problem::NoSuchDate { text }] if text.contains("30 Februari 2026")),
            "{:?}",
            s.problems
        );
        let s = read("12 Januari 2026 pukul 15.00 - 13.00", day(base), &opts());
        assert!(s.sessions.is_empty());
        assert!(matches!(s.problems.as_slice(), [Problem::EndBeforeStart { .. }]), "{:?}", s.problems);
        let s = read("rapat tanggal 4 Januari kemarin berjalan lancar dengan 150 peserta", day(base), &opts());
        assert!(s.sessions.is_empty() && s.partial.dates.is_empty());
    }
}
