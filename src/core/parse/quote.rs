//! Separating what the sender wrote now from what they quoted or forwarded.
//!
//! A reply's command lives above the quote: the quoted approval request always says
//! "Balas SETUJU ... atau TOLAK", so reading below the cut would decide every reply
//! wrongly. A forwarded invitation is the opposite case: the facts are below the
//! forward marker, so forwarded content is kept apart rather than thrown away.

use super::layout::label_of;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    /// What the sender wrote now, without the signature.
    pub new_text: String,
    /// The content of a forwarded message (its header block removed), when forwarded.
    pub forwarded: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    Quote,
    Forward,
    /// A header block or separator that is a forward only if the subject says so.
    Either,
    /// A signature: the new text ends, nothing below counts.
    Signature,
}

const FORWARD_MARKERS: &[&str] = &[
    "forwarded message",
    "pesan yang diteruskan",
    "pesan terusan",
    "begin forwarded message",
    "forwarded by",
    "original appointment",
];
const REPLY_SEPARATORS: &[&str] = &["original message", "pesan asli", "pesan awal", "reply message", "balasan pesan"];
const MOBILE_SIGNATURES: &[&str] = &[
    "sent from my",
    "dikirim dari",
    "get outlook for",
    "sent from mail for",
    "sent from outlook",
    "sent from yahoo",
    "sent via",
    "sent from samsung",
    "sent from the all new",
    "kirim dari",
];
const HEADER_KEYS: &[&str] = &[
    "from", "dari", "sent", "dikirim", "date", "tanggal", "to", "kepada", "subject", "subjek", "perihal", "cc",
    "terkirim",
];

fn is_dash_line(t: &str) -> bool {
    t.starts_with("---") || t.starts_with("___") || t.starts_with("===") || t.starts_with("***")
}

fn classify(lines: &[&str], i: usize) -> Option<Cut> {
    let line = lines[i];
    let t = line.trim();
    let low = t.to_lowercase();
    if t.starts_with('>') {
        return Some(Cut::Quote);
    }
    if is_dash_line(t) || low.starts_with("begin forwarded") {
        if FORWARD_MARKERS.iter().any(|m| low.contains(m)) {
            return Some(Cut::Forward);
        }
        if REPLY_SEPARATORS.iter().any(|m| low.contains(m)) {
            return Some(Cut::Either);
        }
    }
    if t == "--" || line == "-- " {
        return Some(Cut::Signature);
    }
    if t.len() >= 10 && t.chars().all(|c| c == '_') && header_follows(lines, i + 1) {
        return Some(Cut::Either);
    }
    let words = t.split_whitespace().count();
    if words <= 8 && MOBILE_SIGNATURES.iter().any(|m| low.starts_with(m)) {
        return Some(Cut::Signature);
    }
    if is_attribution(lines, i, &low) {
        return Some(Cut::Quote);
    }
    if header_block_at(lines, i) {
        return Some(Cut::Either);
    }
    None
}

/// "On Thu, Mar 26, 2026 at 9:01 AM X <x@y> wrote:", "Pada tanggal Sel, 14 Apr 2026
/// pukul 08.01 X menulis:", Thunderbird's "On 24/02/2026 09.30, X wrote:", possibly
/// wrapped over two or three lines.
fn is_attribution(lines: &[&str], i: usize, low: &str) -> bool {
    let ends = |s: &str| {
        let s = s.trim_end().trim_end_matches(':').trim_end();
        s.ends_with("wrote")
            || s.ends_with("menulis")
            || s.ends_with("schrieb")
            || s.ends_with("a écrit")
            || s.ends_with("escribió")
            || s.ends_with("tulis")
    };
    let starts = low.starts_with("on ")
        || low.starts_with("pada ")
        || low.starts_with("pd ")
        || low.starts_with("le ")
        || low.starts_with("am ")
        || low.starts_with("el ");
    if !starts && (!low.contains('@') || !ends(low)) {
        return false;
    }
    if ends(low) {
        return true;
    }
    (1..=2).any(|k| lines.get(i + k).is_some_and(|l| ends(&l.to_lowercase())))
}

/// A "From:/Dari:" line that starts a mail header: an address in it, or a Sent/Dikirim
/// line right after. A memo's "Dari : Ketua Tim ..." has neither.
fn header_block_at(lines: &[&str], i: usize) -> bool {
    let Some((label, value_at)) = label_of(lines[i]) else { return false };
    if label != "from" && label != "dari" {
        return false;
    }
    let value = &lines[i][value_at..];
    let mut keys = 0;
    let mut sent = false;
    for l in lines.iter().skip(i + 1).take(5) {
        if let Some((k, _)) = label_of(l)
            && HEADER_KEYS.contains(&k.as_str())
        {
            keys += 1;
            sent |= k == "sent" || k == "dikirim" || k == "terkirim";
        }
    }
    keys >= 2 && (value.contains('@') || sent)
}

fn header_follows(lines: &[&str], from: usize) -> bool {
    lines.iter().skip(from).filter(|l| !l.trim().is_empty()).take(1).any(|l| {
        let low = l.trim().to_lowercase();
        low.starts_with("from:") || low.starts_with("dari:") || low.starts_with("from :") || low.starts_with("dari :")
    })
}

/// Splits a body. `subject_forward` says the subject begins with Fwd:/FW:/TR:.
pub fn split(text: &str, subject_forward: bool) -> Split {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut new_end = lines.len();
    let mut forwarded = None;
    for i in 0..lines.len() {
        let Some(cut) = classify(&lines, i) else { continue };
        new_end = i;
        let forward = cut == Cut::Forward || (cut == Cut::Either && subject_forward);
        if forward {
            forwarded = Some(strip_header_block(&lines[i + 1..]));
        } else if cut == Cut::Signature {
            // The forwarded part may still follow a signature ("Salam,\n--\nX\n\n-----
            // Forwarded message -----"): look for it below.
            for j in i + 1..lines.len() {
                if let Some(c) = classify(&lines, j)
                    && (c == Cut::Forward || (c == Cut::Either && subject_forward))
                {
                    forwarded = Some(strip_header_block(&lines[j + 1..]));
                    break;
                }
            }
        }
        break;
    }
    Split { new_text: lines[..new_end].join("\n"), forwarded }
}

/// Drops the From/Date/Subject/To lines (and the separators and blanks around them)
/// that open a forwarded message.
fn strip_header_block(lines: &[&str]) -> String {
    let mut start = 0;
    for (n, l) in lines.iter().enumerate() {
        let t = l.trim();
        let header = label_of(l).is_some_and(|(k, _)| HEADER_KEYS.contains(&k.as_str()) || k == "reply-to");
        if t.is_empty() || header || is_dash_line(t) || (n > 0 && start == n && l.starts_with(' ') && n < 8) {
            start = n + 1;
            continue;
        }
        break;
    }
    lines[start.min(lines.len())..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_text_stops_at_every_reply_style() {
        for (body, want) in [
            (
                "Setuju.\n\nHeru\n\nPada tanggal Sel, 14 Apr 2026 pukul 08.01 Loket <l@b.test> menulis:\n\n> Balas SETUJU atau TOLAK",
                "Setuju.\n\nHeru\n",
            ),
            (
                "OK disetujui\n\n-----Original Message-----\nFrom: Loket <l@b.test>\nSent: Saturday\nTo: h@b.test\nSubject: x\n\nBalas TOLAK",
                "OK disetujui\n",
            ),
            ("ACC\n\nSent from my iPhone\n\n> On 3 Feb 2026, at 13.53, Loket wrote:", "ACC\n"),
            ("Approved\n\nOn Thu, Mar 26, 2026 at 9:01 AM Loket <l@b.test>\nwrote:\n\n> TOLAK", "Approved\n"),
            (
                "setuju\n\n________________________________\nDari: Loket <l@b.test>\nDikirim: Kamis\nKepada: s@b.test\nPerihal: x\n\nTOLAK",
                "setuju\n",
            ),
            ("Y\n\nOn 24/02/2026 09.30, Loket wrote:\n\n> TOLAK", "Y\n"),
            (
                "SETUJU\n\nFrom: Loket\nSent: Saturday, February 28, 2026 12:03 PM\nTo: d@b.test\nSubject: x\n\nTOLAK",
                "SETUJU\n",
            ),
            ("batal\n> quoted", "batal"),
            ("TOLAK\n-- \nSlamet\nTim TI", "TOLAK"),
            ("Batal\n\nDikirim dari iPhone saya", "Batal\n"),
        ] {
            let s = split(body, false);
            assert_eq!(s.new_text, want, "{body}");
            assert!(s.forwarded.is_none(), "{body}");
        }
    }

    #[test]
    fn a_memo_header_is_not_a_quote() {
        let memo = "NOTA DINAS\nNomor : B-1\nDari  : Ketua Tim\nHal   : Permohonan\nTanggal : 5 Januari 2026\n____________\n\npukul 09.00";
        assert_eq!(split(memo, false).new_text, memo);
    }

    #[test]
    fn forwarded_content_is_kept_without_its_header() {
        let body = "Mohon dipinjamkan.\n\n---------- Forwarded message ---------\nFrom: Dr. Win <w@b.test>\nDate: Wed, Feb 4, 2026 at 8:54 AM\nSubject: Undangan\nTo: <k@b.test>\n\n\nUNDANGAN\nHari/Tanggal : Selasa, 10 Februari 2026";
        let s = split(body, true);
        assert_eq!(s.new_text, "Mohon dipinjamkan.\n");
        assert_eq!(s.forwarded.as_deref(), Some("UNDANGAN\nHari/Tanggal : Selasa, 10 Februari 2026"));

        let outlook = "Mohon dipinjamkan.\n\n________________________________\nFrom: Dr. Win <w@b.test>\nSent: Wednesday\nTo: x\nSubject: Undangan\n\nHari/Tanggal : Selasa";
        assert_eq!(split(outlook, true).forwarded.as_deref(), Some("Hari/Tanggal : Selasa"));
        assert_eq!(split(outlook, false).forwarded, None);
    }
}
