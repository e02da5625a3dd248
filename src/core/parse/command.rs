//! Commands in replies: approve (SETUJU, disetujui, ACC, OK, approved), reject (TOLAK,
//! ditolak, tidak setuju, belum bisa disetujui, rejected), cancel (BATAL, mohon
//! dibatalkan, tidak jadi, cancel) and close (SELESAI, done, "lisensi sudah direset").
//!
//! Read from the new text only (see `quote`). A negated approval is a rejection, a
//! conditional cancel ("jika kegiatan batal, ...") is advice, not a command, and
//! "persetujuan" is a noun, not a yes. Two different commands in one reply ("SETUJU ...
//! eh TOLAK") are not guessed between: the desk asks again.

use regex::Regex;
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Approve,
    Reject,
    Cancel,
    Close,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    None,
    One { command: Command, reason: Option<String>, at: usize },
    Conflict { commands: Vec<Command> },
}

static NEG_APPROVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(tidak|tak|belum|nggak|ngga|gak|ga|enggak|tdk|blm|not|cannot|can't|can not|won't|don't|do not|unable to)\s+((bisa|dapat|boleh|akan|kami|saya|be|we|i|dpt)\s+){0,2}(di|me|ku)?(setuju(i|kan)?|approve[ds]?|acc)\b").expect("static regex")
});
static REJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(tolak|ditolak|menolak|tolaklah|reject|rejected|rejects|decline|declined|denied|disapprove[ds]?)\b",
    )
    .expect("static regex")
});
static APPROVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(setuju|disetujui|setujui|menyetujui|kusetujui|approve|approved|approves|acc|di-?acc|agreed?|diizinkan|diijinkan|silak?h?an\s+dipinjam(kan)?|silak?h?an\s+diproses|silak?h?an\s+digunakan|silak?h?an\s+dipakai|dipersilak?h?an)\b").expect("static regex")
});
static CANCEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(batal|batalkan|dibatalkan|membatalkan|pembatalan|dibatalin|batalin|cancel|cancelled|canceled|cancels|cancellation|urungkan|diurungkan|(tidak|gak|nggak|ngga|ga|enggak|tdk)\s+jadi|call(ed)?\s+off)\b").expect("static regex")
});
static CLOSE_LEAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\W*((sudah|telah|already)\s+)?(selesai|done|closed|completed|complete|beres|tuntas|finished)\b")
        .expect("static regex")
});
static CLOSE_ANY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(sudah|telah|has been|have been|was|been)\s+((saya|kami|di)\s+)?(di)?(reset|kembalikan|dikembalikan|diturunkan|downgraded|restored|set back)\b").expect("static regex")
});
static CONDITIONAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(jika|jikalau|kalau|kalo|apabila|bila|bilamana|seandainya|andaikan|andai|manakala|if|in case|should|whether|unless)\b").expect("static regex")
});
static DESCRIPTIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(yang|which|that|mohon|harap|minta|please|untuk|to)\s+(\w+\s+){0,2}$").expect("static regex")
});
static REASON_MARK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(karena|karna|krn|sebab|dikarenakan|disebabkan|alasan(nya)?|because|due to|since)\b\s*:?\s*")
        .expect("static regex")
});
/// A short first line made only of these words is a yes ("Oke, silakan.", "Y", "ya boleh").
/// With thanks in it ("Oke, terima kasih") it acknowledges a notice instead.
static YES_WORDS: &[&str] = &[
    "ok",
    "oke",
    "okay",
    "okey",
    "okee",
    "okeh",
    "y",
    "ya",
    "yes",
    "yup",
    "boleh",
    "sip",
    "siap",
    "lanjut",
    "lanjutkan",
    "go",
    "silakan",
    "silahkan",
    "monggo",
];
static YES_FILLER: &[&str] = &[
    "ahead",
    "pak",
    "bu",
    "bapak",
    "ibu",
    "mas",
    "mbak",
    "min",
    "saja",
    "aja",
    "deh",
    "please",
    "proceed",
    "dipinjamkan",
    "diproses",
];
/// "Mohon maaf, tidak bisa" leading a reply to an approval request is a no.
static REJECT_LEAD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\W*((mohon\s+)?maaf,?\s+)?(tidak|tak|belum|gak|nggak)\s+(bisa|dapat|boleh)\b")
        .expect("static regex")
});

const FILLER: &[&str] = &[
    "terima kasih",
    "terimakasih",
    "makasih",
    "thanks",
    "thank you",
    "mohon maaf",
    "maaf",
    "sorry",
    "salam",
    "regards",
    "best regards",
    "hormat kami",
    "wassalam",
    "tks",
    "trims",
    "mohon",
    "please",
    "yth",
    "dear",
    "hi",
    "halo",
    "hai",
    "selamat pagi",
    "selamat siang",
    "selamat sore",
    "selamat malam",
    "assalamualaikum",
    "bapak/ibu",
    "baik",
    "ok",
    "oke",
];
const EVENT_SUBJECTS: &[&str] = &[
    "kegiatan",
    "kegiatannya",
    "acara",
    "acaranya",
    "rapat",
    "rapatnya",
    "meeting",
    "the",
    "event",
    "pertemuan",
    "webinar",
];

/// The paragraphs that carry words, without a short name or sign-off paragraph at the end.
fn body_paragraphs(text: &str) -> String {
    let paras: Vec<&str> = text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).collect();
    let mut keep: Vec<&str> = Vec::new();
    for (n, p) in paras.iter().enumerate() {
        let words = p.split_whitespace().count();
        let looks_like_name = n > 0 && words <= 3 && !CANCEL.is_match(p) && !REJECT.is_match(p) && !APPROVE.is_match(p);
        if !looks_like_name {
            keep.push(p);
        }
    }
    keep.join("\n")
}

const MAX_HITS: usize = 20;

/// The last `max` bytes of `text[..end]`, on a character boundary.
fn tail(text: &str, end: usize, max: usize) -> &str {
    let mut start = end.saturating_sub(max);
    while start > 0 && !text.is_char_boundary(start) {
        start -= 1;
    }
    &text[start..end]
}

struct Hit {
    command: Command,
    start: usize,
    end: usize,
}

fn hits(text: &str) -> Vec<Hit> {
    let mut out: Vec<Hit> = Vec::new();
    let mut taken: Vec<(usize, usize)> = Vec::new();
    let overlaps = |taken: &[(usize, usize)], s: usize, e: usize| taken.iter().any(|&(a, b)| s < b && a < e);
    // Bounded: a reply has a handful of commands; a hostile body of thousands must not
    // make the clause checks below quadratic.
    for m in NEG_APPROVE.find_iter(text).take(MAX_HITS) {
        out.push(Hit { command: Command::Reject, start: m.start(), end: m.end() });
        taken.push((m.start(), m.end()));
    }
    for m in REJECT.find_iter(text).take(MAX_HITS) {
        if !overlaps(&taken, m.start(), m.end()) {
            out.push(Hit { command: Command::Reject, start: m.start(), end: m.end() });
        }
    }
    for m in APPROVE.find_iter(text).take(MAX_HITS) {
        if overlaps(&taken, m.start(), m.end()) || DESCRIPTIVE.is_match(tail(text, m.start(), 60)) {
            continue;
        }
        out.push(Hit { command: Command::Approve, start: m.start(), end: m.end() });
    }
    for m in CANCEL.find_iter(text).take(MAX_HITS) {
        let before = tail(text, m.start(), 200);
        let sentence = before.rfind(['.', ';', '!', '?', '\n']).map(|k| &before[k + 1..]).unwrap_or(before);
        if CONDITIONAL.is_match(sentence) {
            continue;
        }
        out.push(Hit { command: Command::Cancel, start: m.start(), end: m.end() });
    }
    if let Some(m) = REJECT_LEAD.find(text)
        && !overlaps(&taken, m.start(), m.end())
        && !out.iter().any(|h| h.command == Command::Cancel)
    {
        out.push(Hit { command: Command::Reject, start: m.start(), end: m.end() });
    }
    if let Some(m) = CLOSE_LEAD.find(text) {
        out.push(Hit { command: Command::Close, start: m.start(), end: m.end() });
    }
    for m in CLOSE_ANY.find_iter(text).take(MAX_HITS) {
        out.push(Hit { command: Command::Close, start: m.start(), end: m.end() });
    }
    // A one-line "OK" / "Y" / "ya" from an approver.
    if out.is_empty() {
        let first = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
        let word_count = text.split_whitespace().count();
        let low = first.to_lowercase();
        let words: Vec<&str> = low.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
        let yes = words.iter().any(|w| YES_WORDS.contains(w))
            && words.iter().all(|w| YES_WORDS.contains(w) || YES_FILLER.contains(w));
        if word_count <= 8 && yes {
            out.push(Hit { command: Command::Approve, start: 0, end: first.len() });
        }
    }
    out.sort_by_key(|h| h.start);
    out
}

/// Reads the command of a reply's new text.
pub fn read(new_text: &str) -> Reading {
    let text = body_paragraphs(new_text);
    let found = hits(&text);
    let Some(first) = found.first() else { return Reading::None };
    let kinds: Vec<Command> = found.iter().map(|h| h.command).fold(Vec::new(), |mut v, c| {
        if !v.contains(&c) {
            v.push(c);
        }
        v
    });
    let conflict =
        kinds.contains(&Command::Approve) && kinds.len() > 1 || kinds.contains(&Command::Close) && kinds.len() > 1;
    if conflict {
        return Reading::Conflict { commands: kinds };
    }
    let command = first.command;
    let reason = match command {
        Command::Reject | Command::Cancel => reason(&text, &found),
        _ => None,
    };
    Reading::One { command, reason, at: first.start }
}

fn reason(text: &str, found: &[Hit]) -> Option<String> {
    if let Some(m) = REASON_MARK.find(text) {
        let rest = &text[m.end()..];
        let end = rest.find(['\n', '!', '?']).unwrap_or(rest.len());
        let r = tidy(&rest[..end]);
        if !r.is_empty() {
            return Some(r);
        }
    }
    // Clauses that hold no command and are not politeness.
    let mut parts = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut cuts = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        let dash = (b == b'-' || b == b':') && i > 0 && bytes[i - 1] == b' ' && bytes.get(i + 1) == Some(&b' ');
        let dash = dash
            || (b == b'-'
                && i > 0
                && bytes[i - 1].is_ascii_alphabetic()
                && bytes[..i].iter().rev().take_while(|c| c.is_ascii_alphabetic()).count() >= 4
                && bytes.get(i + 1) == Some(&b' '));
        // "09.00" and "1,5" are numbers, not clause ends.
        let in_number = matches!(b, b'.' | b',' | b':')
            && i > 0
            && bytes[i - 1].is_ascii_digit()
            && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
        if !in_number && (matches!(b, b'.' | b'!' | b'?' | b';' | b',' | b'\n') || dash) {
            cuts.push(i);
        }
    }
    cuts.push(text.len());
    for &c in &cuts {
        if c < start {
            continue;
        }
        parts.push((start, c));
        start = c + 1;
    }
    let mut kept = Vec::new();
    for (s, e) in parts {
        let clause = text[s..e].trim();
        if clause.is_empty() {
            continue;
        }
        let low = clause.to_lowercase();
        let first_word = low.split_whitespace().next().unwrap_or("");
        let has_command = found.iter().any(|h| h.start < e && h.end > s);
        if has_command && !EVENT_SUBJECTS.contains(&first_word) {
            continue;
        }
        if FILLER.iter().any(|f| {
            low == *f
                || low.starts_with(&format!("{f} "))
                    && low.split_whitespace().count() <= f.split_whitespace().count() + 1
        }) {
            continue;
        }
        kept.push(clause.to_string());
    }
    let r = tidy(&kept.join(", "));
    (!r.is_empty()).then_some(r)
}

fn tidy(s: &str) -> String {
    s.trim().trim_end_matches(['.', ',', ';', '!']).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> (Option<Command>, Option<String>) {
        match read(text) {
            Reading::One { command, reason, .. } => (Some(command), reason),
            Reading::None => (None, None),
            Reading::Conflict { .. } => panic!("conflict in {text:?}"),
        }
    }

    #[test]
    fn commands_and_reasons() {
        use Command::*;
        for (text, cmd, why) in [
            ("Setuju.\n\nHeru", Some(Approve), None),
            ("OK disetujui\n\nHeru", Some(Approve), None),
            ("ACC", Some(Approve), None),
            ("Oke, silakan.\n\nBudi", Some(Approve), None),
            ("ya boleh pak", Some(Approve), None),
            ("Oke, terima kasih.", None, None),
            ("Mohon maaf tidak bisa, jadwal penuh.", Some(Reject), Some("jadwal penuh")),
            ("Y\n\nSlamet", Some(Approve), None),
            ("setuju, silakan dipinjamkan", Some(Approve), None),
            ("Tidak masalah, disetujui.", Some(Approve), None),
            ("Disetujui. Jika nanti kegiatannya batal, mohon segera diinformasikan ke loket.", Some(Approve), None),
            ("Approved", Some(Approve), None),
            ("TOLAK - bentrok dengan rapat pimpinan", Some(Reject), Some("bentrok dengan rapat pimpinan")),
            ("TOLAK, bentrok dengan rapat pimpinan", Some(Reject), Some("bentrok dengan rapat pimpinan")),
            (
                "Tidak disetujui karena lisensi sudah dipakai kegiatan lain.",
                Some(Reject),
                Some("lisensi sudah dipakai kegiatan lain"),
            ),
            (
                "Mohon maaf, ditolak. Silakan gunakan lisensi tim masing-masing.",
                Some(Reject),
                Some("Silakan gunakan lisensi tim masing-masing"),
            ),
            ("tidak setuju", Some(Reject), None),
            ("Belum bisa disetujui, jadwal bentrok", Some(Reject), Some("jadwal bentrok")),
            (
                "Rejected - the license is booked for the webinar.",
                Some(Reject),
                Some("the license is booked for the webinar"),
            ),
            (
                "Ditolak, jumlah peserta melebihi kapasitas lisensi.",
                Some(Reject),
                Some("jumlah peserta melebihi kapasitas lisensi"),
            ),
            ("Mohon dibatalkan, kegiatan ditunda.", Some(Cancel), Some("kegiatan ditunda")),
            ("BATAL", Some(Cancel), None),
            (
                "Kegiatan dibatalkan, mohon peminjaman Zoom-nya dibatalkan juga.",
                Some(Cancel),
                Some("Kegiatan dibatalkan"),
            ),
            ("Please cancel, the meeting has been postponed.", Some(Cancel), Some("the meeting has been postponed")),
            (
                "Tidak jadi pinjam, rapatnya dilaksanakan tatap muka.",
                Some(Cancel),
                Some("rapatnya dilaksanakan tatap muka"),
            ),
            ("Mohon batalkan permohonan kami. Terima kasih.", Some(Cancel), None),
            ("SELESAI", Some(Close), None),
            ("Sudah selesai, lisensi sudah direset.", Some(Close), None),
            ("Done, license has been downgraded to Basic.", Some(Close), None),
            ("Terima kasih, link Zoom sudah kami terima.", None, None),
            ("Baik, terima kasih infonya.", None, None),
            ("Thanks a lot for the quick approval!", None, None),
            (
                "Atas perhatian dan persetujuannya diucapkan terima kasih. Apabila kegiatan batal akan kami informasikan.",
                None,
                None,
            ),
        ] {
            let (c, r) = one(text);
            assert_eq!(c, cmd, "{text}");
            assert_eq!(r.as_deref(), why, "{text}");
        }
    }

    #[test]
    fn two_different_commands_are_a_conflict() {
        for text in ["SETUJU ... eh TOLAK", "Setuju. Eh, batal saja.", "approved, no wait, rejected"] {
            assert!(matches!(read(text), Reading::Conflict { .. }), "{text}");
        }
    }
}
