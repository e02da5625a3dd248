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
    "lambat", "lambatnya", "batas", "deadline", "surat", "nomor", "tertanggal", "dated", "diperbarui", "diupdate", "updated", "dikirim",
    "terkirim", "dibuat", "created", "dicetak", "printed", "kemarin", "kemaren", "yesterday", "cuti", "sejak", "since",
    "ditandatangani", "signed", "berlaku", "modified",
];
const NEAR_CUES: &[&str] = &["sebelum", "before", "lalu", "last", "previous", "sebelumnya", "kembali", "return", "returning", "back", "terakhir", "later", "by"];
/// Words that say "the meeting is": a cue before them no longer applies.
const RESET_CUES: &[&str] = &[
    "pada", "dilaksanakan", "diselenggarakan", "pelaksanaan", "dilangsungkan", "digelar", "diadakan", "berlangsung", "untuk", "acara",
    "kegiatan", "yaitu", "adalah", "jadwal", "agenda", "mulai", "dimulai", "meeting", "for",
];
const ABBREVIATIONS: &[&str] = &["yth", "nip", "telp", "tlp", "pkl", "dll", "dsb", "tgl", "nmr", "hal", "no", "dr", "ir", "drs", "hj", "wib", "wit", "wita"];

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
        return (p.kind == Kind::Word && p.text.len() >= 3 && !p.is_any(ABBREVIATIONS)) || (p.kind == Kind::Num && p.text.len() == 4);
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
        let follow_up = t.is_any(&["lanjutan", "kelanjutan", "follow-up", "followup"]) && toks.get(k + 1).is_some_and(|n| n.is_any(&["dari", "of", "atas", "to"]));
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
fn instant(d: NaiveDate, t: NaiveTime, zone: Option<FixedOffset>, opts: &ParseOptions) -> Option<DateTime<FixedOffset>> {
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
        if times.iter().any(|p| (utc_key(p.from, p.zone, desk), p.to.map(|(e, _)| utc_key(e, p.zone, desk)), p.open_end) == key) {
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
        let same_line: Vec<usize> = (0..dates.len()).filter(|&d| line_of(&line_starts, dates[d].start) == line).collect();
        let before = |set: &[usize]| set.iter().copied().filter(|&d| dates[d].start < t.start).max_by_key(|&d| dates[d].start);
        let after = |set: &[usize]| set.iter().copied().filter(|&d| dates[d].start > t.start).min_by_key(|&d| dates[d].start);
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
                                let problem = Problem::EndBeforeStart { text: text.get(t.start..t.end).unwrap_or("").to_string() };
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
