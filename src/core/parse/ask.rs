//! Whether a person asks to borrow Zoom. A mail without a readable date and time is still
//! a request when it asks ("Mohon dipinjamkan Zoom untuk rapat minggu depan"): the desk
//! then answers with what is missing. Questions about borrowing ("apakah lisensi zoom
//! masih tersedia untuk dipinjam?") and thanks for an earlier loan are not asks.

use regex::Regex;
use std::sync::LazyLock;

static ID_ASK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(mohon|minta|tolong|bermaksud|ingin|mau|izin|ijin|mengajukan|ajukan|permohonan|perlu|butuh|memerlukan|membutuhkan|request|booking)\b[^.!?\n]{0,80}\b(pinjam\w*|dipinjam\w*|meminjam|peminjaman|zoom|lisensi|akun)\b").expect("static regex")
});
static EN_ASK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(would like|want|wish|need|please|could you|can you|can we|could we|request(ing)?|kindly|book|reserve)\b[^.!?\n]{0,80}\b(borrow|reserve|book|booking|zoom|licen[cs]e|account)\b").expect("static regex")
});
static LEAD_ASK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\W*(pinjam|peminjaman|meminjam|permohonan|request|booking|reservasi|nota dinas)\b")
        .expect("static regex")
});
/// Words that ask for information, not for a loan.
static INTERROGATIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(apakah|apa|bagaimana|gimana|adakah|kapan|berapa|mengapa|kenapa|whether|how|what|is it possible|are there|is there|do you)\b").expect("static regex")
});
/// A question that is a polite request ("Could you please reserve ...?", "Bisakah kami
/// meminjam ...?").
static POLITE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(could you|can you|would you|could we|can we|may we|may i|bisakah|bolehkah|dapatkah|mohon|tolong)\b",
    )
    .expect("static regex")
});
static THANKS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(terima ?kasih|makasih|thanks|thank you)\b[^.!?\n]{0,40}\b(atas|for)\b").expect("static regex")
});

/// Sentences of a text: split at . ! ? and blank lines; single line breaks (wrapping)
/// stay inside a sentence.
fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let flat = text.replace("\n\n", "\u{1}").replace('\n', " ");
    for c in flat.chars() {
        if c == '\u{1}' {
            out.push(std::mem::take(&mut cur));
            continue;
        }
        cur.push(c);
        if c == '!' || c == '?' || c == '.' && cur.len() > 1 {
            out.push(std::mem::take(&mut cur));
        }
    }
    out.push(cur);
    out.retain(|s| !s.trim().is_empty());
    out
}

/// True when some sentence of `text` asks to borrow Zoom.
pub fn asks_to_borrow(text: &str) -> bool {
    // "Mohon maaf" apologises; it asks for nothing.
    let text = super::text::truncate(text, 20_000).to_lowercase().replace("mohon maaf", "maaf");
    sentences(&text).iter().any(|s| {
        let asks = ID_ASK.is_match(s) || EN_ASK.is_match(s) || LEAD_ASK.is_match(s);
        let question = INTERROGATIVE.is_match(s) || (s.contains('?') && !POLITE.is_match(s));
        asks && !question && !THANKS.is_match(s)
    })
}

/// True when a subject names a borrowing request ("Pinjam Zoom ...", "Permohonan ...").
pub fn subject_asks(subject: &str) -> bool {
    (LEAD_ASK.is_match(subject) || ID_ASK.is_match(subject))
        && !INTERROGATIVE.is_match(subject)
        && !subject.contains('?')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_and_non_asks() {
        for text in [
            "Mohon dipinjamkan Zoom untuk rapat minggu depan.",
            "Kami bermaksud meminjam lisensi Zoom kantor untuk FKP.",
            "We would like to borrow one of the office Zoom licenses.",
            "Could you please reserve a Zoom license for us? Details below.",
            "Mohon izin meminjam akun Zoom untuk Sharing Session.",
        ] {
            assert!(asks_to_borrow(text), "{text}");
        }
        for text in [
            "Selamat siang, apakah lisensi zoom kantor masih tersedia untuk dipinjam?\nTerima kasih.",
            "Bagaimana prosedur peminjaman lisensi Zoom? Apakah harus melampirkan nota dinas?",
            "Mohon info, apakah lisensi Zoom kantor bisa dipakai untuk webinar dengan 1000\npeserta? Atau maksimal hanya 300?",
            "Terima kasih banyak atas bantuannya, rapat kemarin berjalan lancar.",
            "Terima kasih atas peminjaman zoom kemarin.",
            "Selamat Hari Raya Idul Fitri 1447 H. Mohon maaf lahir dan batin.",
            "Mohon maaf, link zoom kemarin tidak bisa dibuka.",
        ] {
            assert!(!asks_to_borrow(text), "{text}");
        }
        assert!(subject_asks("Pinjam Zoom rapat lanjutan"));
        assert!(!subject_asks("Prosedur peminjaman Zoom"));
        assert!(!subject_asks("Apakah zoom tersedia?"));
    }
}
