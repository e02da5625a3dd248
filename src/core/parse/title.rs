//! The meeting's name, to show back in confirmations: the calendar's SUMMARY, else a
//! "Kegiatan / Acara / Event" line, else the subject without reply prefixes, ticket tags
//! and the "Permohonan Peminjaman Lisensi Zoom -" boilerplate.

use super::layout::label_of;

const TITLE_LABELS: &[&str] = &[
    "kegiatan",
    "nama kegiatan",
    "acara",
    "nama acara",
    "event",
    "topik",
    "topic",
    "judul",
    "agenda",
    "meeting",
    "nama rapat",
    "rapat",
];
const BOILERPLATE: &[&str] = &[
    "permohonan",
    "peminjaman",
    "pinjam",
    "zoom",
    "nota dinas",
    "request",
    "license",
    "licence",
    "lisensi",
    "undangan",
    "invitation",
];

pub fn title(summary: Option<&str>, text: &str, subject: &str) -> Option<String> {
    if let Some(s) = summary.map(str::trim).filter(|s| !s.is_empty()) {
        return Some(clip(s));
    }
    for line in text.lines().take(2000) {
        if let Some((label, at)) = label_of(line)
            && TITLE_LABELS.contains(&label.as_str())
        {
            let v = line[at..].trim();
            if !v.is_empty() {
                return Some(clip(v));
            }
        }
    }
    from_subject(subject)
}

fn clip(s: &str) -> String {
    s.chars().take(200).collect::<String>().trim().to_string()
}

fn from_subject(subject: &str) -> Option<String> {
    let mut s = subject.trim();
    // "[LKT-2026-0004] ..." tags.
    while s.starts_with('[') {
        match s.find(']') {
            Some(k) => s = s[k + 1..].trim_start(),
            None => break,
        }
    }
    for sep in [" - ", " -- ", ": "] {
        if let Some(k) = s.rfind(sep) {
            let head = s[..k].to_lowercase();
            if BOILERPLATE.iter().any(|b| head.contains(b)) {
                s = s[k + sep.len()..].trim();
            }
        }
    }
    let low = s.to_lowercase();
    for lead in [" untuk ", " for "] {
        if let Some(k) = low.find(lead)
            && BOILERPLATE.iter().any(|b| low[..k].contains(b))
        {
            s = s[k + lead.len()..].trim();
            break;
        }
    }
    let low = s.to_lowercase();
    let words: Vec<&str> = low.split_whitespace().collect();
    if words.is_empty()
        || words.iter().all(|w| BOILERPLATE.iter().any(|b| b.contains(w)) || ["dan", "kantor", "the", "a"].contains(w))
    {
        return None;
    }
    Some(clip(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles() {
        for (summary, text, subject, want) in [
            (Some("Rapat Evaluasi"), "", "x", Some("Rapat Evaluasi")),
            (None, "Kegiatan : Pembinaan Zona Integritas\nTanggal: 1", "x", Some("Pembinaan Zona Integritas")),
            (None, "", "Nota Dinas Permohonan Peminjaman Lisensi Zoom - Rakortek SE2026", Some("Rakortek SE2026")),
            (None, "", "Request Zoom untuk Rakor Direktori Usaha", Some("Rakor Direktori Usaha")),
            (None, "", "Pinjam lisensi Zoom", None),
            (
                None,
                "",
                "[LKT-2026-0004] Permohonan persetujuan peminjaman Zoom",
                Some("Permohonan persetujuan peminjaman Zoom"),
            ),
            (None, "", "Zoom license request - Public Consultation Forum", Some("Public Consultation Forum")),
        ] {
            assert_eq!(title(summary, text, subject).as_deref(), want, "{subject}");
        }
    }
}
